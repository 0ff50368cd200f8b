# shellcheck shell=bash
# VH_CYCLES (10) start/destroy cycles of the single-GPU domain in a row: the
# host after each is the host before the first (no drift).
name=vh-cycles
n=${VH_CYCLES:-10}
require_desktop
define_domain "$name" "$(policy_xml)" "$GPU" "$AUDIO"
snapshot >/tmp/$name.before
starts=() destroys=()
for ((i = 1; i <= n; i++)); do
	t0=$(now)
	start_ok "$name"
	expect_handed_off "$name"
	start_s=$VIRSH_TIME
	destroy_ok "$name"
	snapshot >/tmp/$name.after
	expect_same /tmp/$name.before /tmp/$name.after "after cycle $i of $n"
	expect_no_journal "$name" "after cycle $i"
	log "cycle $i/$n: start ${start_s}s, destroy ${VIRSH_TIME}s, whole $(elapsed "$t0")s"
	starts+=("$start_s") destroys+=("$VIRSH_TIME")
done
avg() { printf '%s\n' "$@" | awk '{ s += $1 } END { printf "%.1f", s / NR }'; }
note "$n cycles; start $(avg "${starts[@]}") s, destroy $(avg "${destroys[@]}") s on average"
timeout 60 virsh -q undefine "$name" >/dev/null
