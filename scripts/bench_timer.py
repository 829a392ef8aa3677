#!/usr/bin/env python3
"""Wall-clock timer for whole processes, run interleaved; used by bench-sign.sh.

    bench_timer.py --runs N [--warmup W] --case SPEC [--case SPEC ...]

SPEC is `NAME|STDIN|LINES|COMMAND`: STDIN a file fed to the process (or `-`
for none), LINES the number of output lines required (or `-` for no check),
COMMAND an argv in shell quoting (split with shlex; no shell runs it).

Each round runs every case once, the order rotated by one each round so that
no case always runs first or last (the machine is shared and noisy). Each
process is timed with time.perf_counter around subprocess.run. A case that
exits non-zero or prints the wrong number of lines stops everything (exit 1,
its stderr shown). The first output of each case is saved as OUTDIR/NAME.out
when --keep-output OUTDIR is given.

Prints one tab-separated line per case: NAME, median wall seconds, min, max,
runs, median CPU seconds (user + system of the process and its children, from
getrusage: unlike wall time, it hardly depends on what else the machine runs).
"""

import argparse
import os
import resource
import shlex
import statistics
import subprocess
import sys
import time


def parse_case(spec):
    try:
        name, stdin, lines, command = spec.split("|", 3)
    except ValueError:
        sys.exit(f"bench_timer: bad --case {spec!r}: expected NAME|STDIN|LINES|COMMAND")
    return {
        "name": name,
        "stdin": None if stdin == "-" else stdin,
        "lines": None if lines == "-" else int(lines),
        "argv": shlex.split(command),
    }


def run_once(case):
    stdin = open(case["stdin"], "rb") if case["stdin"] else subprocess.DEVNULL
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(case["argv"], stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    finally:
        if case["stdin"]:
            stdin.close()
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr.decode(errors="replace"))
        sys.exit(f"bench_timer: {case['name']}: exit status {proc.returncode}: {shlex.join(case['argv'])}")
    if case["lines"] is not None:
        # The AWS CLI ends its one line without a newline: count lines, not newlines.
        got = len(proc.stdout.splitlines())
        if got != case["lines"]:
            sys.stderr.write(proc.stderr.decode(errors="replace"))
            sys.exit(f"bench_timer: {case['name']}: printed {got} lines, expected {case['lines']}")
    return elapsed, cpu, proc.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=1, help="untimed rounds first (page cache, CPU frequency)")
    ap.add_argument("--case", action="append", required=True)
    ap.add_argument("--keep-output", metavar="OUTDIR")
    args = ap.parse_args()
    cases = [parse_case(s) for s in args.case]

    for _ in range(args.warmup):
        for case in cases:
            run_once(case)
    times = {c["name"]: [] for c in cases}
    cpus = {c["name"]: [] for c in cases}
    for r in range(args.runs):
        order = cases[r % len(cases):] + cases[: r % len(cases)]
        for case in order:
            elapsed, cpu, out = run_once(case)
            times[case["name"]].append(elapsed)
            cpus[case["name"]].append(cpu)
            if args.keep_output and len(times[case["name"]]) == 1:
                with open(os.path.join(args.keep_output, case["name"] + ".out"), "wb") as f:
                    f.write(out)
        if sys.stderr.isatty():
            print(f"  round {r + 1}/{args.runs}", file=sys.stderr, end="\r")
    if sys.stderr.isatty():
        print(file=sys.stderr)
    for case in cases:
        t = times[case["name"]]
        c = statistics.median(cpus[case["name"]])
        print(f"{case['name']}\t{statistics.median(t):.6f}\t{min(t):.6f}\t{max(t):.6f}\t{len(t)}\t{c:.6f}")


if __name__ == "__main__":
    main()
