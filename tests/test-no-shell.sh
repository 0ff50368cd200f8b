#!/bin/sh
# No shell is ever run with input from a domain (docs/design.md, "Inputs and the trust boundary"):
#  1. the sources in src/ (comments left out) call no system(), popen() or
#     wordexp(), and name no shell ("/bin/sh", "sh", "-c") to exec;
#  2. the built binaries and the libraries of src/*/ import no system, popen
#     or wordexp.
# One exception, checked to stay exactly that: src/host/kmodops.c's run_install()
# runs root's own modprobe.d "install" commands with /bin/sh -c, as modprobe
# does (see README, SECURITY). libkmod would otherwise run them itself with
# system(); run_install is passed to kmod_module_probe_insert_module() only.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=.}"
fail=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/no-shell.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT

# C sources with comments blanked (strings and line numbers kept).
strip_comments() {
        awk '
        BEGIN { st = 0 }   # 0 code, 1 block comment, 2 string, 3 char
        {
                out = ""; n = length($0)
                for (i = 1; i <= n; i++) {
                        c = substr($0, i, 1); d = substr($0, i, 2)
                        if (st == 1) { if (d == "*/") { st = 0; i++; out = out "  " } else out = out " "; continue }
                        if (st == 2 || st == 3) {
                                out = out c
                                if (c == "\\") { out = out substr($0, i + 1, 1); i++; continue }
                                if ((st == 2 && c == "\"") || (st == 3 && c == "\047")) st = 0
                                continue
                        }
                        if (d == "/*") { st = 1; i++; out = out "  "; continue }
                        if (d == "//") break
                        if (c == "\"") st = 2
                        else if (c == "\047") st = 3
                        out = out c
                }
                if (st == 2 || st == 3) st = 0
                print out
        }' "$1"
}

# The enclosing function of each line: the last definition at column 0.
function_of() {
        awk -v want="$2" '
        /^[A-Za-z_][A-Za-z_0-9 \*]*[ \*]([A-Za-z_][A-Za-z_0-9]*)\(/ && !/;[[:space:]]*$/ {
                s = $0; sub(/\(.*/, "", s); sub(/.*[ \*]/, "", s); fn = s
        }
        NR == want { print fn; exit }' "$1"
}

pattern='(^|[^_[:alnum:].>])(system|popen|wordexp)[[:space:]]*\(|"(/usr)?/bin/(ba|da|z|k|c|tc)?sh"|"(ba|da|z|k|c|tc)?sh"[[:space:]]*,[[:space:]]*"-c"|exec[lv]p?e?[[:space:]]*\([[:space:]]*"(/usr)?/bin/|"-c"'

allowed=0
for f in "$top_srcdir"/src/*/*.c "$top_srcdir"/src/*/*.h; do
        rel=${f#"$top_srcdir"/}
        strip_comments "$f" >"$tmp/code"
        grep -nE "$pattern" "$tmp/code" >"$tmp/hits" || continue
        while IFS= read -r hit; do
                line=${hit%%:*}
                text=${hit#*:}
                fn=$(function_of "$tmp/code" "$line")
                if [ "$rel" = src/host/kmodops.c ] && [ "$fn" = run_install ]; then
                        case $text in
                        *'const char *argv[] = { "sh", "-c", cmdline, NULL };'*|*'spawn_run_env("/bin/sh", argv, env,'*)
                                allowed=$((allowed + 1))
                                continue ;;
                        esac
                fi
                echo "FAIL: $rel:$line (in ${fn:-?}): a shell invocation:$text"
                fail=1
        done <"$tmp/hits"
done

# The exception is exactly the two lines of run_install, and run_install is
# only libkmod's install callback.
if [ $allowed -ne 0 ] && [ $allowed -ne 2 ]; then
        echo "FAIL: src/host/kmodops.c: run_install changed shape ($allowed shell lines): review it and this test"
        fail=1
fi
uses=$(strip_comments "$top_srcdir/src/host/kmodops.c" | grep -c 'run_install')
calls=$(strip_comments "$top_srcdir/src/host/kmodops.c" | grep -cE 'kmod_module_probe_insert_module\(.*run_install')
if [ "$uses" -gt 0 ] && { [ "$uses" -ne 2 ] || [ "$calls" -ne 1 ]; }; then
        echo "FAIL: src/host/kmodops.c: run_install must be used only as kmod_module_probe_insert_module()'s callback"
        fail=1
fi
if grep -lE 'run_install' "$top_srcdir"/src/*/*.c | grep -v '/kmodops\.c$' >/dev/null; then
        echo "FAIL: run_install is used outside src/host/kmodops.c"
        fail=1
fi
echo "sources: no shell invocation but root's modprobe.d install commands in src/host/kmodops.c:run_install"

# The binaries: nothing imports system, popen or wordexp.
NM=${NM:-nm}
checked=0
for b in vfio-hook vfio-hook-engine src/shared/libshared.a src/model/libmodel.a src/host/libhost.a src/engine/libengine.a src/check/libcheck.a src/cli/libcli.a; do
        p=$top_builddir/$b
        if [ ! -e "$p" ]; then
                echo "FAIL: $p not built"
                fail=1
                continue
        fi
        case $b in
        *.a) "$NM" -u "$p" 2>/dev/null ;;
        *) "$NM" -D --undefined-only "$p" 2>/dev/null ;;
        esac | awk '{ print $NF }' | sed 's/@.*//' | sort -u >"$tmp/syms"
        if [ ! -s "$tmp/syms" ]; then
                echo "FAIL: $NM found no undefined symbols in $p"
                fail=1
                continue
        fi
        bad=$(grep -xE 'system|popen|wordexp|__libc_system' "$tmp/syms" | tr '\n' ' ')
        if [ -n "$bad" ]; then
                echo "FAIL: $b imports $bad"
                fail=1
        fi
        checked=$((checked + 1))
done
echo "binaries: $checked checked for system, popen, wordexp"
exit $fail
