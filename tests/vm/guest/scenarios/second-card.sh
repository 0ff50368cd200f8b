# shellcheck shell=bash
# A host with two cards on one DRM driver, the way a desktop with an iGPU
# and a card for the guest is: the first card has the console and a
# stand-in display manager, a domain with the default policy takes the
# second card only. `vfio-hook plan` must say that the console, the display
# manager and bochs stay, and why; while the domain runs the second card
# is on vfio-pci and nothing else moved: fbcon bound, the display manager
# running and holding card0, bochs loaded, the first card on bochs-drm.
# After destroy, the host as before.
name=vh-second
trap dm_standin_stop EXIT
dm_standin_start
require_desktop
define_domain "$name" "$(policy_xml stack=auto)" "$GPU2"
snapshot >/tmp/$name.before

plan=$(timeout 60 vfio-hook plan --json "$name") || fail "vfio-hook plan $name failed: $plan"
log "plan: $plan"
for r in display-manager.service vtcon1 bochs; do
	d=$(plan_decision "$plan" "$r")
	[[ $d == keep\ * ]] || fail "the plan does not keep $r: $d"
	log "plan keeps $r: ${d#keep }"
done
[[ $(plan_decision "$plan" vtcon1) == *"fb0 (bochs-drmdrmfb) of $GPU, which stays with the host"* ]] ||
	fail "the plan does not say the console is on $GPU: $(plan_decision "$plan" vtcon1)"

start_ok "$name"
note "start ${VIRSH_TIME} s"
[[ $(driver "$GPU2") == vfio-pci ]] || fail "running: $GPU2 is on $(driver "$GPU2"), not vfio-pci"
[[ $(driver "$GPU") == bochs-drm ]] || fail "running: $GPU moved to $(driver "$GPU")"
fbcon_bound || fail "running: the frame buffer console was unbound"
module_loaded bochs || fail "running: module bochs was unloaded"
dm_active || fail "running: the display manager was stopped"
dm_holds_card || fail "running: the display manager no longer holds /dev/dri/card0"
[[ -e $(journal_of "$name") ]] || fail "running: no journal $(journal_of "$name")"
for s in stop-unit unbind-vtconsole unload-module; do
	! grep -q "^step [0-9]* $s " "$(journal_of "$name")" || fail "running: the journal has a $s step: $(cat "$(journal_of "$name")")"
done

destroy_ok "$name"
note "destroy ${VIRSH_TIME} s"
snapshot >/tmp/$name.after
expect_same /tmp/$name.before /tmp/$name.after "after destroy"
expect_no_journal "$name" "after destroy"
dm_active || fail "after destroy: the display manager is not running"
timeout 60 virsh -q undefine "$name" >/dev/null
