"""Peak memory of the gap computation, measured in a process of its own.

``python -m bench.memory_child PROJECT.pickle`` loads a pickled project (the data in memory, as the
page has it), resets the kernel's peak-RSS mark, runs the gap workload (overall + quarterly +
intervals) and prints JSON: ``peak_mib`` (the process's peak resident memory during the computation,
data and libraries included), ``baseline_mib`` (resident before it) and ``increase_mib``.
"""

from __future__ import annotations

import json
import pickle
import resource
import sys
import time
from pathlib import Path


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux: write 5 to /proc/self/clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def main(argv: list[str]) -> int:
    from bench.workloads import gap_workload

    with open(argv[0], "rb") as handle:
        project = pickle.load(handle)
    gap_workload(project)  # warm: imports and lazy initialisation are not the computation
    baseline = _status_kib("VmRSS")
    reset = _reset_peak()
    start = time.perf_counter()
    gap_workload(project)
    seconds = time.perf_counter() - start
    peak = _status_kib("VmHWM") if reset else None
    if peak is None:  # whole-process peak (ru_maxrss is KiB on Linux)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = {
        "peak_mib": peak / 1024,
        "baseline_mib": (baseline or 0) / 1024,
        "increase_mib": (peak - (baseline or 0)) / 1024,
        "peak_reset": reset,
        "seconds": seconds,
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
