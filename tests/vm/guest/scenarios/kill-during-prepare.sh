# shellcheck shell=bash
# The hook dies in the middle of prepare, as a crash or the OOM killer would
# do it: run by hand with VFIO_HOOK_TEST_ABORT_AFTER=k, the engine SIGKILLs
# itself right after step k. `vfio-hook restore DOMAIN` must then bring the
# host back exactly, from the journal, and leave no journal.
# k = 1, 2, ... until prepare runs to its end (restore then undoes a whole
# prepare), at most VH_KILL_MAX (12) values, within VH_KILL_BUDGET seconds
# (420); at least two kills always.
name=vh-crash
require_desktop
define_domain "$name" "$(policy_xml)" "$GPU" "$AUDIO"
timeout 60 virsh dumpxml "$name" >"/tmp/$name.live.xml"
snapshot >"/tmp/$name.before"
max=${VH_KILL_MAX:-12} budget=${VH_KILL_BUDGET:-420} t_start=$SECONDS killed=0 steps=
for ((k = 1; k <= max; k++)); do
	if ((killed >= 2 && SECONDS - t_start > budget)); then
		log "time budget (${budget}s) spent: stopping after k=$((k - 1))"
		break
	fi
	rc=0
	VFIO_HOOK_TEST_ABORT_AFTER=$k timeout -k 5 120 vfio-hook "$name" prepare begin - \
		<"/tmp/$name.live.xml" >"/tmp/$name.prepare.out" 2>&1 || rc=$?
	log "k=$k: prepare exit status $rc; GPU on $(driver "$GPU"); state: $(list_dir "$STATE_DIR")"
	sed 's/^/    prepare| /' "/tmp/$name.prepare.out"
	case $rc in
	137) killed=$((killed + 1)) ;;
	0) steps=$((k - 1)) ;;
	124) fail "k=$k: prepare did not finish within 120 s" ;;
	*) fail "k=$k: prepare exited with status $rc, not by SIGKILL: $(tail -n 3 "/tmp/$name.prepare.out" | tr '\n' ' ')" ;;
	esac
	timeout 30 vfio-hook status --json 2>&1 | sed 's/^/    status| /' || true
	rc=0
	timeout -k 5 180 vfio-hook restore "$name" >"/tmp/$name.restore.out" 2>&1 || rc=$?
	sed 's/^/    restore| /' "/tmp/$name.restore.out"
	((rc == 0)) || fail "k=$k: vfio-hook restore $name exited with status $rc: $(tail -n 3 "/tmp/$name.restore.out" | tr '\n' ' ')"
	snapshot >"/tmp/$name.after"
	expect_same "/tmp/$name.before" "/tmp/$name.after" "after a kill after step $k and restore"
	expect_no_journal "$name" "after a kill after step $k and restore"
	log "k=$k: host restored"
	[[ -z $steps ]] || break
done
((killed >= 2)) || fail "prepare was killed only $killed time(s): VFIO_HOOK_TEST_ABORT_AFTER had no effect?"
note "killed after steps 1..$killed, restored each time${steps:+; a whole prepare ($steps steps) restored too}"
timeout 60 virsh -q undefine "$name" >/dev/null
