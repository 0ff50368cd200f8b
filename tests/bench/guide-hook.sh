#!/bin/bash
# For the benchmark only -- do not install this on a desktop.
#
# The single-GPU hand-off as the popular passthrough guides write it, as one
# libvirt qemu hook (their start.sh and revert.sh in one file): stop the
# display manager, unbind vtcon0 and vtcon1, unbind efi-framebuffer.0,
# `sleep 2` "to avoid a race condition", unload the GPU driver with
# modprobe -r, then virsh nodedev-detach every device; the reverse on
# release. No error handling, fixed console numbers and a fixed sleep, as
# in the guides. tests/bench/vm-bench.sh runs it in the end-to-end guest
# beside vfio-hook to compare the two hand-offs.
#
# As in the guides, the machine's values are written here; the benchmark
# rewrites these lines for its guest.
GUEST=win10
GPU=pci_0000_01_00_0
GPU_AUDIO=pci_0000_01_00_1
GPU_MODULES="nvidia_drm nvidia_modeset nvidia_uvm nvidia"
LOG=/var/log/libvirt/guide-hook.log

[[ $1 == "$GUEST" ]] || exit 0

# The guides' debugging: a trace of every command, here with timestamps.
exec 19>>"$LOG"
BASH_XTRACEFD=19
PS4='+ $EPOCHREALTIME '
set -x

if [[ $2 == prepare && $3 == begin ]]; then
	# Stop display manager
	systemctl stop display-manager.service

	# Unbind VTconsoles
	echo 0 >/sys/class/vtconsole/vtcon0/bind
	echo 0 >/sys/class/vtconsole/vtcon1/bind

	# Unbind EFI-Framebuffer
	echo efi-framebuffer.0 >/sys/bus/platform/drivers/efi-framebuffer/unbind

	# Avoid a race condition by waiting 2 seconds
	sleep 2

	# Unload the GPU drivers
	# shellcheck disable=SC2086 # one argument per module
	modprobe -r $GPU_MODULES

	# Unbind the GPU from the display driver
	virsh nodedev-detach "$GPU"
	virsh nodedev-detach "$GPU_AUDIO"

	# Load VFIO kernel module
	modprobe vfio-pci
elif [[ $2 == release && $3 == end ]]; then
	virsh nodedev-reattach "$GPU"
	virsh nodedev-reattach "$GPU_AUDIO"
	# (the guides' `modprobe -r vfio-pci` is left out: vfio-hook keeps it
	# loaded too, and the test guest loads it before any domain starts)

	# Rebind VT consoles
	echo 1 >/sys/class/vtconsole/vtcon0/bind
	echo 1 >/sys/class/vtconsole/vtcon1/bind

	echo efi-framebuffer.0 >/sys/bus/platform/drivers/efi-framebuffer/bind

	# Reload the GPU drivers
	for m in $GPU_MODULES; do
		modprobe "$m"
	done

	# Restart display manager
	systemctl start display-manager.service
fi
exit 0
