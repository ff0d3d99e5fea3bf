#!/usr/bin/env python3
"""Opens a page in headless Chromium and waits until its rows show states.

Drives Chromium over the DevTools protocol on a pipe (--remote-debugging-pipe:
JSON messages separated by NUL on fds 3 and 4), so nothing but Chromium and
the standard library is needed. The observer page marks each actor's row
with data-name and data-state; this waits until every expectation holds at
once, then saves a screenshot of the page and prints the rows it saw.

usage: observer_page.py URL SCREENSHOT TIMEOUT_S NAME=STATE[|STATE...]...
exit: 0 when every expectation held, 1 otherwise (the screenshot is saved
either way, so a failure can be looked at).
"""
import base64
import json
import os
import subprocess
import sys
import tempfile
import time

ROWS = ("JSON.stringify(Object.fromEntries([...document.querySelectorAll('tr[data-name]')]"
        ".map(r => [r.dataset.name, r.dataset.state])))")


class browser:
    def __init__(self, profile):
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        # The protocol pipe is fds 3 (commands in) and 4 (answers out);
        # copies first, since either end may already be 3 or 4.
        def fds():
            commands, answers = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(commands, 3)
            os.dup2(answers, 4)
        self.process = subprocess.Popen(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--remote-debugging-pipe", "--user-data-dir=" + profile],
            preexec_fn=fds, pass_fds=(3, 4),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.next_id, self.buffer, self.session = 0, b"", None

    def call(self, method, params=None, session=True):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self.to_chrome, json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self.buffer:
                chunk = os.read(self.from_chrome, 1 << 16)
                if not chunk:
                    raise RuntimeError("chromium closed the protocol pipe")
                self.buffer += chunk
            raw, self.buffer = self.buffer.split(b"\0", 1)
            answer = json.loads(raw)
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise RuntimeError("%s: %s" % (method, answer["error"]))
                return answer["result"]

    def close(self):
        try:
            self.call("Browser.close", session=False)
        except (RuntimeError, OSError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def holds(rows, expectations):
    return all(rows.get(name) in states for name, states in expectations.items())


def main(argv):
    if len(argv) < 5:
        sys.stderr.write(__doc__)
        return 2
    url, screenshot, timeout = argv[1], argv[2], float(argv[3])
    expectations = {}
    for e in argv[4:]:
        name, states = e.split("=", 1)
        expectations[name] = states.split("|")
    with tempfile.TemporaryDirectory() as profile:
        b = browser(profile)
        try:
            target = b.call("Target.createTarget", {"url": "about:blank"}, session=False)
            b.session = b.call("Target.attachToTarget",
                               {"targetId": target["targetId"], "flatten": True},
                               session=False)["sessionId"]
            b.call("Emulation.setDeviceMetricsOverride",
                   {"width": 1280, "height": 860, "deviceScaleFactor": 1, "mobile": False})
            b.call("Page.navigate", {"url": url})
            deadline = time.monotonic() + timeout
            rows = {}
            while True:
                value = b.call("Runtime.evaluate", {"expression": ROWS, "returnByValue": True})
                rows = json.loads(value["result"].get("value") or "{}")
                ok = holds(rows, expectations)
                if ok or time.monotonic() > deadline:
                    break
                time.sleep(0.3)
            shot = b.call("Page.captureScreenshot", {"format": "png"})
            with open(screenshot, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
        finally:
            b.close()
    print(json.dumps(rows, sort_keys=True))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
