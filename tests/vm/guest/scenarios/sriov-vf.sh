# shellcheck shell=bash
# vm-limit: 600
# <vfs>: the SR-IOV NVMe controller (QEMU's nvme, sriov_max_vfs=2, behind
# the root port at 00:08.0) has no VFs; a domain with <vfs count='2'
# autoprobe='no'> and VF 1 as a managed hostdev starts with one virsh start:
# plan and check name the VF before it exists ("created by prepare"), the
# hook makes the VFs (sriov_numvfs 2) before libvirt looks for the device,
# the VF is on vfio-pci while the domain runs, and destroy removes the VFs.
# Bad <vfs> input (a hostdev that is no VF, a count above sriov_totalvfs)
# fails the start with one error naming it, changing nothing. After each,
# the host as before.
trap sriov_cleanup EXIT
require_sriov_pf
PF=$NVME_PF
VF=$(vf_address "$PF" 1)
VF3=$(vf_address "$PF" 3)
log "PF $PF: $(<"/sys/bus/pci/devices/$PF/sriov_totalvfs") VFs at most, offset $(<"/sys/bus/pci/devices/$PF/sriov_offset"), stride $(<"/sys/bus/pci/devices/$PF/sriov_stride"); VF 1 will be $VF"
snapshot >/tmp/vh-sriov.before

define_domain vh-sriov "$(vfs_policy "<vfs pf='$PF' count='2' autoprobe='no'/>")" "$VF"

plan=$(timeout 60 vfio-hook plan vh-sriov 2>&1) || fail "vfio-hook plan vh-sriov failed: $plan"
log "plan: $plan"
if ! grep -Eq "^ +1\. create-vfs +$PF\$" <<<"$plan" || ! grep -Eq "^ +[0-9]+\. detach-device +$VF\$" <<<"$plan" ||
	[[ $plan != *"a VF created by prepare"* ]]; then
	fail "the plan does not make the VFs first and detach $VF: $(tr '\n' ' ' <<<"$plan")"
fi
check=$(timeout 60 vfio-hook check vh-sriov 2>&1 || true)
log "check: $check"
[[ $check == *"hostdev $VF does not exist yet: VF 1 of $PF, created by prepare"* ]] ||
	fail "check does not say that $VF is created by prepare"
[[ $check == *"sriov:$PF"*"0 of 2 VFs"* ]] || fail "check does not show the SR-IOV facts of $PF"

start_ok vh-sriov
[[ $(numvfs "$PF") == 2 ]] || fail "running: $PF has $(numvfs "$PF") VFs, not 2"
[[ $(driver "$VF") == vfio-pci ]] || fail "running: $VF is on $(driver "$VF"), not vfio-pci"
[[ $(driver "$PF") == nvme ]] || fail "running: the PF $PF is on $(driver "$PF"), not nvme"
[[ $(<"/sys/bus/pci/devices/$PF/sriov_drivers_autoprobe") == 1 ]] || fail "running: autoprobe was left off"
grep -q "^step 1 create-vfs $PF 2" "$(journal_of vh-sriov)" ||
	fail "the journal has no create-vfs first: $(tr '\n' ' ' <"$(journal_of vh-sriov)")"
vfs=()
for l in /sys/bus/pci/devices/"$PF"/virtfn*; do vfs+=("$(basename "$(readlink "$l")")"); done
note "VFs made by the hook: ${vfs[*]}"
destroy_ok vh-sriov
wait_for 60 "the VFs to go" test "$(numvfs "$PF")" = 0 || fail "after destroy: $PF still has $(numvfs "$PF") VFs"
snapshot >/tmp/vh-sriov.after
expect_same /tmp/vh-sriov.before /tmp/vh-sriov.after "after the VF domain's cycle"
expect_no_journal vh-sriov "after destroy"

# Bad input: one error naming it, exit 2 (libvirt aborts the start), nothing changed.
bad() { # VFS-ELEMENT WANT HOSTDEV...
	local elem=$1 want=$2
	shift 2
	define_domain vh-sriov-bad "$(vfs_policy "$elem")" "$@"
	if virsh_run 120 start vh-sriov-bad; then
		destroy_ok vh-sriov-bad
		fail "vh-sriov-bad ($elem) started"
	fi
	[[ $VIRSH_OUT == *"$want"* ]] || fail "the start error does not say '$want': $VIRSH_OUT"
	snapshot >/tmp/vh-sriov.after
	expect_same /tmp/vh-sriov.before /tmp/vh-sriov.after "after the refused start ($1)"
	expect_no_journal vh-sriov-bad "after the refused start"
}
bad "<vfs pf='$PF' count='2'/>" "none of the domain's hostdevs is one of the VFs it makes" "$VF3"
bad "<vfs pf='$PF' count='2'/>" "hostdev $VF3 does not exist and is no VF" "$VF" "$VF3"
printf 'allow-vfs %s 3\n' "$PF" >/etc/vfio-hook.conf
bad "<vfs pf='$PF' count='3'/>" "$PF offers at most 2 VFs" "$VF"
rm -f /etc/vfio-hook.conf
bad "<vfs pf='$PF' count='2'/>" "no allow-vfs line for $PF" "$VF"
timeout 60 virsh -q undefine vh-sriov >/dev/null
timeout 60 virsh -q undefine vh-sriov-bad >/dev/null
