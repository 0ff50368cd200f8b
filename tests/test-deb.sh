#!/bin/bash
# The Debian package, built and installed as a user would: from a release
# tarball, `dpkg-buildpackage -us -uc -b`, lintian (no error), then
# `dpkg -i` / `dpkg -r` / `dpkg -P` in scratch roots (an overlay of this
# machine's / in a private mount namespace, thrown away afterwards):
#   - another program's /etc/libvirt/hooks/qemu is kept byte for byte, ours
#     goes to qemu.d/vfio-hook, and removal takes only ours;
#   - on a host without /etc/libvirt, ours is the qemu hook, `man vfio-hook`
#     works, and removal leaves /etc as it was.
#   tests/test-deb.sh TARBALL     (root; CI runs it after distcheck)
# DEB_BUILD_OPTIONS defaults to "nocheck": CI has run the suite already.
set -u
tarball=${1:?usage: tests/test-deb.sh vfio-hook-VERSION.tar.xz}
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (dpkg -i in a scratch root)"
for t in dpkg-buildpackage dh lintian unshare chroot; do
        command -v "$t" >/dev/null || skip "$t is missing (apt-get install dpkg-dev debhelper lintian)"
done
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null
grep -qw overlay /proc/filesystems || skip "the kernel has no overlay file system for a scratch root"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vfio-hook-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $1"; }

# --- build ---
t0=$SECONDS
tar -xf "$tarball" -C "$tmp" || exit 1
src=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d | head -n1)
if (cd "$src" && DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS-nocheck} dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1; then
        ok "dpkg-buildpackage -us -uc -b ($((SECONDS - t0)) s)"
else
        not_ok "dpkg-buildpackage -us -uc -b"; tail -n 40 "$tmp/build.log"
        echo "$passed passed, $failed failed"; exit 1
fi
deb=$(ls "$tmp"/vfio-hook_*.deb) changes=$(ls "$tmp"/vfio-hook_*.changes)

# --- lintian: no error; warnings are printed ---
t0=$SECONDS
out=$(lintian --fail-on error --display-level '>=warning' "$changes" 2>&1); rc=$?
echo "lintian ($((SECONDS - t0)) s):"; sed 's/^/  /' <<<"${out:-(nothing)}"
if [ $rc -eq 0 ]; then ok "lintian: no error"; else not_ok "lintian: errors above"; fi

# --- install and remove in scratch roots ---
# in_scratch SCRIPT: runs SCRIPT with bash, chrooted into an overlay of /
# whose writes go to a tmpfs; prints its "ok"/"not ok" lines.
in_scratch() {
        unshare -m --propagation private bash -s "$deb" "$1" <<'OUTER'
set -eu
deb=$1 script=$2
s=$(mktemp -d)
mount -t tmpfs tmpfs "$s"
mkdir -p "$s/upper/tmp" "$s/work" "$s/root"
cp "$deb" "$s/upper/tmp/vfio-hook.deb"
mount -t overlay overlay -o lowerdir=/,upperdir="$s/upper",workdir="$s/work" "$s/root"
mount -t proc proc "$s/root/proc"
mount --rbind /dev "$s/root/dev"
exec chroot "$s/root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
        bash -c "$script"
OUTER
}

lib='
passed=0 failed=0
check() { if [ "$2" = "$3" ]; then echo "ok - $1"; else echo "not ok - $1"; echo "  expected: $2"; echo "  actual:   $3"; fi; }
present() { [ -e "$1" ] || [ -L "$1" ] && echo yes || echo no; }
fingerprint() { stat -c "%a %U %s %Y" "$1"; sha256sum <"$1"; }
dpkg -P vfio-hook >/dev/null 2>&1 || true
'

out=$(in_scratch "$lib"'
H=/etc/libvirt/hooks
rm -rf $H && mkdir -p $H/qemu.d
printf "#!/bin/sh\n# the administrator'"'"'s own hook\nexit 0\n" >$H/qemu && chmod 750 $H/qemu
printf "#!/bin/sh\nexit 0\n" >$H/qemu.d/10-theirs && chmod 755 $H/qemu.d/10-theirs
before=$(fingerprint $H/qemu; fingerprint $H/qemu.d/10-theirs)
msg=$(dpkg -i /tmp/vfio-hook.deb 2>&1); check "foreign hook: dpkg -i" 0 $?
check "foreign hook: kept byte for byte" "$before" "$(fingerprint $H/qemu; fingerprint $H/qemu.d/10-theirs)"
check "foreign hook: ours in qemu.d" /usr/sbin/vfio-hook "$(readlink $H/qemu.d/vfio-hook)"
echo "$msg" | grep -q "vfio-hook goes to $H/qemu.d/vfio-hook"; check "foreign hook: the postinst says where" 0 $?
echo "$msg" | grep -q "restart the daemon"; check "foreign hook: the postinst says to restart libvirt" 0 $?
echo "$msg" | sed -n "s/^/  dpkg -i: /; /vfio-hook:/p"
dpkg -i /tmp/vfio-hook.deb >/dev/null 2>&1; check "foreign hook: reinstall" "0 /usr/sbin/vfio-hook" "$? $(readlink $H/qemu.d/vfio-hook)"
dpkg -r vfio-hook >/dev/null 2>&1; check "foreign hook: dpkg -r" 0 $?
check "foreign hook: removal takes ours only" "no yes yes" "$(present $H/qemu.d/vfio-hook) $(present $H/qemu) $(present $H/qemu.d/10-theirs)"
check "foreign hook: theirs still byte for byte" "$before" "$(fingerprint $H/qemu; fingerprint $H/qemu.d/10-theirs)"
check "foreign hook: the program is gone" no "$(present /usr/sbin/vfio-hook)"
')
echo "$out"

out2=$(in_scratch "$lib"'
rm -rf /etc/libvirt
etc_before=$(cd /etc && find . | sort | sha256sum)
dpkg -i /tmp/vfio-hook.deb >/dev/null 2>&1; check "fresh host: dpkg -i" 0 $?
check "fresh host: ours is the qemu hook" "/usr/sbin/vfio-hook no" "$(readlink /etc/libvirt/hooks/qemu) $(present /etc/libvirt/hooks/qemu.d)"
check "fresh host: the front runs" "vfio-hook" "$(/usr/sbin/vfio-hook --version | cut -d" " -f1)"
check "fresh host: man -w vfio-hook" /usr/share/man/man8/vfio-hook.8.gz "$(man -w vfio-hook 2>&1)"
man vfio-hook-policy 2>/dev/null | grep -q "urn:vfio-hook:policy:1"; check "fresh host: man vfio-hook-policy" 0 $?
check "fresh host: completion installed" yes "$(present /usr/share/bash-completion/completions/vfio-hook)"
dpkg -r vfio-hook >/dev/null 2>&1; check "fresh host: dpkg -r" 0 $?
dpkg -P vfio-hook >/dev/null 2>&1; check "fresh host: dpkg -P" 0 $?
check "fresh host: /etc as before" "$etc_before" "$(cd /etc && find . | sort | sha256sum)"
check "fresh host: nothing left" "no no no" "$(present /etc/libvirt) $(present /var/lib/vfio-hook) $(present /usr/libexec/vfio-hook)"
')
echo "$out2"

all="$out"$'\n'"$out2"
passed=$((passed + $(grep -c '^ok - ' <<<"$all"))) failed=$((failed + $(grep -c '^not ok - ' <<<"$all")))
[ "$(grep -c '^ok - ' <<<"$all")" -ge 15 ] || { not_ok "the scratch-root checks did not all run"; }
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
