# shellcheck shell=bash
# The hook as /etc/libvirt/hooks/qemu.d/vfio-hook beside another program's
# /etc/libvirt/hooks/qemu, as `make install` and the Debian package's
# postinst lay it out when that path is taken (the installer itself moves
# it): after a daemon restart libvirt runs both, the single-GPU hand-off and
# hand-back work as from qemu, the other hook is called for the same events
# and left as it was. Afterwards the hook goes back to qemu.
name=vh-dropin
hooks=/etc/libvirt/hooks
installer=/usr/libexec/vfio-hook/install-hook.sh
require_desktop
[[ $(readlink "$hooks/qemu") == /usr/sbin/vfio-hook ]] || fail "precondition: $hooks/qemu is not vfio-hook's link"
[[ -x $installer ]] || fail "precondition: $installer is not installed"

restart_libvirtd() {
	timeout 120 systemctl restart libvirtd.service || fail "systemctl restart libvirtd failed"
	wait_for 120 "libvirtd to answer again" virsh -q version >/dev/null 2>&1 || fail "libvirtd does not answer after its restart"
}
put_back() {
	rm -f "$hooks/qemu" "$hooks/qemu.d/vfio-hook"
	rmdir "$hooks/qemu.d" 2>/dev/null || true
	"$installer" install qemu "$hooks" /usr/sbin/vfio-hook >/dev/null
	timeout 120 systemctl restart libvirtd.service || true
}
trap put_back EXIT

# Another program's hook: it logs its calls and drains the XML, as hooks must.
rm -f "$hooks/qemu"
printf '#!/bin/sh\necho "$1 $2 $3" >>/run/foreign-hook.log\ncat >/dev/null\nexit 0\n' >"$hooks/qemu"
chmod 755 "$hooks/qemu"
: >/run/foreign-hook.log
theirs=$(sha256sum <"$hooks/qemu")
out=$("$installer" install qemu "$hooks" /usr/sbin/vfio-hook) || fail "install-hook.sh failed: $out"
log "$out"
[[ $(readlink "$hooks/qemu.d/vfio-hook") == /usr/sbin/vfio-hook ]] || fail "the installer did not link $hooks/qemu.d/vfio-hook"
[[ $(sha256sum <"$hooks/qemu") == "$theirs" ]] || fail "the installer changed the other program's hook"
restart_libvirtd

define_domain "$name" "$(policy_xml)" "$GPU" "$AUDIO"
snapshot >"/tmp/$name.before"
start_ok "$name"
note "start ${VIRSH_TIME} s"
expect_handed_off "$name"
destroy_ok "$name"
snapshot >"/tmp/$name.after"
expect_same "/tmp/$name.before" "/tmp/$name.after" "after destroy"
expect_no_journal "$name" "after destroy"
grep -qx "$name prepare begin" /run/foreign-hook.log || fail "libvirt did not run the other hook for prepare: $(paste -sd';' /run/foreign-hook.log)"
grep -qx "$name release end" /run/foreign-hook.log || fail "libvirt did not run the other hook for release"
[[ $(sha256sum <"$hooks/qemu") == "$theirs" ]] || fail "the other program's hook changed"
timeout 60 virsh -q undefine "$name" >/dev/null
