# shellcheck shell=bash
# After release the hook says whether the host came back, in the log and in
# `vfio-hook status`. A stand-in display manager (as in display-manager.sh)
# is made to fail when it starts again (no GPU for it, as it were): `virsh
# destroy` then gives the card and the console back, but the log and status
# say "host not restored: display-manager.service is not active" and the
# journal stays; `vfio-hook restore` exits 3 while it fails, and 0 once it
# starts, with "host restored in N s".
name=vh-back
dm_unit=/run/systemd/system/display-manager.service
broken=/run/vh-dm-broken
dm_cleanup() {
	rm -f "$broken"
	systemctl stop display-manager.service >/dev/null 2>&1 || true
	systemctl reset-failed display-manager.service >/dev/null 2>&1 || true
	rm -f "$dm_unit"
	systemctl daemon-reload || true
}
trap dm_cleanup EXIT
cat >"$dm_unit" <<UNIT
[Unit]
Description=Stand-in display manager of the vfio-hook VM test (fails while $broken exists)
[Service]
ExecStart=/bin/sh -c 'test ! -e $broken || exit 1; exec 3</dev/dri/card0; exec sleep infinity'
UNIT
systemctl daemon-reload
systemctl start display-manager.service
dm_active() { [[ $(systemctl is-active display-manager.service 2>/dev/null) == active ]]; }
wait_for 30 "the stand-in display manager" dm_active || fail "the stand-in display manager does not start"

require_desktop
# A short timeout: the release waits that long for the display manager.
define_domain "$name" "$(policy_xml stack=auto timeout=5)" "$GPU"
snapshot >"/tmp/$name.before"
start_ok "$name"
expect_handed_off "$name"
touch "$broken"
t0=$(date +%s)
destroy_ok "$name"

hook_log() { journalctl -q --no-pager -t vfio-hook --since "@$t0" -o cat 2>/dev/null; }
hook_log | sed 's/^/    hook| /'
hook_log | grep -q "$name: host not restored: display-manager.service is not active" ||
	fail "the log does not say that display-manager.service is missing"
status=$(timeout 30 vfio-hook status)
printf '%s\n' "$status" | sed 's/^/    status| /'
grep -q "^$name: host not restored (released .*): display-manager.service is not active$" <<<"$status" ||
	fail "status does not say that display-manager.service is missing"
[[ -e $(journal_of "$name") ]] || fail "the journal is gone, but the host is not restored"
[[ $(driver "$GPU") == bochs-drm ]] || fail "after destroy: $GPU is on $(driver "$GPU")"
note "release: display-manager.service named as missing"

rc=0
timeout -k 5 120 vfio-hook restore "$name" >"/tmp/$name.restore.out" 2>&1 || rc=$?
sed 's/^/    restore| /' "/tmp/$name.restore.out"
((rc == 3)) || fail "restore while the display manager fails exited with status $rc, not 3"

rm -f "$broken"
rc=0
timeout -k 5 120 vfio-hook restore "$name" >"/tmp/$name.restore2.out" 2>&1 || rc=$?
sed 's/^/    restore| /' "/tmp/$name.restore2.out"
((rc == 0)) || fail "restore once the display manager starts exited with status $rc, not 0"
grep -q "$name: host restored in [0-9.]* s" "/tmp/$name.restore2.out" || fail "restore does not say the host is restored"
timeout 30 vfio-hook status | grep -q "^$name: host restored in [0-9.]* s (released " ||
	fail "status does not say the host is restored"
dm_active || fail "the display manager is not active after restore"
note "$(grep -o 'host restored in [0-9.]* s' "/tmp/$name.restore2.out")"
snapshot >"/tmp/$name.after"
expect_same "/tmp/$name.before" "/tmp/$name.after" "after restore"
expect_no_journal "$name" "after restore"
timeout 60 virsh -q undefine "$name" >/dev/null
