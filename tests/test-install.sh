#!/bin/bash
# `make install` into scratch DESTDIRs: what it installs, and how it installs
# libvirt's hook (./configure --with-hook, overridden here as HOOK_MODE)
# without ever touching a hook that is not ours; `make uninstall` removes only
# ours. Then hooks/install-hook.sh with the record the Debian package keeps.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
unset MAKEFLAGS MFLAGS MAKELEVEL
make=${MAKE:-make}
tmp=$(mktemp -d "$top_builddir/tests/tmp-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
check() { # check NAME EXPECTED ACTUAL
        if [ "$2" = "$3" ]; then passed=$((passed + 1)); echo "ok - $1"
        else failed=$((failed + 1)); echo "not ok - $1"; echo "  expected: $2"; echo "  actual:   $3"; fi
}
present() { [ -e "$1" ] || [ -L "$1" ] && echo yes || echo no; }
mk() { "$make" -s --no-print-directory -C "$top_builddir" "$@"; }
var() { mk -f Makefile -f <(printf 'print-%%:\n\t@echo $(%s)\n' '$*') "print-$1"; }

sbindir=$(var sbindir) hookdir=$(var hookdir) bcdir=$(var BASH_COMPLETION_DIR)
front=$sbindir/vfio-hook
inst=$top_srcdir/hooks/install-hook.sh
foreign=$'#!/bin/sh\n# the administrator\'s own hook\nexit 0'

# --- what make install installs ---
d=$tmp/plain
out=$(mk install DESTDIR="$d" HOOK_MODE=qemu 2>&1); check "make install" "0" "$?"
for f in "$front" "$(var pkglibexecdir)/vfio-hook-engine" "$(var pkglibexecdir)/install-hook.sh" \
        "$(var mandir)/man8/vfio-hook.8" "$(var mandir)/man5/vfio-hook.conf.5" "$(var mandir)/man5/vfio-hook-policy.5" \
        "$(var pkgdatadir)/policy.rng" "$(var docdir)/examples/win10-nvidia.xml" "$(var docdir)/examples/vfio-hook.conf" \
        "$(var docdir)/design.md"; do
        check "installs $f" yes "$(present "$d$f")"
done
if [ -n "$bcdir" ]; then check "installs the bash completion" yes "$(present "$d$bcdir/vfio-hook")"; fi
check "hook: qemu -> vfio-hook" "$front" "$(readlink "$d$hookdir/qemu")"
check "hook: no qemu.d" no "$(present "$d$hookdir/qemu.d")"
grep -q 'restart the daemon' <<<"$out"; check "says libvirt needs a restart" 0 $?
out=$(mk install DESTDIR="$d" HOOK_MODE=qemu 2>&1); check "make install again" "0 $front" "$? $(readlink "$d$hookdir/qemu")"
mk uninstall DESTDIR="$d" >/dev/null 2>&1; check "make uninstall" 0 $?
check "uninstall: hook gone" no "$(present "$d$hookdir/qemu")"
check "uninstall: binary gone" no "$(present "$d$front")"

# --- a foreign hook at qemu: ours goes to qemu.d, theirs stays as it was ---
d=$tmp/foreign
mkdir -p "$d$hookdir"
printf '%s\n' "$foreign" >"$d$hookdir/qemu" && chmod 750 "$d$hookdir/qemu"
before=$(stat -c '%a %s %Y' "$d$hookdir/qemu")
out=$(mk install DESTDIR="$d" HOOK_MODE=qemu 2>&1); check "foreign hook: make install succeeds" 0 $?
check "foreign hook: untouched" "$before $foreign" "$(stat -c '%a %s %Y' "$d$hookdir/qemu") $(cat "$d$hookdir/qemu")"
check "foreign hook: ours in qemu.d" "$front" "$(readlink "$d$hookdir/qemu.d/vfio-hook")"
grep -q "qemu is another program's hook" <<<"$out"; check "foreign hook: says so" 0 $?
mk uninstall DESTDIR="$d" >/dev/null 2>&1
check "foreign hook: uninstall removes ours" no "$(present "$d$hookdir/qemu.d/vfio-hook")"
check "foreign hook: uninstall keeps theirs" "$foreign" "$(cat "$d$hookdir/qemu")"

# --- a hook that already runs vfio-hook: no second one, in either mode ---
for mode in qemu qemu.d; do
        d=$tmp/chained-$mode
        mkdir -p "$d$hookdir"
        printf '#!/bin/sh\n/usr/local/sbin/vfio-hook "$@" || exit $?\n' >"$d$hookdir/qemu"
        out=$(mk install DESTDIR="$d" HOOK_MODE=$mode 2>&1); rc=$?
        check "chained hook ($mode): no second hook" "0 no" "$rc $(present "$d$hookdir/qemu.d")"
        grep -q "already runs vfio-hook" <<<"$out"; check "chained hook ($mode): says so" 0 $?
done
d=$tmp/other-install
mkdir -p "$d$hookdir/qemu.d" "$d/opt/vh/sbin"
cp "$top_builddir/vfio-hook" "$d/opt/vh/sbin/vfio-hook"
ln -s "$d/opt/vh/sbin/vfio-hook" "$d$hookdir/qemu.d/50-vfio"
mk install DESTDIR="$d" HOOK_MODE=qemu >/dev/null 2>&1
check "another install in qemu.d: no second hook" "no no" "$(present "$d$hookdir/qemu") $(present "$d$hookdir/qemu.d/vfio-hook")"

# --- --with-hook=qemu.d, and switching back: one of ours at a time ---
d=$tmp/dropin
mk install DESTDIR="$d" HOOK_MODE=qemu.d >/dev/null 2>&1
check "qemu.d: link" "$front no" "$(readlink "$d$hookdir/qemu.d/vfio-hook") $(present "$d$hookdir/qemu")"
mk install DESTDIR="$d" HOOK_MODE=qemu >/dev/null 2>&1
check "qemu after qemu.d: moved" "$front no" "$(readlink "$d$hookdir/qemu") $(present "$d$hookdir/qemu.d/vfio-hook")"
mk install DESTDIR="$d" HOOK_MODE=qemu.d >/dev/null 2>&1
check "qemu.d after qemu: moved" "$front no" "$(readlink "$d$hookdir/qemu.d/vfio-hook") $(present "$d$hookdir/qemu")"

# --- something else at qemu.d/vfio-hook: refused, kept ---
d=$tmp/taken
mkdir -p "$d$hookdir/qemu.d"
printf '%s\n' "$foreign" >"$d$hookdir/qemu.d/vfio-hook"
err=$(mk install DESTDIR="$d" HOOK_MODE=qemu.d 2>&1); rc=$?
check "qemu.d taken: make install fails" yes "$([ $rc -ne 0 ] && echo yes || echo no)"
check "qemu.d taken: kept" "$foreign" "$(cat "$d$hookdir/qemu.d/vfio-hook")"
grep -q "is not vfio-hook's" <<<"$err"; check "qemu.d taken: says why" 0 $?

# --- what ./configure --with-hook chose is what make install does ---
d=$tmp/configured
mode=$(var HOOK_MODE)
mk install DESTDIR="$d" >/dev/null 2>&1
case $mode in
qemu) got=$(readlink "$d$hookdir/qemu") ;;
qemu.d) got=$(readlink "$d$hookdir/qemu.d/vfio-hook") ;;
*) got=$(present "$d$hookdir") ;;
esac
check "configured --with-hook=$mode" "$([ "$mode" = no ] && echo no || echo "$front")" "$got"

# --- --with-hook=no: no hook at all ---
d=$tmp/nohook
mk install DESTDIR="$d" HOOK_MODE=no >/dev/null 2>&1
check "no hook" "no yes" "$(present "$d$hookdir") $(present "$d$front")"

# --- the installer with a record (the Debian package) ---
h=$tmp/rec/etc/libvirt/hooks rec=$tmp/rec/installed
mkdir -p "$tmp/rec/etc/libvirt"
sh "$inst" install qemu "$h" /usr/sbin/vfio-hook "$rec" >/dev/null
check "record: what was created" "$h $h/qemu" "$(paste -sd' ' "$rec")"
sh "$inst" uninstall "$h" /usr/sbin/vfio-hook "$rec" >/dev/null
check "record: all of it removed" "no no yes" "$(present "$h") $(present "$rec") $(present "$tmp/rec/etc/libvirt")"
rmdir "$tmp/rec/etc/libvirt"
sh "$inst" install qemu "$h" /usr/sbin/vfio-hook "$rec" >/dev/null
check "record: parents created are recorded" "$tmp/rec/etc/libvirt $h $h/qemu" "$(paste -sd' ' "$rec")"
sh "$inst" uninstall "$h" /usr/sbin/vfio-hook "$rec" >/dev/null
check "record: parents created are removed" "no yes" "$(present "$tmp/rec/etc/libvirt") $(present "$tmp/rec/etc")"
mkdir -p "$tmp/rec/etc/libvirt"
mkdir -p "$h/qemu.d" && printf '%s\n' "$foreign" >"$h/qemu" && touch "$h/qemu.d/00-theirs"
sh "$inst" install qemu "$h" /usr/sbin/vfio-hook "$rec" >/dev/null
check "record: only our link" "$h/qemu.d/vfio-hook" "$(paste -sd' ' "$rec")"
sh "$inst" uninstall "$h" /usr/sbin/vfio-hook "$rec" >/dev/null
check "record: theirs kept" "$foreign yes no" "$(cat "$h/qemu") $(present "$h/qemu.d/00-theirs") $(present "$h/qemu.d/vfio-hook")"
rm "$h/qemu.d/00-theirs"
sh "$inst" install qemu "$h" /usr/sbin/vfio-hook "$rec" >/dev/null
sh "$inst" uninstall "$h" /usr/sbin/vfio-hook "$rec" >/dev/null
check "record: a directory we did not create stays" "yes no" "$(present "$h/qemu.d") $(present "$h/qemu.d/vfio-hook")"
sh "$inst" bogus >/dev/null 2>&1; check "bad action: exit 2" 2 $?
sh "$inst" install qemu.x "$h" /usr/sbin/vfio-hook >/dev/null 2>&1; check "bad mode: exit 2" 2 $?

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
