# Thin wrappers: every target is one call of `cargo xtask`, with no Unix-only tools, so this
# Makefile works the same from Linux, macOS and Windows (Git Bash / MSYS2 make).
.PHONY: help build build-x86 build-arm test clean

help:
	cargo xtask help-make

build-x86:
	cargo xtask package --arch x86_64

build-arm:
	cargo xtask package --arch arm64

build:
	cargo xtask package-all

test:
	cargo xtask test

clean:
	cargo xtask clean

# Run the packaged function locally with the benchmark event (packaged first if missing), with
# the deployed timeout (30 s): 3 s is too short for 10,000 digits under qemu.
.PHONY: invoke-x86 invoke-arm
invoke-x86:
	cargo xtask invoke --arch x86_64 --timeout 30

invoke-arm:
	cargo xtask invoke --arch arm64 --timeout 30
