#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# `vfio-hook check` as a user runs it: exit codes (0 nothing failed, 1 some
# check failed, 2 bad input), text without colour when piped, JSON, and a
# run against this machine's own / that must answer without errors.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
front=$top_builddir/vfio-hook
mkhost=$top_builddir/tests/mkhost
export VFIO_HOOK_ENGINE="$top_builddir/vfio-hook-engine"
tmp=$(mktemp -d "$top_builddir/tests/tmp-check-cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $1"; }
is() { # is NAME EXPECTED ACTUAL
        if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; echo "  expected: $2"; echo "  actual:   $3"; fi
}
has() { # has NAME NEEDLE TEXT
        case $3 in
        *"$2"*) ok "$1" ;;
        *) not_ok "$1"; echo "  '$2' not in:"; printf '%s\n' "$3" | sed 's/^/    /' ;;
        esac
}

for f in check-intel check-no-iommu check-amd; do
        "$mkhost" "$top_srcdir/tests/data/$f.host" "$tmp/$f" || { not_ok "mkhost $f"; exit 1; }
done
ex=$top_srcdir/examples
esc=$(printf '\033')

out=$("$front" check --xml "$ex/win10-nvidia.xml" --sysroot "$tmp/check-intel" 2>"$tmp/err"); rc=$?
is "all pass: exit 0" 0 $rc
has "all pass: summary" "18 passed, 0 warnings, 0 failed" "$out"
is "all pass: nothing on stderr" "" "$(cat "$tmp/err")"
case $out in *"$esc"*) not_ok "piped: no colour" ;; *) ok "piped: no colour" ;; esac

out=$("$front" check --xml "$ex/win10-nvidia.xml" --sysroot "$tmp/check-no-iommu"); rc=$?
is "iommu off: exit 1" 1 $rc
has "iommu off: the parameter to add" "hint: add intel_iommu=on to the kernel command line" "$out"
has "iommu off: the device" "FAIL  device:0000:01:00.0" "$out"

out=$("$front" check --xml "$ex/win10-amd.xml" --sysroot "$tmp/check-amd"); rc=$?
is "amd: exit 1 (hook not executable)" 1 $rc
has "amd: reset warning" "WARN  reset:0000:03:00.0" "$out"

# Without a domain: the host and the IOMMU groups.
out=$("$front" check --sysroot "$tmp/check-intel"); rc=$?
is "groups: exit 0" 0 $rc
has "groups: listing" "  group 1
    0000:00:01.0 PCI bridge [0604]: Intel Corporation 6th-10th Gen Core Processor PCIe Controller (x16) [8086:1901] (driver pcieport)" "$out"

out=$("$front" check --json --sysroot "$tmp/check-intel"); rc=$?
is "json: exit 0" 0 $rc
has "json: checks" '{"domain": null, "checks": [{"id": "iommu-hardware", "status": "pass"' "$out"
has "json: groups" '"groups": [{"group": 0, "devices": [' "$out"
if command -v python3 >/dev/null 2>&1; then
        if printf '%s\n' "$out" | python3 -c 'import json, sys; d = json.load(sys.stdin); assert {"checks", "groups"} <= set(d)'; then
                ok "json: parses"
        else
                not_ok "json: parses"
        fi
fi
out=$("$front" check --json --xml "$ex/win10-nvidia.xml" --sysroot "$tmp/check-no-iommu"); rc=$?
is "json iommu off: exit 1" 1 $rc
has "json iommu off: hint" '"id": "iommu-enabled", "status": "fail"' "$out"

# Bad input: exit 2, nothing on stdout.
printf '<domain><name>x</name>' >"$tmp/bad.xml"
out=$("$front" check --xml "$tmp/bad.xml" --sysroot "$tmp/check-intel" 2>/dev/null); rc=$?
is "bad XML: exit 2" "2 " "$rc $out"
cat >"$tmp/evil.xml" <<'EOF'
<domain type='kvm'><name>evil</name><metadata><vh:policy xmlns:vh='urn:vfio-hook:policy:1'><module>evil_module</module></vh:policy></metadata><devices/></domain>
EOF
out=$("$front" check --xml "$tmp/evil.xml" --sysroot "$tmp/check-intel" 2>"$tmp/err"); rc=$?
is "policy refused: exit 2" "2 " "$rc $out"
has "policy refused: says why" "evil_module" "$(cat "$tmp/err")"
"$front" check --xml "$ex/win10-nvidia.xml" win10 >/dev/null 2>&1; is "DOMAIN and --xml: exit 2" 2 $?
"$front" check a b >/dev/null 2>&1; is "two domains: exit 2" 2 $?
"$front" check --xml "$tmp/no-such.xml" >/dev/null 2>&1; is "no XML file: exit 2" 2 $?
"$front" check --sysroot "$tmp/no-such-tree" >/dev/null 2>&1; is "no sysroot: exit 2" 2 $?

# This machine: whatever it has, a report and 0 or 1, nothing on stderr.
out=$("$front" check 2>"$tmp/err"); rc=$?
case $rc in 0 | 1) ok "this machine: exit $rc" ;; *) not_ok "this machine: exit $rc" ;; esac
has "this machine: iommu checked" "iommu-enabled" "$out"
is "this machine: nothing on stderr" "" "$(cat "$tmp/err")"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
