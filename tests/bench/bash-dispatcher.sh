#!/bin/bash
# For the benchmark only: a libvirt qemu hook written the way the common bash
# hook helpers are (the "hooks/qemu" dispatcher that the single-GPU
# passthrough guides copy), so that vfio-hook's fast path has something to
# be compared with. It keeps the domain XML that libvirt gives on stdin and
# runs every executable in qemu.d/<domain>/<operation>/<sub-operation>/,
# found with find(1) next to where the hook is installed. For a domain
# without such a directory (most of them) it does nothing, but pays for
# bash, a subshell or two and find.
GUEST_NAME="$1"
HOOK_NAME="$2"
STATE_NAME="$3"

DOMAIN_XML="$(cat)"
export DOMAIN_XML

BASEDIR="$(dirname "$0")"
HOOKPATH="$BASEDIR/qemu.d/$GUEST_NAME/$HOOK_NAME/$STATE_NAME"

set -e
while read -r file; do
	[ -n "$file" ] || continue
	"$file" "$@" <<<"$DOMAIN_XML"
done <<<"$(find -L "$HOOKPATH" -maxdepth 1 -type f -executable -print 2>/dev/null | sort)"
