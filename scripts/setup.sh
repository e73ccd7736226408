#!/usr/bin/env bash
# Installs what a fresh machine (Debian, Rust toolchain present) lacks to
# build, test and run colt, then fetches the default local models when the
# fetch script exists. Idempotent: installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Build tools of llama.cpp (llama-cpp-2), the OpenCL loader and a CPU OpenCL
# platform (ocl, tests on pocl), OpenBLAS (the reference the schedule space
# is compared with), a C compiler for kernels, and PostgreSQL (the shared
# backend's tests start throw-away servers of their own; nothing is run
# from the package's own cluster), and curl and jq, which the user's guide's
# examples use (tests/tests/docs_examples.rs runs them).
packages=(gcc cmake clang libclang-dev ocl-icd-opencl-dev pocl-opencl-icd libopenblas-dev postgresql curl jq)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# mdBook builds the user's guide (docs/); .ci/run builds it on every run.
# Pinned, without its `serve`/`watch`/`search` features (one minute to build
# on 2 cores instead of several); crates.io is a registry CI reaches.
MDBOOK_VERSION=0.4.52
if ! mdbook --version 2>/dev/null | grep -q "v$MDBOOK_VERSION"; then
  echo "setup: installing mdbook $MDBOOK_VERSION"
  cargo install mdbook --locked --no-default-features --version "$MDBOOK_VERSION"
fi

if [ -f scripts/fetch-models.sh ]; then
  bash scripts/fetch-models.sh
fi
