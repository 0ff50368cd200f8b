/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "check/domain.h"
#include "host/sriov.h"
#include "shared/util.h"

/* SR-IOV: the policy's <vfs>, and the PFs of the domain's devices. */

/* SR-IOV facts of a PF: the policy's <vfs> (v), or a hostdev's own or its
 * PF's. Not capable without <vfs>: nothing to say. */
static int check_sriov_pf(DomainCtx *c, const PciAddr *pf, const VfsRequest *v, CheckReport *r) {
        _cleanup_(sriov_fact_done) SriovFact s = {};
        _cleanup_free_ char *id = NULL, *vfs = NULL, *where = NULL;
        char a[PCI_ADDR_STRLEN];
        int k;

        pci_addr_format(pf, a);
        id = strf("sriov:%s", a);
        if (!id)
                return -ENOMEM;
        k = sriov_fact_read(c->sr, pf, &s);
        if (k == -ENOMEM)
                return k;
        if (k < 0)
                return check_report_add(r, CHECK_WARN, id,
                                        strf("cannot read the SR-IOV state of %s: %s", a, strerror(-k)),
                                        strf("run as root"));
        if (v && !s.exists)
                return check_report_add(r, CHECK_FAIL, id, strf("<vfs pf='%s'>: there is no PCI device %s", a, a),
                                        strf("find the PF's address with `lspci -D` and fix the <vfs> element"));
        if (!s.capable)
                return v ? check_report_add(r, CHECK_FAIL, id, strf("<vfs pf='%s'>: %s has no SR-IOV capability", a, a),
                                            strf("remove the <vfs> element, or name the device's physical function"))
                         : 0;
        const char *vf_driver = NULL;
        for (size_t i = 0; i < s.n_vfs && !vf_driver; i++)
                vf_driver = s.vf_drivers[i];
        vfs = sriov_vfs_describe(&s, NULL, NULL, 0);
        if (s.layout_known && s.total > 0) {
                PciAddr first, last;
                char b[PCI_ADDR_STRLEN];
                if (sriov_vf_addr(pf, s.offset, s.stride, 0, &first) >= 0 &&
                    sriov_vf_addr(pf, s.offset, s.stride, s.total - 1, &last) >= 0)
                        where = strf("; its VFs are at %s to %s (First VF Offset %u, VF Stride %u)",
                                     pci_addr_format(&first, a), pci_addr_format(&last, b), s.offset, s.stride);
        } else
                where = strdup("; where its VFs go is unknown (run as root to read its SR-IOV capability)");
        pci_addr_format(pf, a);
        if (!vfs || !where)
                return -ENOMEM;
        _cleanup_free_ char *msg = strf("%s: SR-IOV, %u of %u VFs (sriov_numvfs, sriov_totalvfs), PF driver %s, VF "
                                        "driver %s, autoprobe %s%s%s%s",
                                        a, s.num, s.total, s.pf_driver ? s.pf_driver : "none",
                                        vf_driver ? vf_driver : s.n_vfs ? "none" : "unknown (no VFs now)",
                                        s.autoprobe < 0 ? "unknown" : s.autoprobe ? "on" : "off", where,
                                        s.n_vfs ? "; now: " : "", vfs);
        if (!msg)
                return -ENOMEM;
        if (v && v->count > s.total)
                return check_report_add(r, CHECK_FAIL, id, strf("<vfs count='%u'>: %s", v->count, msg),
                                        strf("count='%u' at most", s.total));
        if (v && s.num == 0 && !s.pf_driver)
                return check_report_add(r, CHECK_FAIL, id, strf("%s", msg),
                                        strf("bind %s to its driver: the kernel makes VFs through it", a));
        return check_report_pass(r, id, "%s%s", msg, v ? (s.num == 0 ? "; prepare makes the VFs" : "") : "");
}

int check_sriov(DomainCtx *c, CheckReport *r) {
        _cleanup_free_ PciAddr *done = calloc(c->d->n_hostdevs + c->policy->n_vfs + 1, sizeof *done);
        size_t n = 0;
        int k = 0;

        if (!done)
                return -ENOMEM;
        for (size_t i = 0; k >= 0 && i < c->policy->n_vfs; i++) {
                done[n++] = c->policy->vfs[i].pf;
                k = check_sriov_pf(c, &c->policy->vfs[i].pf, &c->policy->vfs[i], r);
        }
        for (size_t i = 0; k >= 0 && i < c->f.n_hostdevs; i++) {
                const PciDevice *dev = c->f.hostdevs[i];
                _cleanup_free_ char *phys = NULL;
                PciAddr pf;
                if (!dev)
                        continue;
                pf = dev->addr;
                if (sysroot_link_basenamef(c->sr, &phys, "sys/bus/pci/devices/%s/physfn", dev->name) >= 0 &&
                    pci_addr_parse(phys, &pf) < 0)
                        continue;
                bool seen = false;
                for (size_t j = 0; j < n; j++)
                        seen = seen || pci_addr_equal(&done[j], &pf);
                if (seen)
                        continue;
                done[n++] = pf;
                k = check_sriov_pf(c, &pf, NULL, r);
        }
        return k;
}
