#!/bin/bash
# Builds the libFuzzer targets with clang (AddressSanitizer, LeakSanitizer,
# UBSan) and runs each in turn for FUZZ_SECONDS (default 60). Fails on any
# crash, leak, timeout or sanitizer report; the input that did it is kept as
# tests/fuzz/work/TARGET/crash-* in the build tree. Run by `make fuzz`:
#
#   make fuzz                                  every target, 60 s each
#   make fuzz FUZZ_SECONDS=600 FUZZ_TARGETS=journal
#
# Environment (set by the make rule): top_srcdir, top_builddir, CLANG,
# FUZZ_CPPFLAGS (config.h, -I, libxml2's cflags), FUZZ_LIBS (libxml2).
# Each target's corpus grows in tests/fuzz/work/TARGET/corpus (kept across
# runs); the seeds in $top_srcdir/tests/fuzz/corpus/TARGET are read only.
# Nothing is downloaded.
set -euo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
CLANG=${CLANG:-clang}
secs=${FUZZ_SECONDS:-60}
src=$top_srcdir/src
fz=$top_srcdir/tests/fuzz
out=$top_builddir/tests/fuzz
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(domxml journal config procfs)

case $secs in
''|*[!0-9]*) echo "run-fuzz: FUZZ_SECONDS must be a number of seconds, not '$secs'" >&2; exit 2 ;;
esac

# Every target builds from the pure libraries' sources alone (src/shared and
# src/model: the parsers and what they call), which is also a check that they
# need nothing of the host's.
sources() {
        case $1 in
        domxml | domedit | journal | config | procfs)
                (cd "$src" && ls shared/*.c model/*.c | sed 's/\.c$//') ;;
        *) return 1 ;;
        esac
}
# Longest input: the domain XML examples are ~5 KiB.
max_len() {
        case $1 in
        domxml) echo 16384 ;;
        domedit) echo 16384 ;;
        *) echo 4096 ;;
        esac
}

mkdir -p "$out"
if ! command -v "$CLANG" >/dev/null 2>&1; then
        echo "run-fuzz: $CLANG not found: install the Debian packages clang and libclang-rt-14-dev" >&2
        exit 1
fi
probe=$out/.probe
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);\nint LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return 0; }\n' >"$probe.c"
if ! "$CLANG" -fsanitize=fuzzer,address,undefined -o "$probe" "$probe.c" >"$probe.log" 2>&1; then
        cat "$probe.log" >&2
        echo "run-fuzz: $CLANG cannot build libFuzzer targets: install the Debian package libclang-rt-14-dev" >&2
        exit 1
fi
rm -f "$probe" "$probe.c" "$probe.log"

# shellcheck disable=SC2086 # FUZZ_CPPFLAGS and FUZZ_LIBS are word lists
build() {
        local t=$1 files=()
        for f in $(sources "$t"); do
                files+=("$src/$f.c")
        done
        echo "  CLANG    tests/fuzz/fuzz-$t"
        "$CLANG" -std=gnu11 -g -O1 -fno-omit-frame-pointer \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
                -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
                ${FUZZ_CPPFLAGS:-} -I"$src" \
                -o "$out/fuzz-$t" "$fz/fuzz-$t.c" "${files[@]}" ${FUZZ_LIBS:-}
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=1:check_initialization_order=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

failed=()
summary=()
for t in "${targets[@]}"; do
        sources "$t" >/dev/null || { echo "run-fuzz: unknown target '$t' (domxml, domedit, journal, config, procfs)" >&2; exit 2; }
        build "$t"
done
for t in "${targets[@]}"; do
        work=$out/work/$t
        mkdir -p "$work/corpus"
        log=$work/fuzz.log
        dict=()
        [ -f "$fz/$t.dict" ] && dict=(-dict="$fz/$t.dict")
        echo "== fuzz-$t for ${secs}s (log: $log)"
        rc=0
        "$out/fuzz-$t" -max_total_time="$secs" -max_len="$(max_len "$t")" -timeout=10 -rss_limit_mb=2048 \
                -error_exitcode=77 -timeout_exitcode=78 -detect_leaks=1 -print_final_stats=1 \
                -artifact_prefix="$work/" "${dict[@]}" \
                "$work/corpus" "$fz/corpus/$t" >"$log" 2>&1 || rc=$?
        done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
        rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
        corp=$(find "$work/corpus" -type f | wc -l)
        line="fuzz-$t: ${secs}s, ${execs:-?} execs, ${rate:-?} exec/s, peak ${rss:-?} MB; ${done_line:-no final stats}; corpus $corp files"
        if [ $rc -ne 0 ] || grep -qE '^==[0-9]+==ERROR|runtime error:|ERROR: libFuzzer' "$log"; then
                echo "FAIL $line (exit $rc)" >&2
                grep -E -A30 '^==[0-9]+==ERROR|runtime error:|ERROR: libFuzzer|Test unit written' "$log" | head -60 >&2 || true
                failed+=("$t")
        else
                echo "ok   $line"
        fi
        summary+=("$line")
done

echo "== fuzz summary"
printf '  %s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
        echo "run-fuzz: failed: ${failed[*]} (reproduce: $out/fuzz-TARGET $out/work/TARGET/crash-...)" >&2
        exit 1
fi
