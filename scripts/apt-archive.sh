#!/bin/sh
# SPDX-License-Identifier: MIT
# Print the address of the Debian archive this machine installs its release
# from, as its apt configuration says (one-line and deb822 source files).
# Nothing is printed (exit 1) when the configuration names none.
set -eu
codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
archive_uri() {
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk -v s="$codename" '$1 == "deb" {
            i = 2
            if ($i ~ /^\[/) while (i <= NF && $i !~ /\]$/) i++
            if ($i ~ /\]$/) i++
            if ($(i + 1) == s) { print $i; exit }
        }' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v s="$codename" '
            function flush() {
                if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " s " ") && uris != "") {
                    split(uris, u, " "); print u[1]; found = 1
                }
                types = ""; uris = ""; suites = ""
            }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { flush(); if (found) exit; next }
            tolower($1) == "types:" { $1 = ""; types = $0 }
            tolower($1) == "uris:" { $1 = ""; uris = $0 }
            tolower($1) == "suites:" { $1 = ""; suites = $0 }
            END { if (!found) flush() }' "$f"
    done
}
a=$(archive_uri | head -n 1)
[ -n "$a" ] || exit 1
echo "$a"
