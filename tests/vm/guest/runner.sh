#!/bin/bash
# Runs inside the guest as root, started by vfio-hook-vm.service once
# libvirtd is up; the guest powers off when it returns.
#
# Reads /vh/harness/config (written by the host's run.sh), checks that the
# stand-in desktop is what the scenarios expect (preflight), then runs each
# scenario in its own process under a deadline. The report (/vh/out/report.log,
# which the host follows and prints) gets one line per scenario,
#     PASS name (wall s)          FAIL name: reason (wall s)
# and, after a FAIL, the hook's log and the end of the scenario's own log
# (/vh/out/NAME.log, which holds every virsh call and its output). After
# each scenario the host is put back to the baseline if the scenario left it
# otherwise, so that one failure does not cascade. The last line is
#     DONE passed=N failed=N
set -uo pipefail
HARNESS=/vh/harness
# shellcheck source=lib.sh
source "$HARNESS/lib.sh"
VH_MODE=check VH_SCENARIOS=
# shellcheck source=/dev/null
source "$HARNESS/config"

mkdir -p "$VH_OUT"
exec 3>>"$VH_OUT/report.log"
exec >>"$VH_OUT/runner.log" 2>&1
report() { printf '%s\n' "$*" >&3; }
indent() { sed 's/^/  | /' >&3; }

report "READY uptime=$(now)s"
PASSED=0 FAILED=0
BASELINE=/run/vh-baseline.state

# Seconds a scenario may take before it is killed (and fails).
scenario_limit() {
	local own
	own=$(sed -n 's/^# vm-limit: *\([0-9][0-9]*\)$/\1/p' "$HARNESS/scenarios/$1.sh" 2>/dev/null | head -1)
	[[ -n $own ]] && { echo "$own"; return; }
	case $1 in
	cycles) echo 900 ;;
	kill-during-prepare | two-domains) echo 600 ;;
	*) echo 300 ;;
	esac
}

hook_log_since() { # EPOCH [journalctl output format]
	journalctl -q --no-pager -t vfio-hook --since "@$1" -o "${2:-short-monotonic}" 2>/dev/null
}

# ---------------------------------------------------------------- preflight

preflight() {
	local problems=() fatal=0 hook engine
	log "preflight"
	uname -a
	cat /proc/cmdline
	if ! wait_for 120 libvirtd virsh -q version >/dev/null 2>&1; then
		problems+=("libvirtd does not answer on qemu:///system")
		fatal=1
	fi
	hook=$(readlink -f /etc/libvirt/hooks/qemu 2>/dev/null || true)
	if [[ ! -x /etc/libvirt/hooks/qemu ]]; then
		problems+=("/etc/libvirt/hooks/qemu is not installed")
		fatal=1
	elif [[ $hook != /usr/sbin/vfio-hook ]]; then
		problems+=("/etc/libvirt/hooks/qemu resolves to $hook, not /usr/sbin/vfio-hook")
	fi
	engine=/usr/libexec/vfio-hook/vfio-hook-engine
	if [[ ! -x $engine ]]; then
		problems+=("$engine is not installed")
	elif ldd "$engine" | grep -q 'not found'; then
		problems+=("$engine misses libraries: $(ldd "$engine" | awk '/not found/ {print $1}' | tr '\n' ' ')")
	elif ! timeout 20 vfio-hook --version >/tmp/vh-version 2>&1; then
		problems+=("vfio-hook --version fails: $(head -c 300 /tmp/vh-version)")
	fi
	log "vfio-hook --version: $(cat /tmp/vh-version 2>/dev/null)"
	# libvirtd probes QEMU's capabilities once, opening /dev/kvm (which
	# loads kvm): wait for that, and for udev, before the baseline.
	timeout 300 virsh -q capabilities >/dev/null || problems+=("virsh capabilities failed")
	timeout 300 virsh -q domcapabilities --virttype qemu --arch x86_64 >/dev/null ||
		problems+=("virsh domcapabilities failed")
	udevadm settle --timeout=60 || true
	lspci -nnk
	local g
	for g in /sys/kernel/iommu_groups/*; do
		log "iommu group $(basename "$g"): $(list_dir "$g/devices")"
	done
	[[ -n $(list_dir /sys/kernel/iommu_groups) ]] || { problems+=("no IOMMU groups (intel_iommu=on?)"); fatal=1; }
	if [[ -z $GPU ]]; then
		problems+=("no VGA device")
		fatal=1
	else
		[[ $(driver "$GPU") == bochs-drm ]] || { problems+=("$GPU is on $(driver "$GPU"), not bochs-drm"); fatal=1; }
		fbcon_bound || { problems+=("no frame buffer console is bound"); fatal=1; }
	fi
	if [[ -z $GPU2 || $(driver "$GPU2") != bochs-drm ]]; then
		problems+=("no second display card on bochs-drm (bochs-display): ${GPU2:-none}, $(driver "${GPU2:-none}")")
		fatal=1
	fi
	[[ -c /dev/snd/controlC0 ]] || problems+=("no /dev/snd/controlC0: the HD audio function has no codec")
	for f in /sys/class/graphics/fb[0-9]*; do
		log "$(basename "$f"): $(cat "$f/name") on $(basename "$(readlink -f "$f/device")")"
	done
	[[ -n $NIC && -n $AUDIO ]] || { problems+=("no e1000e or no HD audio device"); fatal=1; }
	# Passthrough hosts have vfio-pci at hand; loading it here keeps
	# libvirt's first detach from adding modules to the state we compare.
	modprobe vfio-pci || { problems+=("modprobe vfio-pci failed"); fatal=1; }
	snapshot >"$BASELINE"
	log "baseline:"
	cat "$BASELINE"
	if ((${#problems[@]})); then
		report "FAIL preflight: $(printf '%s; ' "${problems[@]}")"
		FAILED=$((FAILED + 1))
		return $((fatal ? 2 : 1))
	fi
	report "PASS preflight"
	PASSED=$((PASSED + 1))
}

# ---------------------------------------------------------------- recovery

# Puts the host back to the baseline after a scenario that left it
# otherwise: domains, stray holders, journals (through the hook's own
# restore), then by hand. Prints nothing when all was already in order.
recover() {
	local name=$1 d j now=/run/vh-now.state
	for d in $(timeout 30 virsh list --all --name 2>/dev/null); do
		[[ $d == vh-* ]] || continue
		timeout 180 virsh destroy "$d" >/dev/null 2>&1 || true
		timeout 60 virsh undefine "$d" >/dev/null 2>&1 || true
	done
	if [[ -s /run/vh-holders ]]; then
		xargs -r kill -9 </run/vh-holders 2>/dev/null || true
		: >/run/vh-holders
	fi
	for j in "$STATE_DIR"/*.journal; do
		[[ -e $j ]] || continue
		d=$(basename "$j" .journal)
		report "  (after $name: journal $j left; running vfio-hook restore $d)"
		timeout 180 vfio-hook restore "$d" 2>&1 | indent
	done
	snapshot >"$now"
	[[ -z $(state_diff "$BASELINE" "$now") ]] && return 0

	report "  (after $name: host differs from the baseline; restoring by hand:)"
	state_diff "$BASELINE" "$now" | indent
	local line bdf drv
	while read -r line; do # devices left on vfio-pci
		bdf=$(awk '{print $2}' <<<"$line")
		drv=$(driver "$bdf")
		[[ $drv == vfio-pci ]] && timeout 120 virsh nodedev-reattach "$(nodedev "$bdf")" >/dev/null 2>&1
	done < <(grep '^pci ' "$BASELINE")
	while read -r _ d; do # modules that went away
		module_loaded "$d" || modprobe "$d" 2>/dev/null || true
	done < <(grep '^module ' "$BASELINE")
	udevadm settle --timeout=30 || true
	for d in /sys/class/vtconsole/vtcon*; do
		grep -q 'frame buffer' "$d/name" && echo 1 >"$d/bind" 2>/dev/null
	done
	snapshot >"$now"
	if [[ -n $(state_diff "$BASELINE" "$now") ]]; then
		report "  (still not back to the baseline; later scenarios may fail for it:)"
		state_diff "$BASELINE" "$now" | indent
	fi
}

# ---------------------------------------------------------------- scenarios

run_scenario() {
	local name=$1 file=$HARNESS/scenarios/$1.sh log=$VH_OUT/$1.log reason=$VH_OUT/$1.reason note=$VH_OUT/$1.note
	local since t0 rc=0 limit wall why
	if [[ ! -f $file ]]; then
		report "FAIL $name: no such scenario (have: $(list_dir "$HARNESS/scenarios"))"
		FAILED=$((FAILED + 1))
		return
	fi
	limit=$(scenario_limit "$name")
	rm -f "$reason" "$note"
	since=$(date +%s)
	t0=$(now)
	log "scenario $name (limit ${limit}s)"
	VH_REASON=$reason VH_NOTE=$note timeout -k 10 "$limit" bash "$HARNESS/scenario.sh" "$file" >"$log" 2>&1 || rc=$?
	wall=$(elapsed "$t0")
	if ((rc == 0)); then
		report "PASS $name (${wall} s$(sed 's/^/; /' "$note" 2>/dev/null | tr -d '\n'))"
		PASSED=$((PASSED + 1))
	else
		why=$(head -c 2000 "$reason" 2>/dev/null || true)
		((rc == 124 || rc == 137)) && [[ -z $why ]] && why="did not finish within ${limit} s"
		report "FAIL $name: ${why:-exit status $rc} (${wall} s)"
		FAILED=$((FAILED + 1))
		report "  --- journalctl -t vfio-hook (since $name started):"
		hook_log_since "$since" | tail -n 60 | indent
		report "  --- end of $log:"
		tail -n 30 "$log" | indent
	fi
	if [[ $VH_MODE == demo ]]; then
		report ""
		report "The hook's log of this hand-off and hand-back (journalctl -t vfio-hook -o cat):"
		hook_log_since "$since" cat | sed 's/^/    /' >&3
		report ""
	fi
	recover "$name"
}

if [[ $VH_MODE == demo ]]; then
	VH_SCENARIOS=single-gpu-cycle
	export VH_DEMO=1
fi
: >/run/vh-holders
preflight
pf=$?
for s in $VH_SCENARIOS; do
	if ((pf == 2)); then
		report "FAIL $s: not run (preflight failed)"
		FAILED=$((FAILED + 1))
		continue
	fi
	run_scenario "$s"
done
report "DONE passed=$PASSED failed=$FAILED uptime=$(now)s"
