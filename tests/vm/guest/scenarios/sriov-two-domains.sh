# shellcheck shell=bash
# vm-limit: 900
# Two domains with one VF each of the SR-IOV NVMe controller, both with
# <vfs count='2' autoprobe='no'>: the first start makes the VFs, the second
# shares them (its journal has create-vfs too, with no write); the PF keeps
# its VFs until the second domain is destroyed, in either order. After each
# round the host is as before, with 0 VFs.
trap sriov_cleanup EXIT
require_sriov_pf
PF=$NVME_PF
VF0=$(vf_address "$PF" 0)
VF1=$(vf_address "$PF" 1)
define_domain vh-vf-a "$(vfs_policy "<vfs pf='$PF' count='2' autoprobe='no'/>")" "$VF0"
define_domain vh-vf-b "$(vfs_policy "<vfs pf='$PF' count='2' autoprobe='no'/>")" "$VF1"
snapshot >/tmp/vh-vf2.before

round() { # FIRST-DESTROYED SECOND-DESTROYED
	local t0 left
	t0=$(now)
	start_ok vh-vf-a
	start_ok vh-vf-b
	[[ $(numvfs "$PF") == 2 && $(driver "$VF0") == vfio-pci && $(driver "$VF1") == vfio-pci ]] ||
		fail "both running: $PF has $(numvfs "$PF") VFs, $VF0 on $(driver "$VF0"), $VF1 on $(driver "$VF1")"
	grep -q "create-vfs $PF 2\$" "$(journal_of vh-vf-b)" ||
		fail "the second domain's journal does not share the VFs: $(tr '\n' ' ' <"$(journal_of vh-vf-b)")"
	destroy_ok "$1"
	left=$VF1
	[[ $1 == vh-vf-b ]] && left=$VF0
	[[ $(numvfs "$PF") == 2 ]] || fail "after destroying $1: $PF has $(numvfs "$PF") VFs, not 2 ($2 holds one)"
	[[ $(driver "$left") == vfio-pci ]] || fail "after destroying $1: $left is on $(driver "$left"), not vfio-pci"
	destroy_ok "$2"
	wait_for 60 "the VFs to go" test "$(numvfs "$PF")" = 0 || fail "after destroying $2: $PF still has $(numvfs "$PF") VFs"
	snapshot >/tmp/vh-vf2.after
	expect_same /tmp/vh-vf2.before /tmp/vh-vf2.after "after destroying $1, then $2"
	expect_no_journal vh-vf-a "after the round"
	expect_no_journal vh-vf-b "after the round"
	note "start a, b, destroy $1, $2: $(elapsed "$t0") s"
}

round vh-vf-a vh-vf-b
round vh-vf-b vh-vf-a
timeout 60 virsh -q undefine vh-vf-a >/dev/null
timeout 60 virsh -q undefine vh-vf-b >/dev/null
