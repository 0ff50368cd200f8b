/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "host/pci.h"
#include "shared/cmdline.h"
#include "shared/sysroot.h"

/* `vfio-hook enable DOMAIN` and `vfio-hook disable DOMAIN` (vfio-hook(8)):
 * the domain's definition gets the GPU's IOMMU group as hostdevs and our
 * policy, and loses exactly those again. The editing is domedit.c's, the
 * libvirt calls virtdomain.c's; this is the host's side and the output. */

/* The host functions enable adds: for each device asked for (none: the
 * boot VGA display controller, or the only display controller), every
 * endpoint of its IOMMU group; bridges never. Sorted, no duplicates.
 * -EINVAL with one line for an address that does not parse, a device that
 * does not exist or is a bridge, one in no IOMMU group, or no single
 * display controller to pick (the line lists the candidates). */
int enable_resolve_devices(Sysroot *sr, const char *const *args, size_t n_args, PciAddr **ret, size_t *ret_n,
                           char **ret_error);

/* The subcommands, with the subcommand's own arguments in pos; the exit code. */
int enable_command(const Options *o, char **pos, int n_pos);
int disable_command(const Options *o, char **pos, int n_pos);
