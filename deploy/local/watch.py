#!/usr/bin/env python3
"""Both supervision trees side by side in a terminal, live (`stack watch`).

Each service's event stream (GET /debug/supervision/events) says when
something happened; the tree (GET /debug/supervision) is then fetched again,
and once a second while a child backs off, for its countdown. The last
supervision events of both services are listed below the trees. Fits 80x24;
Ctrl-C (or SIGTERM) quits and gives the terminal back as it was.

usage: watch.py NAME=URL [NAME=URL]   e.g. platform=http://127.0.0.1:5000
"""
import collections
import datetime
import http.client
import json
import shutil
import signal
import sys
import threading
import time
import urllib.request

RESET = "\x1b[0m"
COLOURS = {
    "running": "\x1b[32m",      # green
    "backing_off": "\x1b[33m",  # yellow
    "restarting": "\x1b[36m",   # cyan
    "stopped": "\x1b[90m",      # grey
    "gave_up": "\x1b[1;31m",    # bold red
    "unreachable": "\x1b[31m",
}
EVENT_COLOURS = {
    "child_failed": "\x1b[31m", "gave_up": "\x1b[1;31m", "child_killed": "\x1b[31m",
    "restart_scheduled": "\x1b[33m",
    "child_started": "\x1b[32m", "child_restarted": "\x1b[32m",
}


class service:
    """One service: its last tree and a thread following its event stream."""

    def __init__(self, name, url, news, events):
        self.name, self.url = name, url.rstrip("/")
        self.tree, self.error = None, "connecting"
        self.news, self.events = news, events
        threading.Thread(target=self.follow, daemon=True).start()

    def refresh(self):
        try:
            with urllib.request.urlopen(self.url + "/debug/supervision", timeout=2) as r:
                self.tree, self.error = json.load(r)["tree"], None
        except (OSError, ValueError, http.client.HTTPException) as e:
            self.tree, self.error = None, reason_of(e)

    def follow(self):
        last = None
        while True:
            request = urllib.request.Request(self.url + "/debug/supervision/events")
            if last:
                request.add_header("Last-Event-ID", last)
            try:
                # The stream sends a comment each second: 5 s of silence means it is gone.
                with urllib.request.urlopen(request, timeout=5) as stream:
                    self.news.set()
                    kind = None
                    for raw in stream:
                        line = raw.decode("utf-8", "replace").rstrip("\r\n")
                        if line.startswith("id: "):
                            last = line[4:]
                        elif line.startswith("event: "):
                            kind = line[7:]
                        elif line.startswith("data: ") and kind == "supervision":
                            self.events.append((self.name, json.loads(line[6:])))
                            self.news.set()
            except (OSError, ValueError, http.client.HTTPException) as e:
                self.error = reason_of(e)
                self.news.set()
            time.sleep(1)


def reason_of(error):
    # A stream cut short (the service went away) is an IncompleteRead.
    text = str(getattr(error, "reason", None) or error or type(error).__name__)
    return text.replace("[Errno 111] ", "")


def short(name):
    return name.split(".", 1)[1] if "." in name else name


def state_text(entry):
    state = entry["state"]
    if state == "backing_off":
        return "backoff %.1fs" % (entry.get("backoff_left_ms", 0) / 1000)
    return state


def tree_lines(entry, depth, width):
    """(text, colour) per line of an entry and its children."""
    indent = "  " * depth
    # name, state, restarts/intensity: "    outbox_listener backoff 4.6s 12/100"
    name = (indent + short(entry["name"]))[: width - 20]
    line = "%-*s %-12s" % (width - 20, name, state_text(entry))
    if "intensity" in entry:
        line += " %s/%s" % (entry["restarts"], entry["intensity"]["max_restarts"])
    lines = [(line[:width], COLOURS.get(entry["state"], ""))]
    for child in entry.get("children", []):
        lines += tree_lines(child, depth + 1, width)
    return lines


def column(svc, width):
    status = "up" if svc.tree is not None else svc.error
    lines = [("%s  %s" % (svc.name.upper(), status)[:width], "\x1b[1m")]
    if svc.tree is None:
        return lines + [(("(no tree: %s)" % svc.error)[:width], COLOURS["unreachable"])]
    for root in svc.tree:
        lines += tree_lines(root, 0, width)
    return lines


def event_line(service_name, ev, width):
    at = ev["at"][11:19]
    detail = ""
    if ev["kind"] == "restart_scheduled":
        detail = "attempt %d in %.1fs" % (ev["attempt"], ev["backoff_ms"] / 1000)
    elif ev["kind"] in ("child_started", "child_restarted"):
        detail = "instance %d" % ev["instance"]
    elif ev["reason"] and ev["kind"] != "child_exited":
        detail = ev["reason"].replace("unhandled_exception: ", "")
    # child_failed -> failed, restart_scheduled -> backoff: room for the reason.
    kind = ev["kind"].replace("child_", "").replace("restart_scheduled", "backoff")
    text = "%s %-8s %-9s %-15s %s" % (at, service_name, kind, short(ev["child"]), detail)
    return text[:width], EVENT_COLOURS.get(ev["kind"], "")


def paint(text, colour):
    return colour + text + RESET if colour else text


def frame(services, events):
    cols, rows = shutil.get_terminal_size((80, 24))
    width = (cols - len(services) + 1) // len(services)  # one blank between columns
    now = datetime.datetime.now().strftime("%H:%M:%S")
    out = [paint(("stack watch  %s  Ctrl-C quits" % now)[:cols], "\x1b[7m")]
    columns = [column(s, width) for s in services]
    for i in range(max(len(c) for c in columns)):
        parts = []
        for c in columns:
            text, colour = c[i] if i < len(c) else ("", "")
            parts.append(paint(text, colour) + " " * (width - len(text)))
        out.append(" ".join(parts).rstrip())
    room = rows - len(out) - 2
    if room > 0:
        out.append(paint("last supervision events", "\x1b[1m"))
        # By time: each stream replays its history when it connects.
        recent = sorted(events, key=lambda e: e[1]["at"])[-room:]
        out += [paint(*event_line(name, ev, cols)) for name, ev in recent]
    return out[:rows]


def main(argv):
    if len(argv) < 2 or any("=" not in a for a in argv[1:]):
        sys.stderr.write(__doc__)
        return 2
    news = threading.Event()
    events = collections.deque(maxlen=100)
    services = [service(*a.split("=", 1), news, events) for a in argv[1:]]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sys.stdout.write("\x1b[?1049h\x1b[?25l")  # the alternate screen, no cursor
    try:
        while True:
            for s in services:
                s.refresh()
            lines = frame(services, events)
            sys.stdout.write("\x1b[H" + "".join(l + "\x1b[K\n" for l in lines[:-1]))
            sys.stdout.write(lines[-1] + "\x1b[K\x1b[J")
            sys.stdout.flush()
            news.wait(1)
            news.clear()
    except KeyboardInterrupt:
        pass
    finally:
        sys.stdout.write("\x1b[?25h\x1b[?1049l")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
