# shellcheck shell=bash
# `vfio-hook restore` on a domain that runs: QEMU holds the devices, so
# undoing would load the GPU driver, rebind the console and start the
# display manager without the GPU. restore must refuse (exit 1), say which
# domain and how to stop it, and change nothing. With --force it goes on:
# libvirt refuses the reattach, restore exits 3 naming what is missing and
# keeps the journal; the domain's own release after `virsh destroy` then
# gives everything back.
name=vh-running
require_desktop
define_domain "$name" "$(policy_xml)" "$GPU" "$AUDIO"
snapshot >"/tmp/$name.before"
start_ok "$name"
expect_handed_off "$name"
snapshot >"/tmp/$name.running"

rc=0
timeout -k 5 120 vfio-hook restore "$name" >"/tmp/$name.restore.out" 2>&1 || rc=$?
sed 's/^/    restore| /' "/tmp/$name.restore.out"
((rc == 1)) || fail "restore of a running domain exited with status $rc, not 1"
grep -q "domain $name is running" "/tmp/$name.restore.out" || fail "restore does not say that $name is running"
grep -q "virsh destroy $name" "/tmp/$name.restore.out" || fail "restore does not say how to stop $name"
[[ $(domstate "$name") == running ]] || fail "$name is $(domstate "$name") after the refused restore"
snapshot >"/tmp/$name.refused"
expect_same "/tmp/$name.running" "/tmp/$name.refused" "after a refused restore"
note "restore refused while running"

rc=0
timeout -k 5 300 vfio-hook restore --force "$name" >"/tmp/$name.force.out" 2>&1 || rc=$?
sed 's/^/    restore --force| /' "/tmp/$name.force.out"
((rc == 3)) || fail "restore --force of a running domain exited with status $rc, not 3 (libvirt refuses the reattach)"
grep -q "$GPU" "/tmp/$name.force.out" || fail "restore --force does not name $GPU as missing"
[[ -e $(journal_of "$name") ]] || fail "restore --force left no journal, but the host is not restored"
note "restore --force: exit 3, $GPU named"

destroy_ok "$name"
wait_for 60 "the host to come back" fbcon_bound || fail "after destroy: no frame buffer console is bound"
snapshot >"/tmp/$name.after"
expect_same "/tmp/$name.before" "/tmp/$name.after" "after destroy"
expect_no_journal "$name" "after destroy"
timeout 60 virsh -q undefine "$name" >/dev/null
