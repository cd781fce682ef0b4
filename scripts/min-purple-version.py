#!/usr/bin/env python3
"""Checks the libpurple minor version the plugin declares against the functions it imports.

Reads the undefined purple_*/serv_* symbols of the built plugin (nm -D), finds each one's
"@since 2.N.M" in the installed libpurple headers, and fails if the plugin's MIN_PURPLE_MINOR
(src/purple/plugin.rs) is lower than the newest of them."""
import glob
import re
import subprocess
import sys

so = sys.argv[1]
symbols = subprocess.run(["nm", "-D", "--undefined-only", so], capture_output=True, text=True, check=True).stdout
imported = {line.split()[-1] for line in symbols.splitlines() if re.search(r"\b(purple_|serv_|xmlnode_)", line)}

since = {}
for header in glob.glob("/usr/include/libpurple/*.h"):
    comment = []
    for line in open(header, encoding="utf-8", errors="replace"):
        if "/**" in line:
            comment = []
        comment.append(line)
        # The name after the return type, or at the line's start (return type on the line above).
        m = re.match(r"^(?:[A-Za-z_].*?[\s*])?([A-Za-z_]\w*)\s*\(", line)
        if m and m.group(1) in imported:
            found = re.findall(r"@since\s+2\.(\d+)", "".join(comment))
            since[m.group(1)] = int(found[-1]) if found else 0
            comment = []

declared = int(re.search(r"MIN_PURPLE_MINOR: u32 = (\d+);", open("src/purple/plugin.rs").read()).group(1))
newest = max(since.items(), key=lambda kv: kv[1], default=("none", 0))
print(f"imports {len(imported)} libpurple functions; newest is {newest[0]} (2.{newest[1]}); declared 2.{declared}")
if newest[1] > declared:
    sys.exit(f"MIN_PURPLE_MINOR is {declared} but {newest[0]} needs 2.{newest[1]}")
if newest[1] < declared:
    sys.exit(f"MIN_PURPLE_MINOR could be {newest[1]}: nothing newer than 2.{newest[1]} is used")
