"""Fail CI when a test was skipped (or xfailed) for a reason not listed in the allow-list.

Usage: python .ci/check_skips.py JUNIT_XML ALLOWED_SKIPS_TXT

The allow-list has one skip reason per line, exactly as pytest reports it (the `message` of
the junit `<skipped>` element); blank lines and lines starting with '#' are ignored.
Exit code 0 when every skip is listed, 1 otherwise (the unlisted ones are printed).
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def read_allowed(path: Path) -> set[str]:
    """Return the skip reasons listed in ``path`` (one per line; '#' starts a comment line)."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    return {line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")}


def find_unlisted_skips(junit: Path, allowed: set[str]) -> list[str]:
    """Return "test: reason" for every skipped test in ``junit`` whose reason is not allowed."""
    unlisted = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        for skipped in case.findall("skipped"):
            reason = (skipped.get("message") or "").strip()
            if reason not in allowed:
                unlisted.append(f"{case.get('classname')}::{case.get('name')}: {reason}")
    return unlisted


def main(argv: list[str]) -> int:
    """Print the unlisted skips of the junit file in ``argv[1]``; return the exit code."""
    junit, allowed_file = Path(argv[1]), Path(argv[2])
    if not junit.is_file():
        print(f"CI: {junit} missing: cannot check skipped tests.", file=sys.stderr)
        return 1
    unlisted = find_unlisted_skips(junit, read_allowed(allowed_file))
    for line in unlisted:
        print(f"CI: skipped without a listed reason: {line}", file=sys.stderr)
    if unlisted:
        print(f"CI: {len(unlisted)} skipped test(s); fix them or list the reason in {allowed_file}.",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
