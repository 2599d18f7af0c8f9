"""Cohort audit benchmark: patients/s and peak memory, beside the parse-only floor, in one run.

    .venv/bin/python bench/run.py                 # 100,000 and 1,000,000 patients, 1 and 2 jobs
    .venv/bin/python bench/run.py --sizes 20000   # a quick look

For each size it writes a seeded synthetic cohort (ladder synth), then measures, one after another
on the same machine: the parse-only floor (read and validate every history, no audit), then
`ladder audit FILE --format jsonl --jobs N > /dev/null` for each N. Memory is the peak of the
summed resident set of the audit's whole process tree, sampled every 0.1 s. The machine is shared
and noisy: compare the ratios within one run, not absolute figures across runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LADDER = [sys.executable, "-m", "ladder.cli"]


def tree_rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants, in KiB (Linux /proc)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                total += next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    todo += [int(child) for child in children.read().split()]
        except (OSError, StopIteration):
            continue
    return total


def measure(command: list[str]) -> tuple[float, int]:
    """Wall seconds and peak tree RSS (KiB) of a command whose output is discarded."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, cwd=ROOT)
    peak = 0
    while process.poll() is None:
        peak = max(peak, tree_rss_kib(process.pid))
        time.sleep(0.1)
    elapsed = time.perf_counter() - start
    if process.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} exited {process.returncode}")
    return elapsed, peak


PARSE_ONLY = """
import sys
from pathlib import Path
from ladder.audit import load_history
from ladder.readers import Record, read_paths
for record in read_paths([Path(sys.argv[1])]):
    if isinstance(record, Record):
        load_history(record)  # the audit's own reading and validation, nothing more
"""


def cohort_file(size: int, folder: Path) -> Path:
    path = folder / f"cohort-{size}.jsonl"
    if not path.exists():
        with path.open("wb") as out:
            subprocess.run([*LADDER, "synth", str(size), "--seed", "1"], stdout=out, check=True, cwd=ROOT)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--folder", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    print(f"{'patients':>10} {'run':>12} {'seconds':>9} {'patients/s':>11} {'vs 1 job':>9} "
          f"{'of floor':>9} {'peak MiB':>9}")
    for size in args.sizes:
        path = cohort_file(size, args.folder)
        seconds, peak = measure([sys.executable, "-c", PARSE_ONLY, str(path)])
        floor = size / seconds
        print(f"{size:>10} {'parse-only':>12} {seconds:>9.1f} {floor:>11,.0f} {'':>9} {'':>9} "
              f"{peak / 1024:>9.0f}")
        base = None
        for jobs in args.jobs:
            seconds, peak = measure([*LADDER, "audit", str(path), "--format", "jsonl",
                                     "--jobs", str(jobs), "--no-progress"])
            rate = size / seconds
            base = base or rate
            print(f"{size:>10} {f'audit -j{jobs}':>12} {seconds:>9.1f} {rate:>11,.0f} "
                  f"{rate / base:>8.2f}x {rate / floor:>9.3f} {peak / 1024:>9.0f}", flush=True)


if __name__ == "__main__":
    main()
