"""Benchmark: what the template sandbox costs a .docx render. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_sandbox.py [N]

Renders the sample paper (one organisation) N times (default 200) in one process with
the sandbox every command uses (``render.TemplateEnvironment``) and with a plain
``jinja2.Environment`` that caches compiled parts the same way (what rendering was
before), alternating in rounds so machine load hits both alike; prints the median ms
per paper of each. Also the cost of checking a template's container
(``templatefile.read_template``) uncached and cached.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import jinja2

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from generator import pipeline, templatefile  # noqa: E402
from generator.context import build_context  # noqa: E402
from generator.render import TemplateEnvironment, render_document  # noqa: E402


class PlainEnvironment(jinja2.Environment):
    """The environment before the sandbox: autoescape, strict undefined, compiled once per text."""

    def __init__(self) -> None:
        super().__init__(autoescape=True, undefined=jinja2.StrictUndefined)
        self._compiled: dict[str, jinja2.Template] = {}

    def from_string(self, source, globals=None, template_class=None):  # noqa: A002
        if source not in self._compiled:
            self._compiled[source] = super().from_string(source)
        return self._compiled[source]


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    sample = REPO / "content" / "arenden" / "2023-10-handlingsplaner"
    plan = pipeline.plan_arende(sample, REPO / "content" / "organisationer.yaml", Path(tempfile.mkdtemp()) / "out")
    job = plan.jobs[0]
    data = job.template.read_bytes()

    def render(env: jinja2.Environment) -> None:
        render_document(job.template, lambda markdown: build_context(job.loaded, job.bilagor, markdown),
                        title="x", author="y", when=job.loaded.arende.utfardat, data=data, env=env)

    envs = {"sandbox": TemplateEnvironment(), "plain": PlainEnvironment()}
    times: dict[str, list[float]] = {name: [] for name in envs}
    for env in envs.values():
        render(env)  # compile once
    rounds = 10
    for _ in range(rounds):
        for name, env in envs.items():
            start = time.perf_counter()
            for _ in range(count // rounds):
                render(env)
            times[name].append((time.perf_counter() - start) / (count // rounds) * 1000)
    for name, values in times.items():
        print(f"{name:8s} {statistics.median(values):6.2f} ms per paper (median of {rounds} rounds)")

    start = time.perf_counter()
    templatefile._CHECKED.clear()
    templatefile.read_template(job.template, data)
    cold = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(100):
        templatefile.read_template(job.template, job.template.read_bytes())
    warm = (time.perf_counter() - start) / 100
    print(f"container check: {cold * 1000:.2f} ms the first time, {warm * 1000:.3f} ms cached (read included)")


if __name__ == "__main__":
    main()
