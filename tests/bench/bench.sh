#!/bin/bash
# vfio-hook's benchmarks: figures, never a pass/fail test (make bench runs
# this; make check does not).
#
# Usage: tests/bench/bench.sh [OPTIONS] [BUILDDIR]
#   BUILDDIR            a configured and built build directory (default:
#                       $VFIO_HOOK_BUILDDIR, else the current directory); it
#                       needs vfio-hook, vfio-hook-engine and tests/mkhost
#                       (`make bench` builds them)
#   --only PARTS        comma-separated: fast, scale, vm (default: all)
#   --runs N            fast path: calls per program and round (200)
#   --rounds N          fast path: rounds (3); the spread is the range of
#                       the rounds' medians
#   --scale-runs N      scale: runs per case (20)
#   --sizes "A B C"     scale: PCI functions of the generated hosts
#                       (256 1024 4096)
#   --hostdevs "A B C"  scale: hostdevs of the domain (1 16 64)
#   --vm-cycles N       hand-off: start/destroy cycles of each hook (5)
#
# Parts:
#   fast   the hook called by libvirt for a domain without policy (what
#          happens for nearly every call), beside a C program that only reads
#          stdin (the floor), a bash dispatcher as the common hook helpers
#          write it, the engine called directly, and the floor linked against
#          libvirt the usual way; timed by tests/bench/timeexec (fork, XML on
#          a pipe, exec, wait4), interleaved.
#   scale  `vfio-hook plan --json --xml X --sysroot T` on generated SR-IOV
#          hosts (tests/bench/gen-host.sh, built with tests/mkhost).
#   vm     the single-GPU hand-off in the end-to-end guest (tests/vm/),
#          vfio-hook beside tests/bench/guide-hook.sh and the kernel's own
#          step times; skipped with the reason when that is not possible.
#
# Environment: VFIO_HOOK_BENCH_DIR (work directory for the generated hosts and
# the helper programs; default BUILDDIR/bench-work, never the source tree),
# CC (default cc).
set -euo pipefail

BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRCDIR=$(cd "$BENCH_SRC/../.." && pwd)

BUILDDIR=${VFIO_HOOK_BUILDDIR:-$PWD}
PARTS=fast,scale,vm
RUNS=200 ROUNDS=3 SCALE_RUNS=20
SIZES="256 1024 4096" HOSTDEVS="1 16 64" VM_CYCLES=5
while (($#)); do
	case $1 in
	--only) PARTS=$2 && shift 2 ;;
	--runs) RUNS=$2 && shift 2 ;;
	--rounds) ROUNDS=$2 && shift 2 ;;
	--scale-runs) SCALE_RUNS=$2 && shift 2 ;;
	--sizes) SIZES=$2 && shift 2 ;;
	--hostdevs) HOSTDEVS=$2 && shift 2 ;;
	--vm-cycles) VM_CYCLES=$2 && shift 2 ;;
	-h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' && exit 0 ;;
	-*) echo "bench.sh: unknown option '$1' (--help)" >&2 && exit 2 ;;
	*) BUILDDIR=$1 && shift ;;
	esac
done
BUILDDIR=$(cd "$BUILDDIR" && pwd)
WORK=${VFIO_HOOK_BENCH_DIR:-$BUILDDIR/bench-work}
CC=${CC:-cc}
FRONT=$BUILDDIR/vfio-hook
ENGINE=$BUILDDIR/vfio-hook-engine
MKHOST=$BUILDDIR/tests/mkhost

die() { echo "bench.sh: $*" >&2 && exit 1; }
part() { [[ ,$PARTS, == *,$1,* ]]; }
[[ -x $FRONT && -x $ENGINE ]] || die "no vfio-hook and vfio-hook-engine in $BUILDDIR (build the project first, or give the build directory)"
# Never into the sources; a build directory inside the source tree (build/) is fine.
case $WORK in "$BUILDDIR" | "$BUILDDIR"/*) ;; "$SRCDIR" | "$SRCDIR"/*) die "the work directory $WORK is in the source tree" ;; esac
mkdir -p "$WORK"

# Figures: fmt NUMBER [DECIMALS]; ratio A B [DECIMALS].
fmt() { awk -v x="$1" -v d="${2:-2}" 'BEGIN { printf "%.*f", d, x }'; }
ratio() { awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { if (b > 0) printf "%.*f", d, a / b; else printf "-" }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
# field LINE KEY: a key=value of a timeexec line.
field() { tr '\t' '\n' <<<"$1" | sed -n "s/^$2=//p"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

TARGETS=()
target() { # MET|MISSED TEXT
	TARGETS+=("$(printf '%-6s %s' "$1" "$2")")
}

# ---------------------------------------------------------------- the machine

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
[[ -n $cpu ]] || cpu=$(uname -m)
echo "vfio-hook benchmarks -- figures, not a test"
echo "  machine:  $cpu; $(nproc) cores online ($(grep -c '^processor' /proc/cpuinfo) in /proc/cpuinfo), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM"
echo "  kernel:   $(uname -srm)"
# shellcheck disable=SC1091
echo "  os:       $(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-?}")"
echo "  date:     $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "  build:    $BUILDDIR ($("$ENGINE" --version 2>/dev/null | head -n1); CFLAGS $(sed -n "s/^CFLAGS = //p" "$BUILDDIR/Makefile" 2>/dev/null | head -n1))"
echo "  load:     $(load) (1, 5, 15 min) at the start"
echo

# ---------------------------------------------------------------- helpers

TIMEEXEC=$WORK/timeexec
build_helpers() {
	local out=$WORK/build.log
	: >"$out"
	if [[ ! -x $TIMEEXEC || $BENCH_SRC/timeexec.c -nt $TIMEEXEC ]]; then
		$CC -O2 -Wall -o "$TIMEEXEC" "$BENCH_SRC/timeexec.c" >>"$out" 2>&1 || die "cannot build timeexec: $(cat "$out")"
	fi
	if [[ ! -x $WORK/floor || $BENCH_SRC/floor.c -nt $WORK/floor ]]; then
		$CC -O2 -o "$WORK/floor" "$BENCH_SRC/floor.c" >>"$out" 2>&1 || die "cannot build the floor program: $(cat "$out")"
	fi
}
build_helpers

# ---------------------------------------------------------------- fast path

fast_path() {
	local xml=$WORK/domain-12k.xml hooks=$WORK/hooks out=$WORK/fast.out libs
	bash "$BENCH_SRC/gen-domain.sh" --name win10 --size 12288 >"$xml"
	grep -q 'urn:vfio-hook' "$xml" && die "the generated XML names our namespace"

	# The bash dispatcher installed the way it is used: as hooks/qemu, with a
	# qemu.d/ beside it that has hooks for another domain only.
	rm -rf "$hooks"
	mkdir -p "$hooks/qemu.d/other-vm/prepare/begin"
	cp "$BENCH_SRC/bash-dispatcher.sh" "$hooks/qemu"
	chmod +x "$hooks/qemu"
	printf '#!/bin/sh\nexit 0\n' >"$hooks/qemu.d/other-vm/prepare/begin/10-start.sh"
	chmod +x "$hooks/qemu.d/other-vm/prepare/begin/10-start.sh"

	# The front must not exec the engine for this domain: with an engine
	# that fails, it still exits 0.
	local fast_ok=yes
	VFIO_HOOK_ENGINE=/bin/false "$FRONT" win10 prepare begin - <"$xml" >/dev/null 2>&1 || fast_ok=no

	local cmds=(floor "$WORK/floor"
		::: front "$FRONT" win10 prepare begin -
		::: bash "$hooks/qemu" win10 prepare begin -
		::: engine "$ENGINE" win10 prepare begin -)
	# The usual way: the floor linked against libvirt, libxml2 and libkmod.
	local linked=''
	# shellcheck disable=SC2086 # one word per flag
	if libs=$(pkg-config --libs libvirt libxml-2.0 libkmod 2>/dev/null) &&
		$CC -O2 -o "$WORK/floor-linked" "$BENCH_SRC/floor.c" -Wl,--no-as-needed $libs >>"$WORK/build.log" 2>&1; then
		linked=$(ldd "$WORK/floor-linked" | grep -c '=>' || true)
		cmds+=(::: linked "$WORK/floor-linked")
	fi

	echo "1. Fast path: \`vfio-hook win10 prepare begin -\` for a domain without policy"
	echo "   $(wc -c <"$xml") bytes of domain XML on a pipe; $ROUNDS rounds of $RUNS calls per program, interleaved"
	echo "   (tests/bench/timeexec: fork, write the XML, exec, wait4; load $(load))"
	"$TIMEEXEC" -n "$RUNS" -r "$ROUNDS" -w 10 -i "$xml" "${cmds[@]}" >"$out" || die "a program failed in the fast-path benchmark: $(cat "$out")"

	local floor_line floor_med
	floor_line=$(grep '^floor' "$out")
	floor_med=$(field "$floor_line" median_ms)
	printf '   %-52s %9s %7s %13s %7s %7s %10s\n' program "median ms" "p90 ms" "round medians" "x floor" "CPU ms" "peak RSS"
	local label desc line med p90 rounds rss spread
	for label in floor front bash engine linked; do
		line=$(grep "^$label	" "$out") || continue
		case $label in
		floor) desc="floor: C program that only reads stdin (cc -O2)" ;;
		front) desc="vfio-hook (the front: libc only)" ;;
		bash) desc="bash dispatcher (bash-dispatcher.sh, cat + find)" ;;
		engine) desc="vfio-hook-engine as the hook (libxml2, libkmod)" ;;
		linked) desc="floor linked to libvirt+libxml2+libkmod ($linked libs)" ;;
		esac
		med=$(field "$line" median_ms) p90=$(field "$line" p90_ms) rss=$(field "$line" rss_max_kib)
		rounds=$(field "$line" round_medians_ms)
		spread="$(tr ',' '\n' <<<"$rounds" | sort -g | head -n1)-$(tr ',' '\n' <<<"$rounds" | sort -g | tail -n1)"
		printf '   %-52s %9s %7s %13s %7s %7s %6s KiB\n' "$desc" "$(fmt "$med")" "$(fmt "$p90")" \
			"$(awk -v s="$spread" 'BEGIN { split(s, a, "-"); printf "%.2f-%.2f", a[1], a[2] }')" \
			"$(ratio "$med" "$floor_med")" "$(fmt "$(field "$line" cpu_med_ms)")" "$rss"
		if [[ $label == front ]]; then
			FRONT_MED=$med FRONT_RSS=$rss
		fi
	done
	echo "   front did not exec the engine for this domain: $fast_ok"
	echo "   (CPU: median user + system time; peak RSS: the child's ru_maxrss from wait4, max over all calls)"
	echo

	local r
	r=$(ratio "$FRONT_MED" "$floor_med")
	if le "$r" 1.4; then target MET "fast path ${r}x the floor (target: within 1.4x)"; else target MISSED "fast path ${r}x the floor (target: within 1.4x)"; fi
	if ((FRONT_RSS <= 4096)); then target MET "fast path peak RSS $FRONT_RSS KiB (target: at most 4096 KiB)"; else target MISSED "fast path peak RSS $FRONT_RSS KiB (target: at most 4096 KiB)"; fi
	[[ $fast_ok == yes ]] || target MISSED "the front execs the engine for a domain without policy"
}

# ---------------------------------------------------------------- scale

# host_tree N: the tree of a generated N-function host, built once and kept
# in the work directory (rebuilt when the spec or mkhost changes).
host_tree() {
	local n=$1 dir=$WORK/hosts/$1 spec
	spec=$(bash "$BENCH_SRC/gen-host.sh" "$n")
	if [[ -f $dir.host && -f $dir/.complete && $(<"$dir.host") == "$spec" && ! $MKHOST -nt $dir/.complete ]]; then
		echo "$dir"
		return 0
	fi
	mkdir -p "$WORK/hosts"
	rm -rf "$dir"
	printf '%s\n' "$spec" >"$dir.host"
	"$MKHOST" "$dir.host" "$dir" >&2 || die "mkhost $dir.host failed"
	touch "$dir/.complete"
	echo "$dir"
}

scale() {
	if [[ ! -x $MKHOST ]]; then
		echo "2. Scale: skipped: no $MKHOST (make tests/mkhost, or make bench)"
		echo
		return 0
	fi
	local n k tree xml out=$WORK/scale.out cmds=() t0 built=()
	t0=$SECONDS
	for n in $SIZES; do
		tree=$(host_tree "$n")
		for k in $HOSTDEVS; do
			xml=$WORK/scale-$n-$k.xml
			# shellcheck disable=SC2046 # one --hostdev per address
			bash "$BENCH_SRC/gen-domain.sh" --name bench-vf --stack none \
				$(bash "$BENCH_SRC/gen-host.sh" --vfs "$n" "$k" | sed 's/^/--hostdev /') >"$xml"
			# The plan must be what we think we time: K detach steps, no problems.
			local plan steps problems
			plan=$("$ENGINE" plan --json --xml "$xml" --sysroot "$tree" 2>&1) || die "plan for $n functions, $k hostdevs failed: $plan"
			steps=$(grep -o '"detach-device"' <<<"$plan" | wc -l)
			problems=$(grep -o '"code"' <<<"$plan" | wc -l || true)
			((steps == k && problems == 0)) || die "plan for $n functions, $k hostdevs: $steps detach steps, $problems problems: $(head -c 600 <<<"$plan")"
			((${#cmds[@]})) && cmds+=(:::)
			cmds+=("p$n-$k" "$ENGINE" plan --json --xml "$xml" --sysroot "$tree")
		done
		built+=("$n")
	done
	cmds+=(::: version "$ENGINE" --version)
	local loaded
	loaded=$(LD_DEBUG=libs "$ENGINE" plan --json --xml "$WORK/scale-${n}-${k}.xml" --sysroot "$tree" 2>&1 >/dev/null |
		sed -n 's/.*calling init: //p' | xargs -r -n1 basename | sort -u | tr '\n' ' ')

	echo "2. Scale: \`vfio-hook plan --json --xml X --sysroot T\` on generated SR-IOV hosts"
	echo "   (E810 VFs on iavf, each in its own IOMMU group; domain policy <stack>none</stack>; hosts ready in $((SECONDS - t0)) s)"
	echo "   median of $SCALE_RUNS runs each, interleaved, ms (peak RSS); load $(load)"
	"$TIMEEXEC" -n "$SCALE_RUNS" -w 3 "${cmds[@]}" >"$out" || die "plan failed in the scale benchmark: $(cat "$out")"

	local line hdr l
	hdr=$(printf '   %-10s' functions)
	for k in $HOSTDEVS; do hdr+=$(printf ' %24s' "$k hostdev$( ((k > 1)) && echo s)"); done
	echo "$hdr"
	declare -A MED CPU RSS
	for n in $SIZES; do
		line=$(printf '   %-10s' "$n")
		for k in $HOSTDEVS; do
			l=$(grep "^p$n-$k	" "$out")
			MED[$n-$k]=$(field "$l" median_ms)
			CPU[$n-$k]=$(field "$l" cpu_med_ms)
			RSS[$n-$k]=$(field "$l" rss_max_kib)
			line+=$(printf ' %24s' "$(fmt "${MED[$n-$k]}") / $(fmt "${CPU[$n-$k]}")  $(fmt "$(awk -v r="${RSS[$n-$k]}" 'BEGIN { print r / 1024 }')" 1)M")
		done
		echo "$line"
	done
	local vline vmed vcpu
	vline=$(grep '^version	' "$out")
	vmed=$(field "$vline" median_ms) vcpu=$(field "$vline" cpu_med_ms)
	echo "   (cells: wall ms / CPU ms (user + system), peak RSS; the cost of exec and loading the engine's"
	echo "    libraries alone, vfio-hook-engine --version: $(fmt "$vmed") / $(fmt "$vcpu") ms, $(field "$vline" rss_max_kib) KiB)"

	# Growth between consecutive sizes: the ratio of the wall times, and of
	# the CPU times net of the exec cost above ("net", where that is at least
	# 0.5 ms); linear in the functions would be the ratio of the sizes. Then
	# the CPU time each added function costs: rising with the size means a
	# term worse than linear, even while the ratios stay below the sizes'.
	local prev='' worst=0 w net f
	for n in $SIZES; do
		if [[ -n $prev ]]; then
			f=$(ratio "$n" "$prev" 4)
			line=$(printf '   %-10s' "$prev->$n")
			for k in $HOSTDEVS; do
				w=$(ratio "${MED[$n-$k]}" "${MED[$prev-$k]}")
				net=$(awk -v a="${CPU[$n-$k]}" -v b="${CPU[$prev-$k]}" -v v="$vcpu" \
					'BEGIN { a -= v; b -= v; if (b >= 0.5) printf "%.2f", a / b; else printf "-" }')
				line+=$(printf ' %24s' "x$w (net x$net)")
				for x in "$w" "$net"; do
					[[ $x == - ]] && continue
					awk -v x="$x" -v m="$worst" -v f="$f" 'BEGIN { exit !(x / f > m) }' &&
						worst=$(awk -v x="$x" -v f="$f" 'BEGIN { printf "%.2f", x / f }')
				done
			done
			echo "$line   (x$(ratio "$n" "$prev" 0) functions)"
		fi
		prev=$n
	done
	local rise=0 first last s
	line=$(printf '   %-10s' "CPU us/fn")
	for k in $HOSTDEVS; do
		local sl='' prev='' first='' last=''
		for n in $SIZES; do
			if [[ -n $prev ]]; then
				s=$(awk -v a="${CPU[$n-$k]}" -v b="${CPU[$prev-$k]}" -v na="$n" -v nb="$prev" 'BEGIN { printf "%.2f", (a - b) * 1000 / (na - nb) }')
				sl+="${sl:+, }$s"
				[[ -n $first ]] || first=$s
				last=$s
			fi
			prev=$n
		done
		line+=$(printf ' %24s' "$sl")
		awk -v a="$first" -v b="$last" -v m="$rise" 'BEGIN { exit !(a > 0.05 && b / a > m) }' &&
			rise=$(ratio "$last" "$first")
	done
	echo "$line   (CPU time per added PCI function between the sizes, us)"
	echo "   libraries plan --xml loads: ${loaded:-?}"
	echo

	local big=${SIZES##* } kk=${HOSTDEVS##* }
	local big_med=${MED[$big-$kk]} big_cpu=${CPU[$big-$kk]}
	if le "$big_med" 20; then
		target MET "plan on $big functions with $kk hostdevs $(fmt "$big_med") ms wall, $(fmt "$big_cpu") ms CPU (target: at most 20 ms)"
	else
		target MISSED "plan on $big functions with $kk hostdevs $(fmt "$big_med") ms wall, $(fmt "$big_cpu") ms CPU (target: at most 20 ms)"
	fi
	local lin="plan time grows at most $worst of linear between sizes, net of exec (target: no worse than linear)"
	if awk -v r="$rise" 'BEGIN { exit !(r > 1.3) }'; then
		lin+="; but the CPU per added function rises x$rise with the size: a superlinear term"
	fi
	if awk -v w="$worst" 'BEGIN { exit !(w <= 1.0) }'; then target MET "$lin"; else target MISSED "$lin"; fi
	if [[ $loaded == *libvirt* ]]; then
		target MISSED "plan --xml loads libvirt"
	fi
}

# ---------------------------------------------------------------- the hand-off in the guest

vm() {
	echo "3. Hand-off in the end-to-end guest (virsh start/destroy: vfio-hook, guide-hook.sh, kernel floor)"
	local why
	if why=$(bash "$BENCH_SRC/vm-bench.sh" --check "$SRCDIR" 2>&1); then
		VFIO_HOOK_BUILDDIR=$BUILDDIR bash "$BENCH_SRC/vm-bench.sh" --run "$SRCDIR" "$VM_CYCLES" || {
			echo "   failed: see above"
			target MISSED "the hand-off benchmark in the guest did not complete"
		}
	else
		echo "   skipped: $why"
	fi
	echo
}

part fast && fast_path
part scale && scale
part vm && vm

echo "Targets (load at the end: $(load)):"
if ((${#TARGETS[@]})); then
	printf '   %s\n' "${TARGETS[@]}"
else
	echo "   (none measured)"
fi
exit 0
