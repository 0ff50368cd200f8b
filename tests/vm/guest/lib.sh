# shellcheck shell=bash disable=SC2034 # variables for the sourcing scripts
# Helpers for the scenarios, sourced inside the guest ("L1") by runner.sh and
# by each scenario. Everything here runs as root on the stand-in desktop:
# a bochs VGA card (PCI driver bochs-drm, module bochs) whose fbcon owns the
# console, a second display card on the same driver (bochs-display), an
# e1000e NIC and an ICH9 HD audio controller with a codec, behind an
# emulated Intel IOMMU.

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LIBVIRT_DEFAULT_URI=qemu:///system
export LC_ALL=C

VH=${VH:-/vh}                 # the run's share, mounted by the initramfs
VH_OUT=$VH/out                # results and logs, read by the host
STATE_DIR=/run/vfio-hook      # the hook's journals
POLICY_NS=urn:vfio-hook:policy:1

# ---------------------------------------------------------------- time, log

now() { cut -d' ' -f1 /proc/uptime; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
log() { printf '[%7.2f] %s\n' "$(now)" "$*"; }

# A scenario ends with fail: the reason goes to the runner, which prints
# the FAIL line and the hook's log.
fail() {
	log "FAIL: $*"
	# The first reason is the precise one (a failing $(...) fails its caller too).
	if [[ -n ${VH_REASON:-} && ! -s $VH_REASON ]]; then printf '%s\n' "$*" >"$VH_REASON"; fi
	exit 1
}

# note: a short fact for the scenario's PASS line (timings to quote).
note() { if [[ -n ${VH_NOTE:-} ]]; then printf '%s\n' "$*" >>"$VH_NOTE"; fi; log "note: $*"; }

# show: what the demo prints for a user to read (goes to the report in demo
# mode, to the scenario's log otherwise).
show() { if [[ ${VH_DEMO:-0} == 1 ]]; then printf '%s\n' "$*" >&3; fi; printf '%s\n' "$*"; }
show_cmd() { if [[ ${VH_DEMO:-0} == 1 ]]; then cat >&3; else cat; fi; }

# wait_for SECONDS WHAT COMMAND...: polls COMMAND until it succeeds.
wait_for() {
	local limit=$1 what=$2 t0
	shift 2
	t0=$SECONDS
	until "$@"; do
		((SECONDS - t0 < limit)) || { log "timed out after ${limit}s waiting for $what"; return 1; }
		sleep 0.2
	done
}

# ---------------------------------------------------------------- devices

# First PCI function of a class (sysfs class prefix, e.g. 0x0300 for VGA).
pci_by_class() {
	local d
	for d in /sys/bus/pci/devices/*; do
		[[ $(<"$d/class") == "$1"* ]] && { basename "$d"; return 0; }
	done
	return 1
}
GPU=$(pci_by_class 0x0300 || true)    # bochs VGA, the stand-in desktop GPU: boot VGA, fb0, the console
GPU2=$(pci_by_class 0x0380 || true)   # bochs-display, a second card on bochs-drm: fb1
NIC=$(pci_by_class 0x0200 || true)    # e1000e
AUDIO=$(pci_by_class 0x0403 || true)  # ich9-intel-hda with an hda-duplex codec: /dev/snd/*C0*
NVME_PF=$(pci_by_class 0x0108 || true) # QEMU's nvme with sriov_max_vfs=2 behind a root port: an SR-IOV PF

# vf_address PF N: the address of VF N (0-based) of PF, computed as the
# kernel does (routing ID + sriov_offset + N * sriov_stride), whether or
# not the VFs exist.
vf_address() {
	local d=/sys/bus/pci/devices/$1 dom bus slot fn rid
	IFS=':.' read -r dom bus slot fn <<<"$1"
	rid=$((16#$bus * 256 + 16#$slot * 8 + fn + $(<"$d/sriov_offset") + $2 * $(<"$d/sriov_stride")))
	printf '%s:%02x:%02x.%x\n' "$dom" $((rid >> 8)) $(((rid & 255) >> 3)) $((rid & 7))
}
numvfs() { cat "/sys/bus/pci/devices/$1/sriov_numvfs"; }

# The SR-IOV PF as the sriov scenarios expect it: on nvme, no VFs; and root's
# allow-vfs line for it (sriov_cleanup takes both back).
require_sriov_pf() {
	[[ -n $NVME_PF && -e /sys/bus/pci/devices/$NVME_PF/sriov_totalvfs ]] ||
		fail "precondition: no SR-IOV NVMe controller (QEMU nvme with sriov_max_vfs) in the guest"
	[[ $(driver "$NVME_PF") == nvme ]] || fail "precondition: $NVME_PF is on $(driver "$NVME_PF"), not nvme"
	[[ $(numvfs "$NVME_PF") == 0 ]] || fail "precondition: $NVME_PF has $(numvfs "$NVME_PF") VFs"
	printf 'allow-vfs %s 2\n' "$NVME_PF" >/etc/vfio-hook.conf
}
# vfs_policy ELEMENTS: the default policy with <vfs>/<reset> elements added.
vfs_policy() { local p; p=$(policy_xml); echo "${p%</vh:policy>}$1</vh:policy>"; }
sriov_cleanup() {
	rm -f /etc/vfio-hook.conf
	[[ -z $NVME_PF ]] || echo 0 >"/sys/bus/pci/devices/$NVME_PF/sriov_numvfs" 2>/dev/null || true
}

driver() {
	local l=/sys/bus/pci/devices/$1/driver
	if [[ -e $l ]]; then basename "$(readlink -f "$l")"; else echo none; fi
}
nodedev() { local a=${1//:/_}; echo "pci_${a//./_}"; }

# <address .../> of a PCI address 0000:00:02.0
pci_address_xml() {
	local dom=${1%%:*} rest=${1#*:}
	local bus=${rest%%:*} slotfn=${rest#*:}
	printf "<address domain='0x%s' bus='0x%s' slot='0x%s' function='0x%s'/>" \
		"$dom" "$bus" "${slotfn%.*}" "${slotfn#*.}"
}

module_loaded() { [[ -e /sys/module/$1/initstate ]]; }  # loadable and loaded

# Is a frame buffer console bound to a vtconsole? (never assume vtcon1)
fbcon_bound() {
	local v
	for v in /sys/class/vtconsole/vtcon*; do
		grep -q 'frame buffer' "$v/name" 2>/dev/null && [[ $(<"$v/bind") == 1 ]] && return 0
	done
	return 1
}

# The names in a directory, on one line (nothing if it does not exist).
list_dir() { [[ -d $1 ]] && find "$1" -mindepth 1 -maxdepth 1 -printf '%f ' | sed 's/ $//'; return 0; }

journal_of() { echo "$STATE_DIR/$1.journal"; }
# What the hook keeps in its state directory but the record of how each
# release ended (DOMAIN.released, for `vfio-hook status`): journals, locks.
state_files() { [[ -d $STATE_DIR ]] && find "$STATE_DIR" -mindepth 1 ! -name '*.released' -printf '%P\n' | sort; return 0; }

# ---------------------------------------------------------------- snapshots

# The host state the hook may touch, one fact a line, in a stable order:
# drivers (and driver_override) of every PCI function, the vtconsoles, the
# frame buffers and firmware framebuffer devices, /dev/dri, the loaded
# modules, the hook's state directory. Two snapshots that diff empty mean the
# host is as it was.
snapshot() {
	local d v f b
	for d in /sys/bus/pci/devices/*; do
		b=$(basename "$d")
		printf 'pci %s class=%s driver=%s override=%s\n' "$b" "$(<"$d/class")" "$(driver "$b")" \
			"$(cat "$d/driver_override" 2>/dev/null || echo -)"
	done
	for v in /sys/class/vtconsole/vtcon*; do
		[[ -e $v ]] || continue
		printf 'vtcon %s bind=%s name=%s\n' "$(basename "$v")" "$(<"$v/bind")" "$(<"$v/name")"
	done
	for f in /sys/class/graphics/fb[0-9]*; do
		[[ -e $f ]] || continue
		printf 'fb %s name=%s\n' "$(basename "$f")" "$(<"$f/name")"
	done
	for f in /sys/bus/platform/devices/*framebuffer*; do
		[[ -e $f ]] || continue
		b=none
		[[ -e $f/driver ]] && b=$(basename "$(readlink -f "$f/driver")")
		printf 'platform %s driver=%s\n' "$(basename "$f")" "$b"
	done
	for f in /dev/dri/*; do
		[[ -e $f ]] && printf 'dev %s\n' "$f"
	done
	lsmod | awk 'NR > 1 { print "module " $1 }' | sort
	state_files | sed 's/^/state /'
}

# state_diff BEFORE AFTER: empty when equal, else a unified diff of the facts.
state_diff() { diff -U0 "$1" "$2" | grep -E '^[-+][^-+]' || true; }

# A few lines a person can read: where the GPU is and who has the console.
desk() {
	local v mods
	printf '  GPU %s: driver %s\n' "$GPU" "$(driver "$GPU")"
	[[ -n $AUDIO ]] && printf '  audio %s: driver %s\n' "$AUDIO" "$(driver "$AUDIO")"
	for v in /sys/class/vtconsole/vtcon*; do
		printf '  %s: %-28s bound=%s\n' "$(basename "$v")" "$(<"$v/name")" "$(<"$v/bind")"
	done
	printf '  frame buffers: %s\n' "$(tr '\n' ' ' </proc/fb)"
	mods=$(lsmod | awk 'NR > 1 && $1 ~ /^(bochs|drm|drm_.*|ttm|vfio.*|snd_hda_intel)$/ { print $1 }' | sort | tr '\n' ' ')
	printf '  GPU/VFIO modules: %s\n' "$mods"
	printf '  %s: %s\n' "$STATE_DIR" "$(list_dir "$STATE_DIR")"
}

# ---------------------------------------------------------------- domains

# policy_xml [child=value ...]: our <metadata> element; no argument = all
# defaults spelt out.
policy_xml() {
	(($#)) || set -- stack=auto console=unbind framebuffer=unbind display-manager=stop holders=refuse timeout=30
	local kv out="<vh:policy xmlns:vh=\"$POLICY_NS\">"
	for kv; do out+="<${kv%%=*}>${kv#*=}</${kv%%=*}>"; done
	echo "$out</vh:policy>"
}

# domain_xml NAME POLICY HOSTDEV...: a small q35 domain (no disk: it sits
# in its firmware) with HOSTDEV = ADDRESS[,managed=yes|no]. POLICY may be
# empty (a domain without our metadata).
domain_xml() {
	local name=$1 policy=$2 h addr managed
	shift 2
	cat <<EOF
<domain type='qemu'>
  <name>$name</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
EOF
	[[ -n $policy ]] && printf '  <metadata>\n    %s\n  </metadata>\n' "$policy"
	cat <<EOF
  <os><type arch='x86_64' machine='q35'>hvm</type><boot dev='hd'/></os>
  <features><acpi/></features>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
EOF
	for h; do
		addr=${h%%,*} managed=yes
		[[ $h == *,managed=no ]] && managed=no
		printf "    <hostdev mode='subsystem' type='pci' managed='%s'>\n      <source>%s</source>\n    </hostdev>\n" \
			"$managed" "$(pci_address_xml "$addr")"
	done
	cat <<EOF
    <controller type='usb' model='none'/>
    <video><model type='none'/></video>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
}

# define_domain NAME POLICY HOSTDEV...: writes /tmp/NAME.xml and defines it.
define_domain() {
	local name=$1
	domain_xml "$@" >"/tmp/$name.xml"
	timeout 60 virsh -q undefine "$name" >/dev/null 2>&1 || true
	timeout 60 virsh -q define "/tmp/$name.xml" >/dev/null || fail "virsh define $name failed"
}

# virsh_run SECONDS ARGS...: runs virsh under a deadline; its output is in
# $VIRSH_OUT (and in the log), its time in $VIRSH_TIME.
VIRSH_OUT='' VIRSH_TIME=''
virsh_run() {
	local limit=$1 t0 rc=0
	shift
	t0=$(now)
	VIRSH_OUT=$(timeout -k 5 "$limit" virsh "$@" 2>&1) || rc=$?
	VIRSH_TIME=$(elapsed "$t0")
	log "virsh $* -> rc=$rc in ${VIRSH_TIME}s${VIRSH_OUT:+: $VIRSH_OUT}"
	((rc != 124)) || VIRSH_OUT="virsh $1 did not finish within ${limit}s"
	return "$rc"
}
domstate() { timeout 30 virsh domstate "$1" 2>/dev/null | head -n1; }

# Starts a domain and fails the scenario if it does not run.
start_ok() {
	virsh_run 300 start "$1" || fail "virsh start $1 failed: $VIRSH_OUT"
	[[ $(domstate "$1") == running ]] || fail "$1 is not running after virsh start ($(domstate "$1"))"
}
destroy_ok() {
	virsh_run 180 destroy "$1" || fail "virsh destroy $1 failed: $VIRSH_OUT"
	[[ $(domstate "$1") == "shut off" ]] || fail "$1 is not shut off after virsh destroy"
}

# expect_same BEFORE AFTER WHEN: fails with the differing facts.
expect_same() {
	local d
	d=$(state_diff "$1" "$2")
	[[ -z $d ]] && return 0
	log "state differs $3:"
	printf '%s\n' "$d" | sed 's/^/    /'
	fail "host state $3 differs from before: $(printf '%s' "$d" | head -n 8 | tr '\n' ';' | sed 's/;/; /g')"
}

expect_no_journal() {
	[[ ! -e $(journal_of "$1") ]] || fail "$2: $(journal_of "$1") is left behind"
}

# The stand-in desktop as a scenario expects to find it.
require_desktop() {
	[[ $(driver "$GPU") == bochs-drm ]] || fail "precondition: $GPU is on $(driver "$GPU"), not bochs-drm"
	[[ $(driver "$GPU2") == bochs-drm ]] || fail "precondition: $GPU2 is on $(driver "$GPU2"), not bochs-drm"
	module_loaded bochs || fail "precondition: module bochs is not loaded"
	fbcon_bound || fail "precondition: no frame buffer console is bound"
	[[ -z $(state_files) ]] || fail "precondition: $STATE_DIR holds $(state_files | tr '\n' ' ')"
}

# While a domain with our policy holds the console's GPU: the hand-off of
# a GPU that drives the console done. bochs stays loaded: the second card
# is still bound to it (a module goes only when every device it serves
# goes to the domain).
expect_handed_off() {
	local name=$1
	[[ $(driver "$GPU") == vfio-pci ]] || fail "$name running: $GPU is on $(driver "$GPU"), not vfio-pci"
	! fbcon_bound || fail "$name running: a frame buffer console is still bound"
	module_loaded bochs || fail "$name running: module bochs was unloaded although $GPU2 still uses it"
	[[ $(driver "$GPU2") == bochs-drm ]] || fail "$name running: $GPU2 is on $(driver "$GPU2"), not bochs-drm"
	[[ -e $(journal_of "$name") ]] || fail "$name running: no journal $(journal_of "$name")"
}

# A stand-in display manager: a unit named display-manager.service (as
# Debian aliases gdm3/sddm/lightdm) whose process holds /dev/dri/card0, the
# first card's, the way Xorg does. dm_standin_stop removes it again.
DM_UNIT=/run/systemd/system/display-manager.service
dm_active() { [[ $(systemctl is-active display-manager.service 2>/dev/null) == active ]]; }
dm_holds_card() { find /proc/[0-9]*/fd -maxdepth 1 -lname /dev/dri/card0 2>/dev/null | grep -q .; }
dm_standin_start() {
	cat >"$DM_UNIT" <<'UNIT'
[Unit]
Description=Stand-in display manager of the vfio-hook VM test (holds /dev/dri/card0)
[Service]
ExecStart=/bin/sh -c 'exec 3</dev/dri/card0; exec sleep infinity'
UNIT
	systemctl daemon-reload
	systemctl start display-manager.service
	wait_for 30 "the stand-in display manager" dm_active || fail "the stand-in display manager does not start"
	wait_for 30 "the display manager to open the card" dm_holds_card ||
		fail "the display manager does not hold /dev/dri/card0"
}
dm_standin_stop() {
	systemctl stop display-manager.service >/dev/null 2>&1 || true
	rm -f "$DM_UNIT"
	systemctl daemon-reload || true
}

# The plan's decision about a resource, from `vfio-hook plan --json`:
# "take REASON" or "keep REASON".
plan_decision() { # JSON RESOURCE
	local line
	line=$(grep -o "{\"resource\": \"$2\", \"kind\": \"[a-z]*\", \"action\": \"[a-z]*\", \"reason\": \"[^\"]*\"}" <<<"$1" | head -n1)
	[[ -n $line ]] || { echo "none"; return; }
	sed 's/.*"action": "\([a-z]*\)", "reason": "\([^"]*\)"}/\1 \2/' <<<"$line"
}
