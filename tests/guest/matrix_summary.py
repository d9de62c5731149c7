#!/usr/bin/python3
"""Rows of the kernel matrix from the result directories matrix_checks.sh
wrote: kernel, programs verified, bpf fixtures passed, lab cases passed.
Exits 1 when any row is incomplete (a missing file counts as a failure).

  matrix_summary.py [--programs] DIR...
--programs adds, per kernel, each program's verifier instructions and time.
"""
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

EXPECTED_PROGRAMS = 14


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def gtest_counts(d):
    """(passed, total) over the bpf-*.xml files of gtest programs; total is
    the `bpf` label's test count, so a program that did not run counts as
    its tests failing. A skipped test is not a passed one."""
    passed = ran = 0
    for name in sorted(os.listdir(d)):
        if not (name.startswith("bpf-") and name.endswith(".xml")):
            continue
        try:
            root = ET.parse(os.path.join(d, name)).getroot()
        except ET.ParseError:
            continue
        for case in root.iter("testcase"):
            ran += 1
            if case.find("failure") is None and case.get("result", "completed") == "completed" \
                    and case.get("status", "run") == "run":
                passed += 1
    want = read(os.path.join(d, "bpf-label-count"))
    return passed, int(want) if want and want.strip().isdigit() else ran


def lab_counts(log):
    """(passed, total) unittest cases over every lab in a ctest log."""
    if not log:
        return 0, 0
    total = sum(int(n) for n in re.findall(r"^Ran (\d+) tests? in", log, re.M))
    bad = 0
    for m in re.finditer(r"^FAILED \(([^)]*)\)", log, re.M):
        bad += sum(int(n) for n in re.findall(r"(?:failures|errors|skipped)=(\d+)", m.group(1)))
    bad += sum(int(n) for n in re.findall(r"^OK \(skipped=(\d+)\)", log, re.M))
    return total - bad, total


def row(d):
    kernel = (read(os.path.join(d, "kernel")) or "?").strip()
    try:
        check = json.loads(read(os.path.join(d, "check.json")) or "{}")
    except json.JSONDecodeError:
        check = {}
    progs = check.get("programs", [])
    verified = len(progs) if check.get("ok") else 0
    bpf = gtest_counts(d)
    lab = lab_counts(read(os.path.join(d, "lab.log")))
    complete = verified == EXPECTED_PROGRAMS and bpf[1] > 0 and bpf[0] == bpf[1] and lab[1] > 0 and lab[0] == lab[1]
    return kernel, (verified, EXPECTED_PROGRAMS), bpf, lab, complete, progs


def main(argv):
    show_programs = "--programs" in argv
    dirs = [a for a in argv if a != "--programs"]
    ok = True
    print("| kernel | programs verified | bpf fixtures passed | lab cases passed |")
    print("|---|---|---|---|")
    rows = [row(d) for d in dirs]
    for kernel, v, bpf, lab, complete, _ in rows:
        ok = ok and complete
        mark = "" if complete else " **incomplete**"
        print(f"| {kernel} | {v[0]}/{v[1]} | {bpf[0]}/{bpf[1]} | {lab[0]}/{lab[1]} |{mark}")
    if show_programs:
        for kernel, _, _, _, _, progs in rows:
            print(f"\n{kernel}: program, instructions processed, loaded, verification ms")
            for p in progs:
                print(f"  {p['program']:<20} {p['processed_insns']:>8} {p['xlated_insns']:>6}"
                      f" {p['verify_us'] / 1000:>8.1f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
