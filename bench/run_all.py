"""Runs every benchmark in bench/ (``bench_*.py``), one after the other.

Each benchmark is a standalone script that runs our code beside its anchor in
one process, prints its table and ends with a line ``RESULT <json>``. This
runner collects those lines into ``out/bench-results.json`` and prints a
summary. Arguments are passed to every benchmark (``--quick`` for short runs);
``--only NAME`` runs the benchmarks whose file name contains NAME. Files
whose names start with an underscore are helpers the benchmarks import
(``_janus_anchor.py``, ``_meeting_harness.py`` for the meeting benchmarks:
``bench_mouth_to_ear.py``, ``bench_join_time.py``,
``bench_meeting_capacity.py``), not benchmarks.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
OUT_FILE = BENCH_DIR.parent / "out" / "bench-results.json"


def run_one(script: Path, passthrough: list[str]) -> tuple[int, dict[str, object] | None]:
    """Runs one benchmark, echoing its output; returns (exit code, RESULT)."""
    print(f"\n=== {script.name} ===", flush=True)
    process = subprocess.Popen(
        [sys.executable, str(script), *passthrough],
        stdout=subprocess.PIPE,
        text=True,
    )
    result: dict[str, object] | None = None
    assert process.stdout is not None
    for line in process.stdout:
        print(line, end="", flush=True)
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
    return process.wait(), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run benchmarks whose name contains this")
    args, passthrough = parser.parse_known_args()
    scripts = sorted(p for p in BENCH_DIR.glob("bench_*.py") if args.only in p.name)
    results: dict[str, object] = {}
    failed = []
    for script in scripts:
        started = time.monotonic()
        code, result = run_one(script, passthrough)
        print(f"--- {script.name}: exit {code}, {time.monotonic() - started:.0f} s")
        if code != 0:
            failed.append(script.name)
        results[script.stem] = result
    OUT_FILE.parent.mkdir(exist_ok=True)
    OUT_FILE.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\n{len(scripts)} benchmarks, results in {OUT_FILE}")
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
