#!/bin/sh
# Install or remove vfio-hook as libvirt's qemu hook, never touching a hook
# that is not ours. Used by `make install` and by the Debian package.
#
#   install-hook.sh install qemu|qemu.d HOOKDIR BINARY [RECORD]
#   install-hook.sh uninstall HOOKDIR BINARY [RECORD]
#
# HOOKDIR is libvirt's hooks directory on the target, DESTDIR included
# (/etc/libvirt/hooks); BINARY is where vfio-hook lives on the target
# (/usr/sbin/vfio-hook). Ours is a symbolic link to BINARY, either
# HOOKDIR/qemu or HOOKDIR/qemu.d/vfio-hook (libvirt >= 6.5 runs the qemu hook
# and then every executable in qemu.d/), and there is only ever one of them,
# so that libvirt never runs vfio-hook twice for one event.
#
# qemu:   HOOKDIR/qemu when that path is free or already ours; when another
#         program is there, HOOKDIR/qemu.d/vfio-hook instead, saying so.
# qemu.d: HOOKDIR/qemu.d/vfio-hook.
# A path that holds something else is never replaced: install fails. When
# another hook already runs vfio-hook, nothing is installed (and it says so).
#
# RECORD (the package's) lists, one per line, the paths this script created,
# directories included; uninstall removes a listed directory only when it is
# empty. Without RECORD, uninstall removes our links and no directory.
set -eu

usage() {
        echo "usage: install-hook.sh install qemu|qemu.d HOOKDIR BINARY [RECORD]" >&2
        echo "       install-hook.sh uninstall HOOKDIR BINARY [RECORD]" >&2
        exit 2
}

say() { echo "vfio-hook: $*"; }

present() { [ -e "$1" ] || [ -L "$1" ]; }
ours() { [ -L "$1" ] && [ "$(readlink "$1")" = "$binary" ]; }

record() {
        [ -n "$rec" ] || return 0
        grep -qxF "$1" "$rec" 2>/dev/null || echo "$1" >>"$rec"
}

# Each directory it creates is recorded, parents first (/etc/libvirt too,
# on a host without libvirt yet).
make_dir() {
        present "$1" && return 0
        make_dir "$(dirname "$1")"
        mkdir "$1"
        record "$1"
}

link() {
        fresh=no
        if present "$1"; then
                if ! ours "$1"; then
                        echo "vfio-hook: $1 exists and is not vfio-hook's: leaving it alone, installing no hook" >&2
                        exit 1
                fi
        else
                ln -s "$binary" "$1"
                record "$1"
                say "installed the hook $1 -> $binary"
                fresh=yes
        fi
        # One of ours at a time.
        if [ "$1" != "$main" ] && ours "$main"; then
                rm -f "$main"
                say "removed $main (vfio-hook now runs from $dropin)"
        elif [ "$1" = "$main" ] && ours "$dropin"; then
                rm -f "$dropin"
                say "removed $dropin (vfio-hook now runs as $main)"
        fi
        if [ $fresh = yes ]; then
                say "libvirt notices a new hook only when it starts: restart the daemon" \
                        "(systemctl restart libvirtd, or virtqemud with the modular daemons)"
        fi
}

# Another way libvirt already runs vfio-hook: a hook other than our link
# that names it (a script that calls it, a copy, a link to another install).
# A second hook would run it twice for every event, and the second prepare
# would refuse the domain because of the first one's journal.
runs_elsewhere() {
        for p in "$main" "$dir"/qemu.d/*; do
                if [ "$p" = "$main" ] || [ "$p" = "$dropin" ]; then
                        ours "$p" && continue
                fi
                [ -f "$p" ] && grep -q vfio-hook "$p" 2>/dev/null && echo "$p" && return 0
        done
        return 1
}

[ $# -ge 1 ] || usage
action=$1
shift
case $action in
install)
        [ $# -ge 3 ] && [ $# -le 4 ] || usage
        mode=$1 dir=$2 binary=$3 rec=${4:-}
        ;;
uninstall)
        [ $# -ge 2 ] && [ $# -le 3 ] || usage
        mode='' dir=$1 binary=$2 rec=${3:-}
        ;;
*)
        usage
        ;;
esac
main=$dir/qemu
dropin=$dir/qemu.d/vfio-hook

case $action/$mode in
install/*)
        if other=$(runs_elsewhere); then
                say "$other already runs vfio-hook: installing no second hook, which libvirt would run too." \
                        "To use $binary instead, remove $other and install again."
                exit 0
        fi
        ;;
esac

case $action/$mode in
install/qemu)
        make_dir "$dir"
        if present "$main" && ! ours "$main"; then
                say "$main is another program's hook: it stays as it is, and vfio-hook goes to $dropin" \
                        "(libvirt >= 6.5 runs both)."
                make_dir "$dir/qemu.d"
                link "$dropin"
        else
                link "$main"
        fi
        ;;
install/qemu.d)
        make_dir "$dir"
        make_dir "$dir/qemu.d"
        link "$dropin"
        ;;
uninstall/)
        for p in "$main" "$dropin"; do
                if ours "$p"; then
                        rm -f "$p"
                        say "removed the hook $p"
                fi
        done
        if [ -n "$rec" ] && [ -f "$rec" ]; then
                # Deepest first: qemu.d before the hooks directory.
                sort -r "$rec" | while IFS= read -r p; do
                        [ -d "$p" ] && [ ! -L "$p" ] && rmdir "$p" 2>/dev/null || true
                done
                rm -f "$rec"
        fi
        ;;
*)
        usage
        ;;
esac
