"""The comparison's table: per workload, each strategy's best latency and
wall time, and the specialist tree's ratios to evolutionary.
Usage: python3 table.py [TRIALS] (default 64)."""
import json, os, sys

trials = sys.argv[1] if len(sys.argv) > 1 else "64"
here = os.path.dirname(os.path.abspath(__file__))
print("| workload | evolutionary ms | wall s | specialist tree ms | wall s | latency ratio | wall ratio | calls | model seconds |")
print("|---|--:|--:|--:|--:|--:|--:|--:|--:|")
ahead = 0
for w in ["gemm-512", "llama3-8b-attn", "deepseek-r1-moe", "flux-attn", "flux-conv", "llama4-scout-mlp"]:
    try:
        e = json.load(open(f"{here}/evolutionary-{trials}/{w}.json"))
        t = json.load(open(f"{here}/specialist-tree-{trials}/{w}.json"))
    except (OSError, ValueError):
        continue
    seconds = "-"
    report = f"{here}/specialist-tree-{trials}/{w}.report.md"
    if os.path.exists(report):
        for line in open(report):
            if line.startswith("| colt-specialist |") and line.count("|") == 8:
                seconds = line.split("|")[7].strip()
    ratio = t["best_ms"] / e["best_ms"]
    ahead += ratio <= 1.0
    calls = sum(t["llm_calls"].values())
    print(f"| {w} | {e['best_ms']:.3f} | {e['wall_s']:.0f} | {t['best_ms']:.3f} | {t['wall_s']:.0f} | {ratio:.2f} | {t['wall_s'] / e['wall_s']:.2f} | {calls} | {seconds} |")
print(f"\nThe specialist tree at or below evolutionary on {ahead} workloads.")
