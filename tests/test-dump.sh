#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# `vfio-hook dump`: each fake host (tests/data/*.host) is dumped with
# --sysroot and the archive extracted; plan and check from the dump must
# equal those from the host, as JSON (and once as text) for every example
# domain, and for check without one. The dump holds nothing of a process but the
# pid, comm, cgroup and GPU fds of a holder (a fake process with environ,
# cmdline and other fds shows it), is 0600, never replaces a file, goes to
# stdout with '-', and its pax headers (paths and links longer than ustar
# takes) read back. Last, the guest's dump kept by the VM test
# (tests/data/dump-guest.tar.gz, made by tests/vm scenario `dump`) must
# still give the plan and the check the guest gave.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
top_builddir=$(cd "$top_builddir" && pwd) || exit 1
front=$top_builddir/vfio-hook
mkhost=$top_builddir/tests/mkhost
data=$top_srcdir/tests/data
export VFIO_HOOK_ENGINE="$top_builddir/vfio-hook-engine"
tmp=$(mktemp -d "$top_builddir/tests/tmp-dump.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $1"; }
is() { # is NAME EXPECTED ACTUAL
        if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diff <(echo "$2") <(echo "$3") | head -n 20 | sed 's/^/  /'; fi
}
none() { # none NAME TEXT: TEXT must be empty
        if [ -z "$2" ]; then ok "$1"; else not_ok "$1"; printf '%s\n' "$2" | head -n 10 | sed 's/^/  /'; fi
}
run() { "$front" "$@" 2>&1; echo "exit $?"; }
command -v tar >/dev/null || { echo "SKIP: no tar to extract the dumps"; exit 77; }

# ---- every fake host: plan and check from the dump equal the host's ----
hosts=$(cd "$data" && for f in *.host; do echo "${f%.host}"; done)
[ -n "$hosts" ] || { not_ok "fixtures in tests/data"; exit 1; }
for h in $hosts; do
        "$mkhost" "$data/$h.host" "$tmp/$h" || { not_ok "mkhost $h"; continue; }
        if ! "$front" dump --sysroot "$tmp/$h" "$tmp/$h.tar" 2>"$tmp/err"; then
                not_ok "$h: dump: $(cat "$tmp/err")"
                continue
        fi
        if ! { mkdir "$tmp/x-$h" && tar -xf "$tmp/$h.tar" -C "$tmp/x-$h"; }; then
                not_ok "$h: extract"
                continue
        fi
        d=$tmp/x-$h/$h
        diffs=""
        for x in "$top_srcdir"/examples/*.xml; do
                # JSON says all the text says; the text once, for one host.
                cmds=("plan --json" "check --json")
                [ "$h" = dual-gpu-desktop ] && cmds+=(plan check)
                for cmd in "${cmds[@]}"; do
                        # shellcheck disable=SC2086 # a subcommand and its option
                        a=$(run $cmd --state-dir "$tmp/none" --xml "$x" --sysroot "$tmp/$h")
                        # shellcheck disable=SC2086
                        b=$(run $cmd --state-dir "$tmp/none" --xml "$x" --sysroot "$d")
                        [ "$a" = "$b" ] || diffs+="$cmd $(basename "$x"): $(diff <(echo "$a") <(echo "$b") | head -n 6)
"
                done
        done
        for cmd in check "check --json"; do
                # shellcheck disable=SC2086
                [ "$(run $cmd --sysroot "$tmp/$h")" = "$(run $cmd --sysroot "$d")" ] || diffs+="$cmd without a domain
"
        done
        none "$h: plan and check from the dump equal the host's" "$diffs"
done

# ---- a domain that holds a card: its journal goes with the dump ----
s=$tmp/srv
"$mkhost" "$data/server-bmc.host" "$s" || exit 1
cat >"$tmp/srv-b.xml" <<'EOF'
<domain type='kvm'><name>vm-b</name><metadata><vh:policy xmlns:vh='urn:vfio-hook:policy:1'/></metadata>
<devices><hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0' bus='0x4e' slot='0' function='0'/></source></hostdev></devices></domain>
EOF
mkdir -m 0700 "$tmp/srv-state"
printf 'vfio-hook-journal 1\ndomain vm-a\nstarted 1763726400 pid 4242\ndevice 0000:4d:00.0\nstep 1 detach-device 0000:4d:00.0 i915\ndone 1\nprepared\n' >"$tmp/srv-state/vm-a.journal"
chmod 0600 "$tmp/srv-state/vm-a.journal"
# vm-a has its card: off i915 (as libvirt's detach leaves it).
rm "$s/sys/bus/pci/drivers/i915/0000:4d:00.0" "$s/sys/bus/pci/devices/0000:4d:00.0/driver"
"$front" dump --sysroot "$s" --state-dir "$tmp/srv-state" "$tmp/srv.tar" 2>/dev/null
mkdir "$tmp/xsrv" && tar -xf "$tmp/srv.tar" -C "$tmp/xsrv"
is "the journal in the dump" "$(cat "$tmp/srv-state/vm-a.journal")" "$(cat "$tmp/xsrv/srv/run/vfio-hook/vm-a.journal")"
host_plan=$(run plan --json --xml "$tmp/srv-b.xml" --sysroot "$s" --state-dir "$tmp/srv-state")
is "a held card: the plan from the dump reads the dump's journals" "$host_plan" \
        "$(run plan --json --xml "$tmp/srv-b.xml" --sysroot "$tmp/xsrv/srv")"
is "a held card: counted" 1 "$(grep -c 'which domain vm-a holds and gives back to i915' <<<"$host_plan")"
is "a held card: --state-dir still wins" \
        "$(run plan --json --xml "$tmp/srv-b.xml" --sysroot "$s" --state-dir "$tmp/none")" \
        "$(run plan --json --xml "$tmp/srv-b.xml" --sysroot "$tmp/xsrv/srv" --state-dir "$tmp/none")"

# ---- nothing private, and the archive's properties ----
h=$tmp/private
"$mkhost" "$data/dual-gpu-desktop.host" "$h" || exit 1
# A process on the GPU with an environment, a command line, a map and a
# file open besides; one that holds no GPU node at all.
mkdir -p "$h/proc/4242/fd" "$h/proc/4343/fd"
printf 'blender\n' >"$h/proc/4242/comm"
printf 'SECRET_TOKEN=hunter2\0' >"$h/proc/4242/environ"
printf 'blender\0--password\0hunter2\0' >"$h/proc/4242/cmdline"
printf '0::/user.slice/user-1000.slice/session-2.scope\n' >"$h/proc/4242/cgroup"
printf '7f00-7f01 r-xp /home/me/secret.so\n' >"$h/proc/4242/maps"
ln -s /dev/dri/renderD129 "$h/proc/4242/fd/5"
ln -s /home/me/diary.txt "$h/proc/4242/fd/6"
long=/dev/dri/by-path/$(printf 'x%.0s' $(seq 1 120))
ln -s "$long" "$h/proc/4242/fd/7"
printf 'vim\n' >"$h/proc/4343/comm"
printf 'HOME=/home/me\0' >"$h/proc/4343/environ"
ln -s /home/me/notes.txt "$h/proc/4343/fd/3"
# A device node deep below a function: a path longer than ustar's 255 bytes.
deep=sys/bus/pci/devices/0000:01:00.0/$(printf 'd%.0s' $(seq 1 150))/$(printf 'e%.0s' $(seq 1 100))
mkdir -p "$h/$deep"
printf 'MAJOR=1\nDEVNAME=deepnode\nSERIAL=ABC123\n' >"$h/$deep/uevent"

umask 022
out=$(run dump --sysroot "$h" "$tmp/p.tar")
is "dump: exit 0" "exit 0" "$(tail -n1 <<<"$out")"
is "dump: mode 0600" 600 "$(stat -c %a "$tmp/p.tar")"
list=$(tar -tvf "$tmp/p.tar")
names=$(tar -tf "$tmp/p.tar")
none "no environ, command line or map of a process" "$(grep -E '/proc/[0-9]+/(environ|cmdline|maps)$' <<<"$names")"
none "no process that holds no GPU node" "$(grep -E '^p/proc/4343' <<<"$names")"
none "no fd but the GPU's" "$(grep -E 'diary|notes' <<<"$list")"
none "no secret anywhere" "$(tar -xOf "$tmp/p.tar" | grep -a -E 'hunter2|SECRET|secret.so|ABC123')"
is "the holder's comm, cgroup and GPU fds" "p/proc/4242/
p/proc/4242/cgroup
p/proc/4242/comm
p/proc/4242/fd/
p/proc/4242/fd/5
p/proc/4242/fd/7" "$(grep -E '^p/proc/4242/' <<<"$names")"
mkdir "$tmp/xp" && tar -xf "$tmp/p.tar" -C "$tmp/xp"
is "a link target longer than 100 bytes (pax linkpath)" "$long" "$(readlink "$tmp/xp/p/proc/4242/fd/7")"
is "a path longer than 255 bytes (pax path)" "DEVNAME=deepnode" "$(cat "$tmp/xp/p/$(realpath --relative-to="$h" "$h/$deep")/uevent" 2>&1)"
has_plan=$(run plan --state-dir "$tmp/none" --xml "$top_srcdir/examples/win11-dgpu.xml" --sysroot "$tmp/xp/p")
is "the holder is in the plan from the dump" "pid 4242 (blender, session-2.scope) holds /dev/dri/renderD129" \
        "$(grep -o 'pid 4242 (blender.*renderD129' <<<"$has_plan" | head -n1)"
if command -v python3 >/dev/null 2>&1; then
        py=$(python3 -c 'import sys, tarfile
t = tarfile.open(sys.argv[1])
print(len(t.getmembers()), all(m.isdir() or m.isfile() or m.issym() for m in t.getmembers()))' "$tmp/p.tar" 2>&1)
        is "python tarfile reads it" "$(wc -l <<<"$names") True" "$py"
fi

out=$(run plan --xml "$top_srcdir/examples/win11-dgpu.xml" --sysroot "$tmp/p.tar")
is "the archive itself as --sysroot: exit 2 and what to do" "vfio-hook: cannot open the sysroot $tmp/p.tar: Not a directory (a dump is a tar archive: extract it with tar -xf, then give its directory)
exit 2" "$out"

# Never over a file, never through a link; stdout with '-'.
sum=$(md5sum <"$tmp/p.tar")
out=$(run dump --sysroot "$h" "$tmp/p.tar")
is "an existing file: exit 2" "exit 2" "$(tail -n1 <<<"$out")"
is "an existing file: the message" "vfio-hook: $tmp/p.tar exists: vfio-hook dump never replaces a file (name another one)" "$(head -n1 <<<"$out")"
is "an existing file: left as it was" "$sum" "$(md5sum <"$tmp/p.tar")"
ln -s "$tmp/elsewhere" "$tmp/link.tar"
out=$(run dump --sysroot "$h" "$tmp/link.tar")
is "a symlink: exit 2" "exit 2" "$(tail -n1 <<<"$out")"
if [ -e "$tmp/elsewhere" ]; then not_ok "a symlink: not followed"; else ok "a symlink: not followed"; fi
out=$(run dump --sysroot "$h" "$tmp/no/such/dir/x.tar")
is "no such directory: exit 1" "exit 1" "$(tail -n1 <<<"$out")"
is "no such directory: the message" "vfio-hook: cannot create $tmp/no/such/dir/x.tar: No such file or directory" "$(head -n1 <<<"$out")"
out=$(run dump a.tar b.tar)
is "two files: exit 2" "exit 2
vfio-hook: dump takes at most one FILE (see --help)" "$(tail -n1 <<<"$out")
$(head -n1 <<<"$out")"
is "stdout: the same entries under vfio-hook-dump/" "$(sed 's|^p/|vfio-hook-dump/|; s|^p$|vfio-hook-dump|' <<<"$names")" \
        "$("$front" dump --sysroot "$h" - | tar -tf -)"
(cd "$tmp" && "$front" dump --sysroot "$h" >/dev/null 2>&1)
is "the default name" 1 "$(cd "$tmp" && find . -maxdepth 1 -name 'vfio-hook-dump-*.tar' | grep -cE '^\./vfio-hook-dump-[0-9]{8}-[0-9]{6}\.tar$')"

# A dump of a dump is the same dump (the record of unit states carries over).
mkdir "$tmp/xq"
"$front" dump --sysroot "$tmp/xp/p" "$tmp/q.tar" 2>/dev/null && tar -xf "$tmp/q.tar" -C "$tmp/xq"
is "a dump of a dump: the same tree" "$(cd "$tmp/xp/p" && find . ! -name vfio-hook-dump | sort)" \
        "$(cd "$tmp/xq/q" && find . ! -name vfio-hook-dump | sort)"
is "a dump of a dump: the same unit states" "$(grep ^unit "$tmp/xp/p/vfio-hook-dump")" "$(grep ^unit "$tmp/xq/q/vfio-hook-dump")"

# ---- the guest's dump, kept from the VM test ----
if [ -f "$data/dump-guest.tar.gz" ]; then
        mkdir "$tmp/guest" && tar -xzf "$data/dump-guest.tar.gz" -C "$tmp/guest"
        g=$(ls -d "$tmp"/guest/*/)
        is "guest: plan from the dump is the guest's" "$(cat "$data/dump-guest.plan")" \
                "$("$front" plan --state-dir "$tmp/none" --sysroot "$g" --xml "$data/dump-guest-domain.xml")"
        is "guest: plan --json from the dump is the guest's" "$(cat "$data/dump-guest.plan.json")" \
                "$("$front" plan --json --state-dir "$tmp/none" --sysroot "$g" --xml "$data/dump-guest-domain.xml")"
        is "guest: check from the dump is the guest's" "$(cat "$data/dump-guest.check")" \
                "$("$front" check --sysroot "$g" --xml "$data/dump-guest-domain.xml")"
else
        not_ok "guest: tests/data/dump-guest.tar.gz is missing"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
