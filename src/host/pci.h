/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "model/pci.h"
#include "shared/sysroot.h"

/* PCI devices, drivers and IOMMU groups, read over a sysroot. */

/* -ENOENT when there is no such device. */
int pci_device_read(Sysroot *sr, const PciAddr *a, PciDevice **ret);

/* Members of an IOMMU group, sorted by address. */
int pci_iommu_group_members(Sysroot *sr, int group, PciAddr **ret, size_t *ret_n);

/* Number of IOMMU groups on the host (0 when the IOMMU is off). */
int pci_iommu_group_count(Sysroot *sr);

/* The module of a PCI driver (sys/bus/pci/drivers/<driver>/module), NULL
 * in *ret when the driver is built in. */
int pci_driver_module(Sysroot *sr, const char *driver, char **ret);

/* DRM minor nodes of a device: "card0", "renderD128", ... */
int pci_device_drm_nodes(Sysroot *sr, const PciAddr *a, char ***ret);

/* Every device node of a function, as the kernel names them to udev: the
 * DEVNAME= of each uevent below its sysfs directory ("/dev/dri/card1",
 * "/dev/snd/controlC1", "/dev/fb0", ...), sorted. Links are not followed
 * and functions below a bridge are not descended into. */
int pci_device_dev_nodes(Sysroot *sr, const PciAddr *a, char ***ret);

/* The same, added to *nodes where not there yet (the nodes of several
 * functions: the domain's, a GPU's IOMMU group). -ENOENT: no such function. */
int pci_device_add_dev_nodes(Sysroot *sr, const PciAddr *a, char ***nodes);

/* The functions bound to a PCI driver (sys/bus/pci/drivers/DRIVER), sorted;
 * none when the driver does not exist. */
int pci_driver_devices(Sysroot *sr, const char *driver, PciAddr **ret, size_t *ret_n);

/* Every display controller (base class 03) of the host, sorted by address. */
int pci_display_devices(Sysroot *sr, PciDevice ***ret, size_t *ret_n);

/* The memory ranges a function decodes (its memory BARs and ROM, from
 * sys/.../resource), for telling whose memory an address range is. */
int pci_device_mem_ranges(Sysroot *sr, const PciAddr *a, PciRange **ret, size_t *ret_n);
