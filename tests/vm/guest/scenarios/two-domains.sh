# shellcheck shell=bash
# Two domains with the default policy, one card each: vh-first takes the
# first card (the console's: the display manager stops, fbcon unbinds) and
# the audio function, vh-second the second card. bochs serves both cards,
# so it stays loaded all along: while one domain holds a card it gives back
# to bochs-drm, the other domain does not unload bochs (the hook reads the
# other domain's journal; `vfio-hook plan` says so). Two rounds, each starting the domains one after
# the other: destroyed in the reverse order, then in the same order. After
# each round the host is exactly as before.
trap dm_standin_stop EXIT
dm_standin_start
require_desktop
define_domain vh-first "$(policy_xml)" "$GPU" "$AUDIO"
define_domain vh-second "$(policy_xml)" "$GPU2"
snapshot >/tmp/vh-two.before

both_running() {
	[[ $(driver "$GPU") == vfio-pci && $(driver "$GPU2") == vfio-pci ]] ||
		fail "$1: the cards are on $(driver "$GPU") and $(driver "$GPU2"), not both on vfio-pci"
	! fbcon_bound || fail "$1: a frame buffer console is still bound"
	! dm_active || fail "$1: the display manager still runs"
	[[ -e $(journal_of vh-first) && -e $(journal_of vh-second) ]] || fail "$1: journals: $(list_dir "$STATE_DIR")"
	! grep -q "^step [0-9]* unload-module" "$(journal_of vh-first)" "$(journal_of vh-second)" ||
		fail "$1: a domain unloaded a module: $(grep -h unload-module "$STATE_DIR"/*.journal | tr '\n' ' ')"
	module_loaded bochs || fail "$1: bochs was unloaded"
}

round() { # FIRST-STARTED SECOND-STARTED FIRST-DESTROYED SECOND-DESTROYED
	local t0
	t0=$(now)
	start_ok "$1"
	module_loaded bochs || fail "after starting $1 alone: bochs was unloaded"
	# Every device bound to bochs now is $2's: bochs stays for $1's card.
	local plan d
	plan=$(timeout 60 vfio-hook plan --json "$2") || fail "vfio-hook plan $2 failed: $plan"
	d=$(plan_decision "$plan" bochs)
	log "while $1 runs, the plan of $2 for bochs: $d"
	[[ $d == "keep "*"which domain $1 holds and gives back to bochs-drm"* ]] ||
		fail "while $1 runs, the plan of $2 does not keep bochs for $1's card: $d"
	start_ok "$2"
	both_running "started $1, then $2"
	destroy_ok "$3"
	module_loaded bochs || fail "after destroying $3: bochs is not loaded"
	destroy_ok "$4"
	snapshot >/tmp/vh-two.after
	expect_same /tmp/vh-two.before /tmp/vh-two.after "after starting $1, $2 and destroying $3, $4"
	expect_no_journal "$3" "after the round"
	expect_no_journal "$4" "after the round"
	dm_active || fail "after the round: the display manager is not running"
	note "start $1, $2, destroy $3, $4: $(elapsed "$t0") s"
}

round vh-first vh-second vh-second vh-first
round vh-second vh-first vh-second vh-first
timeout 60 virsh -q undefine vh-first >/dev/null
timeout 60 virsh -q undefine vh-second >/dev/null
