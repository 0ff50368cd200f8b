# shellcheck shell=bash
# One domain takes both cards (and the audio): every device bochs serves
# goes to it, so bochs is unloaded while it runs and loaded again after, with
# both cards back on bochs-drm and the console bound. Then the hook dies
# right after unloading bochs (VFIO_HOOK_TEST_ABORT_AFTER): `vfio-hook
# restore` loads it back from the journal.
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

timeout 60 virsh dumpxml "$name" >"/tmp/$name.live.xml"
rc=0
VFIO_HOOK_TEST_ABORT_AFTER=2 timeout -k 5 120 vfio-hook "$name" prepare begin - <"/tmp/$name.live.xml" \
	>"/tmp/$name.prepare.out" 2>&1 || rc=$?
sed 's/^/    prepare| /' "/tmp/$name.prepare.out"
((rc == 137)) || fail "prepare with VFIO_HOOK_TEST_ABORT_AFTER=2 exited with $rc, not by SIGKILL"
grep -q "^step 2 unload-module bochs" "$(journal_of "$name")" || fail "step 2 is not bochs's unload: $(cat "$(journal_of "$name")")"
! module_loaded bochs || fail "killed after unloading bochs: bochs is loaded"
timeout -k 5 180 vfio-hook restore "$name" >"/tmp/$name.restore.out" 2>&1 ||
	fail "vfio-hook restore $name failed: $(tail -n 3 "/tmp/$name.restore.out" | tr '\n' ' ')"
snapshot >/tmp/$name.after
expect_same /tmp/$name.before /tmp/$name.after "after a kill after bochs's unload and restore"
expect_no_journal "$name" "after restore"
note "killed after bochs's unload, restored"
timeout 60 virsh -q undefine "$name" >/dev/null
