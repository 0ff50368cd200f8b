/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <limits.h>

#include "check/groups.h"
#include "shared/util.h"

/* Without a domain: every IOMMU group with its devices, as lspci names them. */

static int cmp_group(const void *x, const void *y) {
        const IommuGroup *a = x, *b = y;
        return a->number < b->number ? -1 : a->number > b->number;
}

int check_list_groups(Sysroot *sr, PciNames *names, CheckReport *r) {
        _cleanup_strv_free_ char **dirs = NULL;
        int k;

        r->listed_groups = true;
        k = sysroot_list_dirf(sr, &dirs, "sys/kernel/iommu_groups");
        if (k == -ENOMEM)
                return k;
        if (k < 0)
                return 0;

        for (char **g = dirs; *g; g++) {
                _cleanup_free_ PciAddr *members = NULL;
                size_t n = 0;
                unsigned number;

                if (parse_uint(*g, &number) < 0 || number > INT_MAX)
                        continue;
                k = pci_iommu_group_members(sr, (int) number, &members, &n);
                if (k == -ENOMEM)
                        return k;
                if (k < 0)
                        continue;

                IommuGroup *ng = realloc(r->groups, (r->n_groups + 1) * sizeof *ng);
                if (!ng)
                        return -ENOMEM;
                r->groups = ng;
                IommuGroup *grp = &r->groups[r->n_groups++];
                *grp = (IommuGroup) { .number = number, .devices = calloc(n + 1, sizeof(GroupDevice)) };
                if (!grp->devices)
                        return -ENOMEM;

                for (size_t j = 0; j < n; j++) {
                        _cleanup_pci_device_ PciDevice *dev = NULL;
                        k = pci_device_read(sr, &members[j], &dev);
                        if (k == -ENOMEM)
                                return k;
                        if (k < 0)
                                continue;
                        GroupDevice *gd = &grp->devices[grp->n_devices];
                        memcpy(gd->addr, dev->name, sizeof gd->addr);
                        gd->vendor = dev->vendor;
                        gd->device = dev->device;
                        gd->class = dev->class;
                        gd->name = pci_names_describe(names, dev);
                        if (!gd->name)
                                return -ENOMEM;
                        gd->driver = TAKE_PTR(dev->driver);
                        grp->n_devices++;
                }
        }
        if (r->n_groups > 0)
                qsort(r->groups, r->n_groups, sizeof *r->groups, cmp_group);
        return 0;
}
