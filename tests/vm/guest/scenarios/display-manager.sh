# shellcheck shell=bash
# A desktop session on the GPU: a stand-in display manager (lib.sh) holds
# /dev/dri/card0 the way Xorg does. `virsh start` must stop it (with
# <holders>refuse</holders>, the hook would refuse if anything still held the
# card after the stop), hand the GPU over, and `virsh destroy` must start it
# again, holding the card again: the user's session comes back.
name=vh-dm
trap dm_standin_stop EXIT
dm_standin_start

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
