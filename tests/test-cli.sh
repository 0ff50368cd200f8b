#!/bin/bash
# The command line as a user and libvirt see it: plans for every fixture,
# exit codes, the hook's fast path (the hook installer: tests/test-install.sh).
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
front=$top_builddir/vfio-hook
engine=$top_builddir/vfio-hook-engine
mkhost=$top_builddir/tests/mkhost
export VFIO_HOOK_ENGINE=$engine
tmp=$(mktemp -d "$top_builddir/tests/tmp-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $1"; }
check() { # check NAME EXPECTED ACTUAL
        if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; echo "  expected: $2"; echo "  actual:   $3"; fi
}
steps() { # the plan's steps as "action target" lines joined by ';'
        grep -o '"action": "[^"]*", "target": "[^"]*"' | sed 's/"action": "\([^"]*\)", "target": "\([^"]*\)"/\1 \2/' |
                paste -sd';'
}
problems() { grep -o '"code": "[^"]*"' | cut -d'"' -f4 | paste -sd','; }

for f in nvidia-desktop amd-desktop intel-igpu nonviable-group builtin-drm no-iommu qemu-bochs dual-gpu-desktop \
        dual-gpu-desktop-shared server-bmc; do
        "$mkhost" "$top_srcdir/tests/data/$f.host" "$tmp/$f" || { not_ok "mkhost $f"; exit 1; }
done
ex=$top_srcdir/examples

# --- plans: the steps in order, and the problems ---
out=$("$front" plan --json --xml "$ex/win10-nvidia.xml" --sysroot "$tmp/nvidia-desktop"); rc=$?
check "nvidia plan exit" 0 $rc
check "nvidia plan steps" "stop-unit display-manager.service;stop-unit nvidia-persistenced.service;unbind-vtconsole vtcon1;unbind-framebuffer efi-framebuffer.0;unload-module nvidia_drm;unload-module nvidia_modeset;unload-module nvidia_uvm;unload-module nvidia;detach-device 0000:01:00.0;detach-device 0000:01:00.1" "$(steps <<<"$out")"
check "nvidia plan holders" 1 "$(grep -c '"pid": 1234, "command": "Xorg"' <<<"$out")"

out=$("$front" plan --json --xml "$ex/win10-amd.xml" --sysroot "$tmp/amd-desktop")
check "amd plan (simpledrm framebuffer)" "stop-unit display-manager.service;unbind-vtconsole vtcon1;unbind-framebuffer simple-framebuffer.0;unload-module amdgpu;detach-device 0000:03:00.0;detach-device 0000:03:00.1" "$(steps <<<"$out")"

out=$("$front" plan --json --xml "$ex/win10-intel.xml" --sysroot "$tmp/intel-igpu")
check "intel plan" "stop-unit display-manager.service;unbind-vtconsole vtcon1;unbind-framebuffer efi-framebuffer.0;unload-module i915;detach-device 0000:00:02.0" "$(steps <<<"$out")"

out=$("$front" plan --json --xml "$ex/win10-amd.xml" --sysroot "$tmp/builtin-drm"); rc=$?
check "builtin drm: no unload, exit 0" "0 stop-unit display-manager.service;unbind-vtconsole vtcon1;detach-device 0000:03:00.0;detach-device 0000:03:00.1" "$rc $(steps <<<"$out")"
check "builtin drm: noted" 1 "$(grep -c 'amdgpu is built into the kernel' <<<"$out")"

out=$("$front" plan --json --xml "$ex/win10-nvidia.xml" --sysroot "$tmp/nonviable-group"); rc=$?
check "group not viable" "1 group-not-viable" "$rc $(problems <<<"$out")"

out=$("$front" plan --json --xml "$ex/win10-nvidia.xml" --sysroot "$tmp/no-iommu"); rc=$?
check "iommu off" "1 iommu-off" "$rc $(problems <<<"$out" | cut -d, -f1)"

out=$("$front" plan --json --xml "$ex/win10-nvidia.xml" --sysroot "$tmp/qemu-bochs"); rc=$?
check "devices not found" "1 device-not-found,device-not-found" "$rc $(problems <<<"$out")"

out=$("$front" plan --json --xml "$ex/no-policy.xml" --sysroot "$tmp/nvidia-desktop"); rc=$?
check "no policy: empty plan" '0 {"domain": "win10-plain", "steps": [], "decisions": [], "problems": [], "holders": [], "notes": []}' "$rc $out"

out=$("$front" plan --xml "$ex/win10-nvidia.xml" --sysroot "$tmp/nvidia-desktop")
check "text plan" "Plan for domain win10: 10 steps" "$(head -1 <<<"$out")"
# A name no journal could carry reaches the terminal escaped, on one line.
# (XML forbids C0 controls but a tab, a newline, DEL and the C1 controls: CSI is \xc2\x9b in UTF-8.)
printf '<domain><name>a\nb\t\177\302\2332J</name></domain>' >"$tmp/odd-name.xml"
out=$("$front" plan --xml "$tmp/odd-name.xml" --sysroot "$tmp/nvidia-desktop"); rc=$?
check "plan, a name with a newline and controls: escaped" \
        '0 Domain a\nb\t\x7f\xc2\x9b2J has no vfio-hook policy: the hook leaves it alone.' "$rc $out"

# --- hosts with a second GPU: what stays, and why ---
out=$("$front" plan --json --xml "$ex/win11-dgpu.xml" --sysroot "$tmp/dual-gpu-desktop"); rc=$?
check "dual-GPU plan" "0 stop-unit nvidia-persistenced.service;unload-module nvidia_drm;unload-module nvidia_modeset;unload-module nvidia_uvm;unload-module nvidia;detach-device 0000:01:00.0;detach-device 0000:01:00.1" "$rc $(steps <<<"$out")"
kept() { grep -o '"resource": "[^"]*", "kind": "[^"]*", "action": "keep"' | cut -d'"' -f4 | paste -sd','; }
check "dual-GPU: console and desktop stay" "display-manager.service,vtcon1" "$(kept <<<"$out")"
out=$("$front" plan --xml "$ex/win11-dgpu.xml" --sysroot "$tmp/dual-gpu-desktop")
check "dual-GPU text: why the desktop stays" 1 "$(grep -c '^  - display-manager.service stays: no process of it or of a user session holds a node of 0000:01:00.0 or 0000:01:00.1' <<<"$out")"
out=$("$front" plan --json --xml "$ex/win11-dgpu.xml" --sysroot "$tmp/dual-gpu-desktop-shared")
check "compositor on both cards: the display manager goes" "stop-unit display-manager.service" "$(steps <<<"$out" | cut -d';' -f1)"
check "compositor on both cards: named with its unit" 1 "$(grep -c '"pid": 1500, "command": "gnome-shell", "path": "/dev/dri/card1", "unit": "org.gnome.Shell@wayland.service"' <<<"$out")"
# A domain that holds another card, from its journal in --state-dir.
cat >"$tmp/srv-b.xml" <<'EOF'
<domain type='kvm'><name>vm-b</name><metadata><vh:policy xmlns:vh='urn:vfio-hook:policy:1'/></metadata>
<devices><hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0' bus='0x4e' slot='0' function='0'/></source></hostdev></devices></domain>
EOF
mkdir -m 0700 "$tmp/srv-state"
printf 'vfio-hook-journal 1\ndomain vm-a\nstarted 1763726400 pid 4242\ndevice 0000:4d:00.0\nstep 1 detach-device 0000:4d:00.0 i915\ndone 1\nprepared\n' >"$tmp/srv-state/vm-a.journal"
chmod 0600 "$tmp/srv-state/vm-a.journal"
# vm-a has its card: off i915 (as libvirt's detach leaves it).
rm "$tmp/server-bmc/sys/bus/pci/drivers/i915/0000:4d:00.0" "$tmp/server-bmc/sys/bus/pci/devices/0000:4d:00.0/driver"
out=$("$front" plan --json --xml "$tmp/srv-b.xml" --sysroot "$tmp/server-bmc" --state-dir "$tmp/srv-state"); rc=$?
check "server, second domain: one step" "0 detach-device 0000:4e:00.0" "$rc $(steps <<<"$out")"
check "server: i915 stays for the card vm-a gives back" 1 "$(grep -c '0000:4d:00.0, which domain vm-a holds and gives back to i915' <<<"$out")"

# --- bad input: exit 2, one line naming what is wrong ---
sed 's|<vh:stack>auto</vh:stack>|<vh:stack>voodoo</vh:stack>|' "$ex/win10-nvidia.xml" >"$tmp/bad.xml"
err=$("$front" plan --xml "$tmp/bad.xml" --sysroot "$tmp/nvidia-desktop" 2>&1 >/dev/null); rc=$?
check "bad policy value: exit 2, one line" "2 1" "$rc $(wc -l <<<"$err")"
check "bad policy value: named" 1 "$(grep -c "voodoo" <<<"$err")"
err=$("$front" plan --xml "$tmp/nonexistent.xml" 2>&1); rc=$?
check "missing file: exit 2" 2 $rc
err=$("$front" plan 2>&1); check "plan without domain: exit 2" 2 $?
"$front" --bogus >/dev/null 2>&1; check "unknown option: exit 2" 2 $?
"$front" --version | grep -q '^vfio-hook '; check "version" 0 $?

# --- hook mode ---
out=$("$front" win10-plain prepare begin - <"$ex/no-policy.xml" 2>&1); rc=$?
check "hook, no policy: exit 0, silent" "0 " "$rc $out"
out=$("$front" win10 started begin - <"$ex/win10-nvidia.xml" 2>&1); rc=$?
check "hook, unhandled op: exit 0, silent" "0 " "$rc $out"
out=$("$front" win10 prepare begin - --sysroot "$tmp/nvidia-desktop" <"$ex/win10-nvidia.xml" 2>&1); rc=$?
check "hook refuses a sysroot" 2 $rc
out=$("$front" win10 release end - --state-dir "$tmp/state-none" <"$ex/win10-nvidia.xml" 2>&1); rc=$?
check "release without journal: nothing to do" "0 " "$rc $out"
err=$("$front" win10 prepare begin - --state-dir "$tmp/state" <"$tmp/bad.xml" 2>&1); rc=$?
check "hook, bad policy: exit 2, nothing created" "2 no" "$rc $([ -e "$tmp/state" ] && echo yes || echo no)"
# --- release replays the journal whatever stdin holds; stdin is read within bounds ---
journal() { # journal DIR NAME: a journal with no steps (its replay only removes it)
        mkdir -p -m 0700 "$1"
        printf 'vfio-hook-journal 1\ndomain %s\nstarted 1763726400 pid 42\nprepared\n' "$2" >"$1/$2.journal"
}
replayed() { [ -e "$1/$2.journal" ] && echo "journal left" || echo replayed; }
xml_of_size() { # xml_of_size SIZE: a domain without policy, exactly SIZE bytes
        local head='<domain><name>big</name><description>' tail='</description></domain>'
        printf '%s' "$head"
        head -c $(($1 - ${#head} - ${#tail})) /dev/zero | tr '\0' x
        printf '%s' "$tail"
}
xml_of_size $((16 * 1024 * 1024)) >"$tmp/16m.xml"
xml_of_size $((16 * 1024 * 1024 + 1)) >"$tmp/16m+1.xml"
xml_of_size $((17 * 1024 * 1024)) >"$tmp/17m.xml"
st=$tmp/state-release
journal "$st" win10
err=$(timeout 60 "$front" win10 release end - --state-dir "$st" <"$tmp/17m.xml" 2>&1); rc=$?
check "release, 17 MiB on stdin: journal replayed" "0 replayed" "$rc $(replayed "$st" win10)"
check "release, 17 MiB on stdin: warns, default timeout" 1 "$(grep -c 'larger than 16 MiB.*default timeout' <<<"$err")"
journal "$st" win10
err=$(timeout 60 "$front" win10 release end - --state-dir "$st" <&- 2>&1); rc=$?
check "release, stdin closed: journal replayed" "0 replayed" "$rc $(replayed "$st" win10)"
check "release, stdin closed: warns" 1 "$(grep -c 'stdin is closed.*default timeout' <<<"$err")"
journal "$st" win10
err=$(printf '<domain><name>win10</name><metadata><vh:policy xmlns:vh="urn:vfio-hook:policy:1">' |
        timeout 60 "$front" win10 release end - --state-dir "$st" 2>&1); rc=$?
check "release, malformed XML: journal replayed" "0 replayed" "$rc $(replayed "$st" win10)"
check "release, malformed XML: warns" 1 "$(grep -c 'not well-formed.*default timeout' <<<"$err")"
slow_writer() { # a writer that never closes: its FIFO in $tmp/slow, its pid in $writer
        rm -f "$tmp/slow" && mkfifo "$tmp/slow"
        (printf '<domain>'; exec sleep 60) >"$tmp/slow" &
        writer=$!
}
journal "$st" win10
slow_writer
t0=$SECONDS
err=$(timeout 60 "$front" win10 release end - --state-dir "$st" <"$tmp/slow" 2>&1); rc=$?
kill "$writer"
check "release, a writer that never closes: replayed within the input time limit" "0 replayed yes" \
        "$rc $(replayed "$st" win10) $([ $((SECONDS - t0)) -lt 20 ] && echo yes || echo no)"
check "release, a writer that never closes: warns" 1 "$(grep -c 'did not end within 5 s.*default timeout' <<<"$err")"
if command -v python3 >/dev/null 2>&1; then
        # A non-blocking pipe whose writer has written nothing yet: read() says EAGAIN.
        journal "$st" win10
        rc=$(python3 - "$front" "$st" <<'PY'
import os, subprocess, sys
r, w = os.pipe()
os.set_blocking(r, False)
p = subprocess.run([sys.argv[1], "win10", "release", "end", "-", "--state-dir", sys.argv[2]], stdin=r,
                   stderr=subprocess.DEVNULL, timeout=60)
print(p.returncode)
PY
        )
        check "release, non-blocking stdin (EAGAIN): journal replayed" "0 replayed" "$rc $(replayed "$st" win10)"
fi
# prepare and plan agree: exactly 16 MiB is fine, one byte more is not.
out=$(timeout 60 "$front" big prepare begin - <"$tmp/16m.xml" 2>&1); rc=$?
check "prepare, exactly 16 MiB: read (no policy: nothing to do)" "0 " "$rc $out"
out=$(timeout 60 "$front" plan --xml "$tmp/16m.xml" 2>&1); rc=$?
check "plan, exactly 16 MiB: read" "0 Domain big has no vfio-hook policy: the hook leaves it alone." "$rc $out"
err=$(timeout 60 "$front" big prepare begin - <"$tmp/16m+1.xml" 2>&1); rc=$?
check "prepare, 16 MiB + 1: refused" "2 vfio-hook: the domain XML on stdin is larger than 16 MiB" "$rc $err"
err=$(timeout 60 "$front" plan --xml "$tmp/16m+1.xml" 2>&1); rc=$?
check "plan, 16 MiB + 1: refused" "2 vfio-hook: the domain XML in $tmp/16m+1.xml is larger than 16 MiB" "$rc $err"
# An endless stdin: the size limit, or the time limit for a writer that never closes.
err=$(timeout 60 "$front" win10 prepare begin - </dev/zero 2>&1); rc=$?
check "prepare, /dev/zero: refused at the size limit" "2 vfio-hook: the domain XML on stdin is larger than 16 MiB" "$rc $err"
slow_writer
t0=$SECONDS
err=$(timeout 60 "$front" win10 prepare begin - <"$tmp/slow" 2>&1); rc=$?
kill "$writer"
check "prepare, a writer that never closes: refused at the time limit" \
        "2 vfio-hook: the domain XML on stdin did not end within 5 s yes" "$rc $err $([ $((SECONDS - t0)) -lt 20 ] && echo yes || echo no)"
out=$(timeout 60 "$front" win10 started begin - </dev/zero 2>&1); rc=$?
check "started, /dev/zero: exit 0" "0 " "$rc $out"

# --- hook mode and subcommands are never confused (libvirt accepts any of these names) ---
mkdir -p "$tmp/hooks/qemu.d"
ln -s "$front" "$tmp/hooks/qemu"
ln -s "$front" "$tmp/hooks/qemu.d/vfio-hook"
for name in status check plan restore help --json -x --state-dir=x; do
        # prepare: the engine reads the domain's XML (here a policy with a bad
        # value: exit 2 naming it), whatever the name looks like.
        sed -e "s|<name>win10</name>|<name>$name</name>|" -e 's|<vh:stack>auto</vh:stack>|<vh:stack>voodoo</vh:stack>|' \
                "$ex/win10-nvidia.xml" >"$tmp/named.xml"
        for hook in "$front" "$tmp/hooks/qemu" "$tmp/hooks/qemu.d/vfio-hook"; do
                err=$(timeout 20 "$hook" "$name" prepare begin - <"$tmp/named.xml" 2>&1 >/dev/null); rc=$?
                check "domain '$name', prepare through ${hook#"$tmp/"}: exit 2 on its policy" "2 1" \
                        "$rc $(grep -c voodoo <<<"$err")"
        done
        # release: the journal of that name is replayed (it has no steps) and removed.
        case $name in *=*) continue ;; esac # not a name vfio-hook accepts: it can have no journal
        rm -rf "$tmp/state-named" && mkdir -m 0700 "$tmp/state-named"
        printf 'vfio-hook-journal 1\ndomain %s\nstarted 1763726400 pid 42\nprepared\n' "$name" >"$tmp/state-named/$name.journal"
        out=$(timeout 20 "$front" "$name" release end - --state-dir "$tmp/state-named" <"$tmp/named.xml" 2>&1); rc=$?
        check "domain '$name', release: journal replayed" "0 gone" \
                "$rc $([ -e "$tmp/state-named/$name.journal" ] && echo there || echo gone)"
done
# Options before the subcommand, in both forms; never hook mode waiting on stdin.
out=$(timeout 20 "$front" --state-dir "$tmp/state-none" status </dev/null 2>&1); rc=$?
check "--state-dir DIR status" "0 No domain holds devices." "$rc $out"
out=$(timeout 20 "$front" --state-dir="$tmp/state-none" status --json </dev/null 2>&1); rc=$?
check "--state-dir=DIR status --json" '0 {"domains": [], "releases": []}' "$rc $out"
out=$(timeout 20 "$front" --json status --state-dir "$tmp/state-none" </dev/null 2>&1); rc=$?
check "--json status --state-dir DIR" '0 {"domains": [], "releases": []}' "$rc $out"
out=$(timeout 20 "$front" --state status </dev/null 2>&1); rc=$?
check "an abbreviated option is unknown" "2 vfio-hook: unknown option '--state' (see --help)" "$rc $out"
out=$(timeout 20 "$front" --sysroot </dev/null 2>&1); rc=$?
check "an option without its value" "2 vfio-hook: option '--sysroot' needs a value (see --help)" "$rc $out"
# A domain whose name looks like an option, after --.
printf 'vfio-hook-journal 1\ndomain -x\nstarted 1763726400 pid 42\nprepared\n' >"$tmp/state-named/-x.journal"
err=$(timeout 20 "$front" restore -x --state-dir "$tmp/state-named" 2>&1); rc=$?
check "restore -x: an unknown option" "2 vfio-hook: unknown option '-x' (see --help)" "$rc $err"
err=$(timeout 20 "$front" restore --force --state-dir="$tmp/state-named" -- -x 2>&1); rc=$?
check "restore -- -x: replayed" "0 gone" "$rc $([ -e "$tmp/state-named/-x.journal" ] && echo there || echo gone)"
# The front finds the journal with either form of --state-dir.
printf 'vfio-hook-journal 1\ndomain win10\nstarted 1763726400 pid 42\nprepared\n' >"$tmp/state-named/win10.journal"
timeout 20 "$front" win10 release end - --state-dir="$tmp/state-named" <"$ex/no-policy.xml" >/dev/null 2>&1; rc=$?
check "release with --state-dir=DIR: journal replayed" "0 gone" \
        "$rc $([ -e "$tmp/state-named/win10.journal" ] && echo there || echo gone)"
# Called as libvirt's hook with a subcommand's name and nothing else: usage.
err=$(timeout 20 "$tmp/hooks/qemu" status </dev/null 2>&1); rc=$?
check "hooks/qemu status: usage, exit 2" "2 1" "$rc $(grep -c 'libvirt runs it as' <<<"$err")"

# The front links nothing but libc (docs/design.md, "The two binaries").
# (A sanitizer build adds its runtimes and, with clang, what they link:
# those are not ours to count.)
runtime=(-e '^libasan' -e '^libubsan')
if readelf -s "$front" | grep -q -e '__asan_init' -e '__ubsan_handle'; then
        runtime+=(-e '^libm\.' -e '^libgcc_s\.' -e '^libpthread\.' -e '^librt\.' -e '^libdl\.')
fi
needed=$(readelf -d "$front" | awk '/NEEDED/{print $NF}' | tr -d '[]' | grep -v "${runtime[@]}" | paste -sd,)
check "front needs only libc" "libc.so.6" "$needed"

# --- status ---
out=$("$front" status --state-dir "$tmp/state-none"); check "status, nothing held" "No domain holds devices." "$out"
out=$("$front" status --json --state-dir "$tmp/state-none"); check "status --json, nothing held" '{"domains": [], "releases": []}' "$out"
# A corrupt journal and a FIFO beside a good one: listed as unreadable, JSON stays JSON, nothing hangs.
mkdir -m 0700 "$tmp/state-bad"
printf 'garbage\n' >"$tmp/state-bad/aaa.journal"
mkfifo "$tmp/state-bad/bbb.journal"
printf 'vfio-hook-journal 1\ndomain win10\nstarted 1763726400 pid 42\ndevice 0000:01:00.0\nprepared\n' >"$tmp/state-bad/win10.journal"
out=$(timeout 20 "$front" status --state-dir "$tmp/state-bad"); rc=$?
check "status, unreadable journals listed" "0 aaa: journal unreadable: journal line 1: not a vfio-hook journal|bbb: journal unreadable: bbb.journal is not a regular file (a FIFO)" \
        "$rc $(grep unreadable <<<"$out" | paste -sd'|')"
out=$(timeout 20 "$front" status --json --state-dir "$tmp/state-bad"); rc=$?
check "status --json, unreadable journals: exit 0" 0 $rc
if command -v python3 >/dev/null 2>&1; then
        got=$(python3 -c 'import json, sys; print(",".join(d["domain"] + ("!" if "error" in d else "") for d in json.load(sys.stdin)["domains"]))' <<<"$out")
        check "status --json parses" "aaa!,bbb!,win10" "$got"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
