# Thin wrappers: every target is one call of `cargo xtask`, with no Unix-only tools, so this
# Makefile works the same from Linux, macOS and Windows (Git Bash / MSYS2 make).
.PHONY: help build build-x86 build-arm invoke-x86 invoke-arm image-x86 image-arm bench test clean

help:
	cargo xtask help

build-x86:
	cargo xtask package --arch x86_64

build-arm:
	cargo xtask package --arch arm64

build: build-x86 build-arm

image-x86:
	cargo xtask image --arch x86_64 --rebuild

image-arm:
	cargo xtask image --arch arm64 --rebuild

test:
	cargo xtask test

clean:
	cargo xtask clean

# Package (cargo rebuilds only what changed), then run the zip in the local Runtime API
# emulator with the benchmark event; arm64 runs under qemu-aarch64.
invoke-x86:
	cargo xtask invoke --arch x86_64 --rebuild

invoke-arm:
	cargo xtask invoke --arch arm64 --rebuild

# The benchmark: both zips (packaged from the current sources) in the emulator, the baseline
# and node side by side; writes dist/bench/report.md and SVG charts.
bench:
	cargo xtask bench --rebuild
