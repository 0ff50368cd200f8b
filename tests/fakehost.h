/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "fakesnap.h"
#include "fakespec.h"

/* A fake host: a directory laid out like the parts of a Linux host that
 * vfio-hook reads (sysfs, procfs, /dev, /lib/modules, systemd unit dirs),
 * with the same relative links a real /sys has, so that code reading it
 * through a Sysroot cannot tell the difference.
 *
 * The tree is the whole state: there is no handle. Every function takes
 * the tree's root directory, reads what it needs from the tree, and
 * changes it the way the kernel would (a bind makes both links, a module
 * unload drops its holder links and its PCI drivers, ...). A fake kernel
 * answers writes to sysfs attributes by calling these.
 *
 * All return 0 or a negative errno. Names given are checked (no '/', no
 * ".."); PCI addresses are "DDDD:BB:SS.F" in lower case. The layout is
 * described in tests/data/README. */

/* ---- building ---------------------------------------------------------- */

/* Creates ROOT (and its parents) if needed and the skeleton of an empty
 * host: sys/{devices,bus/pci,bus/platform,kernel/iommu_groups,class,module},
 * an empty proc/modules, dev/, etc/systemd/system. */
int fakehost_init(const char *root);

/* Building from a spec: tests/fakespec.h. */

/* proc/sys/kernel/osrelease and lib/modules/RELEASE/modules.builtin. */
int fakehost_set_kernel(const char *root, const char *release);
/* Lists a module in modules.builtin (path NULL: "kernel/drivers/misc/NAME.ko");
 * with sysfs, also sys/module/NAME without initstate, as built-in modules
 * with parameters have. -ENOENT before fakehost_set_kernel(). */
int fakehost_builtin_add(const char *root, const char *name, const char *path, bool sysfs);

/* ---- PCI ---------------------------------------------------------------- */

typedef struct FakePci {
        const char *addr;      /* "0000:01:00.0" */
        unsigned vendor, device;
        unsigned class;        /* 24 bits: 0x030000 */
        const char *parent;    /* the bridge above it, NULL: the root complex */
        int iommu_group;       /* -1: none (IOMMU off) */
        int header_type;       /* config space byte 0x0e; -1: 1 for class 0x0604xx, else 0 */
} FakePci;

/* sys/devices/pci0000:00/[parent/]ADDR with its attributes (vendor, device,
 * class, config, driver_override, ...), the sys/bus/pci/devices link and
 * the IOMMU group links. -EEXIST, -ENOENT (no such parent). */
int fakehost_pci_add(const char *root, const FakePci *p);
/* Hot-unplug: unbinds, drops DRM nodes and group links. -EBUSY while
 * devices sit below it. */
int fakehost_pci_remove(const char *root, const char *addr);

/* sys/bus/pci/drivers/DRIVER (bind, unbind, new_id, remove_id) and, for a
 * modular driver, its module link and sys/module/MODULE/drivers/pci:DRIVER.
 * module NULL: built in. -ENOENT when MODULE is not loaded, -EEXIST. */
int fakehost_pci_driver_add(const char *root, const char *driver, const char *module);
/* Unbinds the driver's devices and removes it. */
int fakehost_pci_driver_remove(const char *root, const char *driver);
/* The device's driver link and the driver's back-link. -ENOENT (no device
 * or no driver), -EBUSY (already bound). */
int fakehost_pci_bind(const char *root, const char *addr, const char *driver);
/* -ENODEV when the device has no driver. */
int fakehost_pci_unbind(const char *root, const char *addr);
/* The bound driver, NULL in *ret when none. */
int fakehost_pci_driver(const char *root, const char *addr, char **ret);
/* writes "DRIVER" or "(null)" to driver_override. */
int fakehost_pci_set_driver_override(const char *root, const char *addr, const char *driver);

/* SR-IOV on a PF: sriov_totalvfs, sriov_numvfs (0), sriov_offset,
 * sriov_stride, sriov_vf_device, sriov_drivers_autoprobe (1), and with cap
 * the SR-IOV extended capability in a 4096-byte config. vf_driver (may be
 * NULL) is the driver that probes its VFs (run/fakekernel/sriov/PF). */
int fakehost_sriov_add(const char *root, const char *pf, unsigned total, unsigned offset, unsigned stride,
                       unsigned vf_device, bool cap, const char *vf_driver);
/* What the kernel does on a write of n to sriov_numvfs (the checks are the
 * fake kernel's): n > 0 adds VFs beside the PF, each in a new IOMMU group
 * when the PF has one, with virtfnN/physfn links, bound to the VF driver
 * when autoprobe is on; n == 0 removes them. */
int fakehost_sriov_set_numvfs(const char *root, const char *pf, unsigned n);

/* A DRM minor ("card0", "renderD128"): ADDR/drm/NODE, sys/class/drm/NODE
 * and dev/dri/NODE. Unbinding a driver leaves them: remove them too when
 * faking a driver that goes. */
int fakehost_drm_add(const char *root, const char *addr, const char *node);
int fakehost_drm_remove(const char *root, const char *addr, const char *node);

/* ---- modules ------------------------------------------------------------ */

/* Sets a loaded module as given: sys/module/NAME/{initstate,refcnt,holders/}
 * and its proc/modules line ("used by" = holders). refcnt < 0: the number
 * of holders. Creates or overwrites; keeps its drivers. */
int fakehost_module_add(const char *root, const char *name, int refcnt, char *const *holders);
/* As insmod would: NAME is loaded with refcnt 0 and becomes a holder of
 * each module in uses, whose refcnt goes up. -EEXIST (loaded or built in),
 * -ENOENT (a module in uses is not loaded). */
int fakehost_module_load(const char *root, const char *name, char *const *uses);
/* As delete_module would: -ENOENT when not loaded, -EAGAIN (the kernel's
 * EWOULDBLOCK) while it has holders or a refcnt. Drops it from its
 * dependencies' holders (and their refcnt) and removes its PCI drivers,
 * unbinding their devices. */
int fakehost_module_unload(const char *root, const char *name);
int fakehost_module_set_refcnt(const char *root, const char *name, int refcnt);
/* Loaded (sys/module/NAME/initstate is there; not a built-in one). */
bool fakehost_module_loaded(const char *root, const char *name);
/* A name the fake host takes for a module: [A-Za-z0-9_-], 1..55. */
bool fakehost_module_name_ok(const char *name);

/* ---- consoles and framebuffers ----------------------------------------- */

/* sys/devices/virtual/vtconsole/vtconN/{name,bind} and its sys/class link. */
int fakehost_vtcon_add(const char *root, unsigned n, const char *name, int bind);
int fakehost_vtcon_set_bind(const char *root, unsigned n, int bind);
int fakehost_vtcon_remove(const char *root, unsigned n);

/* A platform driver with no device (efi-framebuffer after a DRM driver took
 * the aperture over). Built in: no module link. Existing is fine. */
int fakehost_platform_driver_add(const char *root, const char *driver);
/* A platform device "efi-framebuffer.0" in sys/devices/platform, bound to
 * driver unless NULL (the driver is created if needed). */
int fakehost_fb_add(const char *root, const char *device, const char *driver);
/* The same below a PCI function (parent "DDDD:BB:SS.F"), as newer kernels
 * place the firmware framebuffer under the display device it uses. */
int fakehost_fb_add_below(const char *root, const char *device, const char *driver, const char *parent);
/* -EBUSY (already bound), -ENOENT (no such device). */
int fakehost_fb_bind(const char *root, const char *device, const char *driver);
/* -ENODEV when not bound. */
int fakehost_fb_unbind(const char *root, const char *device);
/* The device goes away (unbinding first). */
int fakehost_fb_remove(const char *root, const char *device);

/* A frame buffer fbN: DEVICE/graphics/fbN/{name,uevent,device}, the
 * sys/class/graphics link and dev/fbN. device is a PCI address, a platform
 * device, or NULL (a virtual one, without device link). */
int fakehost_graphics_add(const char *root, unsigned n, const char *name, const char *device);
/* A device node of a function: ADDR/SUBDIR/uevent with DEVNAME=devname
 * ("sound/card1/controlC1", "snd/controlC1") and dev/DEVNAME. */
int fakehost_devnode_add(const char *root, const char *addr, const char *subdir, const char *devname);

/* ---- processes, device nodes, units ------------------------------------ */

/* proc/PID/comm and proc/PID/fd/0..n-1 -> the given targets (absolute
 * paths such as "/dev/nvidia0", or anything a real fd link shows). */
int fakehost_process_add(const char *root, pid_t pid, const char *comm, char *const *fds);
int fakehost_process_remove(const char *root, pid_t pid);

/* A regular file standing for a device node: "nvidia0", "dri/card0". */
int fakehost_dev_add(const char *root, const char *node);
int fakehost_dev_remove(const char *root, const char *node);

/* etc/systemd/system/UNIT: see unit_state_from_tree(). */
int fakehost_unit_add(const char *root, const char *unit);
int fakehost_unit_remove(const char *root, const char *unit);

/* ---- any file, link or directory ----------------------------------------- */

/* For what the helpers above do not cover (proc/cmdline, proc/cpuinfo,
 * sys/class/iommu/..., boot_vga, reset_method, etc/libvirt/hooks/qemu).
 * PATH is relative to the root (a leading '/' is dropped), each component
 * a safe name (no "..", no empty one). */
/* Creates or overwrites PATH (and its parent directories) with exactly
 * len bytes of content, then sets its mode (07777 at most). */
int fakehost_file_add(const char *root, const char *path, const void *content, size_t len, mode_t mode);
/* A symlink PATH -> TARGET, the target written as given: an absolute one
 * resolves inside the root when read through a Sysroot. Replaces a file
 * or link already there. */
int fakehost_link_add(const char *root, const char *path, const char *target);
/* PATH and its parents; existing is fine. */
int fakehost_dir_add(const char *root, const char *path);

/* ---- cleaning ------------------------------------------------------------ */

/* Comparing trees: tests/fakesnap.h. */

/* Removes ROOT and everything under it (never following links). */
int fakehost_rm_rf(const char *root);
