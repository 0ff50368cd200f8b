/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "model/sriov.h"
#include "shared/sysroot.h"

/* SR-IOV and reset methods on the host: reading the PFs and reset_method,
 * making and removing VFs. */

/* Reads sys/bus/pci/devices/PF: sriov_totalvfs, sriov_numvfs,
 * sriov_drivers_autoprobe, the virtfnN links; offset and stride from the
 * SR-IOV capability in config, else from sriov_offset/sriov_stride. A
 * missing PF is not an error (exists false). */
int sriov_fact_read(Sysroot *sr, const PciAddr *pf, SriovFact *ret);

/* The facts of the policy's <vfs> PFs and <reset> devices, aligned with
 * p->vfs and p->resets (a NULL reset_methods entry: none to read). */
int sriov_facts_gather(Sysroot *sr, const Policy *p, SriovFact **ret_vfs, size_t *ret_n_vfs, char ***ret_resets,
                       size_t *ret_n_resets, bool *ret_vendor_reset);
/* vendor-reset is loaded: it answers the kernel's device_specific probe for
 * those devices, which reset_method then accepts although it did not list it. */
bool vendor_reset_loaded(Sysroot *sr);

/* The kernel's reset methods of a device, as reset_method lists them
 * ("flr bus"); -ENOENT when the kernel has no reset_method (< 5.15) or the
 * device none. */
int reset_methods_read(Sysroot *sr, const PciAddr *a, char **ret);

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
