"""The measurement noise between the two runs: random search measures the
same candidates in the same order in both (its samples are seeded, it reads
no cost model and runs no threads), so trial i of `random` is the same
kernel before and after; the ratio of its two latencies is the machine's
noise. Reads before/W/bench.json and after/W/bench.json; run from this folder."""
import glob, json, math, os

print('| workload | kernels in both runs | median after/before | median spread | 90th pct spread | min | max |')
print('|---|--:|--:|--:|--:|--:|--:|')
for before in sorted(glob.glob('before/*/bench.json')):
    w = before.split('/')[1]
    after = f'after/{w}/bench.json'
    if not os.path.exists(after):
        continue
    def curve(path):
        report = json.load(open(path))
        s = next(s for s in report['workloads'][0]['strategies'] if s['strategy'] == 'random')
        return s['runs'][0]['curve']
    pairs = [(b, a) for b, a in zip(curve(before), curve(after)) if a and b]
    r = sorted(a / b for b, a in pairs)
    spread = sorted(abs(math.log(x)) for x in r)
    print(f'| {w} | {len(r)} | {r[len(r) // 2]:.3f} | ×{math.exp(spread[len(spread) // 2]):.3f} '
          f'| ×{math.exp(spread[int(0.9 * (len(spread) - 1))]):.3f} | {r[0]:.2f} | {r[-1]:.2f} |')
