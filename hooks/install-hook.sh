#!/bin/sh
# Install or remove libvirt's qemu hook as a symlink to vfio-hook, never
# clobbering a hook that is not ours.
#   install-hook.sh install|uninstall HOOK_PATH BINARY
# HOOK_PATH includes DESTDIR; BINARY is where vfio-hook lives on the target.
set -eu
action=$1 hook=$2 binary=$3

ours() {
        [ -L "$hook" ] && [ "$(readlink "$hook")" = "$binary" ]
}

case $action in
install)
        if [ -e "$hook" ] || [ -L "$hook" ]; then
                if ! ours; then
                        cat >&2 <<MSG
install-hook: $hook exists and is not vfio-hook's: leaving it alone.
  libvirt runs one qemu hook, plus every executable in $(dirname "$hook")/qemu.d/ (libvirt >= 6.5).
  To chain: move your hook to $(dirname "$hook")/qemu.d/ and run 'make install' again,
  or keep it and add this line to it (stdin passes through):  $binary "\$@" || exit \$?
MSG
                        exit 1
                fi
                rm -f "$hook"
        fi
        mkdir -p "$(dirname "$hook")"
        ln -s "$binary" "$hook"
        echo "install-hook: $hook -> $binary (restart libvirtd so it notices a new hook)"
        ;;
uninstall)
        if ours; then rm -f "$hook"; fi
        ;;
*)
        echo "usage: install-hook.sh install|uninstall HOOK_PATH BINARY" >&2
        exit 2
        ;;
esac
