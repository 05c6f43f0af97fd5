#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Count TAP results across meson test logs and print the closing line:
'N passed, N failed, N skipped'. A test program that crashed or printed no
TAP counts as one failure. Exit status 1 when anything failed."""
import json
import re
import sys

passed = failed = skipped = 0
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            t = json.loads(line)
            out = t.get("stdout") or ""
            name = t.get("name")
            p = f_ = s = 0
            for l in out.splitlines():
                if re.match(r"^not ok\b", l):
                    if re.search(r"#\s*TODO", l, re.I):
                        s += 1
                    else:
                        f_ += 1
                elif re.match(r"^ok\b", l):
                    if re.search(r"#\s*SKIP", l, re.I):
                        s += 1
                    else:
                        p += 1
            if t.get("result") not in ("OK", "EXPECTEDFAIL", "SKIP") and f_ == 0:
                f_ = 1
                print(f"FAILED: {path}: {name} ({t.get('result')})", file=sys.stderr)
            elif f_:
                print(f"FAILED: {path}: {name}: {f_} failing cases", file=sys.stderr)
            passed += p
            failed += f_
            skipped += s
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
