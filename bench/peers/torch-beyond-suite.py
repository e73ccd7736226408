"""torch on the CPU beside colt on the beyond-suite workloads.

The workloads of `workloads/beyond-suite/` (bench shapes), each as the call
a user would make instead of colt's kernel: `torch.mv` (MKL's sgemv),
`F.rms_norm`, `scaled_dot_product_attention` (causal, grouped-query) and
`torch.bmm`, eager and under torch.compile (Inductor,
max-autotune-no-cudagraphs). Timed and written the way
`../shared/peers/torch_peer.py` times and writes the suite — warm-up, then
the median of repeated calls on --threads threads; `<workload>__torch.json`
per workload in --results-dir — so that `colt bench --peer-results DIR`
reads both alike. It imports that script's timer rather than keeping a
second one, so both peers are timed by the same code.

  python bench/peers/torch-beyond-suite.py [--compile] [--threads 2] [--results-dir DIR]

Needs the peers' torch environment (`../shared/peers/requirements-torch.txt`).
"""
import argparse, json, os, sys, time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "shared", "peers"))
from torch_peer import time_ms  # noqa: E402  (the suite's timer, shared)


def workloads():
    g = torch.Generator().manual_seed(0)
    r = lambda *s: torch.rand(*s, generator=g) * 2 - 1
    w = {}
    mw, mx = r(2048, 2048), r(2048)
    w["matvec"] = (lambda: torch.mv(mw, mx), 2 * 2048 * 2048)
    nx, ng = r(128, 4096), r(4096)
    w["rmsnorm-rows"] = (lambda: F.rms_norm(nx, (4096,), ng, eps=1e-5), 3 * 128 * 4096)
    q, k, v = r(1, 8, 197, 64), r(1, 2, 197, 64), r(1, 2, 197, 64)
    # FLOPs of the whole score matrix, as torch_peer.py counts attention.
    w["attn-odd"] = (
        lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True),
        2 * 2 * 8 * 197 * 197 * 64,
    )
    ba, bb = r(7, 127, 131), r(7, 131, 257)
    w["bmm-prime"] = (lambda: torch.bmm(ba, bb), 2 * 7 * 127 * 131 * 257)
    return w


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--results-dir", default="")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    for name, (fn, flop) in workloads().items():
        result = {"workload": name, "torch": torch.__version__, "threads": args.threads}
        with torch.no_grad():
            ms = time_ms(fn)
            result["eager"] = {"median_ms": ms, "gflops": flop / ms / 1e6}
            print(json.dumps({"workload": name, "mode": "eager", **result["eager"]}), flush=True)
            if args.compile:
                try:
                    t0 = time.time()
                    compiled = torch.compile(fn, mode="max-autotune-no-cudagraphs")
                    compiled()
                    compile_s = time.time() - t0
                    ms = time_ms(compiled)
                    result["inductor"] = {"median_ms": ms, "gflops": flop / ms / 1e6, "compile_s": compile_s}
                except Exception as e:  # a peer that fails is reported, not fatal
                    result["inductor"] = {"error": str(e)[:500]}
                print(json.dumps({"workload": name, "mode": "inductor", **result["inductor"]}), flush=True)
        if args.results_dir:
            os.makedirs(args.results_dir, exist_ok=True)
            with open(os.path.join(args.results_dir, f"{name}__torch.json"), "w") as f:
                json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
