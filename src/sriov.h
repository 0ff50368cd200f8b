/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "domxml.h"
#include "pci.h"
#include "sysroot.h"

/* SR-IOV virtual functions made on prepare (<vfs>) and reset methods chosen
 * per device (<reset>): the PF's capability and VF addresses (pure), what a
 * host has now (over a sysroot), and what prepare would do about them
 * (plan.h calls sriov_plan()). docs/design.md, "SR-IOV and reset methods". */

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
/* Reads sys/bus/pci/devices/PF: sriov_totalvfs, sriov_numvfs,
 * sriov_drivers_autoprobe, the virtfnN links; offset and stride from the
 * SR-IOV capability in config, else from sriov_offset/sriov_stride. A
 * missing PF is not an error (exists false). */
int sriov_fact_read(Sysroot *sr, const PciAddr *pf, SriovFact *ret);

/* The facts of the policy's <vfs> PFs and <reset> devices, aligned with
 * p->vfs and p->resets (a NULL reset_methods entry: none to read). */
int sriov_facts_gather(Sysroot *sr, const Policy *p, SriovFact **ret_vfs, size_t *ret_n_vfs, char ***ret_resets,
                       size_t *ret_n_resets, bool *ret_vendor_reset);

/* The AMD GPU families whose reset the vendor-reset module supplies
 * (gnif/vendor-reset, src/device-db.h): "Polaris 10", "Navi 10", ... or
 * NULL. Their bus reset is known to leave them unusable until a host reboot. */
const char *vendor_reset_family(unsigned vendor, unsigned device);
/* vendor-reset is loaded: it answers the kernel's device_specific probe for
 * those devices, which reset_method then accepts although it did not list it. */
bool vendor_reset_loaded(Sysroot *sr);

/* The kernel's reset methods of a device, as reset_method lists them
 * ("flr bus"); -ENOENT when the kernel has no reset_method (< 5.15) or the
 * device none. */
int reset_methods_read(Sysroot *sr, const PciAddr *a, char **ret);
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

/* prepare's side: write count to sriov_numvfs, with
 * sriov_drivers_autoprobe off meanwhile when autoprobe_off (it is on again
 * after, for later probes), then wait until every address in want exists
 * and has its IOMMU group, under the deadline. */
int sriov_make_vfs(Sysroot *sr, const PciAddr *pf, unsigned count, bool autoprobe_off, const PciAddr *want,
                   size_t n_want, usec_t timeout, char **ret_error);
/* Sets sriov_numvfs to 0 when it is not (the VFs go with their drivers). */
int sriov_remove_vfs(Sysroot *sr, const PciAddr *pf);
/* Turns sriov_drivers_autoprobe back on when it is off. */
int sriov_autoprobe_on(Sysroot *sr, const PciAddr *pf);
