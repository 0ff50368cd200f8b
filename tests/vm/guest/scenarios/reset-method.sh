# shellcheck shell=bash
# <reset>: a domain with the e1000e NIC as a hostdev and
# <reset device=NIC method=M>, M one of the methods its reset_method lists
# but not the first: while it runs reset_method is M; after destroy it is
# what it was, and the host as before. A method the NIC does not offer
# fails the start with the ones it does.
[[ -n $NIC && -e /sys/bus/pci/devices/$NIC/reset_method ]] || fail "precondition: $NIC has no reset_method"
before=$(<"/sys/bus/pci/devices/$NIC/reset_method")
read -ra methods <<<"$before"
((${#methods[@]} >= 2)) || fail "precondition: $NIC offers only '$before': nothing to choose"
m=${methods[-1]}
log "$NIC reset_method: $before; the policy selects $m"
snapshot >/tmp/vh-reset.before
define_domain vh-reset "$(vfs_policy "<reset device='$NIC' method='$m'/>")" "$NIC"
start_ok vh-reset
now_m=$(<"/sys/bus/pci/devices/$NIC/reset_method")
[[ $now_m == "$m" ]] || fail "running: reset_method is '$now_m', not '$m'"
grep -q "reset-method $NIC ${before// /+}\$" "$(journal_of vh-reset)" ||
	fail "the journal does not keep the old value: $(tr '\n' ' ' <"$(journal_of vh-reset)")"
destroy_ok vh-reset
after=$(<"/sys/bus/pci/devices/$NIC/reset_method")
[[ $after == "$before" ]] || fail "after destroy: reset_method is '$after', not '$before'"
snapshot >/tmp/vh-reset.after
expect_same /tmp/vh-reset.before /tmp/vh-reset.after "after the cycle"
expect_no_journal vh-reset "after destroy"
note "$NIC: $before -> $m -> $after"

unoffered=
for x in device_specific acpi flr af_flr pm bus; do
	[[ " $before " == *" $x "* ]] || { unoffered=$x; break; }
done
define_domain vh-reset "$(vfs_policy "<reset device='$NIC' method='$unoffered'/>")" "$NIC"
if virsh_run 120 start vh-reset; then
	destroy_ok vh-reset
	fail "started with method $unoffered, which $NIC does not offer"
fi
[[ $VIRSH_OUT == *"$NIC does not offer $unoffered (it offers: $before)"* ]] || fail "the start error does not name the methods: $VIRSH_OUT"
snapshot >/tmp/vh-reset.after
expect_same /tmp/vh-reset.before /tmp/vh-reset.after "after the refused start"
timeout 60 virsh -q undefine vh-reset >/dev/null
