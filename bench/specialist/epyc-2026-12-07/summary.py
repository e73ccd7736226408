"""Every strategy's best latency at 64 trials, per workload, as the median
of the seeds' runs (two runs: their mean), with its ratio to
evolutionary's and its wall time's ratio. Usage: python3 summary.py."""
import json, os, statistics

here = os.path.dirname(os.path.abspath(__file__))
workloads = ["gemm-512", "llama3-8b-attn", "deepseek-r1-moe", "flux-attn", "flux-conv", "llama4-scout-mlp"]
strategies = [("evolutionary", "evolutionary-64"), ("colt with the specialist", "colt-64"),
              ("mcts", "mcts-64"), ("the specialist's tree", "specialist-tree-64")]


def median(folder, w, key):
    runs = [json.load(open(f"{here}/{folder}{s}/{w}.json"))[key] for s in ["", "-seed2"]]
    return statistics.median(runs)


print("| workload | " + " | ".join(f"{name} ms (wall s)" for name, _ in strategies) + " |")
print("|---|" + "--:|" * len(strategies))
ahead = {name: 0 for name, _ in strategies}
for w in workloads:
    base = median("evolutionary-64", w, "best_ms")
    base_wall = median("evolutionary-64", w, "wall_s")
    cells = []
    for name, folder in strategies:
        ms, wall = median(folder, w, "best_ms"), median(folder, w, "wall_s")
        ahead[name] += ms <= base
        ratio = "" if folder == "evolutionary-64" else f", **{ms / base:.2f}×**, wall {wall / base_wall:.2f}×"
        cells.append(f"{ms:.3f} ({wall:.0f}{ratio})")
    print(f"| {w} | " + " | ".join(cells) + " |")
print()
for name, n in ahead.items():
    if name != "evolutionary":
        print(f"- {name}: at or below evolutionary on {n} of 6")
