#!/usr/bin/env python3
"""Checks that every `extern "C" fn` the glue defines runs its body inside `guard::entry`.

A panic unwinding into libpurple aborts the host, so each function libpurple (or GLib) can
call must start with `entry(` (or `guard::entry(`), the one place that catches panics. Also
checks that `catch_unwind` appears nowhere else. Exit status 1 lists the offenders.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent / "src" / "purple"
DEFINITION = re.compile(r'^\s*(pub(\([a-z]+\))?\s+)?unsafe\s+extern\s+"C"\s+fn\s+(\w+)')
GUARDED = re.compile(r"^\s*(super::)?(guard::)?entry\(")


def check(path: pathlib.Path) -> list[str]:
    problems = []
    lines = path.read_text().splitlines()
    for number, line in enumerate(lines):
        match = DEFINITION.match(line)
        if not match:
            continue
        # The body opens on the first line (from the definition on) ending with "{".
        opening = next(i for i in range(number, len(lines)) if lines[i].rstrip().endswith("{"))
        body = next(
            (l for l in lines[opening + 1 :] if l.strip() and not l.strip().startswith("//")), ""
        )
        if not GUARDED.match(body):
            problems.append(f"{path}:{number + 1}: `{match.group(3)}` does not start with entry(")
    for number, line in enumerate(lines):
        if "catch_unwind" in line and path.name != "guard.rs":
            problems.append(f"{path}:{number + 1}: catch_unwind outside guard.rs")
    return problems


def main() -> int:
    files = [p for p in sorted(ROOT.rglob("*.rs")) if "ffi" not in p.relative_to(ROOT).parts[:-1]]
    problems = [problem for path in files for problem in check(path)]
    count = sum(
        1 for path in files for line in path.read_text().splitlines() if DEFINITION.match(line)
    )
    if problems:
        print("\n".join(problems))
        return 1
    print(f"entries: all {count} extern \"C\" functions go through guard::entry")
    return 0


if __name__ == "__main__":
    sys.exit(main())
