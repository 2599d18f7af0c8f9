"""Library-call benchmark: `ladder.audit(history)` as an embedding application calls it.

    .venv/bin/python bench/library.py               # 3,000 calls per case
    .venv/bin/python bench/library.py --calls 500

For each seed patient (read once), times `ladder.audit(history)` with no `rules=` (the documented
one-liner: the default pack, cached after the first call) and with a loaded Rulebook, and reports
p50 and p99 in milliseconds. The first call (loading and compiling the pack) is reported apart.
Targets (issue 11): default pack < 0.5 ms p50 and < 2 ms p99. The machine is shared and noisy:
compare the two columns of one run.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import ladder  # noqa: E402
from ladder.readers import read_paths  # noqa: E402
from ladder.audit import load_history  # noqa: E402


def timings(call, calls: int) -> list[float]:
    out = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        out.append((time.perf_counter() - start) * 1000)
    return out


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    args = parser.parse_args()
    histories = [load_history(r) for r in read_paths([ROOT / "cases" / "seed"])]
    start = time.perf_counter()
    ladder.audit(histories[0])
    first = (time.perf_counter() - start) * 1000
    book = ladder.load_rules()
    print(f"machine: {platform.node()} ({platform.machine()}, {platform.python_version()}), "
          f"{args.calls} calls per patient; first call {first:.0f} ms (loads and compiles the pack)")
    print(f"{'patient':<10} {'default p50':>12} {'p99':>8} {'loaded p50':>11} {'p99':>8}")
    every_default, every_loaded = [], []
    for history in histories:
        default = timings(lambda: ladder.audit(history), args.calls)
        loaded = timings(lambda: ladder.audit(history, rules=book), args.calls)
        every_default += default
        every_loaded += loaded
        print(f"{history.id:<10} {pct(default, 50):>10.3f}ms {pct(default, 99):>6.3f}ms "
              f"{pct(loaded, 50):>9.3f}ms {pct(loaded, 99):>6.3f}ms")
    print(f"{'all':<10} {pct(every_default, 50):>10.3f}ms {pct(every_default, 99):>6.3f}ms "
          f"{pct(every_loaded, 50):>9.3f}ms {pct(every_loaded, 99):>6.3f}ms")


if __name__ == "__main__":
    main()
