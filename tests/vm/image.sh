#!/bin/bash
# Builds, once, the guest image of the VM test bed and prints its directory.
#
#   tests/vm/image.sh            build if needed; print the image directory on stdout
#   tests/vm/image.sh --key      print the cache key only (no build)
#
# The image is a Debian kernel, a tiny busybox initramfs and a debootstrapped
# root file system (see packages.list). It lives in the cache directory
# ${VFIO_HOOK_VM_CACHE:-/var/cache/vfio-hook-vm}, never in the source tree,
# in a folder named after a hash of everything that shapes it: this file,
# packages.list, the kernel package and its version. The initramfs has its
# own, cheaper key (initramfs-init, busybox, kernel) so that editing the guest
# init does not rebuild the root file system. Older images are removed once a
# new one is complete. Run as root: debootstrap and the 9p share need it.
#
# Environment: VFIO_HOOK_VM_CACHE, VFIO_HOOK_VM_MIRROR (default: the first
# Debian mirror of this machine's apt sources), VFIO_HOOK_VM_SUITE (bookworm).
set -euo pipefail

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${VFIO_HOOK_VM_CACHE:-/var/cache/vfio-hook-vm}
SUITE=${VFIO_HOOK_VM_SUITE:-bookworm}

say() { printf '[vm-image %(%T)T] %s\n' -1 "$*" >&2; }
die() { say "error: $*"; exit 1; }

mirror() {
	if [[ -n ${VFIO_HOOK_VM_MIRROR:-} ]]; then
		echo "$VFIO_HOOK_VM_MIRROR"
		return
	fi
	local m
	m=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
	[[ -n $m ]] || m=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
	[[ -n $m ]] || die "no Debian mirror found in /etc/apt/sources.list*; set VFIO_HOOK_VM_MIRROR"
	echo "$m"
}

# The versioned kernel package behind linux-image-amd64 (linux-image-6.1.0-N-amd64).
kernel_package() {
	local p
	p=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	if [[ -z $p ]]; then
		say "apt-cache knows no linux-image-amd64: running apt-get update"
		apt-get update -qq >&2 || die "apt-get update failed"
		p=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	fi
	[[ -n $p ]] || die "cannot find the Debian kernel package (apt-cache depends linux-image-amd64)"
	echo "$p"
}

candidate() { apt-cache policy "$1" | awk '/Candidate:/ {print $2; exit}'; }

package_list() { sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$VM_DIR/packages.list"; }

# Downloads a package (cached by name and version) and prints the .deb path.
fetch_deb() {
	local pkg=$1 ver=$2 d=$CACHE/debs
	mkdir -p "$d"
	local f
	f=$(find "$d" -maxdepth 1 -name "${pkg}_${ver//:/%3a}_*.deb" -print -quit)
	if [[ -z $f ]]; then
		(cd "$d" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$ver" >&2) || die "apt-get download $pkg=$ver failed"
		f=$(find "$d" -maxdepth 1 -name "${pkg}_${ver//:/%3a}_*.deb" -print -quit)
	fi
	[[ -n $f ]] || die "downloaded $pkg but cannot find its .deb in $d"
	echo "$f"
}

KPKG=$(kernel_package)
KPKG_VER=$(candidate "$KPKG")
KVER=${KPKG#linux-image-}
BB_VER=$(candidate busybox-static)
[[ -n $KPKG_VER && -n $BB_VER ]] || die "apt-cache has no candidate for $KPKG or busybox-static"

image_key() {
	{
		echo "suite=$SUITE kernel=$KPKG=$KPKG_VER"
		cat "$VM_DIR/image.sh" "$VM_DIR/packages.list"
	} | sha256sum | cut -c1-16
}
initramfs_key() {
	{
		echo "kernel=$KPKG=$KPKG_VER busybox=$BB_VER"
		cat "$VM_DIR/initramfs-init"
	} | sha256sum | cut -c1-16
}

KEY=$(image_key)
IKEY=$(initramfs_key)
IMG=$CACHE/image-$KEY

if [[ ${1:-} == --key ]]; then
	echo "$KEY-$IKEY"
	exit 0
fi

[[ $(id -u) == 0 ]] || die "building the guest image needs root (debootstrap)"
for tool in debootstrap dpkg-deb depmod modprobe cpio gzip flock; do
	command -v "$tool" >/dev/null || die "$tool is missing"
done

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock -w 1800 9 || die "another build holds $CACHE/.lock"

# Unpacked kernel package, with the module index built for it.
kernel_tree() {
	local k=$CACHE/kernel-$KPKG_VER
	if [[ ! -f $k/.complete ]]; then
		local deb
		deb=$(fetch_deb "$KPKG" "$KPKG_VER")
		rm -rf "$k"
		dpkg-deb -x "$deb" "$k"
		depmod -b "$k" "$KVER"
		touch "$k/.complete"
		say "kernel $KVER unpacked"
	fi
	echo "$k"
}

build_rootfs() {
	local t0=$SECONDS tmp=$IMG.tmp ktree=$1
	rm -rf "$tmp"
	mkdir -p "$tmp"
	local include
	include=$(package_list | paste -sd, -)
	say "debootstrap $SUITE from $(mirror) (minbase + $include); log: $tmp/debootstrap.log"
	if ! debootstrap --variant=minbase --include="$include" "$SUITE" "$tmp/rootfs" "$(mirror)" \
		>"$tmp/debootstrap.log" 2>&1; then
		tail -n 30 "$tmp/debootstrap.log" >&2
		die "debootstrap failed (log: $tmp/debootstrap.log)"
	fi
	say "debootstrap done in $((SECONDS - t0)) s"

	local r=$tmp/rootfs
	# The kernel's modules (bochs, vfio-pci, snd-hda-intel, ...).
	mkdir -p "$r/usr/lib/modules"
	cp -a "$ktree/lib/modules/$KVER" "$r/usr/lib/modules/"
	depmod -b "$r" "$KVER"

	echo vh-l1 >"$r/etc/hostname"
	printf '127.0.0.1\tlocalhost\n127.0.1.1\tvh-l1\n' >"$r/etc/hosts"
	chroot "$r" passwd -dq root # root without password: for `run.sh shell`
	# libvirt: no default network (no dnsmasq here), no idle exit of the
	# daemon, no suspend of domains at shutdown.
	rm -f "$r/etc/libvirt/qemu/networks/autostart/default.xml"
	echo 'LIBVIRTD_ARGS=""' >"$r/etc/default/libvirtd"
	ln -sf /dev/null "$r/etc/systemd/system/libvirt-guests.service"
	# No periodic jobs, a volatile journal.
	rm -f "$r"/etc/systemd/system/timers.target.wants/*.timer
	mkdir -p "$r/etc/systemd/journald.conf.d"
	printf '[Journal]\nStorage=volatile\n' >"$r/etc/systemd/journald.conf.d/vfio-hook-vm.conf"
	# Lean: nothing here reads documentation, locales or apt's caches.
	rm -rf "$r"/usr/share/doc/* "$r"/usr/share/man/* "$r"/usr/share/info/* \
		"$r"/usr/share/locale/* "$r"/var/cache/apt/archives/*.deb \
		"$r"/var/cache/apt/*.bin "$r"/var/lib/apt/lists/*_Packages
	echo "$KVER" >"$tmp/KVER"
	cp "$ktree/boot/vmlinuz-$KVER" "$tmp/vmlinuz"
	touch "$tmp/.complete"
	mv "$tmp" "$IMG"
	say "root file system ready: $(du -sh "$IMG/rootfs" | cut -f1) in $((SECONDS - t0)) s"
}

# busybox-static and the modules /init needs to mount a 9p root under overlayfs.
build_initramfs() {
	local ktree=$1 out=$IMG/initramfs-$IKEY.cpio.gz
	[[ -f $out ]] && return 0
	local d
	d=$(mktemp -d "$CACHE/initramfs.XXXXXX")
	local deb
	deb=$(fetch_deb busybox-static "$BB_VER")
	dpkg-deb -x "$deb" "$d/bb"
	mkdir -p "$d/root/bin" "$d/root/modules"
	cp "$d/bb/bin/busybox" "$d/root/bin/busybox"
	local m f
	: >"$d/root/modules.list"
	for m in virtio_pci 9pnet_virtio 9p overlay; do
		modprobe -d "$ktree" -S "$KVER" --show-depends "$m"
	done | awk '$1 == "insmod" && !seen[$2]++ {print $2}' | while read -r f; do
		cp "$f" "$d/root/modules/"
		basename "$f" >>"$d/root/modules.list"
	done
	install -m 0755 "$VM_DIR/initramfs-init" "$d/root/init"
	(cd "$d/root" && find . | cpio -o -H newc --quiet | gzip -1 >"$out.tmp")
	mv "$out.tmp" "$out"
	rm -rf "$d"
	find "$IMG" -maxdepth 1 -name 'initramfs-*.cpio.gz' ! -name "initramfs-$IKEY.cpio.gz" -delete
	say "initramfs ready: $(du -h "$out" | cut -f1)"
}

KTREE=$(kernel_tree)
if [[ ! -f $IMG/.complete ]]; then
	say "no image $KEY in $CACHE: building it (a few minutes, once)"
	build_rootfs "$KTREE"
	# Older images: the inputs changed, they will not be used again.
	find "$CACHE" -maxdepth 1 -name 'image-*' ! -name "image-$KEY" -exec rm -rf {} +
fi
build_initramfs "$KTREE"
ln -sfn "initramfs-$IKEY.cpio.gz" "$IMG/initramfs.cpio.gz"
echo "$IMG"
