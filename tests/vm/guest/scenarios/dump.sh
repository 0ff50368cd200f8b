# shellcheck shell=bash
# `vfio-hook dump` on the stand-in desktop: the guest is dumped, the dump
# extracted, and plan and check from the dump (--sysroot, --xml) must equal
# the live ones, as text and as JSON, for a domain with the default policy
# that takes the console's GPU, and check without a domain. A stand-in
# display manager holds card0, so the dump carries a unit state and a holder.
# The archive is 0600, never replaces a file, holds nothing private of a
# process, and goes to stdout with '-'. The dump, the domain's XML and the
# live plan stay in the report directory (out/dump/): tests/data keeps them
# as a fixture (tests/test-dump.sh).
name=vh-dump
trap dm_standin_stop EXIT
dm_standin_start
require_desktop
define_domain "$name" "$(policy_xml)" "$GPU"
keep=$VH_OUT/dump
mkdir -p "$keep"
timeout 60 virsh dumpxml "$name" >"/tmp/$name.live.xml"

# A command's output and exit status as one text: a check that fails is
# an answer to compare here, not a failure of the scenario.
vh_out() {
	local rc=0 out
	out=$(timeout 120 vfio-hook "$@" 2>&1) || rc=$?
	printf '%s\nexit %s' "$out" "$rc"
}

# What the live host says, then the dump at once (nothing moves between).
declare -A live
for cmd in plan "plan --json" check "check --json"; do
	# shellcheck disable=SC2086 # $cmd is a subcommand and an option
	live[$cmd]=$(vh_out $cmd "$name")
done
for cmd in check "check --json"; do
	# shellcheck disable=SC2086
	live[host $cmd]=$(vh_out $cmd)
done
f=/tmp/$name.tar
rm -f "$f"
t0=$(now)
timeout 120 vfio-hook dump "$f" 2>"/tmp/$name.err" || fail "vfio-hook dump failed: $(cat "/tmp/$name.err")"
note "dump in $(elapsed "$t0") s: $(stat -c %s "$f") bytes, $(tar -tf "$f" | wc -l) entries"
log "$(cat "/tmp/$name.err")"
[[ $(stat -c %a "$f") == 600 ]] || fail "the dump has mode $(stat -c %a "$f"), not 600"

rc=0
timeout 120 vfio-hook dump "$f" 2>"/tmp/$name.err2" || rc=$?
[[ $rc == 2 ]] || fail "a second dump into $f exits $rc, not 2: $(cat "/tmp/$name.err2")"
log "a second dump into $f is refused: $(cat "/tmp/$name.err2")"
n=$({ timeout 120 vfio-hook dump - || true; } | { tar -tf - || true; } | wc -l)
[[ $n -gt 100 ]] || fail "vfio-hook dump - wrote $n entries to stdout"

# Nothing of a process but its comm, cgroup and GPU fds.
private=$(tar -tf "$f" | grep -E '^[^/]+/proc/[0-9]+/' | grep -vE '^[^/]+/proc/[0-9]+/(comm|cgroup|fd/|fd/[0-9]+)?$' || true)
[[ -z $private ]] || fail "the dump holds more of a process than its comm, cgroup and fds: $(head -n 5 <<<"$private" | tr '\n' ' ')"
fds=$({ tar -tvf "$f" | grep -E ' [^/]+/proc/[0-9]+/fd/[0-9]+ -> ' || true; } | sed 's/.* -> //' | sort -u | tr '\n' ' ')
[[ $fds == */dev/dri/card0* ]] || fail "the dump misses the display manager's /dev/dri/card0 fd (fds: $fds)"
log "process fds in the dump: $fds"

rm -rf "/tmp/$name.x"
mkdir "/tmp/$name.x"
tar -xf "$f" -C "/tmp/$name.x"
root=/tmp/$name.x/$name
[[ -f $root/vfio-hook-dump ]] || fail "the archive has no $name/vfio-hook-dump"
log "the dump's record: $(grep -v '^#' "$root/vfio-hook-dump" | tr '\n' ';')"

diffs=0
for cmd in plan "plan --json" check "check --json"; do
	# shellcheck disable=SC2086
	got=$(vh_out $cmd --sysroot "$root" --xml "/tmp/$name.live.xml")
	if [[ $got != "${live[$cmd]}" ]]; then
		log "$cmd from the dump differs from the live one:"
		diff <(printf '%s\n' "${live[$cmd]}") <(printf '%s\n' "$got") || true
		diffs=$((diffs + 1))
	fi
done
for cmd in check "check --json"; do
	# shellcheck disable=SC2086
	got=$(vh_out $cmd --sysroot "$root")
	if [[ $got != "${live[host $cmd]}" ]]; then
		log "$cmd (no domain) from the dump differs from the live one:"
		diff <(printf '%s\n' "${live[host $cmd]}") <(printf '%s\n' "$got") || true
		diffs=$((diffs + 1))
	fi
done
log "live plan:"
printf '%s\n' "${live[plan]}"
((diffs == 0)) || fail "$diffs of plan/check from the dump differ from the live ones (see the log)"
[[ ${live[plan]} == *"stop-unit"*"display-manager.service"* ]] || fail "the live plan does not stop the display manager"

# The fixture: the dump (compressed), the domain and what the live host said.
cp "$f" "$keep/guest.tar"
cp "/tmp/$name.live.xml" "$keep/guest-domain.xml"
# (without the "exit N" line the comparison added)
printf '%s\n' "${live[plan]%$'\n'exit *}" >"$keep/guest.plan"
printf '%s\n' "${live[plan --json]%$'\n'exit *}" >"$keep/guest.plan.json"
printf '%s\n' "${live[check]%$'\n'exit *}" >"$keep/guest.check"
timeout 60 virsh -q undefine "$name" >/dev/null
