#!/usr/bin/env python3
"""Closed-loop serving benchmark against llama-server, measured the way `llmcc bench
--concurrency` measures llmcc: N clients each keep one streaming request in flight (random token-id
prompts of fixed length, a fixed number of output tokens, greedy, EOS ignored) until the level's
requests are done. Reports output tok/s and TTFT, TPOT and end-to-end latency p50/p90/p99.

  python3 bench/serving_client.py --url http://127.0.0.1:8080 --concurrency 1,4,16 \
      --prompt 128 --decode 64 --vocab 32000

Standard library only. TPOT is (end - first token) / (tokens - 1), as in llmcc.
"""
import argparse
import http.client
import json
import math
import random
import threading
import time
import urllib.parse


def percentile(values, p):
    if not values:
        return 0.0
    v = sorted(values)
    rank = max(1, min(len(v), math.ceil(p / 100 * len(v))))
    return v[rank - 1]


def one_request(url, prompt, decode):
    """Streams one /completion; returns (ttft, e2e, tokens)."""
    u = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
    body = json.dumps({"prompt": prompt, "n_predict": decode, "temperature": 0,
                       "ignore_eos": True, "stream": True, "cache_prompt": False})
    start = time.perf_counter()
    conn.request("POST", "/completion", body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    if resp.status != 200:
        raise RuntimeError(f"llama-server answered {resp.status}: {resp.read()[:200]}")
    first, tokens = None, 0
    for raw in resp:
        line = raw.strip()
        if not line.startswith(b"data:"):
            continue
        event = json.loads(line[5:])
        if event.get("content") is not None and not event.get("stop"):
            tokens += 1
            if first is None:
                first = time.perf_counter()
        if event.get("stop"):
            tokens = max(tokens, event.get("tokens_predicted", tokens))
            break
    end = time.perf_counter()
    conn.close()
    return (first or end) - start, end - start, tokens, end - (first or end)


def run_level(url, n, requests, prompt_len, decode, vocab, rng):
    prompts = [[rng.randrange(vocab) for _ in range(prompt_len)] for _ in range(requests)]
    results = [None] * requests
    next_index = [0]
    lock = threading.Lock()

    def client():
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= requests:
                return
            results[i] = one_request(url, prompts[i], decode)

    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    ttft = [r[0] for r in results]
    e2e = [r[1] for r in results]
    tpot = [r[3] / (r[2] - 1) for r in results if r[2] > 1]
    tokens = sum(r[2] for r in results)
    return {"concurrency": n, "requests": requests, "seconds": seconds,
            "output_tok_s": tokens / seconds,
            "ttft_s": {p: percentile(ttft, q) for p, q in (("p50", 50), ("p90", 90), ("p99", 99))},
            "tpot_s": {p: percentile(tpot, q) for p, q in (("p50", 50), ("p90", 90), ("p99", 99))},
            "e2e_s": {p: percentile(e2e, q) for p, q in (("p50", 50), ("p90", 90), ("p99", 99))}}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", default="http://127.0.0.1:8080")
    ap.add_argument("--concurrency", default="1,4,16")
    ap.add_argument("--requests", type=int, default=0, help="per level; 0: 4 per client, >= 8")
    ap.add_argument("--prompt", type=int, default=128)
    ap.add_argument("--decode", type=int, default=64)
    ap.add_argument("--vocab", type=int, default=32000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    one_request(a.url, [rng.randrange(a.vocab) for _ in range(a.prompt)], 2)  # warm-up
    levels = []
    for n in (int(x) for x in a.concurrency.split(",")):
        requests = a.requests or max(8, 4 * n)
        levels.append(run_level(a.url, n, requests, a.prompt, a.decode, a.vocab, rng))
    if a.json:
        print(json.dumps(levels, indent=2))
        return
    print(f"llama-server: prompt {a.prompt} tokens, output {a.decode} tokens, greedy, closed loop")
    print(f"{'conc':>5} {'reqs':>5} {'out tok/s':>10}  {'TTFT ms p50/p90/p99':<23} "
          f"{'TPOT ms p50/p90/p99':<23} {'E2E s p50/p90/p99':<23}")
    for l in levels:
        ms = lambda d: "/".join(f"{1e3 * d[k]:.0f}" for k in ("p50", "p90", "p99"))
        s = "/".join(f"{l['e2e_s'][k]:.2f}" for k in ("p50", "p90", "p99"))
        print(f"{l['concurrency']:>5} {l['requests']:>5} {l['output_tok_s']:>10.1f}  "
              f"{ms(l['ttft_s']):<23} {ms(l['tpot_s']):<23} {s:<23}")


if __name__ == "__main__":
    main()
