#!/usr/bin/env python3
"""The bounded hostile mix of issue 19 against a real `colt serve`.

200 connections for 60 s on loopback, each looping over a random request:
malformed JSON, oversized bodies, stalled uploads (headers and a few bytes,
then silence), unauthenticated requests, bytes that are not HTTP, a
workload nested too deep, job listings; a prober asks /v1/health 20 times a
second and keeps the latencies; a few valid jobs are submitted along the
way. Afterwards: the daemon must still answer, health p99 under 100 ms,
and every valid job done with every trial recorded.

    python3 bench/hardening/xeon-2026-12-02/hostile.py --colt target/release/colt --out bench/hardening/xeon-2026-12-02/result.json

Prints a summary and writes it as JSON. Standard library only.
"""

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time

CONNECTIONS = 200
DURATION_S = 60.0
VALID_JOBS = 6


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def request(port, raw, read_timeout=15.0):
    """Sends raw bytes; the status code (0 when the server closed without
    one, -1 on a timeout)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), read_timeout)
        parts = line.split()
        status = int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else 0
        return status, await asyncio.wait_for(reader.read(), read_timeout)
    except asyncio.TimeoutError:
        return -1, b""
    except (ConnectionResetError, BrokenPipeError):
        return 0, b""
    finally:
        writer.close()


def http(method, path, body=None, token=None, content_type="application/json", length=None):
    body = body if body is not None else b""
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    if token:
        head.append(f"Authorization: Bearer {token}")
    if method == "POST":
        head.append(f"Content-Type: {content_type}")
        head.append(f"Content-Length: {len(body) if length is None else length}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def hostile_client(port, token, deadline, counts):
    rng = random.Random()
    deep = "input A[8]\noutput C[8]\nC[i] = " + "(" * 1200 + "A[i]" + ")" * 1200 + "\n"
    kinds = ["malformed", "oversized", "stalled", "unauthenticated", "garbage", "deep", "list", "health"]
    while time.monotonic() < deadline:
        kind = rng.choice(kinds)
        if kind == "malformed":
            raw = http("POST", "/v1/jobs", b'{"workload": "gemm-512", "trials": ', token)
        elif kind == "oversized":
            raw = http("POST", "/v1/jobs", b"{" + b" " * (256 << 10) + b"}", token)
        elif kind == "stalled":
            raw = http("POST", "/v1/jobs", b'{"work', token, length=4096)
        elif kind == "unauthenticated":
            raw = http("POST", "/v1/jobs", b'{"workload": "gemm-512"}')
        elif kind == "garbage":
            raw = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 2048)))
        elif kind == "deep":
            raw = http("POST", "/v1/jobs", json.dumps({"workload_text": deep, "strategy": "random", "trials": 1}).encode(), token)
        elif kind == "list":
            raw = http("GET", "/v1/jobs", token=token)
        else:
            raw = http("GET", "/v1/health", token=token)
        try:
            status, _ = await request(port, raw)
        except OSError as e:
            status = f"error {e.errno}"
        key = f"{kind} {status}"
        counts[key] = counts.get(key, 0) + 1


async def prober(port, token, deadline, latencies, failures):
    while time.monotonic() < deadline:
        start = time.monotonic()
        try:
            status, _ = await request(port, http("GET", "/v1/health", token=token), read_timeout=5.0)
        except OSError:
            status = 0
        elapsed = time.monotonic() - start
        if status == 200:
            latencies.append(elapsed * 1e3)
        else:
            failures.append(status)
        await asyncio.sleep(max(0.0, 0.05 - elapsed))


async def submitter(port, token, deadline, jobs):
    gap = (deadline - time.monotonic()) / (VALID_JOBS + 1)
    for n in range(VALID_JOBS):
        await asyncio.sleep(gap)
        body = json.dumps({"workload": "gemm-512", "strategy": "random", "trials": 4, "seed": 100 + n}).encode()
        status, answer = await request(port, http("POST", "/v1/jobs", body, token))
        jobs.append((status, answer.decode(errors="replace")))


async def mix(port, token):
    deadline = time.monotonic() + DURATION_S
    counts, latencies, failures, jobs = {}, [], [], []
    tasks = [hostile_client(port, token, deadline, counts) for _ in range(CONNECTIONS)]
    tasks += [prober(port, token, deadline, latencies, failures), submitter(port, token, deadline, jobs)]
    await asyncio.gather(*tasks)
    return counts, latencies, failures, jobs


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--colt", default="target/release/colt")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="colt-hostile-")
    token = "hostile-mix-token-0123456789"
    token_file = os.path.join(work, "token")
    with open(os.open(token_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(token + "\n")
    port = free_port()
    db = os.path.join(work, "colt.db")
    daemon = subprocess.Popen(
        [args.colt, "serve", "--listen", f"127.0.0.1:{port}", "--db", db, "--token-file", token_file],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "serve.log"), "w"))
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    started = time.time()
    counts, latencies, failures, jobs = asyncio.run(mix(port, token))
    alive = daemon.poll() is None
    ids = [json.loads(a.split("\r\n\r\n", 1)[-1])["id"] for s, a in jobs if s == 201]
    finished = {}
    wait_until = time.monotonic() + 600
    while alive and ids and time.monotonic() < wait_until:
        views = {}
        for i in ids:
            status, body = asyncio.run(request(port, http("GET", f"/v1/jobs/{i}", token=token)))
            views[i] = json.loads(body.decode().split("\r\n\r\n", 1)[-1]) if status == 200 else {"state": f"http {status}"}
        finished = views
        if all(v.get("state") in ("done", "failed", "cancelled") for v in views.values()):
            break
        time.sleep(1)
    complete = [i for i, v in finished.items() if v.get("state") == "done" and v.get("trials") == v.get("trial_budget")]
    daemon.terminate()
    daemon.wait(30)
    result = {
        "date": time.strftime("%Y-%m-%d", time.gmtime(started)),
        "cpu": next((l.split(":", 1)[1].strip() for l in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines() if l.startswith("Model name")), "?"),
        "connections": CONNECTIONS,
        "duration_s": DURATION_S,
        "requests": sum(counts.values()),
        "by_kind_and_status": dict(sorted(counts.items())),
        "health_probes": len(latencies),
        "health_failures": failures,
        "health_ms": {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99), "max": max(latencies)} if latencies else None,
        "daemon_alive_after": alive,
        "valid_jobs_submitted": len(jobs),
        "valid_jobs_accepted": len(ids),
        "valid_jobs_complete": len(complete),
        "jobs": finished,
        "exit_status_after_sigterm": daemon.returncode,
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    ok = alive and latencies and result["health_ms"]["p99"] < 100 and not failures and len(complete) == VALID_JOBS
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
