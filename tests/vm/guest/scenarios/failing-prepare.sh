# shellcheck shell=bash
# A process holds /dev/dri/card0 and the policy says <holders>refuse</holders>:
# virsh start fails with the hook's message naming the holder, and the host
# is exactly as before (nothing undone is left, no journal). The holder is
# left alone by the hook and killed by us afterwards.
name=vh-refuse
require_desktop
card=
for c in /sys/bus/pci/devices/"$GPU"/drm/card*; do card=/dev/dri/$(basename "$c"); done
[[ -c $card ]] || fail "precondition: no DRM card node for $GPU"
define_domain "$name" "$(policy_xml holders=refuse)" "$GPU" "$AUDIO"
snapshot >/tmp/$name.before

# shellcheck disable=SC2217 # the point is the open file, not reading it
sleep 600 <"$card" &
holder=$!
echo "$holder" >>/run/vh-holders
holds() { [[ $(readlink "/proc/$holder/fd/0" 2>/dev/null) == "$card" ]]; }
wait_for 10 "the holder to open $card" holds || fail "the holder did not open $card"
log "holder pid $holder has $card open"

rc=0
virsh_run 300 start "$name" || rc=$?
((rc != 0)) || fail "virsh start succeeded although pid $holder holds $card"
note "refused in ${VIRSH_TIME} s"
[[ $VIRSH_OUT == *vfio-hook* ]] || fail "the virsh error does not name vfio-hook: $VIRSH_OUT"
[[ $VIRSH_OUT =~ (^|[^0-9])$holder([^0-9]|$) ]] || fail "the virsh error does not name the holder's pid $holder: $VIRSH_OUT"
[[ $(domstate "$name") == "shut off" ]] || fail "$name is $(domstate "$name") after the refused start"
kill -0 "$holder" 2>/dev/null || fail "the holder $holder was killed although the policy says refuse"

snapshot >/tmp/$name.after
expect_same /tmp/$name.before /tmp/$name.after "after the refused start"
expect_no_journal "$name" "after the refused start"
kill "$holder"
wait "$holder" 2>/dev/null || true
timeout 60 virsh -q undefine "$name" >/dev/null
