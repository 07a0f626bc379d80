"""Many handläggare at once: a load benchmark of ``beslut web``. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_load.py [--minutes 5] [--users 20] [--converters 2] [--think 1.0]

Starts one ``beslut web`` (``web.server.start_in_thread``, in a child process of its own so
its memory is the server's alone) on 127.0.0.1 with a copy of content/ and two converters,
and gives each simulated handläggare a copy of the sample ärende of its own. Each one, in
its own thread with its own session (cookies, CSRF token), repeats until the time is up:

- open: ``GET /arende/<copy>`` (the edit page; the form is read from its HTML);
- type: a new sentence in ``sammanfattning``, shown formatted (``POST /markdown``, as the
  page's "Visa formaterad text" does);
- live check: ``POST /arende/<copy>/kontroll`` (what the page's script sends as one types);
- save: ``POST /arende/<copy>`` with ``atgard=spara`` (then the page it redirects to);
- preview: ``POST /arende/<copy>/forhandsgranska`` (the paper as PDF);
- build: ``POST /arende/<copy>/bygg``, then the job's status polled until it is finished;

with ``--think`` seconds between actions; when the time is up no new action starts (a
build under way is waited for). Printed: p50/p95/max per action, errors
(anything but the expected answer; target zero), lost saves (a sentence the server said it
saved that is not in the copy's arende.yaml afterwards; target zero) and the server's peak
memory: the RSS of its whole process tree (Python, the converters' LibreOffice and
unoserver), sampled from /proc every 0.25 s. Requests go only to 127.0.0.1; it stops by itself.
"""

from __future__ import annotations

import argparse
import html.parser
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from http.cookiejar import CookieJar
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = "2023-10-handlingsplaner"
ACTIONS = ("open", "type", "live check", "save", "preview", "build")
MARK = "Lasttest"


# --- the server, in a child process --------------------------------------------------------------


def serve(root: Path, converters: int, max_waiting: int) -> None:
    """Serve ``root``'s content until stdin closes (the child process's part)."""
    sys.path.insert(0, str(REPO))
    from generator.web.app import WebConfig
    from generator.web.server import start_in_thread

    content = root / "content"
    server, thread, url = start_in_thread(WebConfig(
        content=content, organisationer=content / "organisationer.yaml", out=root / "out", state=root / "state",
        converters=converters, max_waiting=max_waiting))
    print(url, flush=True)
    sys.stdin.read()
    server.should_exit = True
    thread.join(timeout=60)


def tree_rss(pid: int) -> tuple[int, list[str]]:
    """Return the RSS in bytes of ``pid`` and all its descendants, and their names."""
    children: dict[int, list[int]] = defaultdict(list)
    names: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children[ppid].append(int(entry))
        names[int(entry)] = name
    total, seen, todo = 0, [], [pid]
    while todo:
        p = todo.pop()
        try:
            pages = int(Path(f"/proc/{p}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        total += pages * os.sysconf("SC_PAGE_SIZE")
        seen.append(names.get(p, str(p)))
        todo += children.get(p, [])
    return total, seen


class MemorySampler(threading.Thread):
    """Samples the server's process tree; keeps the peak and what the tree held then."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.at_peak, self.stop = pid, 0, [], threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.25):
            rss, names = tree_rss(self.pid)
            if rss > self.peak:
                self.peak, self.at_peak = rss, names


# --- one simulated handläggare -------------------------------------------------------------------


class FormReader(html.parser.HTMLParser):
    """Reads the fields of the edit form (``#arendeformular``) as a browser would send them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.fields: list[list[str]] = []
        self.in_form = False
        self.textarea: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == "arendeformular":
            self.in_form = True
        if not self.in_form:
            return
        if tag == "input" and a.get("name") and a.get("type", "text") not in ("file", "submit", "checkbox", "radio"):
            self.fields.append([a["name"], a.get("value") or ""])
        elif tag == "textarea" and a.get("name"):
            self.textarea = [a["name"], ""]
            self.fields.append(self.textarea)

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "textarea" and self.textarea is not None:
            if self.textarea[1].startswith("\n"):  # as a browser drops the newline after <textarea>
                self.textarea[1] = self.textarea[1][1:]
            self.textarea = None
        elif tag == "form":
            self.in_form = False


def form_of(page: str) -> list[list[str]]:
    reader = FormReader()
    reader.feed(page)
    assert any(name == "version" for name, _ in reader.fields), "the edit form has no version field"
    return reader.fields


class Handlaggare(threading.Thread):
    """One user working on an ärende of their own until ``until``."""

    def __init__(self, number: int, url: str, arende: str, until: float, think: float, results: dict):
        super().__init__(daemon=True)
        self.number, self.url, self.arende, self.until, self.think = number, url, arende, until, think
        self.results = results
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        self.saved: str | None = None
        """The last sentence the server answered as saved."""
        self.cycles = 0

    def request(self, path: str, data: list | bytes | None = None, headers: dict | None = None) -> tuple[int, bytes, str]:
        body = urllib.parse.urlencode([tuple(pair) for pair in data]).encode() if isinstance(data, list) else data
        request = urllib.request.Request(f"{self.url}{path}", data=body, headers=headers or {})
        try:
            with self.opener.open(request, timeout=300) as answer:
                return answer.status, answer.read(), answer.url
        except urllib.error.HTTPError as e:
            return e.code, e.read(), e.url

    def timed(self, action: str, call) -> object:
        if time.monotonic() >= self.until:  # time is up: no new action (one under way finishes)
            return None
        start = time.perf_counter()
        try:
            outcome = call()
            error = None
        except Exception as e:  # counted and shown, the user goes on
            outcome, error = None, f"{type(e).__name__}: {e}"
        self.results["times"][action].append(time.perf_counter() - start)
        if error:
            self.results["errors"].append(f"user {self.number} {action}: {error}"[:300])
        time.sleep(self.think)
        return outcome

    def expect(self, answer: tuple[int, bytes, str], what: str, ok=lambda body: True) -> bytes:
        status, body, _ = answer
        if status != 200 or not ok(body):
            raise RuntimeError(f"HTTP {status}, {what} expected: {body[:160]!r}")
        return body

    def run(self) -> None:
        form: list[list[str]] | None = None
        while time.monotonic() < self.until:
            self.cycles += 1
            form = self.cycle(f"/arende/{self.arende}", form)

    def cycle(self, base: str, form: list[list[str]] | None) -> list[list[str]] | None:
        """Open, type, check, save, preview and build once; return the form as last seen."""
        opened = self.timed("open", lambda: form_of(self.expect(self.request(base), "the edit page").decode()))
        form = opened if isinstance(opened, list) else form
        if form is None:
            return None
        csrf = dict(form)["csrf"]
        sentence = f"{MARK} {self.number}-{self.cycles}."
        typed = [[n, (v.split(f" {MARK} ")[0] + f" {sentence}") if n == "sammanfattning" else v] for n, v in form]
        self.timed("type", lambda: self.expect(
            self.request("/markdown", [["text", dict(typed)["sammanfattning"]]], {"X-CSRF-Token": csrf}),
            "formatted text", lambda b: sentence.encode() in b))
        self.timed("live check", lambda: self.expect(
            self.request(f"{base}/kontroll", typed, {"X-CSRF-Token": csrf, "Accept": "application/json"}),
            "the check's JSON", lambda b: json.loads(b)["problems"] == []))

        def save() -> list[list[str]]:
            status, body, where = self.request(base, [*typed, ["atgard", "spara"]])
            self.expect((status, body, where), "the saved page", lambda b: "sparat=1" in where)
            self.saved = sentence
            return form_of(body.decode())

        saved = self.timed("save", save)
        current = saved if isinstance(saved, list) else typed
        self.timed("preview", lambda: self.expect(
            self.request(f"{base}/forhandsgranska", [*current, ["atgard", "forhandsgranska"]]),
            "a PDF", lambda b: b.startswith(b"%PDF-")))
        self.timed("build", lambda: self.build(base, current))
        return current

    def build(self, base: str, form: list[list[str]]) -> None:
        status, body, where = self.request(f"{base}/bygg", [*form, ["atgard", "bygg"]])
        if status != 200 or "/jobb/" not in where:
            raise RuntimeError(f"HTTP {status}, no job page: {where} {body[:160]!r}")
        job = where.rstrip("/").rsplit("/", 1)[-1]
        while True:
            state = json.loads(self.expect(self.request(f"/jobb/{job}/status", headers={"Accept": "application/json"}),
                                           "the job's state"))
            if state["finished"]:
                if state["state"] != "klar":
                    raise RuntimeError(f"the build ended '{state['state']}'")
                return
            time.sleep(0.25)


# --- the run ----------------------------------------------------------------------------------------


def percentile(times: list[float], p: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--converters", type=int, default=2)
    parser.add_argument("--max-waiting", type=int, default=None,
                        help="builds that may wait for a converter (default: one per user)")
    parser.add_argument("--think", type=float, default=1.0, help="seconds between a user's actions")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.converters, args.max_waiting or args.users)
        return

    root = Path(tempfile.mkdtemp(prefix="bench-load-"))
    shutil.copytree(REPO / "content", root / "content")
    copies = [f"last-{n:02d}" for n in range(1, args.users + 1)]
    for name in copies:
        shutil.copytree(root / "content" / "arenden" / SAMPLE, root / "content" / "arenden" / name)
    child = subprocess.Popen([sys.executable, __file__, "--serve", str(root), "--converters", str(args.converters),
                              "--max-waiting", str(args.max_waiting or args.users)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    sampler = MemorySampler(child.pid)
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        sampler.start()
        load = os.getloadavg()[0]
        results: dict = {"times": defaultdict(list), "errors": []}
        start = time.monotonic()
        until = start + args.minutes * 60
        users = [Handlaggare(n, url, name, until, args.think, results) for n, name in enumerate(copies, 1)]
        for user in users:
            user.start()
            time.sleep(0.1)  # people do not all press at the same instant
        for user in users:
            user.join()
        elapsed = time.monotonic() - start
        lost = []
        for user in users:
            text = (root / "content" / "arenden" / user.arende / "arende.yaml").read_text(encoding="utf-8")
            if user.saved is not None and user.saved not in text:
                lost.append(f"{user.arende}: '{user.saved}'")
    finally:
        sampler.stop.set()
        if child.stdin:
            child.stdin.close()
        try:
            child.wait(timeout=120)
        except subprocess.TimeoutExpired:
            child.kill()
        shutil.rmtree(root, ignore_errors=True)

    print(f"{args.users} handläggare, {elapsed / 60:.1f} min, {args.converters} converters, think {args.think:.1f} s, "
          f"load average {load:.1f} at start / {os.getloadavg()[0]:.1f} at end ({os.cpu_count()} cores)")
    print(f"{'action':<11} {'count':>6} {'p50 s':>7} {'p95 s':>7} {'max s':>7}")
    for action in ACTIONS:
        times = results["times"][action]
        if times:
            print(f"{action:<11} {len(times):>6} {statistics.median(times):>7.2f} {percentile(times, 95):>7.2f} "
                  f"{max(times):>7.2f}")
    print(f"cycles: {sum(u.cycles for u in users)}; saves answered as saved: {sum(1 for u in users if u.saved)} users")
    print(f"errors: {len(results['errors'])} (target 0)")
    for line in results["errors"][:15]:
        print(f"  {line}")
    print(f"lost saves: {len(lost)} (target 0)")
    for line in lost:
        print(f"  {line}")
    names = sorted(set(sampler.at_peak))
    print(f"server peak memory (process tree RSS): {sampler.peak / 2**20:.0f} MiB "
          f"({len(sampler.at_peak)} processes: {', '.join(names)})")


if __name__ == "__main__":
    main()
