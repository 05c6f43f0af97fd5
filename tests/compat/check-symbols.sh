#!/bin/sh
# SPDX-License-Identifier: MIT
# The symbol sets of the libvirt-compatible libraries.
#
#   check-symbols.sh BUILD/compat LIBVIRT_SRC
#
# For each of libvirt.so.0, libvirt-qemu.so.0, libvirt-lxc.so.0 and
# libvirt-admin.so.0: every global symbol of libvirt's .syms file is
# defined and exported in exactly its version node; nothing else is
# exported but the library's version nodes and, for libvirt.so.0 only, the
# compat_* helpers in the private node; the qemu, lxc and admin libraries
# take them from libvirt.so.0. Then unmodified python3-libvirt imports
# libvirt, libvirt_qemu and libvirt_lxc from these libraries (when
# installed). TAP output.
set -u
dir=${1:?usage: check-symbols.sh BUILD/compat LIBVIRT_SRC}
lv=${2:?usage: check-symbols.sh BUILD/compat LIBVIRT_SRC}
n=0
fails=0
ok() {
    n=$((n + 1))
    if [ "$1" = 0 ]; then echo "ok $n - $2"; else
        echo "not ok $n - $2"
        fails=$((fails + 1))
    fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
command -v readelf >/dev/null 2>&1 || {
    echo "1..0 # SKIP readelf (binutils) is missing"
    exit 0
}

# NODE NAME lines of a version script's global symbols.
syms_pairs() {
    sed 's/#.*//; s/[{};]/ & /g' "$1" | tr -s ' \t\n' '\n\n\n' | awk '
        $0 == "" { next }
        state == 0 { node = $0; state = 1; global = 0; next }
        state == 1 && $0 == "{" { next }
        state == 1 && $0 == "global:" { global = 1; next }
        state == 1 && $0 == "local:" { global = 0; next }
        state == 1 && $0 == "}" { state = 2; next }
        state == 1 && global && /^[A-Za-z_][A-Za-z0-9_]*$/ { print node, $0; next }
        state == 2 && $0 == ";" { state = 0 }' | sort
}

# NODE NAME lines of the defined dynamic symbols of a library (version
# definitions themselves, the ABS entries, left out).
lib_pairs() {
    readelf --dyn-syms -W "$1" | awk '
        $1 ~ /^[0-9]+:$/ && $7 != "UND" && $7 != "ABS" && $8 ~ /@/ {
            name = $8; sub(/@.*/, "", name); node = $8; sub(/^[^@]*@+/, "", node)
            print node, name }' | sort
}

for spec in virt:src/libvirt_public.syms virt-qemu:src/libvirt_qemu.syms \
    virt-lxc:src/libvirt_lxc.syms virt-admin:src/admin/libvirt_admin_public.syms; do
    lib=${spec%%:*}
    syms=$lv/${spec#*:}
    so=$dir/lib$lib.so.0
    if [ ! -f "$so" ] || [ ! -f "$syms" ]; then
        ok 1 "lib$lib.so.0 and $syms exist"
        continue
    fi
    syms_pairs "$syms" >"$tmp/want.$lib"
    lib_pairs "$so" >"$tmp/got.$lib"
    total=$(wc -l <"$tmp/want.$lib")
    [ "$total" -gt 0 ]
    ok $? "lib$lib.so.0: $(basename "$syms") names $total public symbols"
    comm -23 "$tmp/want.$lib" "$tmp/got.$lib" >"$tmp/missing.$lib"
    [ ! -s "$tmp/missing.$lib" ]
    ok $? "lib$lib.so.0: all $total public symbols defined in their version node ($(wc -l <"$tmp/missing.$lib") missing)"
    sed 's/^/# missing: /' "$tmp/missing.$lib" | head -n 20
    comm -13 "$tmp/want.$lib" "$tmp/got.$lib" >"$tmp/extra.$lib"
    if [ "$lib" = virt ]; then
        grep -v '^VIRTRPC_COMPAT_PRIVATE compat_' "$tmp/extra.$lib" >"$tmp/extra2.$lib"
        grep -c '^VIRTRPC_COMPAT_PRIVATE compat_' "$tmp/extra.$lib" >"$tmp/priv.$lib"
        [ "$(cat "$tmp/priv.$lib")" -gt 0 ]
        ok $? "libvirt.so.0 exports its compat_* helpers in the private node ($(cat "$tmp/priv.$lib"))"
        grep -q '^VIRTRPC_COMPAT_PRIVATE compat_stubbed$' "$tmp/extra.$lib"
        ok $? "libvirt.so.0 exports the table of stubbed functions (compat_stubbed)"
    else
        cp "$tmp/extra.$lib" "$tmp/extra2.$lib"
        readelf -d -W "$so" | grep -q 'NEEDED.*\[libvirt\.so\.0\]'
        ok $? "lib$lib.so.0 needs libvirt.so.0"
    fi
    [ ! -s "$tmp/extra2.$lib" ]
    ok $? "lib$lib.so.0 exports nothing else ($(wc -l <"$tmp/extra2.$lib") other symbols)"
    sed 's/^/# extra: /' "$tmp/extra2.$lib" | head -n 20
    # The same name in two nodes would be two definitions: one per name.
    dup=$(awk '{ print $2 }' "$tmp/got.$lib" | sort | uniq -d | head -n 5 | tr '\n' ' ')
    [ -z "$dup" ]
    ok $? "lib$lib.so.0 defines each name once ${dup:+($dup)}"
done

# Unmodified python3-libvirt (Debian's, for the system's python3) on these
# libraries.
py=
[ -n "${VRPC_COMPAT_NO_PYTHON:-}" ] ||
for p in python3 /usr/bin/python3; do
    if "$p" -c 'import libvirt' 2>/dev/null; then
        py=$p
        break
    fi
done
if [ -n "$py" ]; then
    out=$(LD_LIBRARY_PATH=$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$py" -c '
import libvirt, libvirt_qemu, libvirt_lxc
maps = open("/proc/self/maps").read()
for so in ("libvirt.so.0", "libvirt-qemu.so.0", "libvirt-lxc.so.0"):
    paths = {l.split()[-1] for l in maps.splitlines() if "/" + so in l}
    print(so, " ".join(sorted(paths)))
' 2>&1)
    rc=$?
    ok $rc "python3 imports libvirt, libvirt_qemu and libvirt_lxc on these libraries"
    [ $rc = 0 ] || echo "$out" | sed 's/^/# /' | head -n 10
    real=$(cd "$dir" && pwd -P)
    for so in libvirt.so.0 libvirt-qemu.so.0 libvirt-lxc.so.0; do
        line=$(echo "$out" | grep "^$so ")
        paths=${line#"$so"}
        p=$(echo $paths)
        case $p in
        "$real/$so"* | "$dir/$so"*) r=0 ;;
        *) r=1 ;;
        esac
        ok $r "python3 loaded $so from the build tree (${p:-not loaded})"
    done
else
    echo "ok $((n + 1)) # SKIP python3-libvirt is not installed (or VRPC_COMPAT_NO_PYTHON)"
    n=$((n + 1))
fi

echo "1..$n"
[ "$fails" = 0 ]
