# shellcheck shell=bash
# The GPU as a hostdev with managed='no': libvirt neither detaches nor
# reattaches it, so the hook's own node-device detach (prepare) and reattach
# (release) do the work: running -> vfio-pci, after destroy -> bochs-drm,
# and the host exactly as before.
name=vh-unmanaged
require_desktop
define_domain "$name" "$(policy_xml)" "$GPU,managed=no"
snapshot >/tmp/$name.before
start_ok "$name"
expect_handed_off "$name"
destroy_ok "$name"
[[ $(driver "$GPU") == bochs-drm ]] || fail "after destroy: $GPU is on $(driver "$GPU"), not bochs-drm"
snapshot >/tmp/$name.after
expect_same /tmp/$name.before /tmp/$name.after "after destroy"
expect_no_journal "$name" "after destroy"
timeout 60 virsh -q undefine "$name" >/dev/null
