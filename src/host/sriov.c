/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "host/sriov.h"
#include "shared/util.h"

static int read_uint_attr(Sysroot *sr, const char *dev, const char *attr, unsigned *ret) {
        _cleanup_free_ char *s = NULL;
        int r = sysroot_read_linef(sr, &s, "sys/bus/pci/devices/%s/%s", dev, attr);
        if (r < 0)
                return r;
        return parse_uint(s, ret);
}

int sriov_fact_read(Sysroot *sr, const PciAddr *pf, SriovFact *ret) {
        _cleanup_(sriov_fact_done) SriovFact f = { .pf = *pf, .autoprobe = -1 };
        _cleanup_free_ char *config = NULL;
        char name[PCI_ADDR_STRLEN];
        unsigned v;
        int r;

        pci_addr_format(pf, name);
        r = sysroot_existsf(sr, "sys/bus/pci/devices/%s", name);
        if (r < 0)
                return r;
        if (r == 0) {
                *ret = f;
                f = (SriovFact) {};
                return 0;
        }
        f.exists = true;
        r = sysroot_link_basenamef(sr, &f.pf_driver, "sys/bus/pci/devices/%s/driver", name);
        if (r < 0 && r != -ENOENT)
                return r;
        r = read_uint_attr(sr, name, "sriov_totalvfs", &f.total);
        if (r == -ENOENT) {
                *ret = f;
                f = (SriovFact) {};
                return 0;
        }
        if (r < 0)
                return r;
        f.capable = true;
        if (read_uint_attr(sr, name, "sriov_numvfs", &f.num) < 0)
                f.num = 0;
        if (read_uint_attr(sr, name, "sriov_drivers_autoprobe", &v) >= 0)
                f.autoprobe = v != 0;

        /* The capability itself (root reads past the first 64 bytes); else
         * the kernel's copy of the same two fields (Linux >= 5.0). */
        SriovCap cap;
        char path[sizeof("sys/bus/pci/devices//config") + PCI_ADDR_STRLEN];
        snprintf(path, sizeof path, "sys/bus/pci/devices/%s/config", name);
        r = sysroot_read_file(sr, path, 2 * PCI_CFG_SPACE_EXP_SIZE, &config);
        if (r >= 0 && sriov_cap_parse((const uint8_t *) config, (size_t) r, &cap) >= 0) {
                f.offset = cap.offset;
                f.stride = cap.stride;
                f.layout_known = true;
        } else if (read_uint_attr(sr, name, "sriov_offset", &f.offset) >= 0 &&
                   read_uint_attr(sr, name, "sriov_stride", &f.stride) >= 0)
                f.layout_known = true;

        for (unsigned n = 0; n < f.num && n < 0x10000; n++) {
                _cleanup_free_ char *vf = NULL, *drv = NULL;
                PciAddr a;
                r = sysroot_link_basenamef(sr, &vf, "sys/bus/pci/devices/%s/virtfn%u", name, n);
                if (r == -ENOENT)
                        break;
                if (r < 0)
                        return r;
                if (pci_addr_parse(vf, &a) < 0)
                        continue;
                r = sysroot_link_basenamef(sr, &drv, "sys/bus/pci/devices/%s/driver", vf);
                if (r < 0 && r != -ENOENT)
                        return r;
                PciAddr *nv = reallocarray(f.vfs, f.n_vfs + 1, sizeof *nv);
                if (!nv)
                        return -ENOMEM;
                f.vfs = nv;
                char **nd = reallocarray(f.vf_drivers, f.n_vfs + 1, sizeof *nd);
                if (!nd)
                        return -ENOMEM;
                f.vf_drivers = nd;
                f.vfs[f.n_vfs] = a;
                f.vf_drivers[f.n_vfs++] = TAKE_PTR(drv);
        }
        *ret = f;
        f = (SriovFact) {};
        return 0;
}

int reset_methods_read(Sysroot *sr, const PciAddr *a, char **ret) {
        char name[PCI_ADDR_STRLEN];
        return sysroot_read_linef(sr, ret, "sys/bus/pci/devices/%s/reset_method", pci_addr_format(a, name));
}

int sriov_facts_gather(Sysroot *sr, const Policy *p, SriovFact **ret_vfs, size_t *ret_n_vfs, char ***ret_resets,
                       size_t *ret_n_resets, bool *ret_vendor_reset) {
        SriovFact *vfs = calloc(p->n_vfs + 1, sizeof *vfs);
        char **resets = calloc(p->n_resets + 1, sizeof *resets);
        size_t n = 0;
        int r = vfs && resets ? 0 : -ENOMEM;

        for (; r >= 0 && n < p->n_vfs; n++)
                r = sriov_fact_read(sr, &p->vfs[n].pf, &vfs[n]);
        for (size_t i = 0; r >= 0 && i < p->n_resets; i++) {
                r = reset_methods_read(sr, &p->resets[i].device, &resets[i]);
                if (r == -ENOENT)
                        r = 0;
        }
        if (r < 0) {
                sriov_facts_free(vfs, n);
                for (size_t i = 0; resets && i < p->n_resets; i++)
                        free(resets[i]);
                free(resets);
                return r;
        }
        *ret_vfs = vfs;
        *ret_n_vfs = p->n_vfs;
        *ret_resets = resets;
        *ret_n_resets = p->n_resets;
        *ret_vendor_reset = p->n_resets > 0 && vendor_reset_loaded(sr);
        return 0;
}


bool vendor_reset_loaded(Sysroot *sr) {
        return sysroot_existsf(sr, "sys/module/vendor_reset") > 0;
}

/* Each wanted VF exists, with its IOMMU group when the PF has one. */
static bool vfs_ready(Sysroot *sr, const PciAddr *want, size_t n_want, bool groups,
                      char missing[static PCI_ADDR_STRLEN]) {
        for (size_t i = 0; i < n_want; i++) {
                pci_addr_format(&want[i], missing);
                if (sysroot_existsf(sr, groups ? "sys/bus/pci/devices/%s/iommu_group" : "sys/bus/pci/devices/%s",
                                    missing) <= 0)
                        return false;
        }
        return true;
}

int sriov_make_vfs(Sysroot *sr, const PciAddr *pf, unsigned count, bool autoprobe_off, const PciAddr *want,
                   size_t n_want, usec_t timeout, char **ret_error) {
        PollUntil retry = { .deadline = now_usec() + timeout, .wait = 2 * USEC_PER_MSEC, .cap = 100 * USEC_PER_MSEC };
        char name[PCI_ADDR_STRLEN], missing[PCI_ADDR_STRLEN], n[16];
        int r;

        pci_addr_format(pf, name);
        if (autoprobe_off) {
                r = sysroot_writef(sr, "0", "sys/bus/pci/devices/%s/sriov_drivers_autoprobe", name);
                if (r < 0)
                        return r;
        }
        snprintf(n, sizeof n, "%u", count);
        r = sysroot_writef(sr, n, "sys/bus/pci/devices/%s/sriov_numvfs", name);
        if (autoprobe_off) {
                int k = sysroot_writef(sr, "1", "sys/bus/pci/devices/%s/sriov_drivers_autoprobe", name);
                if (r >= 0 && k < 0)
                        r = k;
        }
        if (r < 0)
                return errorf(ret_error, r, "writing %u to %s's sriov_numvfs: %s", count, name, strerror(-r));
        /* The kernel adds the VFs before the write returns; udev and the
         * IOMMU driver may still be at work: poll until the deadline. */
        bool groups = sysroot_existsf(sr, "sys/bus/pci/devices/%s/iommu_group", name) > 0;
        for (;;) {
                if (vfs_ready(sr, want, n_want, groups, missing))
                        return 0;
                if (!poll_until(&retry))
                        return errorf(ret_error, -ETIME, "%s has %u VFs now, but %s did not appear within %.0f s", name,
                                      count, missing, (double) timeout / (double) USEC_PER_SEC);
        }
}

int sriov_remove_vfs(Sysroot *sr, const PciAddr *pf) {
        char name[PCI_ADDR_STRLEN];
        unsigned num;
        int r = read_uint_attr(sr, pci_addr_format(pf, name), "sriov_numvfs", &num);
        if (r == -ENOENT)
                return 0; /* the PF is gone: so are its VFs */
        if (r < 0)
                return r;
        return num == 0 ? 0 : sysroot_writef(sr, "0", "sys/bus/pci/devices/%s/sriov_numvfs", name);
}

int sriov_autoprobe_on(Sysroot *sr, const PciAddr *pf) {
        char name[PCI_ADDR_STRLEN];
        unsigned v;
        int r = read_uint_attr(sr, pci_addr_format(pf, name), "sriov_drivers_autoprobe", &v);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        return v != 0 ? 0 : sysroot_writef(sr, "1", "sys/bus/pci/devices/%s/sriov_drivers_autoprobe", name);
}
