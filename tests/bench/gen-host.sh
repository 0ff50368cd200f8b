#!/bin/bash
# Writes a .host spec (tests/data/README) of an SR-IOV server with N PCI
# functions in all, on stdout: a host bridge and a root port on bus 00, up to
# eight physical functions of an Intel E810 NIC (ice) on bus 01 and, below
# the root port, virtual functions (iavf) filling buses 02, 03, ... 256 to a
# bus, each function in its own IOMMU group, as with ACS.
#
# Usage: gen-host.sh N              the spec
#        gen-host.sh --vfs N K      K VF addresses spread evenly over the
#                                   VFs of the N-function host, one a line
set -euo pipefail

layout() { # N -> sets PFS and VFS
	local n=$1
	((n >= 4)) || { echo "gen-host.sh: N must be at least 4" >&2 && exit 2; }
	PFS=$(((n - 2 + 511) / 512))
	((PFS > 8)) && PFS=8
	VFS=$((n - 2 - PFS))
	((VFS <= 0xfe * 256)) || { echo "gen-host.sh: N is too large" >&2 && exit 2; }
}
vf_addr() { # index -> address
	printf '0000:%02x:%02x.%d' $((2 + $1 / 256)) $(($1 % 256 / 8)) $(($1 % 8))
}

if [[ ${1:-} == --vfs ]]; then
	layout "$2"
	k=$3
	((k >= 1 && k <= VFS)) || { echo "gen-host.sh: K must be 1..$VFS" >&2 && exit 2; }
	for ((i = 0; i < k; i++)); do
		vf_addr $((i * VFS / k))
		echo
	done
	exit 0
fi

n=${1:?usage: gen-host.sh N}
layout "$n"
echo "# gen-host.sh $n: $PFS physical and $VFS virtual functions"
echo "kernel 6.1.0-13-amd64"
echo "pci 0000:00:00.0 8086:09a2 060000 group=0"
echo "pci 0000:00:01.0 8086:347a 060400 group=1 secondary=01"
echo "module ice"
echo "module iavf"
for ((p = 0; p < PFS; p++)); do
	echo "pci 0000:01:00.$p 8086:1592 020000 driver=ice module=ice group=$((2 + p))"
done
g=$((2 + PFS))
for ((i = 0; i < VFS; i++)); do
	echo "pci $(vf_addr "$i") 8086:1889 020000 driver=iavf module=iavf group=$((g + i)) parent=0000:00:01.0"
done
