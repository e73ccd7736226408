#!/bin/bash
# The MLP kernel evolutionary@64 found (2.118 ms), then with the register
# tiles that evolutionary@64 found for the gate (scout-g.colt, also used for
# the up projection) and down (scout-y.colt) projections tuned alone, one
# projection at a time. Each line prints colt run's median and min.
COLT=${COLT:-colt}
run() { $COLT run llama4-scout-mlp --random --sampler 'informed(lanes=16, registers=32, cores=2)' --seed 2654436478 \
  --apply 'tile(stage="Y", axis="f", factors=[2048])' --apply 'tile(stage="U", axis="h", factors=[64])' "$@" 2>&1 | tail -1; }
G='--apply tile(stage="G",axis="f",factors=[2,16,32]) --apply tile(stage="G",axis="t",factors=[1,2,16]) --apply tile(stage="G",axis="h",factors=[256]) --apply unroll(stage="G",depth=0)'
U='--apply tile(stage="U",axis="f",factors=[2,16,32]) --apply tile(stage="U",axis="t",factors=[1,2,16]) --apply tile(stage="U",axis="h",factors=[256]) --apply unroll(stage="U",depth=0)'
Y='--apply tile(stage="Y",axis="h",factors=[1,10,32]) --apply tile(stage="Y",axis="t",factors=[1,4,8]) --apply tile(stage="Y",axis="f",factors=[128]) --apply unroll(stage="Y",depth=16)'
echo "found:"; run
echo "gate tile:"; run $G
echo "gate and up tiles:"; run $G $U
echo "gate, up and down tiles:"; run $G $U $Y
