#!/bin/bash
# The command line as a user and libvirt see it: plans for every fixture,
# exit codes, the hook's fast path, and the hook installer.
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
# The front links nothing but libc (DESIGN.md, "The fast path").
# (A sanitizer build adds its runtimes: they are not ours to count.)
needed=$(readelf -d "$front" | awk '/NEEDED/{print $NF}' | tr -d '[]' | grep -v -e '^libasan' -e '^libubsan' | paste -sd,)
check "front needs only libc" "libc.so.6" "$needed"

# --- status ---
out=$("$front" status --state-dir "$tmp/state-none"); check "status, nothing held" "No domain holds devices." "$out"
out=$("$front" status --json --state-dir "$tmp/state-none"); check "status --json, nothing held" '{"domains": []}' "$out"

# --- the hook installer never clobbers a foreign hook ---
inst=$top_srcdir/hooks/install-hook.sh
mkdir -p "$tmp/etc/hooks"
sh "$inst" install "$tmp/etc/hooks/qemu" /usr/sbin/vfio-hook >/dev/null
check "install: symlink" /usr/sbin/vfio-hook "$(readlink "$tmp/etc/hooks/qemu")"
sh "$inst" install "$tmp/etc/hooks/qemu" /usr/sbin/vfio-hook >/dev/null; check "install again: fine" 0 $?
sh "$inst" uninstall "$tmp/etc/hooks/qemu" /usr/sbin/vfio-hook
check "uninstall: removed" no "$([ -e "$tmp/etc/hooks/qemu" ] || [ -L "$tmp/etc/hooks/qemu" ] && echo yes || echo no)"
printf '#!/bin/sh\necho mine\n' >"$tmp/etc/hooks/qemu"
err=$(sh "$inst" install "$tmp/etc/hooks/qemu" /usr/sbin/vfio-hook 2>&1); rc=$?
check "install: foreign hook refused" "1 #!/bin/sh" "$rc $(head -1 "$tmp/etc/hooks/qemu")"
grep -q 'qemu.d' <<<"$err"; check "install: says how to chain" 0 $?
sh "$inst" uninstall "$tmp/etc/hooks/qemu" /usr/sbin/vfio-hook
check "uninstall: foreign hook kept" "#!/bin/sh" "$(head -1 "$tmp/etc/hooks/qemu")"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
