/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "model/sriov.h"
#include "shared/util.h"

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
