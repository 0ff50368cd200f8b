#!/bin/sh
# The layers of src/ (src/Makemodule.am): each folder uses only the folders
# below it, and the pure ones need nothing of the host.
#  1. sources: a file includes headers of its own folder and those below;
#  2. objects: each library's undefined symbols that another of our
#     libraries defines are defined below it;
#  3. links: src/shared links with libc alone, src/model with src/shared,
#     libc and libxml2 alone (no libkmod, libvirt, sd-bus, libpci), and the
#     model imports nothing that reads the host (sysroot), runs a program
#     or loads a library.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=.}"
: "${CC:=cc}"
: "${NM:=nm}"
: "${LIBXML_LIBS:=-lxml2}"
layers="shared model host engine check cli"
fail=0
n=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/layers.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT

ok() { n=$((n + 1)); echo "ok - $1"; }
not_ok() { n=$((n + 1)); fail=1; echo "not ok - $1"; }

# The folders a layer may use: itself and those before it in $layers.
below() {
        out=""
        for l in $layers; do
                out="$out $l"
                [ "$l" = "$1" ] && break
        done
        echo "$out"
}

for l in $layers; do
        allowed=$(below "$l")
        bad=""
        for f in "$top_srcdir"/src/"$l"/*.[ch]; do
                for inc in $(sed -n 's/^#include "\([a-z]*\)\/.*/\1/p' "$f"); do
                        case " $allowed " in
                        *" $inc "*) ;;
                        *) bad="$bad ${f#"$top_srcdir"/}:$inc" ;;
                        esac
                done
                if grep -q '^#include "[^/]*"' "$f"; then
                        bad="$bad ${f#"$top_srcdir"/}:(no folder)"
                fi
        done
        if [ -z "$bad" ]; then ok "src/$l includes only from:$allowed"; else not_ok "src/$l includes from above:$bad"; fi
done

for l in $layers; do
        a=$top_builddir/src/$l/lib$l.a
        [ -f "$a" ] || { not_ok "$a not built"; continue; }
        "$NM" --defined-only "$a" 2>/dev/null | awk '$2 ~ /^[TDBR]$/ { print $3 }' | sort -u >"$tmp/def-$l"
        "$NM" -u "$a" 2>/dev/null | awk '{ print $NF }' | sort -u >"$tmp/und-$l"
        [ -s "$tmp/def-$l" ] || not_ok "$NM found nothing defined in $a"
done
for l in $layers; do
        allowed=$(below "$l")
        bad=""
        for m in $layers; do
                case " $allowed " in *" $m "*) continue ;; esac
                [ -f "$tmp/def-$m" ] || continue
                hits=$(comm -12 "$tmp/und-$l" "$tmp/def-$m" | tr '\n' ' ')
                [ -n "$hits" ] && bad="$bad [$m: $hits]"
        done
        if [ -z "$bad" ]; then ok "lib$l.a calls only into:$allowed"; else not_ok "lib$l.a calls above itself:$bad"; fi
done

printf 'int main(void) { return 0; }\n' >"$tmp/main.c"
link() {
        # Every object of the libraries, whether main() needs it or not.
        # shellcheck disable=SC2086 # CC and the libraries are word lists
        $CC -o "$tmp/a.out" "$tmp/main.c" -Wl,--whole-archive $1 -Wl,--no-whole-archive $2 >"$tmp/link.log" 2>&1
}
if link "$top_builddir/src/shared/libshared.a" ""; then
        ok "src/shared links with libc alone"
else
        not_ok "src/shared does not link with libc alone:"; sed 's/^/#   /' "$tmp/link.log" | head -20
fi
if link "$top_builddir/src/model/libmodel.a $top_builddir/src/shared/libshared.a" "$LIBXML_LIBS"; then
        ok "src/model links with src/shared, libc and libxml2 alone"
else
        not_ok "src/model does not link with src/shared, libc and libxml2 alone:"; sed 's/^/#   /' "$tmp/link.log" | head -20
fi
host=$(grep -E '^(sysroot_|spawn_|deadline_|process_|kmod_|vir|sd_bus|dlopen|dlsym|fork|exec|socket)' "$tmp/und-model" | tr '\n' ' ')
if [ -z "$host" ]; then ok "src/model imports nothing that reaches the host"; else not_ok "src/model imports $host"; fi

echo "$n checks"
exit $fail
