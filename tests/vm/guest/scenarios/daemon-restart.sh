# shellcheck shell=bash
# libvirtd restarts while the single-GPU domain runs: libvirt runs the hook
# with "reconnect begin", which must change nothing; the domain keeps the
# GPU, and destroying it afterwards still gives the host back as it was
# (the journal survived the restart).
name=vh-restart
require_desktop
define_domain "$name" "$(policy_xml)" "$GPU" "$AUDIO"
snapshot >"/tmp/$name.before"
start_ok "$name"
expect_handed_off "$name"
snapshot >"/tmp/$name.running"

t0=$(now)
timeout 120 systemctl restart libvirtd.service || fail "systemctl restart libvirtd failed"
wait_for 120 "libvirtd to answer again" virsh -q version >/dev/null 2>&1 || fail "libvirtd does not answer after its restart"
note "libvirtd restarted in $(elapsed "$t0") s"
[[ $(domstate "$name") == running ]] || fail "$name is $(domstate "$name") after the daemon's restart"
snapshot >"/tmp/$name.reconnected"
expect_same "/tmp/$name.running" "/tmp/$name.reconnected" "after the daemon's restart (reconnect)"

destroy_ok "$name"
snapshot >"/tmp/$name.after"
expect_same "/tmp/$name.before" "/tmp/$name.after" "after destroy"
expect_no_journal "$name" "after destroy"
timeout 60 virsh -q undefine "$name" >/dev/null
