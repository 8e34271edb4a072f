# syntax=docker/dockerfile:1
#
# calculate-pi as a Lambda container image, one file for both architectures:
#
#   docker buildx build --platform linux/amd64 --provenance=false -t calculate-pi:x86_64 .
#   docker buildx build --platform linux/arm64 --provenance=false -t calculate-pi:arm64 .
#
# --provenance=false: without it buildx pushes an image index with an attestation manifest,
# which Lambda refuses; Lambda takes one single-platform image manifest.
# The README's "Container images" section has the ECR push and create-function commands;
# `cargo xtask image` builds the same image without Docker.

# Pinned; bump together with rust-toolchain.toml's channel.
ARG RUST_VERSION=1.95.0
# The Lambda OS-only base image: al2 (Amazon Linux 2) or al2023.
ARG LAMBDA_BASE=al2
# The two base images, by name: the defaults are what to use; a build without a registry (the
# tests, an air-gapped CI) names local stand-ins with --build-arg RUST_IMAGE=… LAMBDA_IMAGE=….
ARG RUST_IMAGE=rust:${RUST_VERSION}-slim-bookworm
ARG LAMBDA_IMAGE=public.ecr.aws/lambda/provided:${LAMBDA_BASE}

# The builder runs on the build machine's own platform and cross-compiles: the musl targets
# link with rust-lld (.cargo/config.toml), so no C cross toolchain and no emulation are needed.
FROM --platform=$BUILDPLATFORM ${RUST_IMAGE} AS builder
# Set by buildx from --platform: amd64 or arm64.
ARG TARGETARCH
ARG RUST_VERSION
# The image's toolchain, not rust-toolchain.toml's: the file also lists components and targets
# that rustup would try to download during the build.
ENV RUSTUP_TOOLCHAIN=${RUST_VERSION}
# rust-lld, as .cargo/config.toml says: a base image whose ENV names a gcc linker for the musl
# targets (cross's images do) would otherwise win over the config file and give other bytes.
ENV CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_LINKER=rust-lld \
    CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=rust-lld
WORKDIR /src
RUN case "${TARGETARCH}" in \
        amd64) echo x86_64-unknown-linux-musl ;; \
        arm64) echo aarch64-unknown-linux-musl ;; \
        *) echo "TARGETARCH=${TARGETARCH}: Lambda runs linux/amd64 or linux/arm64" >&2; exit 1 ;; \
    esac > /rust-target \
    && rustup target add "$(cat /rust-target)"
COPY . .
# --locked: the dependency versions of Cargo.lock, or fail. The caches keep the registry and
# the build between runs; the binary is copied out of the cached target/ in the same step.
# The remap flags are `cargo xtask package`'s (xtask/kit/src/builder/remap.rs): with them this
# bootstrap is byte-identical to the zip's from the same sources and Rust version.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    RUSTFLAGS="--remap-path-prefix=/src=/calculate-pi --remap-path-prefix=${CARGO_HOME}=/cargo \
--remap-path-prefix=$(rustc --print sysroot)/lib/rustlib/src/rust=/rustc/$(rustc -vV | sed -n 's/^commit-hash: //p')" \
    cargo build --release --locked --package calculate-pi --bin calculate-pi \
        --target "$(cat /rust-target)" \
    && cp "target/$(cat /rust-target)/release/calculate-pi" /bootstrap

FROM ${LAMBDA_IMAGE}
# The base image's entrypoint (/lambda-entrypoint.sh) starts ${LAMBDA_RUNTIME_DIR}/bootstrap
# (/var/runtime/bootstrap) on Lambda, and under the Runtime Interface Emulator it carries when
# run locally (docker run -p 9000:8080 IMAGE).
COPY --from=builder --chmod=755 /bootstrap ${LAMBDA_RUNTIME_DIR}/bootstrap
# The entrypoint wants exactly one argument, the handler name; the Rust runtime ignores it.
CMD ["bootstrap"]
