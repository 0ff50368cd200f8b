/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "model/domxml.h"
#include "model/pci.h"

/* SR-IOV virtual functions made on prepare (<vfs>) and reset methods chosen
 * per device (<reset>): the PF's capability and VF addresses, what the hook
 * knows of a PF, the journal's forms (host/sriov.h reads and writes sysfs;
 * sriovplan.h plans). docs/design.md, "SR-IOV and reset methods". */

/* The SR-IOV extended capability (PCIe base spec 9.3.3), from config space. */
#define PCI_EXT_CAP_ID_SRIOV 0x10
#define PCI_CFG_SPACE_SIZE 256U
#define PCI_CFG_SPACE_EXP_SIZE 4096U

typedef struct SriovCap {
        unsigned total;      /* TotalVFs */
        unsigned num;        /* NumVFs */
        unsigned offset;     /* First VF Offset */
        unsigned stride;     /* VF Stride */
        unsigned vf_device;  /* VF Device ID */
} SriovCap;

/* Pure: walks the extended capabilities of a config space image from 0x100.
 * -ENOENT when there is no SR-IOV capability (or the image stops at 256
 * bytes, as it does for non-root readers), -EINVAL on a looping or
 * out-of-range list. */
int sriov_cap_parse(const uint8_t *config, size_t len, SriovCap *ret);

/* Pure: the address of VF n (0-based) of pf, as the kernel computes it
 * (drivers/pci/iov.c, pci_iov_virtfn_bus() and pci_iov_virtfn_devfn()):
 * routing ID = pf's + offset + n * stride. -ERANGE past bus 255. */
int sriov_vf_addr(const PciAddr *pf, unsigned offset, unsigned stride, unsigned n, PciAddr *ret);
/* Pure: which of the first count VFs of pf a is (0-based), or -ENOENT. */
int sriov_vf_index(const PciAddr *pf, unsigned offset, unsigned stride, unsigned count, const PciAddr *a);

/* A PF as the host has it now. */
typedef struct SriovFact {
        PciAddr pf;
        bool exists;          /* the PF is on the host */
        bool capable;         /* it has sriov_totalvfs */
        bool layout_known;    /* offset and stride were read */
        unsigned total, num, offset, stride;
        int autoprobe;        /* sriov_drivers_autoprobe: 1, 0, -1 unknown */
        char *pf_driver;      /* NULL: none */
        PciAddr *vfs;         /* virtfn0..N-1 */
        char **vf_drivers;    /* aligned with vfs, NULL entries: no driver */
        size_t n_vfs;
} SriovFact;

void sriov_fact_done(SriovFact *f);
void sriov_facts_free(SriovFact *l, size_t n);

/* The AMD GPU families whose reset the vendor-reset module supplies
 * (gnif/vendor-reset, src/device-db.h): "Polaris 10", "Navi 10", ... or
 * NULL. Their bus reset is known to leave them unusable until a host reboot. */
const char *vendor_reset_family(unsigned vendor, unsigned device);

/* Whether the space-separated list has word. */
bool word_list_contains(const char *list, const char *word);

/* Journal form of a reset_method value: words joined with '+', "none" for
 * an empty one; and back. */
char *reset_methods_to_journal(const char *methods);
char *reset_methods_from_journal(const char *orig);
bool reset_methods_journal_valid(const char *orig);

/* The journal's original value of a create-vfs step: "4", or "4+autoprobe"
 * when sriov_drivers_autoprobe was on and prepare turned it off meanwhile. */
#define CREATE_VFS_AUTOPROBE_SUFFIX "+autoprobe"
int create_vfs_orig_parse(const char *orig, unsigned *ret_count, bool *ret_autoprobe);

/* The hostdev at a is a VF that does not exist yet and that a <vfs> of the
 * domain makes: the index of that <vfs>, or -1. */
ssize_t sriov_planned_vfs(const Domain *d, const SriovFact *facts, size_t n_facts, const PciAddr *a);

/* The VFs of a PF, "0000:3b:02.0 (vfio-pci, domain win10), ...": who uses them. */
char *sriov_vfs_describe(const SriovFact *f, const PciAddr *held, char *const *held_by, size_t n_held);
