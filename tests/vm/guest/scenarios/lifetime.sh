# shellcheck shell=bash
# vm-limit: 600
# For the guest's lifetime (issue 16): a domain with the GPU, a sleep
# inhibitor, CPU 1 of the guest's two isolated for it, and its 64 MiB on
# 2 MiB huge pages. While it runs: `systemd-inhibit --list` shows the lock,
# system.slice, user.slice and init.scope have AllowedCPUs=0, the 2 MiB
# pool holds the domain's pages and its QEMU really uses them. After
# destroy: the lock is gone, AllowedCPUs= and nr_hugepages are as before,
# and the rest of the host too.
name=vh-lifetime
POOL=/sys/kernel/mm/hugepages/hugepages-2048kB
CONF=/etc/vfio-hook.conf
require_desktop
[[ -d $POOL ]] || fail "precondition: the guest kernel has no 2 MiB huge-page pool"
(($(nproc --all) >= 2)) || fail "precondition: the guest has $(nproc --all) CPU, the scenario isolates CPU 1 of 2"

# Root's limits: isolation of CPU 1, huge pages up to half the RAM.
saved_conf=
[[ -e $CONF ]] && { saved_conf=$(mktemp); cp -p "$CONF" "$saved_conf"; }
restore_conf() { if [[ -n $saved_conf ]]; then mv "$saved_conf" "$CONF"; else rm -f "$CONF"; fi; }
trap restore_conf EXIT
printf 'allow-isolate 1\nallow-hugepages 50\n' >"$CONF"
chmod 0644 "$CONF"

policy=$(policy_xml)
policy=${policy%</vh:policy>}"<inhibit>sleep</inhibit><isolate cpus='1'/><hugepages size='2M'/></vh:policy>"
domain_xml "$name" "$policy" "$GPU" |
	sed "s|<memory unit='MiB'>128</memory>|<memory unit='MiB'>64</memory><memoryBacking><hugepages/></memoryBacking>|" >/tmp/$name.xml
grep -q '<hugepages/>' /tmp/$name.xml || fail "the domain XML has no memoryBacking"
timeout 60 virsh -q undefine "$name" >/dev/null 2>&1 || true
timeout 60 virsh -q define /tmp/$name.xml >/dev/null || fail "virsh define $name failed"

slices() { # AllowedCPUs= of the three, one line
	local u out=
	for u in system.slice user.slice init.scope; do out+="$u=$(systemctl show -p AllowedCPUs --value "$u") "; done
	echo "${out% }"
}
# COLUMNS: the table is not cut to a terminal's width.
inhibitors() { COLUMNS=2000 systemd-inhibit --list --no-pager 2>&1; }
lock_held() { inhibitors | grep -F "vfio-hook: $name has the GPU"; }
pool() { echo "nr=$(<$POOL/nr_hugepages) free=$(<$POOL/free_hugepages) rsvd=$(<$POOL/resv_hugepages)"; }

snapshot >/tmp/$name.before
slices_before=$(slices) nr_before=$(<$POOL/nr_hugepages)
log "before: $(slices); pool $(pool)"
lock_held && fail "before: an inhibitor of $name is already there"

show "# vfio-hook plan --xml /tmp/$name.xml"
plan=$(vfio-hook plan --xml /tmp/$name.xml 2>&1) || fail "plan failed: $plan"
printf '%s\n' "$plan" | show_cmd
for s in "start-inhibitor     vfio-hook-inhibit-vh\\x2dlifetime.service" "raise-hugepages     2048kB" \
	"isolate-cpus        system.slice" "isolate-cpus        user.slice" "isolate-cpus        init.scope"; do
	grep -qF -- "$s" <<<"$plan" || fail "the plan has no step '$s'"
done

t_start=$(date +%s)
start_ok "$name"
note "start ${VIRSH_TIME} s"
# Each step's time, as the hook logged it: where a slow start goes.
journalctl -q --no-pager -t vfio-hook --since "@$t_start" -o short-monotonic 2>/dev/null | sed 's/^/  hook: /'
note "slowest steps: $(journalctl -q --no-pager -t vfio-hook --since "@$t_start" -o cat 2>/dev/null |
	sed -n 's/^\(.*\) (\([0-9.]*\) ms)$/\2 ms \1/p' | sort -rn | head -n 3 | tr '\n' ';')"
expect_handed_off "$name"
log "running: $(slices); pool $(pool)"
lock=$(lock_held) || fail "running: systemd-inhibit --list shows no lock of $name: $(inhibitors | tr '\n' ';')"
log "running: lock: $lock"
grep -qw sleep <<<"$lock" || fail "running: the lock is not a sleep lock: $lock"
grep -qw block <<<"$lock" || fail "running: the lock does not block: $lock"
[[ $(slices) == "system.slice=0 user.slice=0 init.scope=0" ]] || fail "running: AllowedCPUs: $(slices), expected 0 for each"
if [[ -r /sys/fs/cgroup/system.slice/cpuset.cpus.effective ]]; then
	eff=$(</sys/fs/cgroup/system.slice/cpuset.cpus.effective)
	[[ $eff == 0 ]] || fail "running: system.slice's cpuset.cpus.effective is $eff, not 0"
fi
nr_run=$(<$POOL/nr_hugepages)
((nr_run >= nr_before)) || fail "running: nr_hugepages $nr_run < $nr_before before"
# The L2's memory is in the pool: 32 pages used or reserved by its QEMU.
used=$(($(<$POOL/nr_hugepages) - $(<$POOL/free_hugepages) + $(<$POOL/resv_hugepages)))
((used >= 32)) || fail "running: only $used pages of the pool are used or reserved, the domain's 64 MiB are 32 ($(pool))"
qemu=$(pgrep -f "guest=$name" | head -n1)
[[ -n $qemu ]] && { tr '\0' ' ' <"/proc/$qemu/cmdline" | grep -q hugepages || fail "running: QEMU's command line names no hugepages"; }
status=$(vfio-hook status 2>&1)
log "status: $status"
grep -q "inhibitor lock (sleep)" <<<"$status" || fail "status does not show the inhibitor: $status"
((nr_run == nr_before)) || grep -q "huge pages added" <<<"$status" || fail "status does not show the pages: $status"
grep -q "AllowedCPUs narrowed" <<<"$status" || fail "status does not show the isolation: $status"
note "running: $(slices), pool nr $nr_before -> $nr_run, used $used"

destroy_ok "$name"
note "destroy ${VIRSH_TIME} s"
log "after: $(slices); pool $(pool)"
lock_gone() { ! lock_held >/dev/null; }
wait_for 30 "the lock to go" lock_gone ||
	fail "after: systemd-inhibit --list still shows the lock of $name"
[[ $(slices) == "$slices_before" ]] || fail "after: AllowedCPUs: $(slices), before: $slices_before"
[[ $(<$POOL/nr_hugepages) == "$nr_before" ]] || fail "after: nr_hugepages $(<$POOL/nr_hugepages), before $nr_before"
systemctl is-active -q "vfio-hook-inhibit-vh\\x2dlifetime.service" && fail "after: the inhibitor unit still runs"
snapshot >/tmp/$name.after
expect_same /tmp/$name.before /tmp/$name.after "after destroy"
expect_no_journal "$name" "after destroy"
timeout 60 virsh -q undefine "$name" >/dev/null
