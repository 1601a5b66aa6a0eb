"""
`make bench`: run every benchmark in turn and collect what they print.

Each benchmark is a script that measures the real path (a real server, real clients on
loopback, a real peer where the issue names one) and prints Markdown. The report goes to
stdout and to bench/results/report.md; docs/benchmarks.md holds the figures of record.

    .venv/bin/python bench/run_all.py [NAME ...]
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BENCHMARKS = {
    "regions": ["bench/bench_regions.py"],
    "commands": ["-m", "bench.bench_commands"],
    "active": ["-m", "bench.bench_active"],
    "compat": ["-m", "bench.bench_compat"],
    "fanout": ["bench/fanout/run.py"],
    "webhooks": ["-m", "bench.bench_webhooks"],
    "engine": ["-m", "bench.bench_engine"],
    "history": ["bench/bench_history.py"],
    "scale": ["-m", "bench.bench_scale"],
    "map": ["-m", "bench.bench_map"],
}


def main(names: list[str]) -> int:
    chosen = names or list(BENCHMARKS)
    unknown = [n for n in chosen if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
        return 2
    report: list[str] = []
    failed = []
    for name in chosen:
        print(f"\n## {name}\n", flush=True)
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, *BENCHMARKS[name]],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.monotonic() - started
        output = result.stdout.strip()
        print(output)
        if result.returncode != 0:
            failed.append(name)
            print(result.stderr[-3000:])
        report.append(f"## {name} ({elapsed:.0f} s)\n\n{output}\n")
    out = ROOT / "bench" / "results" / "report.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(report), encoding="utf-8")
    print(f"\nreport written to {out.relative_to(ROOT)}")
    if failed:
        print(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
