#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# `vfio-hook enable` and `disable` against libvirt's own test driver
# (test:///FILE: an in-memory libvirt that reads its domains from FILE and
# forgets every change when the connection closes) and hosts made by
# mkhost: the dry run's diff, the change as libvirt takes it, and one clear
# error with exit 2 for each kind of bad input. The guest scenario
# enable-disable does it against a real libvirtd and QEMU.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
front=$top_builddir/vfio-hook
mkhost=$top_builddir/tests/mkhost
export VFIO_HOOK_ENGINE="$top_builddir/vfio-hook-engine"
export VFIO_HOOK_POLICY_SCHEMA="$top_srcdir/src/policy.rng"
tmp=$(mktemp -d "$top_builddir/tests/tmp-enable-cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
tmp=$(cd "$tmp" && pwd) || exit 1
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

# libvirt's test driver reads a <node> of domains.
node() { # node FILE DOMAIN-XML...
        local out=$1
        shift
        { echo "<node>"; sed "s/type='kvm'/type='test'/" "$@"; echo "</node>"; } >"$out"
}
node "$tmp/plain.xml" "$top_srcdir/tests/data/domains/q35-plain.xml"
uri=test://$tmp/plain.xml
if ! "$front" enable win10 --connect "$uri" --dry-run --sysroot / >/dev/null 2>"$tmp/err" &&
        grep -q "connecting to" "$tmp/err"; then
        echo "SKIP: libvirt's test driver is not available: $(cat "$tmp/err")"
        exit 77
fi

"$mkhost" "$top_srcdir/tests/data/nvidia-desktop.host" "$tmp/nv" || { not_ok "mkhost"; exit 1; }
# Two display controllers, neither the boot VGA device.
cat >"$tmp/two.host" <<'HOST'
file sys/kernel/iommu_groups/.keep ""
pci 0000:00:00.0 8086:3e30 060000 group=0
pci 0000:00:01.0 8086:1901 060400 driver=pcieport group=1
pci 0000:00:01.1 8086:1905 060400 driver=pcieport group=2
pci 0000:01:00.0 10de:2484 030000 driver=nvidia module=nvidia group=1
pci 0000:01:00.1 10de:228b 040300 driver=snd_hda_intel module=snd_hda_intel group=1
pci 0000:02:00.0 1002:73bf 030000 driver=amdgpu module=amdgpu group=2
HOST
"$mkhost" "$tmp/two.host" "$tmp/two" || { not_ok "mkhost two"; exit 1; }
# A group that also holds the chipset's ISA bridge (lpc_ich): never the guest's.
{ cat "$top_srcdir/tests/data/nonviable-group.host"; echo "pci 0000:00:1f.0 8086:a305 060100 driver=lpc_ich group=1"; } >"$tmp/lpc.host"
"$mkhost" "$tmp/lpc.host" "$tmp/lpc" || { not_ok "mkhost lpc"; exit 1; }

# The dry run: a diff, nothing else.
out=$("$front" enable win10 --connect "$uri" --sysroot "$tmp/nv" --dry-run 2>"$tmp/err"); rc=$?
is "dry run: exit 0" 0 $rc
is "dry run: nothing on stderr" "" "$(cat "$tmp/err")"
has "dry run: diff header" "--- win10.xml (now)
+++ win10.xml (after)
@@ -1,6 +1,13 @@" "$out"
has "dry run: the policy" '+    <vh:policy xmlns:vh="urn:vfio-hook:policy:1"/>' "$out"
has "dry run: the GPU on guest slot 3, multifunction" '+      <address type="pci" domain="0x0000" bus="0x00" slot="0x03" function="0x0" multifunction="on"/>' "$out"
has "dry run: its audio on the same slot" '+        <address domain="0x0000" bus="0x01" slot="0x00" function="0x1"/>
+      </source>
+      <address type="pci" domain="0x0000" bus="0x00" slot="0x03" function="0x1"/>' "$out"
has "dry run: says so" "nothing was changed" "$out"
is "dry run: no line removed" "" "$(printf '%s\n' "$out" | grep '^-[^-]')"

# The change, through libvirt (the test driver forgets it afterwards).
out=$("$front" enable win10 --connect "$uri" --sysroot "$tmp/nv" 2>"$tmp/err"); rc=$?
is "enable: exit 0" 0 $rc
is "enable: libvirt kept it as given (no warning)" "" "$(cat "$tmp/err")"
has "enable: what it added" "win10: added 0000:01:00.0, 0000:01:00.1 as managed PCI hostdevs, and the default policy." "$out"
has "enable: a running domain gets it at its next start" "win10 is running: the change applies at its next start" "$out"
has "enable: the domain's checks" "  PASS  iommu-group:1        IOMMU group 1: 0000:01:00.0, 0000:01:00.1 in the domain; also 0000:00:01.0 (bridge)" "$out"

# A policy from a file, checked against the schema first.
printf '<policy>\n  <stack>nvidia</stack>\n  <holders>terminate</holders>\n</policy>\n' >"$tmp/policy.xml"
out=$("$front" enable win10 --connect "$uri" --sysroot "$tmp/nv" --dry-run --policy-from "$tmp/policy.xml" 2>&1); rc=$?
is "policy-from: exit 0" 0 $rc
has "policy-from: in the diff" '+    <vh:policy xmlns:vh="urn:vfio-hook:policy:1">
+      <vh:stack>nvidia</vh:stack>
+      <vh:holders>terminate</vh:holders>
+    </vh:policy>' "$out"
printf '<policy><stack>nvidia-open</stack></policy>\n' >"$tmp/bad-policy.xml"
out=$("$front" enable win10 --connect "$uri" --sysroot "$tmp/nv" --policy-from "$tmp/bad-policy.xml" 2>&1); rc=$?
is "bad policy: exit 2" 2 $rc
has "bad policy: the schema says why" "bad-policy.xml: the policy does not follow the schema" "$out"

# Devices: named ones, their whole group; bad ones, one line each.
out=$("$front" enable win10 --connect "$uri" --sysroot "$tmp/nv" --dry-run --device 0000:00:1f.3 2>&1); rc=$?
is "--device: exit 0" 0 $rc
has "--device: the group's other endpoint comes too" "would get the hostdevs 0000:00:1f.3, 0000:00:1f.6 and" "$out"
for bad in "01:00.0|is not a PCI address" "0000:05:00.0|there is no PCI device 0000:05:00.0" "0000:00:01.0|0000:00:01.0 is a bridge"; do
        out=$("$front" enable win10 --connect "$uri" --sysroot "$tmp/nv" --device "${bad%%|*}" 2>&1); rc=$?
        is "--device ${bad%%|*}: exit 2" 2 $rc
        has "--device ${bad%%|*}: message" "${bad#*|}" "$out"
done
out=$("$front" enable win10 --connect "$uri" --sysroot "$tmp/two" 2>&1); rc=$?
is "no boot VGA: exit 2" 2 $rc
has "no boot VGA: the candidates" "none of the 2 display controllers is the boot VGA device: say which with --device ADDR: 0000:01:00.0 [10de:2484] (nvidia), 0000:02:00.0 [1002:73bf] (amdgpu)" "$out"
out=$("$front" enable win10 --connect "$uri" --sysroot "$tmp/lpc" --device 0000:01:00.0 2>&1); rc=$?
is "group with the ISA bridge: exit 2" 2 $rc
has "group with the ISA bridge: the check's message" "iommu-group:1: IOMMU group 1 also holds 0000:00:1f.0" "$out"
has "group with the ISA bridge: nothing changed" "domain win10 was not changed" "$out"

out=$("$front" enable nosuch --connect "$uri" --sysroot "$tmp/nv" 2>&1); rc=$?
is "missing domain: exit 2" 2 $rc
has "missing domain: message" "domain nosuch: test://$tmp/plain.xml has no domain of that name" "$out"
out=$("$front" enable 'bad/name' --connect "$uri" 2>&1); rc=$?
is "bad name: exit 2" 2 $rc

# disable: a domain enable has been through.
out=$("$front" disable win10 --connect "$uri" 2>&1); rc=$?
is "disable, nothing there: exit 0" 0 $rc
has "disable, nothing there: says so" "nothing to do" "$out"
cat >"$tmp/enabled.xml" <<'DOM'
<domain type='test'>
  <name>on</name>
  <uuid>2b1f3c1e-5d6a-4f7b-8c9d-0e1f2a3b4c5d</uuid>
  <metadata>
    <vh:policy xmlns:vh="urn:vfio-hook:policy:1"/>
    <vhe:enabled xmlns:vhe="urn:vfio-hook:enabled:1">
      <vhe:hostdev address="0000:01:00.1"/>
    </vhe:enabled>
  </metadata>
  <memory unit='KiB'>1048576</memory>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <hostdev mode='subsystem' type='pci' managed='yes'>
      <source><address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source>
    </hostdev>
    <hostdev mode='subsystem' type='pci' managed='yes'>
      <source><address domain='0x0000' bus='0x01' slot='0x00' function='0x1'/></source>
    </hostdev>
  </devices>
</domain>
DOM
node "$tmp/on.xml" "$tmp/enabled.xml"
out=$("$front" enable on --connect "test://$tmp/on.xml" --sysroot "$tmp/nv" 2>&1); rc=$?
is "enable again: exit 0" 0 $rc
has "enable again: nothing to change" "on: its hostdevs were all there already, and its policy: nothing to change." "$out"
out=$("$front" disable on --connect "test://$tmp/on.xml" --dry-run 2>&1); rc=$?
is "disable dry run: exit 0" 0 $rc
has "disable dry run: the recorded hostdev goes" '-        <address domain="0x0000" bus="0x01" slot="0x00" function="0x1"/>' "$out"
is "disable dry run: the other stays" "" "$(printf '%s\n' "$out" | grep '^-.*function="0x0"')"
has "disable dry run: the metadata goes" '-    <vh:policy xmlns:vh="urn:vfio-hook:policy:1"/>' "$out"
out=$("$front" disable on --connect "test://$tmp/on.xml" 2>&1); rc=$?
is "disable: exit 0" 0 $rc
has "disable: what it removed" "on: removed the hostdev enable added (0000:01:00.1), and vfio-hook's policy." "$out"
out=$("$front" disable on --device 0000:01:00.0 2>&1); rc=$?
is "disable --device: exit 2" 2 $rc

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
