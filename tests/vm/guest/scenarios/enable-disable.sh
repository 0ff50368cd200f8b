# shellcheck shell=bash
# `vfio-hook enable` and `disable` against the guest's libvirtd: a domain
# defined without any hostdev or policy; the dry run shows the diff and
# changes nothing; enable gives it the boot VGA card's IOMMU group and the
# policy; virsh start hands the card over, destroy gives it back; disable
# leaves `virsh dumpxml --inactive` exactly as it was before enable.
name=vh-enable
require_desktop
define_domain "$name" ""
timeout 60 virsh dumpxml --inactive "$name" >"/tmp/$name.orig" || fail "virsh dumpxml $name failed"
grep -q '<hostdev' "/tmp/$name.orig" && fail "precondition: $name has a hostdev"
snapshot >"/tmp/$name.before"

show "# vfio-hook enable $name --dry-run"
out=$(timeout 120 vfio-hook enable "$name" --dry-run 2>&1) || fail "enable --dry-run failed: $out"
printf '%s\n' "$out" | show_cmd
dry_added=$(grep '^+[^+]' <<<"$out" | tr "'" '"')
grep -q "^+.*<source>" <<<"$out" || fail "the dry run shows no hostdev added"
grep -q "^+.*<vh:policy" <<<"$out" || fail "the dry run shows no policy"
grep -q "^+.*bus=\"0x00\" slot=\"0x$(printf '%02x' $((16#${GPU:8:2})))\" function=\"0x${GPU##*.}\"" <<<"$out" ||
	fail "the dry run does not add $GPU"
timeout 60 virsh dumpxml --inactive "$name" | cmp -s - "/tmp/$name.orig" || fail "the dry run changed the definition"

# A user libvirt does not let manage domains: one clear line, nothing changed.
if out=$(timeout 60 runuser -u nobody -- vfio-hook enable "$name" 2>&1); then
	fail "enable as nobody succeeded: $out"
fi
log "enable as nobody: $out"
grep -q "run it as root" <<<"$out" || fail "enable as nobody says no more than: $out"
timeout 60 virsh dumpxml --inactive "$name" | cmp -s - "/tmp/$name.orig" || fail "enable as nobody changed the definition"

show ""
show "# vfio-hook enable $name"
t0=$(now)
out=$(timeout 120 vfio-hook enable "$name" 2>&1) || fail "enable failed: $out"
note "enable $(elapsed "$t0") s"
printf '%s\n' "$out" | show_cmd
grep -q "libvirt changed more" <<<"$out" && fail "libvirt added to the definition on its own: $out"
timeout 60 virsh dumpxml --inactive "$name" >"/tmp/$name.enabled"
log "the definition after enable, against before:"
{ diff -u "/tmp/$name.orig" "/tmp/$name.enabled" || true; } | sed 's/^/    /'
real_added=$({ diff -u "/tmp/$name.orig" "/tmp/$name.enabled" || true; } | grep '^+[^+]' | tr "'" '"')
grep -q "<vh:policy" "/tmp/$name.enabled" || fail "no policy in the definition after enable"
grep -q "urn:vfio-hook:enabled:1" "/tmp/$name.enabled" || fail "no record of the added hostdevs after enable"
[[ $(grep -c '<hostdev ' "/tmp/$name.enabled") -ge 1 ]] || fail "no hostdev after enable"
# Only ours: every line libvirt writes besides is the same.
extra=$({ diff "/tmp/$name.orig" "/tmp/$name.enabled" || true; } | grep '^>' | grep -Ev 'hostdev|<source>|</source>|<address|metadata|vh:|vhe:' || true)
[[ -z $extra ]] || fail "enable brought more than hostdevs and metadata: $extra"
# Enabling again adds nothing.
out=$(timeout 120 vfio-hook enable "$name" 2>&1) || fail "a second enable failed: $out"
grep -q "were all there already" <<<"$out" || fail "a second enable changed something: $out"
timeout 60 virsh dumpxml --inactive "$name" | cmp -s - "/tmp/$name.enabled" || fail "a second enable changed the definition"

show ""
show "# virsh start $name"
start_ok "$name"
note "start ${VIRSH_TIME} s"
desk | show_cmd
[[ $(driver "$GPU") == vfio-pci ]] || fail "running: $GPU is on $(driver "$GPU"), not vfio-pci"
[[ -e $(journal_of "$name") ]] || fail "running: no journal $(journal_of "$name")"

show ""
show "# virsh destroy $name"
destroy_ok "$name"
desk | show_cmd
snapshot >"/tmp/$name.after"
expect_same "/tmp/$name.before" "/tmp/$name.after" "after destroy"
expect_no_journal "$name" "after destroy"

show ""
show "# vfio-hook disable $name"
out=$(timeout 120 vfio-hook disable "$name" 2>&1) || fail "disable failed: $out"
printf '%s\n' "$out" | show_cmd
timeout 60 virsh dumpxml --inactive "$name" >"/tmp/$name.disabled"
if ! cmp -s "/tmp/$name.orig" "/tmp/$name.disabled"; then
	log "the definition after disable, against before enable:"
	{ diff -u "/tmp/$name.orig" "/tmp/$name.disabled" || true; } | sed 's/^/    /'
	fail "after disable the definition differs: $({ diff "/tmp/$name.orig" "/tmp/$name.disabled" || true; } | head -n 6 | tr '\n' ';')"
fi
show "virsh dumpxml --inactive $name: the same as before enable"
out=$(timeout 120 vfio-hook disable "$name" 2>&1) || fail "a second disable failed: $out"
grep -q "nothing to do" <<<"$out" || fail "a second disable did something: $out"

# For the record: what libvirt adds on this q35 machine to a hostdev
# defined without a guest address (enable gives one on the root bus so
# that libvirt adds nothing).
domain_xml vh-enable-noaddr "" "$GPU" >/tmp/vh-enable-noaddr.xml
if timeout 60 virsh -q define /tmp/vh-enable-noaddr.xml >/dev/null 2>&1; then
	log "libvirt, given a hostdev without a guest address on q35, keeps:"
	{ timeout 60 virsh dumpxml --inactive vh-enable-noaddr | grep -E "controller type='pci'|<address type='pci'" || true; } |
		sed 's/^/    /'
	timeout 60 virsh -q undefine vh-enable-noaddr >/dev/null 2>&1 || true
fi
timeout 60 virsh -q undefine "$name" >/dev/null

# The dry run showed the lines enable then added (quotes aside: libvirt
# writes its own attributes with ', libxml2 with ").
if [[ $dry_added != "$real_added" ]]; then
	log "the dry run added:"; printf '%s\n' "$dry_added" | sed 's/^/    /'
	log "enable added:"; printf '%s\n' "$real_added" | sed 's/^/    /'
	fail "the dry run's diff is not the change enable made"
fi
