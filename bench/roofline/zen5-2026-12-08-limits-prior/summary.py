#!/usr/bin/env python3
"""Each repeat's best at 64 trials per workload and variant (seeds 1-4:
`variants/VARIANT-seed1.json` and `-seed3.json`, two repeats each), the median,
its share of the roofline bound and its ratio to the first variant's.
Usage: python3 summary.py main limits regblock stages"""
import json, statistics, sys, glob

variants = sys.argv[1:] or ["main", "limits", "regblock", "stages"]

def repeats(variant):
    best, bounds = {}, {}
    for path in sorted(glob.glob(f"variants/{variant}-seed*.json")):
        for w in json.load(open(path))["workloads"]:
            for run in w["strategies"][0]["runs"]:
                best.setdefault(w["workload"], []).append(min(run["curve"][:64]))
            bounds[w["workload"]] = 1e3 * ((w.get("bound") or {}).get("seconds") or float("nan"))
    return best, bounds

runs = {v: repeats(v) for v in variants}
first = variants[0]
print("Each cell: the four repeats' best ms at 64 trials; their median (its share of the bound; its ratio to "
      f"`{first}`'s median).\n")
print("| workload | " + " | ".join(variants) + " |")
print("|---|" + "---|" * len(variants))
for w, base in runs[first][0].items():
    cells = []
    for v in variants:
        r = runs[v][0][w]
        m, bound = statistics.median(r), runs[v][1][w]
        ratio = m / statistics.median(base)
        cells.append(f"{' / '.join(f'{x:.3f}' for x in r)}: **{m:.3f}** ({100 * bound / m:.1f}%; {ratio:.2f})")
    print(f"| {w} | " + " | ".join(cells) + " |")
