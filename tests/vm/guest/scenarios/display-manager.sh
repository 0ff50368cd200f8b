# shellcheck shell=bash
# A desktop session on the GPU: a stand-in display manager (a unit named
# display-manager.service, as Debian aliases gdm3/sddm/lightdm) holds
# /dev/dri/card0 the way Xorg does. `virsh start` must stop it (with
# <holders>refuse</holders>, the hook would refuse if anything still held the
# card after the stop), hand the GPU over, and `virsh destroy` must start it
# again, holding the card again: the user's session comes back.
name=vh-dm
dm_unit=/run/systemd/system/display-manager.service
dm_cleanup() {
	systemctl stop display-manager.service >/dev/null 2>&1 || true
	rm -f "$dm_unit"
	systemctl daemon-reload || true
}
trap dm_cleanup EXIT
cat >"$dm_unit" <<'UNIT'
[Unit]
Description=Stand-in display manager of the vfio-hook VM test (holds /dev/dri/card0)
[Service]
ExecStart=/bin/sh -c 'exec 3</dev/dri/card0; exec sleep infinity'
UNIT
systemctl daemon-reload
systemctl start display-manager.service
dm_active() { [[ $(systemctl is-active display-manager.service 2>/dev/null) == active ]]; }
dm_holds_card() { find /proc/[0-9]*/fd -maxdepth 1 -lname /dev/dri/card0 2>/dev/null | grep -q .; }
wait_for 30 "the stand-in display manager" dm_active || fail "the stand-in display manager does not start"
wait_for 30 "the display manager to open the card" dm_holds_card || fail "the display manager does not hold /dev/dri/card0"

require_desktop
define_domain "$name" "$(policy_xml)" "$GPU"
snapshot >/tmp/$name.before

start_ok "$name"
note "start ${VIRSH_TIME} s"
expect_handed_off "$name"
! dm_active || fail "$name running: the display manager is still active"

destroy_ok "$name"
note "destroy ${VIRSH_TIME} s"
wait_for 30 "the display manager to come back" dm_active || fail "after destroy: the display manager is not active again"
wait_for 30 "the display manager to hold the card again" dm_holds_card ||
	fail "after destroy: the display manager does not hold /dev/dri/card0 again"
snapshot >/tmp/$name.after
expect_same /tmp/$name.before /tmp/$name.after "after destroy"
expect_no_journal "$name" "after destroy"
timeout 60 virsh -q undefine "$name" >/dev/null
