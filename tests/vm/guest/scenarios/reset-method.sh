# shellcheck shell=bash
# <reset>: a domain with a device that offers two reset methods or more as
# its hostdev (the NVMe controller behind its root port: flr and bus; the
# e1000e offers only pm) and <reset device=DEV method=M>, M its last method:
# while it runs reset_method is M; after destroy it is what it was, and the
# host as before. A method the device does not offer fails the start with
# the ones it does.
DEV=
for d in "$NVME_PF" "$AUDIO" "$(pci_by_class 0x0200 || true)"; do
	[[ -n $d && -e /sys/bus/pci/devices/$d/reset_method ]] || continue
	log "$d ($(driver "$d")) reset_method: $(<"/sys/bus/pci/devices/$d/reset_method")"
	read -ra methods <"/sys/bus/pci/devices/$d/reset_method"
	if [[ -z $DEV ]] && ((${#methods[@]} >= 2)); then DEV=$d; fi
done
[[ -n $DEV ]] || fail "precondition: no device of the guest offers two reset methods"
before=$(<"/sys/bus/pci/devices/$DEV/reset_method")
read -ra methods <<<"$before"
m=${methods[-1]}
log "$DEV reset_method: $before; the policy selects $m"
snapshot >/tmp/vh-reset.before
define_domain vh-reset "$(vfs_policy "<reset device='$DEV' method='$m'/>")" "$DEV"
start_ok vh-reset
now_m=$(<"/sys/bus/pci/devices/$DEV/reset_method")
[[ $now_m == "$m" ]] || fail "running: reset_method is '$now_m', not '$m'"
grep -q "reset-method $DEV ${before// /+}\$" "$(journal_of vh-reset)" ||
	fail "the journal does not keep the old value: $(tr '\n' ' ' <"$(journal_of vh-reset)")"
destroy_ok vh-reset
after=$(<"/sys/bus/pci/devices/$DEV/reset_method")
[[ $after == "$before" ]] || fail "after destroy: reset_method is '$after', not '$before'"
snapshot >/tmp/vh-reset.after
expect_same /tmp/vh-reset.before /tmp/vh-reset.after "after the cycle"
expect_no_journal vh-reset "after destroy"
note "$DEV: $before -> $m -> $after"

unoffered=
for x in device_specific acpi flr af_flr pm bus; do
	[[ " $before " == *" $x "* ]] || { unoffered=$x; break; }
done
define_domain vh-reset "$(vfs_policy "<reset device='$DEV' method='$unoffered'/>")" "$DEV"
if virsh_run 120 start vh-reset; then
	destroy_ok vh-reset
	fail "started with method $unoffered, which $DEV does not offer"
fi
[[ $VIRSH_OUT == *"$DEV does not offer $unoffered (it offers: $before)"* ]] || fail "the start error does not name the methods: $VIRSH_OUT"
snapshot >/tmp/vh-reset.after
expect_same /tmp/vh-reset.before /tmp/vh-reset.after "after the refused start"
timeout 60 virsh -q undefine vh-reset >/dev/null
