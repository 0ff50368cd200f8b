# shellcheck shell=bash disable=SC2154 # GPU, AUDIO, ... come from lib.sh
# vm-limit: 2400
# The hand-off benchmark, a scenario of the end-to-end guest (tests/vm/):
# tests/bench/vm-bench.sh gives it to tests/vm/run.sh, with VH_BENCH_CYCLES
# and VH_GUIDE_HOOK (the text of tests/bench/guide-hook.sh) set in front.
# It runs inside the guest ("L1") as root, with tests/vm/guest/lib.sh
# sourced, and reports "BENCH ..." lines (fd 3, the report) that
# vm-bench.sh turns into a table:
#   BENCH HOOK CYCLE PHASE KEY MS     HOOK: vfio-hook, guide, floor;
#                                     PHASE: start, destroy;
#                                     KEY: total, dm, vt, fb, sleep, mod, dev, wait, other,
#                                     hook (the hook's whole run), engine
#   BENCH note TEXT
# The hook's log and trace of each cycle are kept in the share's out/
# (bench-*.log; tests/vm/run.sh keeps them with VFIO_HOOK_VM_KEEP=1).
#
#  vfio-hook  the installed hook, a domain with the default policy and the
#             GPU and its audio as managed hostdevs; its steps from
#             `journalctl -t vfio-hook -o cat`;
#  guide      tests/bench/guide-hook.sh in place of /etc/libvirt/hooks/qemu,
#             the same domain without our policy; its steps from its own
#             timestamped trace;
#  floor      the same steps done by hand with the cheapest tools (systemctl,
#             a write to bind, rmmod/modprobe; for the devices libvirt's own
#             detach: one virsh session running nodedev-detach of each
#             device, separated by ";", in one connection, and
#             nodedev-reattach the same way), each timed, and virsh
#             start/destroy of a domain whose devices are already on
#             vfio-pci (managed='no'): what libvirt and QEMU cost without
#             any hand-off.
# A stand-in display manager holds /dev/dri/card0 while it runs, as Xorg
# would. The guest's second card stays on bochs-drm: vfio-hook therefore
# leaves bochs loaded (a module goes only when every device it serves
# goes), where the guide's hook and the floor unload it the way the guides
# do, taking the second card down and up again with it.

cycles=${VH_BENCH_CYCLES:-5}
B=/run/vh-bench
mkdir -p "$B"

# Cycle 0 is a warm-up, not reported: the first hand-off after boot pays for
# cold caches (libvirt's and libsystemd's pages, libvirtd's node-device code)
# that the floor and the guides' hook, which run after it, would not.
bench() {
	[[ ${2:-} != 0 ]] || return 0
	printf 'BENCH %s\n' "$*" >&3
	log "BENCH $*"
}
ms_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) * 1000 }'; }

# ---------------------------------------------------------------- the stand-in display manager

dm_unit=/run/systemd/system/display-manager.service
bench_cleanup() {
	systemctl stop display-manager.service >/dev/null 2>&1 || true
	rm -f "$dm_unit"
	systemctl daemon-reload || true
	if [[ -n ${saved_hook:-} ]]; then ln -sfn "$saved_hook" /etc/libvirt/hooks/qemu; fi
}
trap bench_cleanup EXIT
cat >"$dm_unit" <<'EOF'
[Unit]
Description=Stand-in display manager of the vfio-hook benchmark (holds /dev/dri/card0)
[Service]
ExecStart=/bin/sh -c 'exec 3</dev/dri/card0; exec sleep infinity'
EOF
systemctl daemon-reload
systemctl start display-manager.service
require_desktop
dm_active() { [[ $(systemctl is-active display-manager.service 2>/dev/null) == active ]]; }
dm_active || fail "the stand-in display manager does not start"

gpu_driver=$(driver "$GPU") audio_driver=$(driver "$AUDIO")
dm_cgroup=/sys/fs/cgroup/system.slice/display-manager.service/cgroup.procs
# The host is back: GPU and audio on their drivers, a frame buffer console
# bound, the display manager running. Without a fork (the guest is slow at
# them): the driver's link to the device, the vtconsoles' files, the
# display manager's cgroup.
restored() {
	[[ -e /sys/bus/pci/drivers/$gpu_driver/$GPU && -e /sys/bus/pci/drivers/$audio_driver/$AUDIO ]] || return 1
	local v name bind fb=0 pid=''
	for v in /sys/class/vtconsole/vtcon*; do
		read -r name <"$v/name" || continue
		[[ $name == *"frame buffer"* ]] || continue
		read -r bind <"$v/bind" && [[ $bind == 1 ]] && fb=1
	done
	((fb)) || return 1
	if [[ -d /sys/fs/cgroup/system.slice ]]; then
		{ read -r pid <"$dm_cgroup"; } 2>/dev/null || true
		[[ -n $pid ]]
	else
		dm_active
	fi
}
# wait_restored T0: waits (up to 60 s) and prints the ms from T0 to restored.
wait_restored() {
	local t0=$1 i tick
	exec {tick}<> <(:) # read -t on it: a sleep without a fork
	for ((i = 0; i < 6000; i++)); do
		if restored; then
			exec {tick}>&-
			ms_between "$t0" "$EPOCHREALTIME"
			return 0
		fi
		read -r -t 0.01 -u "$tick" _ || true
	done
	exec {tick}>&-
	log "not restored after 60 s: GPU $(driver "$GPU"), audio $(driver "$AUDIO"), fbcon $(fbcon_bound && echo bound || echo unbound), dm $(systemctl is-active display-manager.service)"
	return 1
}
# A timed virsh: sets T (ms).
T=''
timed_virsh() {
	local t0=$EPOCHREALTIME
	virsh_run 600 "$@" || fail "virsh $* failed: $VIRSH_OUT"
	T=$(ms_between "$t0" "$EPOCHREALTIME")
}
cursor() { journalctl -q -n 0 --show-cursor 2>/dev/null | sed -n 's/^-- cursor: //p'; }

# ---------------------------------------------------------------- vfio-hook

# Sums the step times of the hook's log (since cursor $1) by kind.
vfio_hook_steps() {
	journalctl -q --no-pager -t vfio-hook -o cat --after-cursor "$1" 2>/dev/null | awk '
		/ done in [0-9.]+ ms$/ { engine += $(NF - 1); next }
		/ the hook ran [0-9.]+ ms$/ { hook += $(NF - 1); next }
		$NF == "ms)" && $(NF - 1) ~ /^\([0-9.]+$/ && NF >= 4 {
			a = $(NF - 3); t = $(NF - 2); ms = substr($(NF - 1), 2) + 0
			if (a == "stop-unit" || a == "start") k = "dm"
			else if (t ~ /^vtcon/) k = "vt"
			else if (t ~ /framebuffer/) k = "fb"
			else if (a == "unload-module" || a == "reload") k = "mod"
			else if (a == "detach-device" || a == "reattach") k = "dev"
			else if (a == "check") k = "wait"
			else k = "other"
			sum[k] += ms
		}
		END {
			for (k in sum) printf "%s %.1f\n", k, sum[k]
			if (engine) printf "engine %.1f\n", engine
			if (hook) printf "hook %.1f\n", hook
			else if (engine) printf "hook %.1f\n", engine
		}'
}

define_domain vh-bench "$(policy_xml)" "$GPU" "$AUDIO"
for ((i = 0; i <= cycles; i++)); do
	c=$(cursor)
	timed_virsh start vh-bench
	bench vfio-hook "$i" start total "$T"
	expect_handed_off vh-bench
	vfio_hook_steps "$c" | while read -r k ms; do bench vfio-hook "$i" start "$k" "$ms"; done
	journalctl -q --no-pager -t vfio-hook -o short-monotonic --after-cursor "$c" >"$VH_OUT/bench-vfio-hook-$i-start.log" 2>&1 || true
	c=$(cursor)
	t0=$EPOCHREALTIME
	timed_virsh destroy vh-bench
	r=$(wait_restored "$t0") || fail "vfio-hook: the host is not restored after virsh destroy"
	bench vfio-hook "$i" destroy virsh "$T"
	bench vfio-hook "$i" destroy total "$r"
	vfio_hook_steps "$c" | while read -r k ms; do bench vfio-hook "$i" destroy "$k" "$ms"; done
	journalctl -q --no-pager -t vfio-hook -o short-monotonic --after-cursor "$c" >"$VH_OUT/bench-vfio-hook-$i-destroy.log" 2>&1 || true
done
timeout 60 virsh -q undefine vh-bench >/dev/null

# ---------------------------------------------------------------- floor

define_domain vh-bench-floor "" "$GPU,managed=no" "$AUDIO,managed=no"
step() { # KIND COMMAND...: runs it, adds its time to the kind's sum
	local t0=$EPOCHREALTIME
	"${@:2}" || bench note "floor: cycle $i: the step failed: ${*:2}"
	FLOOR[$1]=$(awk -v s="${FLOOR[$1]:-0}" -v d="$(ms_between "$t0" "$EPOCHREALTIME")" 'BEGIN { printf "%.1f", s + d }')
}
put() { printf '%s\n' "$2" >"$1"; }
# libvirt's own detach/reattach of every device: one virsh, one connection.
virsh_session() { # VERB
	virsh -q "$1 $(nodedev "$GPU"); $1 $(nodedev "$AUDIO")" >/dev/null
}
fbcons() {
	local v
	for v in /sys/class/vtconsole/vtcon*; do
		if grep -q 'frame buffer' "$v/name" 2>/dev/null; then echo "$v"; fi
	done
	return 0
}
for ((i = 1; i <= cycles; i++)); do
	declare -A FLOOR=()
	step dm systemctl stop display-manager.service
	for v in $(fbcons); do step vt put "$v/bind" 0; done
	step mod rmmod bochs
	step dev virsh_session nodedev-detach
	timed_virsh start vh-bench-floor
	bench floor "$i" start virsh "$T"
	for k in "${!FLOOR[@]}"; do bench floor "$i" start "$k" "${FLOOR[$k]}"; done

	FLOOR=()
	timed_virsh destroy vh-bench-floor
	bench floor "$i" destroy virsh "$T"
	step dev virsh_session nodedev-reattach
	step mod modprobe bochs
	udevadm settle --timeout=30 || true
	for v in $(fbcons); do
		[[ $(<"$v/bind") == 1 ]] || step vt put "$v/bind" 1
	done
	step dm systemctl start display-manager.service
	for k in "${!FLOOR[@]}"; do bench floor "$i" destroy "$k" "${FLOOR[$k]}"; done
	restored || fail "floor: the host is not restored by hand"
done
timeout 60 virsh -q undefine vh-bench-floor >/dev/null

# ---------------------------------------------------------------- the guides' hook

saved_hook=$(readlink /etc/libvirt/hooks/qemu)
[[ -n $saved_hook ]] || fail "/etc/libvirt/hooks/qemu is not a symlink"
[[ -n ${VH_GUIDE_HOOK:-} ]] || fail "no VH_GUIDE_HOOK (the text of tests/bench/guide-hook.sh)"
trace=$B/guide-hook.log
printf '%s\n' "$VH_GUIDE_HOOK" | sed \
	-e "s|^GUEST=.*|GUEST=vh-bench-guide|" \
	-e "s|^GPU=.*|GPU=$(nodedev "$GPU")|" \
	-e "s|^GPU_AUDIO=.*|GPU_AUDIO=$(nodedev "$AUDIO")|" \
	-e "s|^GPU_MODULES=.*|GPU_MODULES=bochs|" \
	-e "s|^LOG=.*|LOG=$trace|" >"$B/guide-hook"
chmod 0755 "$B/guide-hook"
# libvirt looks for the hook when it starts and runs the path on each call:
# the link can change under it.
ln -sfn "$B/guide-hook" /etc/libvirt/hooks/qemu

# Sums the traced commands' times by kind: each command lasts until the next
# trace line. libvirt runs the hook for each operation (prepare, start,
# started, ...); each run's trace ends with `exit 0`, and only runs that did
# more than their [[ ]] tests count.
guide_steps() {
	awk '
		function flush() {
			if (work)
				for (k in run) sum[k] += run[k]
			if (work && first != "") hook += (last - first) * 1000
			delete run
			first = ""; prev = ""; work = 0
		}
		$1 != "+" || $2 !~ /^[0-9]+\.[0-9]+$/ { next }
		{
			if (prev != "") run[kind] += ($2 - prev) * 1000
			if (first == "") first = $2
			last = $2; prev = $2
			cmd = $3 " " $4
			if ($3 == "systemctl") kind = "dm"
			else if (cmd ~ /^echo [01]$/) kind = "vt"
			else if (cmd ~ /^echo .*framebuffer/) kind = "fb"
			else if ($3 == "sleep") kind = "sleep"
			else if ($3 == "virsh") kind = "dev"
			else if ($3 == "modprobe" && $NF != "vfio-pci") kind = "mod"
			else kind = "other"
			if ($3 != "[[" && $3 != "exit") work = 1
			if ($3 == "exit") flush()
		}
		END {
			flush()
			for (k in sum) printf "%s %.1f\n", k, sum[k]
			if (hook) printf "hook %.1f\n", hook
		}' "$1"
}

define_domain vh-bench-guide "" "$GPU" "$AUDIO"
for ((i = 1; i <= cycles; i++)); do
	: >"$trace"
	timed_virsh start vh-bench-guide
	bench guide "$i" start total "$T"
	guide_steps "$trace" | while read -r k ms; do bench guide "$i" start "$k" "$ms"; done
	cp "$trace" "$VH_OUT/bench-guide-$i-start.log"
	[[ $(driver "$GPU") == vfio-pci ]] || bench note "guide-hook: cycle $i: the GPU is on $(driver "$GPU") while the domain runs"

	: >"$trace"
	t0=$EPOCHREALTIME
	timed_virsh destroy vh-bench-guide
	if r=$(wait_restored "$t0"); then
		bench guide "$i" destroy virsh "$T"
		bench guide "$i" destroy total "$r"
	else
		bench note "guide-hook: cycle $i: the host is not restored 60 s after virsh destroy; stopping"
		guide_steps "$trace" | while read -r k ms; do bench guide "$i" destroy "$k" "$ms"; done
		break
	fi
	guide_steps "$trace" | while read -r k ms; do bench guide "$i" destroy "$k" "$ms"; done
	cp "$trace" "$VH_OUT/bench-guide-$i-destroy.log"
done
timeout 60 virsh -q undefine vh-bench-guide >/dev/null
ln -sfn "$saved_hook" /etc/libvirt/hooks/qemu
saved_hook=''
bench note "done: $cycles cycles of each"
