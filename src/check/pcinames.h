/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "host/pci.h"
#include "shared/macro.h"
#include "shared/sysroot.h"

/* PCI functions named from libpci as `lspci -nn` names them: on the host
 * from udev's hwdb, then the system's pci.ids; in a tree from its own
 * pci.ids (else the system's), never this host's hwdb. libpci reports a
 * malformed pci.ids through a callback that must not return: a jmp_buf
 * private to pcinames.c catches it, and names are numbers from then on. */

struct pci_access;

typedef struct PciNames {
        struct pci_access *pacc;
        int flags;     /* extra lookup flags: PCI_LOOKUP_NO_HWDB for a tree */
        int ids_fd;    /* a tree's pci.ids, open while libpci may read it; -1 */
        bool broken;
} PciNames;

/* Never fails: without libpci's names, devices are named by numbers. */
void pci_names_init(Sysroot *sr, PciNames *n);
void pci_names_done(PciNames *n);

/* "VGA compatible controller [0300]: NVIDIA Corporation AD102 [GeForce RTX 4090] [10de:2684]";
 * NULL on -ENOMEM. */
char *pci_names_describe(PciNames *n, const PciDevice *d);

/* A pci.ids file (allocated text) naming the PCI functions under sr as
 * `check` names them on sr: what `vfio-hook dump` ships. */
int check_pci_ids(Sysroot *sr, char **ret);
