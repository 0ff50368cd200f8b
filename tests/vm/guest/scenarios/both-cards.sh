# shellcheck shell=bash
# One domain takes both cards (and the audio): every device bochs serves
# goes to it, so bochs is unloaded while it runs and loaded again after, with
# both cards back on bochs-drm and the console bound.
name=vh-both
require_desktop
define_domain "$name" "$(policy_xml)" "$GPU" "$GPU2" "$AUDIO"
snapshot >/tmp/$name.before
start_ok "$name"
note "start ${VIRSH_TIME} s"
[[ $(driver "$GPU") == vfio-pci && $(driver "$GPU2") == vfio-pci ]] ||
	fail "running: the cards are on $(driver "$GPU") and $(driver "$GPU2")"
! module_loaded bochs || fail "running: bochs is still loaded, but every device it serves is the domain's"
! fbcon_bound || fail "running: a frame buffer console is still bound"
destroy_ok "$name"
note "destroy ${VIRSH_TIME} s"
snapshot >/tmp/$name.after
expect_same /tmp/$name.before /tmp/$name.after "after destroy"
expect_no_journal "$name" "after destroy"
timeout 60 virsh -q undefine "$name" >/dev/null
