#!/bin/bash
# Install the build dependencies (Debian 12), build, and run every test:
# the unit tests, distcheck, the Debian package (built from the release
# tarball, linted, installed into scratch roots), a short fuzz of each
# parser, a clang build of the tree and its tests, the unit tests again
# under AddressSanitizer + LeakSanitizer + UBSan, and the end-to-end
# test in a QEMU guest (tests/vm; it installs its own packages and skips
# with a message when QEMU cannot start). CI's .ci/run runs exactly this.
#   tests/ci.sh [--no-vm]
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
jobs=$(nproc 2>/dev/null || echo 2)
vm=yes
[ "${1:-}" = --no-vm ] && vm=no

# The log of each test that failed in build directory $1 (all of each, not
# the tail of the last ones: a failure must show in CI's output).
failed_logs() {
        local trs
        for trs in "$1"/tests/*.trs; do
                grep -qE '^:test-result: (FAIL|ERROR|XPASS)' "$trs" || continue
                echo "---- ${trs%.trs}.log"
                tail -n 60 "${trs%.trs}.log"
        done
}

deps=(build-essential autoconf automake pkg-config libvirt-dev libxml2-dev libxml2-utils
      libkmod-dev libpci-dev libsystemd-dev check clang libclang-rt-14-dev
      mandoc man-db bash-completion debhelper dpkg-dev lintian)
missing=()
for p in "${deps[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
        echo "== installing: ${missing[*]}"
        if [ "$(id -u)" -ne 0 ]; then
                echo "ci.sh: run as root (or with sudo) to install the packages above" >&2
                exit 1
        fi
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q
        apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

echo "== autoreconf"
autoreconf -fi >/dev/null

echo "== build and unit tests"
mkdir -p build
# The prefixes of a real install: the guest test installs this build.
(cd build && "$top/configure" -q --enable-werror --prefix=/usr --sysconfdir=/etc --localstatedir=/var &&
        make -s -j"$jobs" && make -s -j"$jobs" check) || {
        failed_logs build
        exit 1
}
# make distcheck re-runs the suite from a tarball in a fresh VPATH build.
(cd build && make -s distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror >/dev/null)
echo "distcheck: ok"

echo "== the Debian package: build, lintian, install and remove beside a foreign hook"
# The suite ran twice above (build and distcheck): the package build skips it.
deblog=build/test-deb.log
bash tests/test-deb.sh build/vfio-hook-"$(sed -n 's/^PACKAGE_VERSION = //p' build/Makefile)".tar.xz 2>&1 | tee "$deblog"
rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] || exit 1

echo "== fuzzing the parsers of untrusted input (short run; make fuzz FUZZ_SECONDS=600 for a long one)"
(cd build && make -s fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-20}") || exit 1

echo "== clang: the tree and its tests build warning-free with -Werror"
# gcc built everything above; clang must too. (The sanitizer build below
# stays gcc's: clang's static ASan runtime resolves its XDR interceptors at
# start-up, before libvirt is dlopen()ed, and test-kmodops' libvirt worker
# died calling a null pointer from virNetMessageEncodeHeader.)
mkdir -p build-clang
(cd build-clang && "$top/configure" -q CC=clang --enable-werror && make -s -j"$jobs" &&
        make -s -j"$jobs" check TESTS=) || exit 1

echo "== the same under AddressSanitizer, LeakSanitizer and UBSan"
mkdir -p build-asan
(export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
 cd build-asan && "$top/configure" -q --enable-werror --enable-asan --enable-ubsan && make -s -j"$jobs" &&
        make -s -j"$jobs" check) || {
        failed_logs build-asan
        exit 1
}

vmlog=build/check-vm.log
: >"$vmlog"
if [ "$vm" = yes ]; then
        echo "== end-to-end: the installed hook in a QEMU guest with a console GPU (tests/vm)"
        set +e
        VFIO_HOOK_BUILDDIR="$top/build" bash tests/vm/run.sh check 2>&1 | tee "$vmlog"
        rc=${PIPESTATUS[0]}
        set -e
        if [ "$rc" = 77 ]; then
                echo "end-to-end tests skipped: QEMU cannot start on this machine"
        elif [ "$rc" != 0 ]; then
                exit 1
        fi
fi

# One closing line over every suite that ran.
awk '/^# PASS:/{p+=$3} /^# FAIL:/{f+=$3} /^# ERROR:/{f+=$3} /^# SKIP:/{s+=$3}
     /^[0-9]+ passed, [0-9]+ failed$/{p+=$1; f+=$3}
     END{printf "%d passed, %d failed, %d skipped\n", p, f, s}' \
        build/test-suite.log build-asan/test-suite.log "$deblog" "$vmlog"
