#!/bin/bash
# MetaSchedule (../shared/peers/metaschedule.py) on this machine's CPU.
#
# The peers' script targets a Zen 4 (`"mcpu": "znver4"` in TARGET_JSON);
# this runs a copy of it, made in a temporary folder, whose target is the
# CPU that `gcc -march=native` names here (znver3 on a Zen 3 part; znver4
# on an AVX-512 part gcc calls znver3, a Zen 5; or $MCPU) and
# whose core count is this machine's. Nothing of the script is kept.
#
#   bash bench/peers/metaschedule-here.sh RESULTS_DIR [WORKLOAD...]
#
# needs the peers' virtual environment (see ../shared/peers/README.md):
#   python3 -m venv ~/tvmenv && ~/tvmenv/bin/pip install -r ../shared/peers/requirements.txt
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
script=${METASCHEDULE:-$here/../../../shared/peers/metaschedule.py}
python=${TVM_PYTHON:-$HOME/tvmenv/bin/python}
results=$(realpath -m "${1:?usage: metaschedule-here.sh RESULTS_DIR [WORKLOAD...]}")
shift
workloads=("$@")
if [ ${#workloads[@]} -eq 0 ]; then
  workloads=(gemm-512 llama3-8b-attn deepseek-r1-moe flux-attn flux-conv llama4-scout-mlp)
fi
cpu=${MCPU:-$(gcc -march=native -Q --help=target | awk '$1 == "-march=" && !found { print $2; found = 1 }')}
# Debian 12's gcc 12 names a Zen 5 part (family 26) znver3, which has no
# AVX-512: MetaSchedule would then tune for half the vector width colt
# uses. LLVM's znver4 has the same AVX-512 subset; MCPU overrides both.
if [ -z "${MCPU:-}" ] && [ "$cpu" = znver3 ] && grep -q avx512f /proc/cpuinfo; then
  cpu=znver4
fi
cores=$(nproc)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed -e "s/\"mcpu\": \"znver4\"/\"mcpu\": \"$cpu\"/" -e "s/\"num-cores\": 2/\"num-cores\": $cores/" \
  "$script" > "$tmp/metaschedule.py"
grep -q "\"mcpu\": \"$cpu\"" "$tmp/metaschedule.py" || { echo "cannot retarget $script" >&2; exit 1; }
# TVMScript's parser calls inspect.stack() for every @T.prim_func, and
# inspect.getmodule scans all of sys.modules for each frame whose file it
# cannot map (<ast>, <dynamic-code>): importing tvm.s_tir.tensor_intrin,
# which every MetaSchedule build worker does first, took 45-75 s here, past
# LocalBuilder's 30 s timeout, so each worker was killed before its first
# build and the tuning never got past "Sending 64 sample(s) to builder".
# This sitecustomize (on PYTHONPATH, so the workers load it too) remembers
# the files getmodule failed on while sys.modules keeps its size; the import
# takes 7 s. It changes no kernel and no timing, only the workers' start.
cat > "$tmp/sitecustomize.py" <<'PY'
import inspect, sys
_getmodule = inspect.getmodule
_misses = {}
def _getmodule_remembering_misses(obj, _filename=None):
    if _filename is not None and _misses.get(_filename) == len(sys.modules):
        return None
    module = _getmodule(obj, _filename)
    if module is None and _filename is not None:
        _misses[_filename] = len(sys.modules)
    return module
inspect.getmodule = _getmodule_remembering_misses
PY
export PYTHONPATH="$tmp${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$results"
echo "MetaSchedule for -mcpu=$cpu, $cores cores, into $results" >&2
for w in "${workloads[@]}"; do
  TVM_NUM_THREADS=$cores "$python" "$tmp/metaschedule.py" --workload "$w" --trials 64 --results-dir "$results"
done
