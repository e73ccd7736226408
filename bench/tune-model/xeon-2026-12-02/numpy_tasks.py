#!/usr/bin/env python3
"""numpy (OpenBLAS) on the GEMM-shaped tasks of `colt model-layers`: the
projections and the head as one matmul, the MLP as its composition of
three matmuls and the gate. float32, median of timed runs after warm-up,
on the threads OpenBLAS is given (OPENBLAS_NUM_THREADS, 2 here).

    colt model-layers MODEL --seq 128 --json > tasks.jsonl
    OPENBLAS_NUM_THREADS=2 python3 bench/tune-model/xeon-2026-12-02/numpy_tasks.py tasks.jsonl > numpy.json
"""

import json
import re
import sys
import time

import numpy as np


def shapes(text):
    return {name: [int(d) for d in dims.split(", ")] for name, dims in re.findall(r"(\w+)\[([0-9, ]+)\]", text)}


def median_ms(fn, seconds=0.5, runs=10):
    for _ in range(3):
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < runs or time.perf_counter() - start < seconds:
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return sorted(times)[len(times) // 2]


def gelu(x):
    return 0.5 * x * (1 + np.tanh(0.7978846 * (x + 0.044715 * x * x * x)))


def silu(x):
    return x / (1 + np.exp(-x))


def main():
    rng = np.random.default_rng(0)
    out = {}
    for line in open(sys.argv[1]):
        task = json.loads(line)
        s = shapes(task["shapes"])
        name = task["task"]
        if set(s) == {"A", "B", "C"}:
            a = rng.standard_normal(s["A"], dtype=np.float32)
            b = rng.standard_normal(s["B"], dtype=np.float32)
            out[name] = median_ms(lambda: a @ b)
        elif "Wg" in s:
            gate = gelu if "GELU" in task["program"] or "0.044715" in task["program"] else silu
            x = rng.standard_normal(s["X"], dtype=np.float32)
            wg, wu = (rng.standard_normal(s["Wg"], dtype=np.float32) * 0.05 for _ in range(2))
            wd = rng.standard_normal(s["Wd"], dtype=np.float32) * 0.05
            out[name] = median_ms(lambda: (gate(x @ wg) * (x @ wu)) @ wd)
    print(json.dumps({"numpy": np.__version__, "numpy_ms": out}, indent=1))


if __name__ == "__main__":
    main()
