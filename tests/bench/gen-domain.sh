#!/bin/bash
# Writes a domain XML the way libvirt hands it to its hook on `prepare begin`
# (the live definition: id, aliases, seclabels) on stdout.
#
# Usage: gen-domain.sh [--name NAME] [--size BYTES] [--stack STACK]
#                      [--hostdev DDDD:BB:SS.F]...
#   --size BYTES   pad with more devices (disks, NICs, serial consoles,
#                  channels) until the document is at least BYTES long
#   --stack STACK  add our policy (<vh:policy>, <stack>STACK</stack>);
#                  without it the domain has no vfio-hook namespace at all
#   --hostdev A    a managed PCI <hostdev> with source address A (repeatable)
set -euo pipefail

name=win10 size=0 stack='' hostdevs=()
while (($#)); do
	case $1 in
	--name) name=$2 && shift 2 ;;
	--size) size=$2 && shift 2 ;;
	--stack) stack=$2 && shift 2 ;;
	--hostdev) hostdevs+=("$2") && shift 2 ;;
	*) echo "gen-domain.sh: unknown argument '$1'" >&2 && exit 2 ;;
	esac
done

out=''
add() { out+="$1"$'\n'; }

add "<domain type='kvm' id='7'>"
add "  <name>$name</name>"
add "  <uuid>6c4f0a3e-3b0e-4b59-9d2f-3f1c1d0a9e11</uuid>"
add "  <title>$name (benchmark)</title>"
if [[ -n $stack ]]; then
	add "  <metadata>"
	add "    <vh:policy xmlns:vh=\"urn:vfio-hook:policy:1\">"
	add "      <vh:stack>$stack</vh:stack>"
	add "      <vh:timeout>30</vh:timeout>"
	add "    </vh:policy>"
	add "  </metadata>"
else
	add "  <metadata>"
	add "    <libosinfo:libosinfo xmlns:libosinfo=\"http://libosinfo.org/xmlns/libvirt/domain/1.0\">"
	add "      <libosinfo:os id=\"http://microsoft.com/win/10\"/>"
	add "    </libosinfo:libosinfo>"
	add "  </metadata>"
fi
cat_head() {
	cat <<'EOF'
  <memory unit='KiB'>16777216</memory>
  <currentMemory unit='KiB'>16777216</currentMemory>
  <memoryBacking>
    <hugepages/>
  </memoryBacking>
  <vcpu placement='static'>8</vcpu>
  <cputune>
    <vcpupin vcpu='0' cpuset='2'/>
    <vcpupin vcpu='1' cpuset='8'/>
    <vcpupin vcpu='2' cpuset='3'/>
    <vcpupin vcpu='3' cpuset='9'/>
    <vcpupin vcpu='4' cpuset='4'/>
    <vcpupin vcpu='5' cpuset='10'/>
    <vcpupin vcpu='6' cpuset='5'/>
    <vcpupin vcpu='7' cpuset='11'/>
    <emulatorpin cpuset='0,6'/>
  </cputune>
  <resource>
    <partition>/machine</partition>
  </resource>
  <os firmware='efi'>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
    <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.ms.fd</loader>
    <nvram template='/usr/share/OVMF/OVMF_VARS_4M.ms.fd'>/var/lib/libvirt/qemu/nvram/win10_VARS.fd</nvram>
    <boot dev='hd'/>
  </os>
  <features>
    <acpi/>
    <apic/>
    <hyperv mode='custom'>
      <relaxed state='on'/>
      <vapic state='on'/>
      <spinlocks state='on' retries='8191'/>
      <vpindex state='on'/>
      <synic state='on'/>
      <stimer state='on'/>
      <vendor_id state='on' value='0123456789ab'/>
    </hyperv>
    <kvm>
      <hidden state='on'/>
    </kvm>
    <vmport state='off'/>
    <ioapic driver='kvm'/>
  </features>
  <cpu mode='host-passthrough' check='none' migratable='on'>
    <topology sockets='1' dies='1' cores='4' threads='2'/>
    <cache mode='passthrough'/>
    <feature policy='require' name='topoext'/>
  </cpu>
  <clock offset='localtime'>
    <timer name='rtc' tickpolicy='catchup'/>
    <timer name='pit' tickpolicy='delay'/>
    <timer name='hpet' present='no'/>
    <timer name='hypervclock' present='yes'/>
  </clock>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <pm>
    <suspend-to-mem enabled='no'/>
    <suspend-to-disk enabled='no'/>
  </pm>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='pci' index='0' model='pcie-root'>
      <alias name='pcie.0'/>
    </controller>
    <controller type='usb' index='0' model='qemu-xhci' ports='15'>
      <alias name='usb'/>
      <address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x0'/>
    </controller>
    <controller type='sata' index='0'>
      <alias name='ide'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x1f' function='0x2'/>
    </controller>
    <controller type='virtio-serial' index='0'>
      <alias name='virtio-serial0'/>
      <address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x0'/>
    </controller>
EOF
}
out+=$(cat_head)$'\n'

# Devices until the document is long enough; then the fixed tail.
tail_xml() {
	local i=0 a dom bus sf
	for a in "${hostdevs[@]}"; do
		dom=${a%%:*} bus=${a#*:} && bus=${bus%%:*} sf=${a##*:}
		printf "    <hostdev mode='subsystem' type='pci' managed='yes'>\n"
		printf "      <driver name='vfio'/>\n"
		printf "      <source>\n        <address domain='0x%s' bus='0x%s' slot='0x%s' function='0x%s'/>\n      </source>\n" \
			"$dom" "$bus" "${sf%.*}" "${sf#*.}"
		printf "      <alias name='hostdev%d'/>\n" "$i"
		printf "      <address type='pci' domain='0x0000' bus='0x%02x' slot='0x00' function='0x0'/>\n" $((0x10 + i % 200))
		printf "    </hostdev>\n"
		i=$((i + 1))
	done
	cat <<'EOF'
    <input type='tablet' bus='usb'>
      <alias name='input0'/>
      <address type='usb' bus='0' port='1'/>
    </input>
    <input type='mouse' bus='ps2'>
      <alias name='input1'/>
    </input>
    <input type='keyboard' bus='ps2'>
      <alias name='input2'/>
    </input>
    <tpm model='tpm-crb'>
      <backend type='emulator' version='2.0'/>
      <alias name='tpm0'/>
    </tpm>
    <audio id='1' type='none'/>
    <memballoon model='none'/>
  </devices>
  <seclabel type='dynamic' model='apparmor' relabel='yes'>
    <label>libvirt-6c4f0a3e-3b0e-4b59-9d2f-3f1c1d0a9e11</label>
    <imagelabel>libvirt-6c4f0a3e-3b0e-4b59-9d2f-3f1c1d0a9e11</imagelabel>
  </seclabel>
  <seclabel type='dynamic' model='dac' relabel='yes'>
    <label>+64055:+994</label>
    <imagelabel>+64055:+994</imagelabel>
  </seclabel>
</domain>
EOF
}
tail_doc=$(tail_xml)$'\n'

letters=abcdefghijklmnopqrstuvwxyz
pad() { # one more device, numbered $1
	local n=$1
	case $((n % 4)) in
	0) printf "    <disk type='file' device='disk'>\n      <driver name='qemu' type='qcow2' cache='none' io='native' discard='unmap'/>\n      <source file='/var/lib/libvirt/images/%s-data%d.qcow2' index='%d'/>\n      <backingStore/>\n      <target dev='sd%s' bus='sata'/>\n      <alias name='sata0-0-%d'/>\n      <address type='drive' controller='0' bus='0' target='0' unit='%d'/>\n    </disk>\n" \
		"$name" "$n" "$((n + 1))" "${letters:n % 26:1}" "$n" "$((n % 6))" ;;
	1) printf "    <interface type='network'>\n      <mac address='52:54:00:3a:7c:%02x'/>\n      <source network='default' portid='0b3c7a52-1f6e-4a7d-9c1e-%012d' bridge='virbr0'/>\n      <target dev='vnet%d'/>\n      <model type='virtio'/>\n      <alias name='net%d'/>\n      <address type='pci' domain='0x0000' bus='0x%02x' slot='0x00' function='0x0'/>\n    </interface>\n" \
		"$((n % 256))" "$n" "$n" "$n" "$((4 + n % 200))" ;;
	2) printf "    <serial type='pty'>\n      <source path='/dev/pts/%d'/>\n      <target type='isa-serial' port='%d'>\n        <model name='isa-serial'/>\n      </target>\n      <alias name='serial%d'/>\n    </serial>\n" \
		"$n" "$((n % 4))" "$n" ;;
	3) printf "    <channel type='unix'>\n      <source mode='bind' path='/run/libvirt/qemu/channel/7-%s/org.qemu.guest_agent.%d'/>\n      <target type='virtio' name='org.qemu.guest_agent.%d' state='disconnected'/>\n      <alias name='channel%d'/>\n      <address type='virtio-serial' controller='0' bus='0' port='%d'/>\n    </channel>\n" \
		"$name" "$n" "$n" "$n" "$((n + 1))" ;;
	esac
}
n=0
while ((${#out} + ${#tail_doc} < size)); do
	out+=$(pad "$n")$'\n'
	n=$((n + 1))
done
printf '%s%s' "$out" "$tail_doc"
