/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "shared/macro.h"

/* PCI addresses and what the hook knows of a device (pure: host/pci.h reads
 * them from sysfs). */

typedef struct PciAddr {
        unsigned domain;   /* 0..0xffff */
        unsigned bus;      /* 0..0xff */
        unsigned slot;     /* 0..0x1f */
        unsigned function; /* 0..7 */
} PciAddr;

#define PCI_ADDR_STRLEN sizeof("0000:00:00.0")

/* Strictly "DDDD:BB:SS.F", lower- or upper-case hex, nothing else. */
int pci_addr_parse(const char *s, PciAddr *ret);
/* Writes the canonical lower-case form; returns buf. */
char *pci_addr_format(const PciAddr *a, char buf[static PCI_ADDR_STRLEN]);
bool pci_addr_equal(const PciAddr *a, const PciAddr *b);
/* libvirt's node device name: "pci_0000_01_00_0". */
char *pci_addr_nodedev_name(const PciAddr *a, char buf[static sizeof("pci_0000_00_00_0")]);

#define PCI_CLASS_DISPLAY 0x03         /* base class of VGA/3D/display controllers */
#define PCI_CLASS_BRIDGE_PCI 0x0604    /* class << 8 | subclass */

typedef struct PciDevice {
        PciAddr addr;
        char name[PCI_ADDR_STRLEN];
        unsigned vendor, device;
        unsigned class;        /* 24 bits: base, subclass, prog-if */
        char *driver;          /* bound driver, NULL when none */
        char *driver_module;   /* that driver's module, NULL when built in or none */
        int iommu_group;       /* -1 when the device has no group (IOMMU off) */
        int boot_vga;          /* boot_vga: 1 or 0; -1 when absent (only VGA devices have it) */
        bool is_bridge;
} PciDevice;

PciDevice *pci_device_free(PciDevice *d);
static inline void pci_device_freep(PciDevice **d) {
        pci_device_free(*d);
}
#define _cleanup_pci_device_ _cleanup_(pci_device_freep)

static inline bool pci_device_is_display(const PciDevice *d) {
        return (d->class >> 16) == PCI_CLASS_DISPLAY;
}

/* vfio-pci or one of its variant drivers (mlx5_vfio_pci, hisi_acc_vfio_pci,
 * nvgrace_gpu_vfio_pci, ...: "<vendor>_vfio_pci" or "<vendor>-vfio-pci"). */
bool pci_driver_is_vfio(const char *driver);
/* Whether a member of an IOMMU group that stays on the host keeps VFIO
 * from using the group. The kernel's rule (drivers/vfio/group.c,
 * vfio_dev_viable() and vfio_dev_driver_allowed()): a group is viable when
 * every member is a bridge (header type other than normal), has no driver,
 * is on a vfio driver, or is on pci-stub. plan, check and prepare's last
 * check all ask this. */
bool pci_member_blocks_vfio(const PciDevice *m);

void pci_devices_free(PciDevice **l, size_t n);

/* A memory range a function decodes, inclusive. */
typedef struct PciRange {
        uint64_t start, end;   /* inclusive */
} PciRange;
