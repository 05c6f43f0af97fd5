# SPDX-License-Identifier: MIT
"""Seed inputs for the .x parser's fuzz target, made at build time.

    x-seeds.py OUT_DIR FILE.x...

Every input file is cut into its top-level definitions (at the ';' that
closes a definition outside braces, comments and pass-through lines), and
the definitions are written in runs of at most 4000 bytes, one seed file
per run (a whole small file is one seed). The files are used as they are
found (e.g. libvirt's protocol files from the build's source cache) and
nothing of them is kept in the source tree.
"""
import os
import sys

LIMIT = 4000


def definitions(text):
    out, depth, start, i, n = [], 0, 0, 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith('/*', i):
            j = text.find('*/', i + 2)
            i = n if j < 0 else j + 2
            continue
        if c == '%' and (i == 0 or text[i - 1] == '\n'):
            j = text.find('\n', i)
            i = n if j < 0 else j + 1
            continue
        if c == '{':
            depth += 1
        elif c == '}':
            depth = max(0, depth - 1)
        elif c == ';' and depth == 0:
            out.append(text[start:i + 1])
            start = i + 1
        i += 1
    if text[start:].strip():
        out.append(text[start:])
    return out


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    for name in os.listdir(out_dir):
        os.remove(os.path.join(out_dir, name))
    k = 0
    for path in sys.argv[2:]:
        with open(path, 'rb') as f:
            text = f.read().decode('latin-1')
        base = os.path.basename(path).replace('.', '-')
        if len(text) <= LIMIT:
            runs = [text]
        else:
            runs, cur = [], ''
            for d in definitions(text):
                if cur and len(cur) + len(d) > LIMIT:
                    runs.append(cur)
                    cur = ''
                if len(d) <= LIMIT:
                    cur += d
            if cur.strip():
                runs.append(cur)
        for r in runs:
            with open(os.path.join(out_dir, '%s-%04d' % (base, k)), 'wb') as f:
                f.write(r.encode('latin-1'))
            k += 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
