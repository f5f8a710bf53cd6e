"""Emit PerfLog events from a Python workload (standard library only).

Each call writes one line to stderr and flushes it:

    [PerfLog] {"event":"STEP_END","value":{"step":3,"loss":5.1},
               "metadata":{"time_ms":1700000000000,"rank":0,"file":"train.py","lineno":42}}

(on a single line). ``time_ms`` is wall-clock epoch milliseconds, ``rank`` is the
global rank from the ``RANK`` environment variable (0 when unset or not an integer),
``file`` and ``lineno`` name the caller. Keyword arguments add metadata fields and
may override those four. Non-finite floats (NaN, +-Infinity) are not JSON and are
written as ``null``; objects with an ``item()`` method (numpy or torch scalars) are
converted with it.

    import perflog
    perflog.emit(perflog.STEP_END, {"step": 3, "loss": 5.1})
    perflog.emit(perflog.FINISHED, {"tokens_per_second": 1234.5}, authoritative=True)
"""

import json
import math
import os
import sys
import time

INIT_START = "INIT_START"
INIT_END = "INIT_END"
TRAIN_START = "TRAIN_START"
STEP_END = "STEP_END"
EVALUATE = "EVALUATE"
EPOCH_END = "EPOCH_END"
TRAIN_END = "TRAIN_END"
FINISHED = "FINISHED"

PREFIX = "[PerfLog] "


def _rank():
    try:
        return int(os.environ.get("RANK", "0"))
    except ValueError:
        return 0


def _clean(obj):
    """Return obj with non-finite floats replaced by None and scalars unwrapped."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(key): _clean(val) for key, val in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(val) for val in obj]
    if hasattr(obj, "item"):
        return _clean(obj.item())
    return obj


def emit(event, value=None, **metadata):
    """Write one ``[PerfLog] {json}`` line for ``event`` to stderr and flush it."""
    caller = sys._getframe(1)
    meta = {
        "time_ms": time.time_ns() // 1_000_000,
        "rank": _rank(),
        "file": os.path.basename(caller.f_code.co_filename),
        "lineno": caller.f_lineno,
    }
    meta.update(metadata)
    record = {"event": event, "value": value or {}, "metadata": meta}
    line = json.dumps(_clean(record), separators=(",", ":"), allow_nan=False)
    sys.stderr.write(PREFIX + line + "\n")
    sys.stderr.flush()
