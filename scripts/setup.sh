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
# from the package's own cluster).
packages=(gcc cmake clang libclang-dev ocl-icd-opencl-dev pocl-opencl-icd libopenblas-dev postgresql)
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

if [ -f scripts/fetch-models.sh ]; then
  bash scripts/fetch-models.sh
fi
