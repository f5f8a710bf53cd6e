#!/usr/bin/env python3
"""Python baseline for `perf-bench perflog`: the loop a Python tool would write to read PerfLog.

For every line: `line.find("[PerfLog]")`; on a hit, `json.loads` of the rest of the line, and
an event is counted when the result is a dict whose "event" is a str (what the Swift scanner
checks too); anything else counts as a bad line. Prints one JSON object with the counts and the
seconds spent in the loop (file reading included, interpreter start-up excluded).

Two honest variants; which is faster depends on the log and the interpreter, so the benchmark
runs both and compares the Swift scanner with the fastest:
- "text": iterate the file opened as text (UTF-8, errors="replace"), find + json.loads on str.
  Decoding the whole file in big blocks is cheap per byte but touches every line.
- "binary": iterate the file opened in binary, find on bytes, decode only a hit's tail (strict
  UTF-8: invalid bytes make a bad line, as in the Swift scanner) and json.loads it.
Measured on the 2-core test VM (64 MB logs, Debian's /usr/bin/python3 3.11.2): on a log where
every line is a PerfLog line both ran at ~30-60 MB/s, neither ahead in every run; on a log with
1 % PerfLog lines "binary" ran at ~300-500 MB/s and "text" at ~150-270 MB/s.

Usage: perflog_baseline.py --mode {text,binary} LOG
"""

import argparse
import json
import sys
import time

TOKEN = "[PerfLog]"
BINARY_TOKEN = TOKEN.encode()


def scan_text(path):
    events = bad = 0
    loads = json.loads
    with open(path, "r", encoding="utf-8", errors="replace") as log:
        for line in log:
            start = line.find(TOKEN)
            if start < 0:
                continue
            try:
                record = loads(line[start + len(TOKEN):])
            except ValueError:
                bad += 1
                continue
            if type(record) is dict and type(record.get("event")) is str:
                events += 1
            else:
                bad += 1
    return events, bad


def scan_binary(path):
    events = bad = 0
    loads = json.loads
    with open(path, "rb") as log:
        for line in log:
            start = line.find(BINARY_TOKEN)
            if start < 0:
                continue
            try:
                record = loads(line[start + len(BINARY_TOKEN):].decode("utf-8"))
            except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
                bad += 1
                continue
            if type(record) is dict and type(record.get("event")) is str:
                events += 1
            else:
                bad += 1
    return events, bad


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["text", "binary"], required=True)
    parser.add_argument("log")
    arguments = parser.parse_args()
    scan = scan_text if arguments.mode == "text" else scan_binary
    started = time.perf_counter()
    events, bad = scan(arguments.log)
    seconds = time.perf_counter() - started
    json.dump(
        {
            "events": events,
            "bad_lines": bad,
            "seconds": seconds,
            "mode": arguments.mode,
            "python": sys.version.split()[0],
            "executable": sys.executable,
        },
        sys.stdout,
    )
    print()


if __name__ == "__main__":
    main()
