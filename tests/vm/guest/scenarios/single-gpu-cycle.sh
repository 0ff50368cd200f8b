# shellcheck shell=bash
# The single-GPU desktop hand-off: a domain with our policy and the GPU and
# the audio controller as managed hostdevs. While it runs the GPU is on
# vfio-pci, no frame buffer console is bound, bochs is unloaded and the
# journal exists; after virsh destroy the host is exactly as before.
name=vh-desktop
require_desktop
define_domain "$name" "$(policy_xml)" "$GPU" "$AUDIO"
snapshot >/tmp/$name.before

show "Before: the host owns the GPU and its console"
desk | show_cmd
show ""
show "# virsh start $name"
show "  (its hostdevs: the GPU $GPU and the audio $AUDIO, managed='yes';"
show "   its <metadata>: $(policy_xml))"
start_ok "$name"
show "  started in ${VIRSH_TIME} s"
note "start ${VIRSH_TIME} s"
show ""
show "While $name runs: the GPU is the guest's"
desk | show_cmd
expect_handed_off "$name"
[[ $(driver "$AUDIO") == vfio-pci ]] || fail "running: $AUDIO is on $(driver "$AUDIO"), not vfio-pci"

show ""
show "# virsh destroy $name"
destroy_ok "$name"
show "  destroyed in ${VIRSH_TIME} s"
note "destroy ${VIRSH_TIME} s"
show ""
show "After: the host has its GPU and console back"
desk | show_cmd
snapshot >/tmp/$name.after
expect_same /tmp/$name.before /tmp/$name.after "after destroy"
expect_no_journal "$name" "after destroy"
show ""
show "Host state before and after (drivers, vtconsoles, frame buffers, modules, journals): identical"
timeout 60 virsh -q undefine "$name" >/dev/null
