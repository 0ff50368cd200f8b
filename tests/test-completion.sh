#!/bin/bash
# The bash completion as bash runs it: subcommands, options before and after
# a subcommand, and domain names from virsh only when virsh is there and
# answers (a stand-in virsh on PATH plays libvirt).
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
bc=/usr/share/bash-completion/bash_completion
if [ ! -r "$bc" ]; then
        echo "SKIP: bash-completion is not installed (apt-get install bash-completion): $bc is missing"
        exit 77
fi
tmp=$(mktemp -d "$top_builddir/tests/tmp-completion.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
check() { # check NAME EXPECTED ACTUAL
        if [ "$2" = "$3" ]; then passed=$((passed + 1)); echo "ok - $1"
        else failed=$((failed + 1)); echo "not ok - $1"; echo "  expected: $2"; echo "  actual:   $3"; fi
}

# PATH for each case: timeout, and a virsh or none. The timeout logs the
# bound the completion asks for (checked below) and runs virsh under a
# bound sized for a loaded machine: under make -j16 check on two cores,
# starting the stand-in virsh can take longer than the completion's 2 s.
mkdir -p "$tmp/novirsh" "$tmp/virsh" "$tmp/badvirsh"
cat >"$tmp/novirsh/timeout" <<T
#!/bin/sh
echo "\$1" >>"$tmp/timeout.log"
shift
exec $(command -v timeout) 60 "\$@"
T
chmod +x "$tmp/novirsh/timeout"
for d in virsh badvirsh; do ln -s "$tmp/novirsh/timeout" "$tmp/$d/timeout"; done
cat >"$tmp/virsh/virsh" <<'V'
#!/bin/sh
# Answers only the read-only list the completion asks for.
[ "$*" = "-q -r -c qemu:///system list --all --name" ] || exit 1
printf 'win10\nwin11\nlinux\n\n'
V
printf '#!/bin/sh\necho "error: failed to connect" >&2\nexit 1\n' >"$tmp/badvirsh/virsh"
chmod +x "$tmp/virsh/virsh" "$tmp/badvirsh/virsh"

# complete PATHDIR LINE: the words bash would offer at the end of LINE,
# sorted; "ERROR" when the completion did not run to its end.
complete_line() {
        local out
        out=$(PATH="$tmp/$1" "$BASH" --norc --noprofile -c '
                . "$1" && . "$2" || exit 1
                COMP_LINE=$3 COMP_POINT=${#3}
                read -ra COMP_WORDS <<<"$3"
                [[ $3 == *" " ]] && COMP_WORDS+=("")
                COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
                _vfio_hook vfio-hook "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
                printf "%s\n" "${COMPREPLY[@]}" "--end--"
        ' _ "$bc" "$top_srcdir/completion/vfio-hook.bash" "$2") || { echo ERROR; return; }
        [ "$(tail -n1 <<<"$out")" = --end-- ] || { echo ERROR; return; }
        sed '$d' <<<"$out" | sed '/^$/d' | sort | paste -sd" "
}

check "subcommands" "check disable dump enable plan restore status" "$(complete_line novirsh 'vfio-hook ')"
check "enable: its options" "--device --dry-run" "$(complete_line novirsh 'vfio-hook enable --d')"
check "enable: domains" "linux win10 win11" "$(complete_line virsh 'vfio-hook enable --dry-run ')"
check "subcommand prefix" "plan" "$(complete_line novirsh 'vfio-hook pl')"
check "options" "--config --force --help --json --state-dir --sysroot --version --xml" "$(complete_line novirsh 'vfio-hook --')"
check "options before a subcommand" "check disable dump enable plan restore status" "$(complete_line novirsh 'vfio-hook --state-dir /tmp ')"
check "options of plan" "--config --json --sysroot --xml" "$(complete_line novirsh 'vfio-hook plan --')"
check "options of restore" "--force --state-dir" "$(complete_line novirsh 'vfio-hook restore --')"
check "domains from virsh" "win10 win11" "$(complete_line virsh 'vfio-hook plan win')"
check "domains after options" "linux win10 win11" "$(complete_line virsh 'vfio-hook --json check ')"
check "one domain only" "" "$(complete_line virsh 'vfio-hook restore win10 ')"
check "no domain after --xml" "" "$(complete_line virsh 'vfio-hook plan --xml a.xml ')"
check "no domains for status" "" "$(complete_line virsh 'vfio-hook status ')"
check "options of dump" "--config --state-dir --sysroot" "$(complete_line novirsh 'vfio-hook dump --')"
check "no domains for dump" "" "$(complete_line virsh 'vfio-hook dump win')"
check "no virsh: no domains" "" "$(complete_line novirsh 'vfio-hook plan ')"
check "virsh that fails: no domains" "" "$(complete_line badvirsh 'vfio-hook plan ')"
mkdir -p "$tmp/dirs/sysA" "$tmp/dirs/sysB" && touch "$tmp/dirs/sysC"
check "--sysroot completes directories" "$tmp/dirs/sysA $tmp/dirs/sysB" "$(complete_line novirsh "vfio-hook plan --sysroot $tmp/dirs/sys")"
check "virsh asked with a 2 s bound" "2" "$(sort -u "$tmp/timeout.log")"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
