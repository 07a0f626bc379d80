"""Sign-in under attack: an ordinary page while eight clients send wrong passwords, and the
answer time of unknown against known user names (issue 18).

Starts ``beslut web`` with a user file on 127.0.0.1 (a copy of content/), signs one user
in, then:

1. times the start page (signed in) with nobody else on the server;
2. times it again while eight client processes send wrong passwords to the sign-in form
   as fast as they can: once with the standard throttle (five failures a minute per name
   and per address, then a growing wait), once with the throttle off, which shows what
   the worker thread alone does (scrypt one at a time, never on the event loop);
3. times sign-ins of unknown and of known user names with wrong passwords (throttle
   off), alternating, and prints the medians and their difference.

Targets: the page under 0.3 s under attack; unknown and known names within 10 ms (median).

    .venv/bin/python benchmarks/bench_signin.py [SECONDS]
"""

from __future__ import annotations

import http.client
import multiprocessing
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

from generator.web.security import add_user
from generator.web.server import make_config, start_in_thread

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "kaffe på Järntorget varje tisdag"
ATTACKERS = 8


def request(port: int, method: str, path: str, headers: dict | None = None, body: str | None = None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    text = r.read().decode("utf-8", "replace")
    c.close()
    return r.status, r.headers, text


def sign_in_form(port: int) -> tuple[str, str]:
    """Return a fresh (cookie, CSRF token) for the sign-in form."""
    _, headers, text = request(port, "GET", "/logga-in")
    return headers["set-cookie"].split(";")[0], re.search(r'name="csrf" value="([^"]+)"', text)[1]


def post_sign_in(port: int, cookie: str, csrf: str, name: str, password: str):
    return request(port, "POST", "/logga-in",
                   {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
                   urlencode({"csrf": csrf, "anvandarnamn": name, "losenord": password, "nasta": "/"}))


def attacker(port: int, number: int, stop, counts) -> None:
    cookie, csrf = sign_in_form(port)
    seen: Counter = Counter()
    i = 0
    while not stop.is_set():
        status, _, _ = post_sign_in(port, cookie, csrf, "anna" if i % 2 else f"gissning{number}-{i}", f"fel-{i}")
        seen[status] += 1
        i += 1
    counts.put(dict(seen))


def time_page(port: int, cookie: str, seconds: float) -> list[float]:
    times = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        start = time.perf_counter()
        status, _, text = request(port, "GET", "/", {"Cookie": cookie})
        times.append(time.perf_counter() - start)
        assert status == 200 and "Inloggad som anna" in text, status
        time.sleep(0.05)
    return times


def show(label: str, times: list[float]) -> None:
    print(f"{label:<46} n={len(times):>3}  median {statistics.median(times) * 1000:7.1f} ms  "
          f"p90 {sorted(times)[int(len(times) * 0.9)] * 1000:7.1f} ms  max {max(times) * 1000:7.1f} ms")


def serve(root: Path, users: Path, out: str, limit: int):
    content = root / "content"
    config = make_config(content=content, organisationer=content / "organisationer.yaml", out=root / out,
                         host="127.0.0.1", users=users)
    config.signin_limit = limit
    server, thread, url = start_in_thread(config)
    port = int(url.rsplit(":", 1)[1])
    cookie, csrf = sign_in_form(port)
    status, headers, _ = post_sign_in(port, cookie, csrf, "anna", PASSWORD)
    assert status == 303, status
    return server, thread, port, headers["set-cookie"].split(";")[0]


def under_attack(port: int, cookie: str, seconds: float) -> tuple[list[float], Counter]:
    stop = multiprocessing.Event()
    counts: multiprocessing.Queue = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=attacker, args=(port, n, stop, counts)) for n in range(ATTACKERS)]
    for p in procs:
        p.start()
    time.sleep(1.0)  # let the attack get going
    times = time_page(port, cookie, seconds)
    stop.set()
    total: Counter = Counter()
    for _ in procs:
        total.update(counts.get(timeout=120))
    for p in procs:
        p.join(timeout=120)
    return times, total


def main(seconds: float) -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-signin-"))
    shutil.copytree(REPO / "content", root / "content")
    users = root / "anvandare"
    add_user(users, "anna", PASSWORD)
    print(f"{ATTACKERS} attacking processes, {seconds:.0f} s per run; the page is GET / signed in\n")

    server, thread, port, cookie = serve(root, users, "out-throttle", limit=5)
    show("start page, nobody else", time_page(port, cookie, seconds / 2))
    times, statuses = under_attack(port, cookie, seconds)
    show("start page, 8 attackers, throttle on", times)
    print(f"    attackers' answers: {dict(sorted(statuses.items()))} (401 wrong, 429 wait)")
    server.should_exit = True
    thread.join(timeout=30)

    server, thread, port, cookie = serve(root, users, "out-open", limit=10**9)
    times, statuses = under_attack(port, cookie, seconds)
    show("start page, 8 attackers, throttle off", times)
    print(f"    attackers' answers: {dict(sorted(statuses.items()))} (each 401 cost one scrypt)")

    form = sign_in_form(port)
    unknown, known = [], []
    for i in range(60):
        for name, bucket in (("okand-person", unknown), ("anna", known)) if i % 2 else (
                ("anna", known), ("okand-person", unknown)):
            start = time.perf_counter()
            status, _, _ = post_sign_in(port, *form, name, f"fel-lösenord-{i}")
            bucket.append(time.perf_counter() - start)
            assert status == 401, status
    print()
    show("sign-in, unknown user name (wrong password)", unknown)
    show("sign-in, known user name (wrong password)", known)
    diff = (statistics.median(unknown) - statistics.median(known)) * 1000
    print(f"difference of the medians: {diff:+.1f} ms (target: within ±10 ms)")
    server.should_exit = True
    thread.join(timeout=30)
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 10.0)
