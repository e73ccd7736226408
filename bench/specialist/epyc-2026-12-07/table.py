"""The comparison's table: per workload, each strategy's best latency and
wall time, and the specialist tree's ratios to evolutionary.
Usage: python3 table.py [TRIALS] [SUFFIX...] (default 64 and no suffix):
the folders compare.sh wrote; with several suffixes (a run per seed, the
first run's suffix being ""), the median of the runs' latencies and wall
times."""
import json, os, statistics, sys

trials = sys.argv[1] if len(sys.argv) > 1 else "64"
suffixes = sys.argv[2:] or [""]
here = os.path.dirname(os.path.abspath(__file__))
print("| workload | evolutionary ms | wall s | specialist tree ms | wall s | latency ratio | wall ratio | calls | model seconds |")
print("|---|--:|--:|--:|--:|--:|--:|--:|--:|")
ahead = 0
for w in ["gemm-512", "llama3-8b-attn", "deepseek-r1-moe", "flux-attn", "flux-conv", "llama4-scout-mlp"]:
    runs = []
    for suffix in suffixes:
        try:
            e = json.load(open(f"{here}/evolutionary-{trials}{suffix}/{w}.json"))
            t = json.load(open(f"{here}/specialist-tree-{trials}{suffix}/{w}.json"))
        except (OSError, ValueError):
            continue
        seconds = float("nan")
        report = f"{here}/specialist-tree-{trials}{suffix}/{w}.report.md"
        if os.path.exists(report):
            for line in open(report):
                if line.startswith("| colt-specialist |") and line.count("|") == 8:
                    seconds = float(line.split("|")[7])
        runs.append((e["best_ms"], e["wall_s"], t["best_ms"], t["wall_s"], sum(t["llm_calls"].values()), seconds))
    if not runs:
        continue
    e_ms, e_wall, t_ms, t_wall, calls, seconds = (statistics.median(column) for column in zip(*runs))
    ratio = t_ms / e_ms
    ahead += ratio <= 1.0
    print(f"| {w} | {e_ms:.3f} | {e_wall:.0f} | {t_ms:.3f} | {t_wall:.0f} | {ratio:.2f} | {t_wall / e_wall:.2f} | {calls:.0f} | {seconds:.1f} |")
print(f"\nThe specialist tree at or below evolutionary on {ahead} workloads.")
