# shellcheck shell=bash
# A process holds the HD audio function's sound nodes. Linux waits for them
# to be closed before it unbinds snd_hda_intel (snd_card_free() waits for
# the card's last file: the write to unbind hangs in D state, and libvirt's
# detach with it), so the hook counts them as holders of the device.
# With <holders>refuse</holders> virsh start fails, naming the holder and
# the node, the holder lives and the host is as before; with
# <holders>terminate</holders> the holder is terminated and the hand-off
# goes through.
name=vh-alsa
require_desktop
node=/dev/snd/controlC0
pcm=$(find /dev/snd -name 'pcmC0D*c' | head -n1)
[[ -c $node && -n $pcm ]] || fail "precondition: no $node or capture node (the codec is missing?)"
[[ $(readlink -f /sys/class/sound/controlC0/device/device) == */$AUDIO ]] ||
	fail "precondition: $node is not $AUDIO's"
define_domain "$name" "$(policy_xml holders=refuse)" "$GPU" "$AUDIO"
snapshot >/tmp/$name.before

# The holder runs as a unit of its own, as a sound server would: systemd
# reaps it when it is terminated.
unit=vh-alsa-holder
systemctl reset-failed "$unit.service" >/dev/null 2>&1 || true
systemd-run --quiet --unit="$unit" sh -c "exec 3<$node 4<$pcm; exec sleep 600" ||
	fail "systemd-run of the holder failed"
holder_pid() { systemctl show -p MainPID --value "$unit.service" 2>/dev/null; }
holds() { local p; p=$(holder_pid); [[ $p != 0 && $(readlink "/proc/$p/fd/3" 2>/dev/null) == "$node" ]]; }
wait_for 10 "the holder to open $node" holds || fail "the holder did not open $node"
holder=$(holder_pid)
echo "$holder" >>/run/vh-holders
log "holder pid $holder ($unit.service) has $node and $pcm open"

rc=0
virsh_run 300 start "$name" || rc=$?
((rc != 0)) || fail "virsh start succeeded although pid $holder holds $node"
note "refused in ${VIRSH_TIME} s"
[[ $VIRSH_OUT =~ (^|[^0-9])$holder([^0-9]|$) ]] || fail "the virsh error does not name the holder's pid $holder: $VIRSH_OUT"
[[ $VIRSH_OUT == *"$node"* || $VIRSH_OUT == *"$pcm"* ]] || fail "the virsh error does not name the sound node: $VIRSH_OUT"
kill -0 "$holder" 2>/dev/null || fail "the holder $holder was killed although the policy says refuse"
[[ $VIRSH_OUT == *"$unit.service"* ]] || fail "the virsh error does not name the holder's unit $unit.service: $VIRSH_OUT"
snapshot >/tmp/$name.after
expect_same /tmp/$name.before /tmp/$name.after "after the refused start"
expect_no_journal "$name" "after the refused start"

define_domain "$name" "$(policy_xml holders=terminate)" "$GPU" "$AUDIO"
start_ok "$name"
note "with terminate: start ${VIRSH_TIME} s"
! kill -0 "$holder" 2>/dev/null || fail "running: the holder $holder still lives"
[[ $(driver "$AUDIO") == vfio-pci ]] || fail "running: $AUDIO is on $(driver "$AUDIO"), not vfio-pci"
destroy_ok "$name"
snapshot >/tmp/$name.after
expect_same /tmp/$name.before /tmp/$name.after "after destroy"
expect_no_journal "$name" "after destroy"
timeout 60 virsh -q undefine "$name" >/dev/null
