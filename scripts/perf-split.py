#!/usr/bin/env python3
"""Splits a purple-stub sign-in profile into parts by call stack (tests/bench/profile.md).

Usage: perf script -i perf.data > samples.txt; scripts/perf-split.py samples.txt

Only samples inside a main-loop iteration count (dispatch, and the stub writing its events out
before it polls again), less the stub's quit: start-up and shutdown are not the sign-in. A stack through NSS or libpurple's certificate and SSL code is TLS; otherwise
the part is the first owner met going from the leaf to the root: the plugin's core (`msnp::`),
its glue (`purple_msnp::`, list apply when in `blist`/`privacy`), libpurple or the stub.
"""
import collections
import re
import sys

NSS = re.compile(r"lib(nss3|ssl3|softokn3|freebl\w*|nssutil3|smime3|nspr4|plc4|plds4|nssckbi)\b|ssl-nss")
FRAME = re.compile(r"\s+[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$")
BUDDY_LIST = ("blist", "buddy", "presence", "status", "privacy")


def samples(path):
    """Yields each sample's frames, leaf first, as (symbol, object) pairs."""
    frames = []
    with open(path, errors="replace") as f:
        for line in f:
            if not line.strip():
                if frames:
                    yield frames
                frames = []
            elif line[0] in " \t":
                m = FRAME.match(line)
                if m:
                    frames.append((m.group(1), m.group(2)))
    if frames:
        yield frames


def part(frames):
    """The part a sample belongs to, or None if it is outside the measured window."""
    symbols = " ".join(s for s, _ in frames)
    in_loop = "g_main_context_dispatch" in symbols or "timed_poll" in symbols
    if not in_loop or "stub_quit" in symbols:
        return None
    if any(NSS.search(o) for _, o in frames) or re.search(r"purple_ssl|purple_certificate", symbols):
        return "TLS"
    for symbol, obj in frames:
        if obj.endswith("libpurple_msnp.so"):
            if re.search(r"\bmsnp::", symbol):
                return "plugin core"
            if "purple_msnp::" in symbol:
                return "glue: list apply" if re.search("blist|privacy", symbol) else "glue: other"
        elif "libpurple.so" in obj:
            if any(word in symbols for word in BUDDY_LIST):
                return "libpurple: buddy list"
            return "libpurple: other"
        elif obj.endswith("purple-stub"):
            return "front end"
    return "other"


def main():
    counts = collections.Counter(p for p in map(part, samples(sys.argv[1])) if p)
    total = sum(counts.values())
    for name, n in counts.most_common():
        print(f"{name:24} {n:7} {100 * n / total:5.1f}%")
    print(f"{'total':24} {total:7}")


if __name__ == "__main__":
    main()
