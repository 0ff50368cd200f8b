/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sriov.h"
#include "util.h"

/* Offsets in the SR-IOV capability (include/uapi/linux/pci_regs.h). */
#define SRIOV_TOTAL_VF 0x0e
#define SRIOV_NUM_VF 0x10
#define SRIOV_VF_OFFSET 0x14
#define SRIOV_VF_STRIDE 0x16
#define SRIOV_VF_DID 0x1a
#define SRIOV_CAP_SIZE 0x40

static unsigned le16(const uint8_t *p) {
        return (unsigned) p[0] | (unsigned) p[1] << 8;
}

static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

int sriov_cap_parse(const uint8_t *config, size_t len, SriovCap *ret) {
        size_t pos = PCI_CFG_SPACE_SIZE;
        /* As the kernel's pci_find_next_ext_capability(): at most this many hops. */
        unsigned ttl = (PCI_CFG_SPACE_EXP_SIZE - PCI_CFG_SPACE_SIZE) / 8;

        if (len < PCI_CFG_SPACE_SIZE + 4)
                return -ENOENT;
        if (len > PCI_CFG_SPACE_EXP_SIZE)
                len = PCI_CFG_SPACE_EXP_SIZE;
        while (ttl-- > 0) {
                uint32_t h = le32(config + pos);
                /* All zeros or all ones: no extended capabilities (or no access). */
                if (h == 0 || h == 0xffffffffU)
                        return -ENOENT;
                if ((h & 0xffff) == PCI_EXT_CAP_ID_SRIOV) {
                        if (pos + SRIOV_CAP_SIZE > len)
                                return -EINVAL;
                        *ret = (SriovCap) {
                                .total = le16(config + pos + SRIOV_TOTAL_VF),
                                .num = le16(config + pos + SRIOV_NUM_VF),
                                .offset = le16(config + pos + SRIOV_VF_OFFSET),
                                .stride = le16(config + pos + SRIOV_VF_STRIDE),
                                .vf_device = le16(config + pos + SRIOV_VF_DID),
                        };
                        return 0;
                }
                size_t next = (h >> 20) & 0xffc;
                if (next == 0)
                        return -ENOENT;
                if (next < PCI_CFG_SPACE_SIZE || next + 4 > len)
                        return -EINVAL;
                pos = next;
        }
        return -EINVAL;
}

static unsigned devfn_of(const PciAddr *a) {
        return a->slot << 3 | a->function;
}

int sriov_vf_addr(const PciAddr *pf, unsigned offset, unsigned stride, unsigned n, PciAddr *ret) {
        /* 16-bit routing IDs: bus << 8 | devfn. */
        uint64_t rid = (uint64_t) pf->bus * 256 + devfn_of(pf) + offset + (uint64_t) stride * n;
        if (rid > 0xffff)
                return -ERANGE;
        *ret = (PciAddr) {
                .domain = pf->domain,
                .bus = (unsigned) (rid >> 8),
                .slot = (unsigned) (rid & 0xff) >> 3,
                .function = (unsigned) rid & 7,
        };
        return 0;
}

int sriov_vf_index(const PciAddr *pf, unsigned offset, unsigned stride, unsigned count, const PciAddr *a) {
        for (unsigned n = 0; n < count; n++) {
                PciAddr v;
                if (sriov_vf_addr(pf, offset, stride, n, &v) < 0)
                        break;
                if (pci_addr_equal(&v, a))
                        return (int) n;
        }
        return -ENOENT;
}

void sriov_fact_done(SriovFact *f) {
        if (!f)
                return;
        free(f->pf_driver);
        for (size_t i = 0; i < f->n_vfs; i++)
                free(f->vf_drivers[i]);
        free(f->vf_drivers);
        free(f->vfs);
        *f = (SriovFact) {};
}

void sriov_facts_free(SriovFact *l, size_t n) {
        for (size_t i = 0; i < n; i++)
                sriov_fact_done(&l[i]);
        free(l);
}

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

/* Device IDs per family, as vendor-reset's table lists them. */
static const struct {
        const char *family;
        uint16_t ids[16];
} vendor_reset_table[] = {
        { "Polaris 10", { 0x67c0, 0x67c1, 0x67c2, 0x67c4, 0x67c7, 0x67c8, 0x67c9, 0x67ca, 0x67cc, 0x67cf, 0x67d0, 0x67df, 0x6fdf } },
        { "Polaris 11", { 0x67e0, 0x67e1, 0x67e3, 0x67e7, 0x67e8, 0x67e9, 0x67eb, 0x67ef, 0x67ff } },
        { "Polaris 12", { 0x6980, 0x6981, 0x6985, 0x6986, 0x6987, 0x6995, 0x6997, 0x699f } },
        { "Vega 10", { 0x6860, 0x6861, 0x6862, 0x6863, 0x6864, 0x6867, 0x6868, 0x6869, 0x686a, 0x686b, 0x686c, 0x686d,
                       0x686e, 0x686f, 0x687f } },
        { "Vega 20", { 0x66a0, 0x66a1, 0x66a2, 0x66a3, 0x66a4, 0x66a7, 0x66af } },
        { "Navi 10", { 0x7310, 0x7312, 0x7318, 0x7319, 0x731a, 0x731b, 0x731e, 0x731f } },
        { "Navi 12", { 0x7360, 0x7362 } },
        { "Navi 14", { 0x7340, 0x7341, 0x7347, 0x734f } },
};

const char *vendor_reset_family(unsigned vendor, unsigned device) {
        if (vendor != 0x1002)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(vendor_reset_table); i++)
                for (size_t k = 0; k < ELEMENTSOF(vendor_reset_table[i].ids) && vendor_reset_table[i].ids[k]; k++)
                        if (vendor_reset_table[i].ids[k] == device)
                                return vendor_reset_table[i].family;
        return NULL;
}

bool vendor_reset_loaded(Sysroot *sr) {
        return sysroot_existsf(sr, "sys/module/vendor_reset") > 0;
}

bool word_list_contains(const char *list, const char *word) {
        size_t n = strlen(word);
        for (const char *p = list; p && *p;) {
                p += strspn(p, " ");
                size_t k = strcspn(p, " ");
                if (k == n && strncmp(p, word, n) == 0)
                        return true;
                p += k;
        }
        return false;
}

char *reset_methods_to_journal(const char *methods) {
        _cleanup_free_ char *s = NULL;
        size_t o = 0;

        s = malloc(strlen(methods) + sizeof("none"));
        if (!s)
                return NULL;
        for (const char *p = methods; *p;) {
                p += strspn(p, " ");
                size_t k = strcspn(p, " ");
                if (k == 0)
                        break;
                if (o > 0)
                        s[o++] = '+';
                memcpy(s + o, p, k);
                o += k;
                p += k;
        }
        if (o == 0)
                return strdup("none");
        s[o] = 0;
        return TAKE_PTR(s);
}

char *reset_methods_from_journal(const char *orig) {
        if (streq(orig, "none"))
                return strdup("");
        char *s = strdup(orig);
        for (char *p = s; p && *p; p++)
                if (*p == '+')
                        *p = ' ';
        return s;
}

bool reset_methods_journal_valid(const char *orig) {
        if (!orig)
                return false;
        if (streq(orig, "none"))
                return true;
        _cleanup_free_ char *s = reset_methods_from_journal(orig);
        if (!s || !s[0] || s[0] == ' ' || strstr(s, "  ") || s[strlen(s) - 1] == ' ')
                return false;
        for (char *save = NULL, *w = strtok_r(s, " ", &save); w; w = strtok_r(NULL, " ", &save))
                if (!reset_method_name_valid(w))
                        return false;
        return true;
}

int create_vfs_orig_parse(const char *orig, unsigned *ret_count, bool *ret_autoprobe) {
        char buf[16];
        unsigned n;
        if (!orig || strlen(orig) >= sizeof buf)
                return -EINVAL;
        snprintf(buf, sizeof buf, "%s", orig);
        char *plus = strchr(buf, '+');
        if (plus) {
                if (!streq(plus, CREATE_VFS_AUTOPROBE_SUFFIX))
                        return -EINVAL;
                *plus = 0;
        }
        if (parse_uint(buf, &n) < 0 || n < 1 || n > POLICY_VF_COUNT_MAX)
                return -EINVAL;
        if (ret_count)
                *ret_count = n;
        if (ret_autoprobe)
                *ret_autoprobe = plus != NULL;
        return 0;
}

ssize_t sriov_planned_vfs(const Domain *d, const SriovFact *facts, size_t n_facts, const PciAddr *a) {
        if (!d->policy)
                return -1;
        for (size_t i = 0; i < d->policy->n_vfs && i < n_facts; i++) {
                const SriovFact *f = &facts[i];
                if (!f->capable || !f->layout_known || f->num != 0 || d->policy->vfs[i].count > f->total)
                        continue;
                if (sriov_vf_index(&f->pf, f->offset, f->stride, d->policy->vfs[i].count, a) >= 0)
                        return (ssize_t) i;
        }
        return -1;
}

char *sriov_vfs_describe(const SriovFact *f, const PciAddr *held, char *const *held_by, size_t n_held) {
        _cleanup_free_ char *out = strdup("");

        for (size_t i = 0; out && i < f->n_vfs; i++) {
                char a[PCI_ADDR_STRLEN];
                const char *dom = NULL;
                for (size_t k = 0; k < n_held && !dom; k++)
                        if (pci_addr_equal(&held[k], &f->vfs[i]))
                                dom = held_by[k];
                char *n = strf("%s%s%s (%s%s%s)", out, i ? ", " : "", pci_addr_format(&f->vfs[i], a),
                               f->vf_drivers[i] ? f->vf_drivers[i] : "no driver", dom ? ", domain " : "", dom ? dom : "");
                free(out);
                out = n;
        }
        return TAKE_PTR(out);
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
        usec_t deadline = now_usec() + timeout, wait = 2 * USEC_PER_MSEC;
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
        if (r < 0) {
                if (ret_error)
                        *ret_error = strf("writing %u to %s's sriov_numvfs: %s", count, name, strerror(-r));
                return r;
        }
        /* The kernel adds the VFs before the write returns; udev and the
         * IOMMU driver may still be at work: poll until the deadline. */
        bool groups = sysroot_existsf(sr, "sys/bus/pci/devices/%s/iommu_group", name) > 0;
        for (;;) {
                if (vfs_ready(sr, want, n_want, groups, missing))
                        return 0;
                if (now_usec() >= deadline) {
                        if (ret_error)
                                *ret_error = strf("%s has %u VFs now, but %s did not appear within %.0f s", name, count,
                                                  missing, (double) timeout / (double) USEC_PER_SEC);
                        return -ETIME;
                }
                sleep_usec(wait);
                if (wait < 100 * USEC_PER_MSEC)
                        wait *= 2;
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
