# shellcheck shell=bash
# A domain without our policy, the NIC as a managed hostdev: libvirt alone
# moves the NIC to vfio-pci and back; the hook touches nothing (the console,
# bochs and the GPU stay) and never writes a journal.
name=vh-nopolicy
require_desktop
define_domain "$name" "" "$NIC"
snapshot >/tmp/$name.before

start_ok "$name"
log "running: NIC $(driver "$NIC"), GPU $(driver "$GPU")"
[[ $(driver "$NIC") == vfio-pci ]] || fail "running: $NIC is on $(driver "$NIC"), not vfio-pci (libvirt's managed detach)"
[[ $(driver "$GPU") == bochs-drm ]] || fail "running: the GPU moved to $(driver "$GPU")"
module_loaded bochs || fail "running: module bochs was unloaded"
fbcon_bound || fail "running: the frame buffer console was unbound"
[[ ! -e $(journal_of "$name") ]] || fail "running: the hook wrote $(journal_of "$name")"

destroy_ok "$name"
snapshot >/tmp/$name.after
expect_same /tmp/$name.before /tmp/$name.after "after destroy"
expect_no_journal "$name" "after destroy"
if hook_lines=$(journalctl -q --no-pager -t vfio-hook -o cat | grep -F "$name"); then
	log "note: the hook logged for a domain without policy: $hook_lines"
fi
timeout 60 virsh -q undefine "$name" >/dev/null
