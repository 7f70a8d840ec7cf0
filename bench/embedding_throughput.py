#!/usr/bin/env python3
"""Sentence-embedding throughput, llmcc against torch, side by side on this machine.

llmcc: `llmcc serve MODEL_DIR` answering POST /v1/embeddings with all the sentences in one
request (tokenization, the encoder and JSON included). torch: sentence-transformers' encode() of
the same sentences on the CPU, with torch using as many threads as llmcc (all cores). Each is run
ROUNDS times after a warm-up, alternating, and the medians are reported.

    python3 bench/embedding_throughput.py --llmcc build/llmcc --model-dir W --st-model M
W: the converted weights (convert_weight + gen_config); M: the sentence-transformers folder
(scripts/get_minilm.sh). Needs torch and sentence-transformers for the torch side.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--llmcc", required=True)
    p.add_argument("--model-dir", required=True)
    p.add_argument("--st-model", help="sentence-transformers folder; omit to skip torch")
    p.add_argument("--repeat", type=int, default=8, help="copies of the 12 test sentences")
    p.add_argument("--rounds", type=int, default=7)
    a = p.parse_args()
    golden = json.load(open(os.path.join(ROOT, "tests/data/goldens/minilm_sentences.json")))
    sentences = golden["sentences"] * a.repeat
    proc = subprocess.Popen([a.llmcc, "serve", a.model_dir, "--port", "0"],
                            stderr=subprocess.PIPE, text=True)
    port = int(re.search(r":(\d+) ", proc.stderr.readline()).group(1))
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            if urllib.request.urlopen(url + "/health").status == 200:
                break
        except Exception:
            time.sleep(0.1)
    body = json.dumps({"input": sentences, "encoding_format": "float"}).encode()

    def llmcc_once():
        req = urllib.request.Request(url + "/v1/embeddings", body,
                                     {"Content-Type": "application/json"})
        start = time.perf_counter()
        urllib.request.urlopen(req).read()
        return time.perf_counter() - start

    torch_once = None
    if a.st_model:
        import torch
        from sentence_transformers import SentenceTransformer
        torch.set_num_threads(os.cpu_count())
        model = SentenceTransformer(a.st_model, device="cpu")

        def torch_once():
            start = time.perf_counter()
            model.encode(sentences, batch_size=32)
            return time.perf_counter() - start

    llmcc_once()
    if torch_once:
        torch_once()
    times = {"llmcc": [], "torch": []}
    for _ in range(a.rounds):
        times["llmcc"].append(llmcc_once())
        if torch_once:
            times["torch"].append(torch_once())
    proc.terminate()
    proc.wait()
    n = len(sentences)
    for name, t in times.items():
        if t:
            m = statistics.median(t)
            print(f"{name}: {n} sentences, median {m * 1000:.1f} ms over {len(t)} rounds "
                  f"({n / m:.0f} sentences/s)")
    if times["torch"]:
        print(f"llmcc / torch throughput: "
              f"{statistics.median(times['torch']) / statistics.median(times['llmcc']):.2f}x")


if __name__ == "__main__":
    main()
