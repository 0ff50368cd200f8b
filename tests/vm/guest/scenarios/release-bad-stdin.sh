# shellcheck shell=bash
# On release the journal is the authority, whatever stdin holds: a prepare
# run by hand (as libvirt runs it), then a release run by hand with 17 MiB
# of XML on stdin, and again with stdin closed. Each time the card, the
# console and bochs come back and the journal goes; the log says the XML
# could not be used and the default timeout applied.
name=vh-stdin
require_desktop
define_domain "$name" "$(policy_xml)" "$GPU"
timeout 60 virsh dumpxml "$name" >"/tmp/$name.live.xml"
{
	cat "/tmp/$name.live.xml"
	head -c $((17 * 1024 * 1024)) /dev/zero | tr '\0' ' '
} >"/tmp/$name.big.xml"
snapshot >"/tmp/$name.before"
for how in "17 MiB of XML" "stdin closed"; do
	rc=0
	timeout -k 5 120 vfio-hook "$name" prepare begin - <"/tmp/$name.live.xml" >"/tmp/$name.out" 2>&1 || rc=$?
	sed 's/^/    prepare| /' "/tmp/$name.out"
	((rc == 0)) || fail "prepare by hand exited with status $rc"
	expect_handed_off "$name"
	rc=0
	case $how in
	17*) timeout -k 5 120 vfio-hook "$name" release end - <"/tmp/$name.big.xml" >"/tmp/$name.out" 2>&1 || rc=$? ;;
	*) timeout -k 5 120 vfio-hook "$name" release end - <&- >"/tmp/$name.out" 2>&1 || rc=$? ;;
	esac
	sed 's/^/    release| /' "/tmp/$name.out"
	((rc == 0)) || fail "release with $how exited with status $rc"
	grep -q "default timeout" "/tmp/$name.out" || fail "release with $how does not warn that the default timeout applies"
	wait_for 30 "the console to come back" fbcon_bound || fail "release with $how: no frame buffer console is bound"
	snapshot >"/tmp/$name.after"
	expect_same "/tmp/$name.before" "/tmp/$name.after" "after a release with $how"
	expect_no_journal "$name" "after a release with $how"
	note "release with $how: replayed"
done
timeout 60 virsh -q undefine "$name" >/dev/null
