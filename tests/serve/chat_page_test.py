"""The chat page at `/`, driven in headless Chromium: two turns through `/?say=...`, streamed
from a live `llmcc serve`, must show the Hugging Face golden replies of chat_tiny (greedy), the
second computed with the first turn in its history.

    python3 tests/serve/chat_page_test.py --llmcc build/llmcc --work DIR [--screenshot PNG]

Uses openai_client_test.py's model and server helpers; needs `chromium` (Debian's package).
"""
import argparse
import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import openai_client_test as base  # noqa: E402

KEY = base.KEY


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


class Browser:
    """Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe:
    commands on fd 3, replies on fd 4, each message ended by a NUL), so a test can wait for the
    page's own "done" state instead of guessing how long a reply takes."""

    def __init__(self):
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # The child's ends move above 10 first: the redirections below must not clobber them.
        to_browser_r, from_browser_w = [self._above_ten(fd) for fd in (to_browser_r, from_browser_w)]
        # bash (dash takes one-digit fds only) moves the ends to the fds 3 and 4 it expects.
        args = " ".join(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                         "--disable-dev-shm-usage", "--remote-debugging-pipe",
                         "--window-size=820,560", "about:blank"])
        self.proc = subprocess.Popen(
            ["bash", "-c", f"exec 3<&{to_browser_r} 4>&{from_browser_w} {to_browser_r}<&- "
                         f"{from_browser_w}>&-; exec {chromium()} {args}"],
            pass_fds=(to_browser_r, from_browser_w),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._next_id, self._buffer = 0, b""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": target, "flatten": True})["sessionId"]

    @staticmethod
    def _above_ten(fd):
        high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
        os.close(fd)
        return high

    def call(self, method, params=None, session=None, timeout=60):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.time() + timeout
        while time.time() < deadline:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self._next_id:
                    if "error" in reply:
                        raise RuntimeError(f"{method}: {reply['error']}")
                    return reply["result"]
            ready, _, _ = select.select([self._from_browser], [], [], 1.0)
            if ready:
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    raise RuntimeError("chromium exited")
                self._buffer += chunk
        raise TimeoutError(method)

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                           self.session)
        return result["result"].get("value")

    def open(self, url):
        self.call("Page.navigate", {"url": url}, self.session)

    def wait_for(self, expression, timeout=180):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise TimeoutError(expression)

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", {"format": "png"}, self.session)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        self.proc.kill()
        self.proc.wait(timeout=30)
        os.close(self._to_browser)
        os.close(self._from_browser)


class ChatPageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not chromium():
            raise unittest.SkipTest("chromium is not installed (scripts/install_deps.sh adds it)")
        cls.server = base.Server()
        cls.browser = Browser()

    @classmethod
    def tearDownClass(cls):
        cls.browser.close()
        cls.server.stop()

    def test_two_turns_stream_the_golden_replies(self):
        turns = base.GOLDEN["turns"][:2]
        query = [("say", t["user"]) for t in turns]
        query += [("temperature", "0"), ("max_tokens", str(base.GOLDEN["max_tokens"]))]
        url = f"http://127.0.0.1:{self.server.port}/?" + urllib.parse.urlencode(query)
        self.browser.open(url)
        # Each turn ends in "done" (or "error"); the second's reply element is reply-3.
        state = self.browser.wait_for(
            "document.getElementById('reply-3') && document.body.dataset.state !== 'streaming'"
            " && document.body.dataset.state")
        self.assertEqual(state, "done")
        replies = self.browser.evaluate(
            "[...document.querySelectorAll('.assistant')].map(e => [e.id, e.textContent])")
        self.assertEqual(replies, [["reply-1", turns[0]["reply"]], ["reply-3", turns[1]["reply"]]])
        if base.ARGS.screenshot:
            self.browser.screenshot(base.ARGS.screenshot)

    def test_a_server_with_a_key_serves_the_page_and_asks_for_the_key(self):
        keyed = base.Server("--api-key", KEY)
        try:
            status, text = keyed.request("GET", "/")
            self.assertEqual(status, 200)
            self.assertIn("<title>llmcc chat</title>", text)
            self.assertEqual(keyed.request("GET", "/v1/models")[0], 401)
            self.browser.open(f"http://127.0.0.1:{keyed.port}/")
            self.assertEqual(self.browser.wait_for(
                "getComputedStyle(document.getElementById('key')).display === 'block'"
                " && document.getElementById('model').textContent"),
                "this server needs an API key")
        finally:
            keyed.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--llmcc", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--screenshot")
    base.ARGS, rest = parser.parse_known_args()
    os.makedirs(base.ARGS.work, exist_ok=True)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
