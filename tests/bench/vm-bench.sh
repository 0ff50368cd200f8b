#!/bin/bash
# The hand-off part of the benchmarks (bench.sh runs it): virsh start and
# destroy of a single-GPU domain in the end-to-end guest of tests/vm/, with
# vfio-hook, with tests/bench/guide-hook.sh, and the kernel's own steps done
# by hand (the floor). The guest side is tests/bench/vm-scenario.sh.
#
#   vm-bench.sh --check SRCDIR          exit 0 when this can run here; else
#                                       print why not and exit 1
#   vm-bench.sh --run SRCDIR CYCLES     run it and print the table (root);
#                                       VFIO_HOOK_BUILDDIR: the build to test;
#                                       VFIO_HOOK_BENCH_WITH: guest scenarios
#                                       to run first in the same boot
#
# What it needs of the harness (tests/vm/run.sh): to run a scenario file
# given from outside tests/vm, named in VFIO_HOOK_VM_EXTRA_SCENARIOS, with the
# time limit of its "# vm-limit: SECONDS" line; the scenario's "BENCH ..."
# lines (written to the report, fd 3) reach run.sh's output.
set -euo pipefail

BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MODE=${1:-}
SRCDIR=${2:-$(cd "$BENCH_SRC/../.." && pwd)}
VM=$SRCDIR/tests/vm

check() {
	# No /dev/kvm needed: the guest runs under TCG, and tests/vm/run.sh
	# installs QEMU and says (exit 77) when it cannot start it.
	[[ -x $VM/run.sh ]] || { echo "the end-to-end guest harness is not there ($VM/run.sh)" && return 1; }
	[[ -f $VM/README.md ]] || { echo "the end-to-end guest harness is not finished ($VM/README.md is missing)" && return 1; }
	grep -q VFIO_HOOK_VM_EXTRA_SCENARIOS "$VM/run.sh" ||
		{ echo "tests/vm/run.sh cannot run a scenario from outside tests/vm (VFIO_HOOK_VM_EXTRA_SCENARIOS); tests/bench/vm-scenario.sh is ready for it" && return 1; }
	[[ $(id -u) == 0 ]] || { echo "needs root (the guest harness builds its image with debootstrap and shares it over 9p)" && return 1; }
	return 0
}

# A / B with two decimals, "-" when either is not a number
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-" }'; }

# median of the numbers on stdin, "-" if none
median() { sort -g | awk '{ v[NR] = $1 } END { if (!NR) print "-"; else if (NR % 2) printf "%.1f", v[(NR + 1) / 2]; else printf "%.1f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

run() {
	local cycles=${1:-5} tmp log rc=0
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/vfio-hook-vm-bench.XXXXXX")
	# shellcheck disable=SC2064 # expand now
	trap "rm -rf '$tmp'" EXIT
	log=$tmp/run.log
	{
		grep -m1 '^# vm-limit:' "$BENCH_SRC/vm-scenario.sh"
		echo "VH_BENCH_CYCLES=$cycles"
		echo "VH_GUIDE_HOOK=\$(cat <<'VH_GUIDE_HOOK_EOF'"
		cat "$BENCH_SRC/guide-hook.sh"
		echo "VH_GUIDE_HOOK_EOF"
		echo ")"
		cat "$BENCH_SRC/vm-scenario.sh"
	} >"$tmp/bench-handoff.sh"

	echo "   running tests/vm/run.sh check bench-handoff ($cycles cycles of each hook; the guest's progress follows)"
	set +e
	# shellcheck disable=SC2086 # scenario names, one word each
	VFIO_HOOK_VM_EXTRA_SCENARIOS=$tmp/bench-handoff.sh "$VM/run.sh" check ${VFIO_HOOK_BENCH_WITH:-} bench-handoff 2>&1 |
		tee "$log" | grep --line-buffered -v '^BENCH ' | sed -u 's/^/   | /'
	rc=${PIPESTATUS[0]}
	set -e
	if ((rc == 77)); then
		echo "   skipped: the guest cannot start here (tests/vm/run.sh exit 77)"
		return 0
	fi
	grep '^BENCH note ' "$log" | sed 's/^BENCH note /   note: /' || true
	if ! grep -q '^BENCH [a-z-]* [0-9]' "$log"; then
		echo "   no figures from the guest (tests/vm/run.sh exit $rc)"
		return 1
	fi

	# BENCH HOOK CYCLE PHASE KEY MS -> medians over the cycles.
	local data=$tmp/bench.tsv
	awk '$1 == "BENCH" && $3 ~ /^[0-9]+$/ { print $2, $3, $4, $5, $6 }' "$log" >"$data"
	m() { awk -v h="$1" -v p="$2" -v k="$3" '$1 == h && $3 == p && $4 == k { print $5 }' "$data" | median; }
	# floor totals per cycle: virsh + the steps
	floor_total() {
		awk -v p="$1" '$1 == "floor" && $3 == p { s[$2] += $5 } END { for (c in s) print s[c] }' "$data" | median
	}
	# per cycle: the hook's time outside its steps, and virsh's outside the hook
	derived() { # HOOK PHASE KIND: rest | libvirt
		awk -v h="$1" -v p="$2" -v kind="$3" '
			$1 == h && $3 == p {
				if ($4 == "hook") hook[$2] = $5
				else if ($4 == "total" || $4 == "virsh") { if ($4 == (p == "start" ? "total" : "virsh")) tot[$2] = $5 }
				else if ($4 ~ /^(dm|vt|fb|mod|dev|sleep|wait)$/) steps[$2] += $5
			}
			END {
				for (c in hook)
					if (kind == "rest") print hook[c] - steps[c]
					else if (c in tot) print tot[c] - hook[c]
			}' "$data" | median
	}
	# per cycle: the floor's time for the steps the hook took (vfio-hook
	# keeps bochs for the second card: no module step to compare)
	floor_same() { # PHASE
		awk -v p="$1" '
			$1 == "vfio-hook" && $3 == p && $4 ~ /^(dm|vt|fb|mod|dev)$/ { used[$4] = 1 }
			$1 == "floor" && $3 == p && $4 != "virsh" { ms[$2, $4] = $5; cyc[$2] = 1; keys[$4] = 1 }
			END {
				for (c in cyc) {
					t = 0
					for (k in keys) if (k in used && (c, k) in ms) t += ms[c, k]
					print t
				}
			}' "$data" | median
	}
	# per cycle: the hook's own time (its whole run minus its steps) in % of its run
	own_pct() { # HOOK PHASE
		awk -v h="$1" -v p="$2" '
			$1 == h && $3 == p {
				if ($4 == "hook") hook[$2] = $5
				else if ($4 ~ /^(dm|vt|fb|mod|dev|sleep|wait)$/) steps[$2] += $5
			}
			END { for (c in hook) if (hook[c] > 0) print 100 * (hook[c] - steps[c]) / hook[c] }' "$data" | median
	}
	local n_v n_g
	n_v=$(awk '$1 == "vfio-hook" && $3 == "start" && $4 == "total"' "$data" | wc -l)
	n_g=$(awk '$1 == "guide" && $3 == "start" && $4 == "total"' "$data" | wc -l)
	row() { printf '   %-44s %12s %14s %12s\n' "$@"; }
	echo
	echo "   median over the cycles (vfio-hook $n_v, guide-hook.sh $n_g), ms; steps from the hook's log / trace"
	row "hand-off: virsh start until running" vfio-hook guide-hook.sh "floor"
	row "  stop the display manager" "$(m vfio-hook start dm)" "$(m guide start dm)" "$(m floor start dm)"
	row "  unbind the frame buffer consoles" "$(m vfio-hook start vt)" "$(m guide start vt)" "$(m floor start vt)"
	row "  unbind the firmware framebuffer" "$(m vfio-hook start fb)" "$(m guide start fb)" "-"
	row "  sleep 2" "-" "$(m guide start sleep)" "-"
	row "  unload the GPU modules" "$(m vfio-hook start mod)" "$(m guide start mod)" "$(m floor start mod)"
	row "  detach the devices to vfio-pci" "$(m vfio-hook start dev)" "$(m guide start dev)" "$(m floor start dev)"
	row "  the hook's work between the steps" "$(derived vfio-hook start rest)" "$(derived guide start rest)" "-"
	row "  the hook in all (its log / trace)" "$(m vfio-hook start hook)" "$(m guide start hook)" "$(floor_same start)"
	row "  the hook's own time, % of the hook" "$(own_pct vfio-hook start)" "$(own_pct guide start)" "-"
	row "  the hook / the floor (same steps)" "$(ratio "$(m vfio-hook start hook)" "$(floor_same start)")" \
		"$(ratio "$(m guide start hook)" "$(floor_same start)")" "1.00"
	row "  libvirt + QEMU (virsh start - the hook)" "$(derived vfio-hook start libvirt)" "$(derived guide start libvirt)" "$(m floor start virsh)"
	row "  virsh start, whole" "$(m vfio-hook start total)" "$(m guide start total)" "$(floor_total start)"
	row "hand-back: virsh destroy until restored" "" "" ""
	row "  reattach the devices" "$(m vfio-hook destroy dev)" "$(m guide destroy dev)" "$(m floor destroy dev)"
	row "  reload the GPU modules" "$(m vfio-hook destroy mod)" "$(m guide destroy mod)" "$(m floor destroy mod)"
	row "  rebind the firmware framebuffer" "$(m vfio-hook destroy fb)" "$(m guide destroy fb)" "-"
	row "  rebind the frame buffer consoles" "$(m vfio-hook destroy vt)" "$(m guide destroy vt)" "$(m floor destroy vt)"
	row "  start the display manager" "$(m vfio-hook destroy dm)" "$(m guide destroy dm)" "$(m floor destroy dm)"
	row "  wait for the host to be back (probes)" "$(m vfio-hook destroy wait)" "-" "-"
	row "  the hook's work between the steps" "$(derived vfio-hook destroy rest)" "$(derived guide destroy rest)" "-"
	row "  the hook in all (its log / trace)" "$(m vfio-hook destroy hook)" "$(m guide destroy hook)" "$(floor_same destroy)"
	row "  the hook's own time, % of the hook" "$(own_pct vfio-hook destroy)" "$(own_pct guide destroy)" "-"
	row "  the hook / the floor (same steps)" "$(ratio "$(m vfio-hook destroy hook)" "$(floor_same destroy)")" \
		"$(ratio "$(m guide destroy hook)" "$(floor_same destroy)")" "1.00"
	row "  libvirt + QEMU (virsh destroy - the hook)" "$(derived vfio-hook destroy libvirt)" "$(derived guide destroy libvirt)" "$(m floor destroy virsh)"
	row "  virsh destroy alone" "$(m vfio-hook destroy virsh)" "$(m guide destroy virsh)" "$(m floor destroy virsh)"
	row "  virsh destroy until the host is restored" "$(m vfio-hook destroy total)" "$(m guide destroy total)" "$(floor_total destroy)"
	echo "   (the hook in all: vfio-hook from the front's exec to the engine's exit (\"the hook ran N ms\");"
	echo "    its own time / work between the steps: that minus its steps, where the steps are the time"
	echo "    spent in systemd, the kernel's writes, libkmod and libvirt (guide-hook.sh: its [[ ]] tests,"
	echo "    modprobe vfio-pci). floor: each step by hand with systemctl, a write to bind, rmmod/modprobe,"
	echo "    and for the devices one virsh session running nodedev-detach (nodedev-reattach) of each device"
	echo "    separated by ';' in one connection; its \"hook in all\" sums the steps the hook took (vfio-hook"
	echo "    leaves bochs loaded for the second card); virsh start/destroy of the same devices with"
	echo "    managed='no'. The guest runs under TCG: absolute times are inflated, compare the columns)"
	((rc == 0)) || echo "   note: tests/vm/run.sh exit $rc (a scenario failed: see its output above)"
	return 0
}

case $MODE in
--check) check ;;
--run)
	why=$(check) || { echo "   skipped: $why" && exit 0; }
	run "${3:-5}"
	;;
*)
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
	exit 2
	;;
esac
