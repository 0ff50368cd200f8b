#!/bin/bash
# The manual pages pass mandoc's linter with no warning, and man-db's
# renderer (groff) with none either when it is installed.
set -u
: "${top_srcdir:?}"
pages=("$top_srcdir"/man/vfio-hook.8 "$top_srcdir"/man/vfio-hook.conf.5 "$top_srcdir"/man/vfio-hook-policy.5)
if ! command -v mandoc >/dev/null; then
        echo "SKIP: mandoc is not installed (apt-get install mandoc): the manual pages were not linted"
        exit 77
fi
passed=0 failed=0
for p in "${pages[@]}"; do
        # -W warning: warnings and errors; the "style" level depends on which
        # other manuals this machine has installed.
        out=$(mandoc -Tlint -W warning "$p" 2>&1)
        if [ $? -eq 0 ] && [ -z "$out" ]; then
                passed=$((passed + 1)); echo "ok - mandoc -Tlint $(basename "$p")"
        else
                failed=$((failed + 1)); echo "not ok - mandoc -Tlint $(basename "$p")"; echo "$out"
        fi
        if command -v man >/dev/null && command -v groff >/dev/null; then
                out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$p" 2>&1 >/dev/null)
                if [ -z "$out" ]; then
                        passed=$((passed + 1)); echo "ok - man --warnings $(basename "$p")"
                else
                        failed=$((failed + 1)); echo "not ok - man --warnings $(basename "$p")"; echo "$out"
                fi
        fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
