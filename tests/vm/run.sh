#!/bin/bash
# The VM test bed of vfio-hook: a guest ("L1") stands in for a desktop whose
# GPU drives the console (and has a second card on the same driver), and
# inside it the installed hook hands GPUs to libvirt domains ("L2") and
# back, through real virsh start/destroy.
#
# Usage: tests/vm/run.sh [COMMAND] [SCENARIO...]
#   check [SCENARIO...]  run the scenarios (default: all), print PASS/FAIL
#                        lines and "N passed, N failed"; exit 0 only if all pass
#   demo                 the single-GPU hand-off and hand-back as a user sees it
#   shell                boot the guest with the hook installed, root shell on
#                        this terminal (Ctrl-a x quits QEMU)
#   image                build the guest image (cached) and print its directory
#   list                 the scenarios
#
# It installs what it needs on this host (Debian packages, with apt-get),
# builds the guest image once (tests/vm/image.sh; cached outside the source
# tree), installs the build under test with `make install DESTDIR=...` from
# the build directory, boots the guest under QEMU and follows its report.
#
# Environment:
#   VFIO_HOOK_BUILDDIR     the configured build directory (default: .)
#   VFIO_HOOK_VM_STAGE     an already staged install tree to use instead of
#                          running `make install` (DESTDIR layout)
#   VFIO_HOOK_VM_CACHE     image cache (default /var/cache/vfio-hook-vm)
#   VFIO_HOOK_VM_TIMEOUT   bound on the guest's whole life, s (default 3000)
#   VFIO_HOOK_VM_MEM, VFIO_HOOK_VM_SMP   guest RAM in MiB (1536), vCPUs (2)
#   VFIO_HOOK_VM_CYCLES    start/destroy cycles of the `cycles` scenario (10)
#   VFIO_HOOK_VM_KILL_MAX, VFIO_HOOK_VM_KILL_BUDGET   kill-during-prepare:
#                          largest step to kill after (12), seconds (420)
#   VFIO_HOOK_VM_KEEP=1    keep the run directory (logs) even on success
#
# Exit status: 0 all passed, 1 a failure, 77 QEMU cannot start on this host.
set -euo pipefail

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ALL_SCENARIOS="no-policy single-gpu-cycle display-manager failing-prepare kill-during-prepare unmanaged daemon-restart restore-running host-restored release-bad-stdin dropin-hook second-card two-domains both-cards alsa-holder cycles enable-disable dump sriov-vf sriov-two-domains reset-method lifetime"
# Scenarios kept elsewhere (the benchmark's): space-separated paths; each
# is run under its file name, with the limit of its "# vm-limit: S" line.
EXTRA_SCENARIOS=${VFIO_HOOK_VM_EXTRA_SCENARIOS:-}
for f in $EXTRA_SCENARIOS; do
	ALL_SCENARIOS+=" $(basename "$f" .sh)"
done

BUILDDIR=${VFIO_HOOK_BUILDDIR:-$PWD}
CACHE=${VFIO_HOOK_VM_CACHE:-/var/cache/vfio-hook-vm}
TIMEOUT=${VFIO_HOOK_VM_TIMEOUT:-3000}
MEM=${VFIO_HOOK_VM_MEM:-1536}
SMP=${VFIO_HOOK_VM_SMP:-2}
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
ENGINE_PATH=/usr/libexec/vfio-hook/vfio-hook-engine

T_START=$SECONDS
say() { printf '[vm %(%T)T] %s\n' -1 "$*"; }
die() { say "error: $*" >&2; exit 1; }
skip() { echo "SKIP vm: $*" >&2; exit 77; }

MODE=${1:-check}
[[ $# -gt 0 ]] && shift
case $MODE in
check) SCENARIOS=${*:-$ALL_SCENARIOS} ;;
demo) SCENARIOS=single-gpu-cycle ;;
shell | image) SCENARIOS= ;;
list)
	tr ' ' '\n' <<<"$ALL_SCENARIOS"
	exit 0
	;;
-h | --help | help)
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
	exit 0
	;;
*) die "unknown command '$MODE' (check, demo, shell, image, list)" ;;
esac
for s in $SCENARIOS; do
	[[ " $ALL_SCENARIOS " == *" $s "* ]] || die "unknown scenario '$s' (tests/vm/run.sh list)"
done
[[ $(id -u) == 0 ]] || die "run as root: the guest image is built with debootstrap and shared over 9p"

# ---------------------------------------------------------------- host packages

# package:file-or-command, for what is missing.
HOST_NEEDS=(qemu-system-x86:qemu-system-x86_64 "ovmf:$OVMF_CODE" debootstrap:debootstrap
	cpio:cpio kmod:depmod xz-utils:xz util-linux:flock make:make)
host_packages() {
	local missing=() n pkg what
	for n in "${HOST_NEEDS[@]}"; do
		pkg=${n%%:*} what=${n#*:}
		if [[ $what == /* ]]; then [[ -e $what ]] && continue; else command -v "$what" >/dev/null && continue; fi
		missing+=("$pkg")
	done
	((${#missing[@]})) || return 0
	say "installing host packages: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >"$CACHE/apt.log" 2>&1; then
		apt-get update -q >>"$CACHE/apt.log" 2>&1 || true
		apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$CACHE/apt.log" 2>&1 ||
			say "apt-get install ${missing[*]} failed (log: $CACHE/apt.log)"
	fi
}

# Exit 77 when QEMU cannot start the guest's machine at all.
probe_qemu() {
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is missing (Debian package qemu-system-x86)"
	[[ -r $OVMF_CODE && -r $OVMF_VARS ]] || skip "the OVMF firmware $OVMF_CODE is missing (Debian package ovmf)"
	local out
	if ! out=$(echo quit | timeout 60 qemu-system-x86_64 -M q35 -accel tcg -nodefaults -no-user-config \
		-display none -S -monitor stdio -device intel-iommu,intremap=on,caching-mode=on \
		-device VGA -device bochs-display -device e1000e -device ich9-intel-hda,id=hda \
		-audiodev none,id=snd0 -device hda-duplex,bus=hda.0,audiodev=snd0 \
		-fsdev local,id=probe,path=/,security_model=none,readonly=on \
		-device virtio-9p-pci,fsdev=probe,mount_tag=probe 2>&1); then
		skip "qemu-system-x86_64 cannot start a q35 machine with an IOMMU, VGA, bochs-display, e1000e, HD audio and 9p: $(tail -n 3 <<<"$out")"
	fi
}

# ---------------------------------------------------------------- results

PASSED=0 FAILED=0
result() { # PASS|FAIL NAME [REASON]
	if [[ $1 == PASS ]]; then
		PASSED=$((PASSED + 1))
		echo "PASS $2"
	else
		FAILED=$((FAILED + 1))
		echo "FAIL $2: $3"
	fi
}
# The last line of the output, and the exit status.
summary() {
	if [[ -n $RUN && -d $RUN ]] && ((FAILED > 0)) || [[ ${VFIO_HOOK_VM_KEEP:-0} == 1 ]]; then
		say "logs kept in $RUN (console.log, share/out/)"
		RUN_LOGGED=1
	fi
	echo "$PASSED passed, $FAILED failed"
	((FAILED == 0 && PASSED > 0))
}

# ---------------------------------------------------------------- the run

RUN=
RUN_LOGGED=
QPID=
cleanup() {
	local rc=$?
	if [[ -n $QPID ]] && kill -0 "$QPID" 2>/dev/null; then
		kill "$QPID" 2>/dev/null || true
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$QPID" 2>/dev/null || break; sleep 0.5; done
		kill -9 "$QPID" 2>/dev/null || true
	fi
	if [[ -n $RUN && -d $RUN ]]; then
		if ((rc == 0)) && [[ ${VFIO_HOOK_VM_KEEP:-0} != 1 ]]; then
			rm -rf "$RUN"
		elif [[ -z $RUN_LOGGED ]]; then
			say "logs kept in $RUN (console.log, share/out/)"
		fi
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$CACHE"
host_packages
probe_qemu

t=$SECONDS
key=$(bash "$VM_DIR/image.sh" --key) || die "cannot compute the guest image's cache key"
IMG_HOW=built
[[ -f $CACHE/image-${key%%-*}/.complete ]] && IMG_HOW=cached
IMG=$(bash "$VM_DIR/image.sh") || die "cannot build the guest image"
T_IMAGE=$((SECONDS - t))
say "guest image $IMG_HOW in ${T_IMAGE} s: $IMG"
if [[ $MODE == image ]]; then
	echo "$IMG"
	exit 0
fi

RUN=$(mktemp -d "${TMPDIR:-/tmp}/vfio-hook-vm.XXXXXX")
SHARE=$RUN/share
mkdir -p "$SHARE/out" "$SHARE/harness"

# The build under test, laid out as `make install` does, becomes part of the
# guest's root at boot (the initramfs copies it before systemd starts, so
# libvirtd finds the hook when it starts).
stage_build() {
	local s=$SHARE/stage problems=() compiled
	if [[ -n ${VFIO_HOOK_VM_STAGE:-} ]]; then
		cp -a "$VFIO_HOOK_VM_STAGE/." "$s/" 2>/dev/null || { mkdir -p "$s" && cp -a "$VFIO_HOOK_VM_STAGE/." "$s/"; }
		say "installing the staged tree $VFIO_HOOK_VM_STAGE"
	else
		[[ -f $BUILDDIR/Makefile ]] || die "no Makefile in $BUILDDIR: set VFIO_HOOK_BUILDDIR to a configured build directory"
		local t0=$SECONDS
		if ! make -C "$BUILDDIR" install DESTDIR="$s" prefix=/usr sysconfdir=/etc localstatedir=/var \
			>"$RUN/install.log" 2>&1; then
			tail -n 20 "$RUN/install.log"
			result FAIL install "make install from $BUILDDIR failed (log: $RUN/install.log)"
			summary
			exit 1
		fi
		say "make install DESTDIR=... from $BUILDDIR in $((SECONDS - t0)) s"
	fi
	[[ -x $s/usr/sbin/vfio-hook ]] || problems+=("no usr/sbin/vfio-hook")
	[[ -x $s$ENGINE_PATH ]] || problems+=("no ${ENGINE_PATH#/}")
	if [[ $(readlink "$s/etc/libvirt/hooks/qemu" 2>/dev/null) != /usr/sbin/vfio-hook ]]; then
		problems+=("etc/libvirt/hooks/qemu is not a symlink to /usr/sbin/vfio-hook (linked here to go on)")
		mkdir -p "$s/etc/libvirt/hooks"
		ln -sfn /usr/sbin/vfio-hook "$s/etc/libvirt/hooks/qemu"
	fi
	# The front finds the engine at a path fixed at configure time.
	compiled=$(grep -ao '/[[:alnum:]/._-]*/vfio-hook-engine' "$s/usr/sbin/vfio-hook" 2>/dev/null | head -n1 || true)
	if [[ -n $compiled && $compiled != "$ENGINE_PATH" ]]; then
		say "note: the front looks for its engine at $compiled (configure --prefix); linking it to $ENGINE_PATH"
		mkdir -p "$s$(dirname "$compiled")"
		ln -sfn "$ENGINE_PATH" "$s$compiled"
	fi
	say "installing into the guest: $(cd "$s" && find . ! -type d | sed 's|^\.||' | tr '\n' ' ')"
	if ((${#problems[@]})); then
		result FAIL install "$(printf '%s; ' "${problems[@]}")"
	else
		result PASS install
	fi
}
stage_build

cp "$VM_DIR/guest/lib.sh" "$VM_DIR/guest/runner.sh" "$VM_DIR/guest/scenario.sh" "$VM_DIR/guest/vfio-hook-vm.service" "$SHARE/harness/"
cp -r "$VM_DIR/guest/scenarios" "$SHARE/harness/"
for f in $EXTRA_SCENARIOS; do
	cp "$f" "$SHARE/harness/scenarios/"
done
cat >"$SHARE/harness/config" <<EOF
VH_MODE=$MODE
VH_SCENARIOS="$SCENARIOS"
export VH_CYCLES=${VFIO_HOOK_VM_CYCLES:-10}
export VH_KILL_MAX=${VFIO_HOOK_VM_KILL_MAX:-12}
export VH_KILL_BUDGET=${VFIO_HOOK_VM_KILL_BUDGET:-420}
EOF
cp "$OVMF_VARS" "$RUN/ovmf-vars.fd"

GUEST_MODE=run
[[ $MODE == shell ]] && GUEST_MODE=shell
# shellcheck disable=SC2054 # commas inside QEMU options
QEMU=(qemu-system-x86_64 -name vfio-hook-vm
	-accel tcg,thread=multi,tb-size=256 -cpu max -M q35 -smp "$SMP" -m "$MEM"
	-nodefaults -no-user-config -no-reboot -display none
	-device intel-iommu,intremap=on,caching-mode=on
	-drive "if=pflash,format=raw,readonly=on,file=$OVMF_CODE"
	-drive "if=pflash,format=raw,file=$RUN/ovmf-vars.fd"
	-kernel "$IMG/vmlinuz" -initrd "$IMG/initramfs.cpio.gz"
	-append "console=ttyS0,115200 intel_iommu=on panic=1 mitigations=off no_timer_check vh.mode=$GUEST_MODE"
	-device VGA,addr=0x02
	-device e1000e,addr=0x03
	-device ich9-intel-hda,id=hda,addr=0x04
	-audiodev none,id=snd0
	-device hda-duplex,bus=hda.0,audiodev=snd0
	-device bochs-display,addr=0x07
	-device pcie-root-port,id=rp8,bus=pcie.0,addr=0x08,chassis=8
	-device nvme-subsys,id=vhsubsys,nqn=vh-sriov
	-device nvme,id=nvme-sriov,serial=deadbeef,bus=rp8,subsys=vhsubsys,sriov_max_vfs=2,sriov_vq_flexible=4,sriov_vi_flexible=2
	-fsdev "local,id=vhroot,path=$IMG/rootfs,security_model=passthrough,readonly=on"
	-device virtio-9p-pci,fsdev=vhroot,mount_tag=vhroot,addr=0x05
	-fsdev "local,id=vhshare,path=$SHARE,security_model=passthrough"
	-device virtio-9p-pci,fsdev=vhshare,mount_tag=vhshare,addr=0x06)

if [[ $MODE == shell ]]; then
	say "guest shell: log in as root (no password); 'poweroff' or Ctrl-a x to leave"
	rc=0
	timeout --foreground "$TIMEOUT" "${QEMU[@]}" -serial mon:stdio || rc=$?
	exit "$rc"
fi

say "booting the guest (TCG, ${MEM} MiB, $SMP vCPUs; limit ${TIMEOUT} s); scenarios: $SCENARIOS"
T_BOOT=$SECONDS
"${QEMU[@]}" -monitor none -serial "file:$RUN/console.log" </dev/null >"$RUN/qemu.log" 2>&1 &
QPID=$!

# Follow the guest's report: print its lines as they come, count results.
REPORT=$SHARE/out/report.log
PARTIAL='' DONE='' READY_AT='' FOLLOWING=''
follow() {
	if [[ -z $FOLLOWING ]]; then
		[[ -e $REPORT ]] || return 0
		exec 4<"$REPORT"
		FOLLOWING=1
	fi
	local line
	while IFS= read -r line <&4; do
		line=$PARTIAL$line PARTIAL=
		case $line in
		READY\ *)
			READY_AT=$((SECONDS - T_BOOT))
			say "guest up and libvirtd started after ${READY_AT} s (${line#READY })"
			;;
		DONE\ *) DONE=$line ;;
		PASS\ *) PASSED=$((PASSED + 1)) && echo "$line" ;;
		FAIL\ *) FAILED=$((FAILED + 1)) && echo "$line" ;;
		*) echo "$line" ;;
		esac
	done
	PARTIAL+=$line
}
deadline=$((T_BOOT + TIMEOUT))
while kill -0 "$QPID" 2>/dev/null; do
	follow
	# The guest powers off after its report: give it a minute for that.
	[[ -n $DONE ]] && ((SECONDS + 60 < deadline)) && deadline=$((SECONDS + 60))
	((SECONDS < deadline)) || break
	sleep 1
done
follow
qrc=running
if ! kill -0 "$QPID" 2>/dev/null; then
	qrc=0
	wait "$QPID" || qrc=$?
	QPID=
fi
T_GUEST=$((SECONDS - T_BOOT))

if [[ -z $DONE ]]; then
	if [[ $qrc == running ]]; then
		why="the guest did not finish within ${TIMEOUT} s (VFIO_HOOK_VM_TIMEOUT)"
	else
		why="the guest stopped before its report was complete (QEMU exit status $qrc)"
	fi
	result FAIL vm "$why"
	echo "  --- QEMU: $(tr '\n' ' ' <"$RUN/qemu.log" | head -c 2000)"
	echo "  --- last lines of the guest's console ($RUN/console.log):"
	tail -n 40 "$RUN/console.log" 2>/dev/null | tr -d '\r' | sed 's/^/  | /'
fi
say "wall times: image ${T_IMAGE} s ($IMG_HOW), guest ready ${READY_AT:-?} s, guest total ${T_GUEST} s, all $((SECONDS - T_START)) s"
summary
