/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "model/sriovplan.h"
#include "shared/util.h"

typedef struct Ctx {
        const Domain *d;
        const HostFacts *f;
        Plan *p;
        Decisions first;     /* create-vfs and reset-method: before everything */
        Decisions last;      /* detach-device of VFs made by prepare: with the other detaches */
} Ctx;

/* Takes message (NULL: -ENOMEM). */
static int problem(Ctx *c, bool bad_input, const char *code, char *message) {
        _cleanup_free_ char *m = message;
        return m ? plan_add_problem_text(c->p, bad_input, code, m) : -ENOMEM;
}

static int note(Ctx *c, char *message) {
        _cleanup_free_ char *m = message;
        return m ? plan_add_note_text(c->p, m) : -ENOMEM;
}

static bool is_hostdev(const Domain *d, const PciAddr *a) {
        for (size_t i = 0; i < d->n_hostdevs; i++)
                if (pci_addr_equal(&d->hostdevs[i].addr, a))
                        return true;
        return false;
}

static const PciDevice *hostdev_fact(const Ctx *c, const PciAddr *a) {
        for (size_t i = 0; i < c->d->n_hostdevs && i < c->f->n_hostdevs; i++)
                if (pci_addr_equal(&c->d->hostdevs[i].addr, a))
                        return c->f->hostdevs[i];
        return NULL;
}

static bool among(const PciAddr *l, size_t n, const PciAddr *a) {
        for (size_t i = 0; i < n; i++)
                if (pci_addr_equal(&l[i], a))
                        return true;
        return false;
}

/* "0000:3b:02.0 to 0000:3b:02.3", the VFs count would make. */
static char *vf_range(const SriovFact *s, unsigned count) {
        PciAddr first, last;
        char a[PCI_ADDR_STRLEN], b[PCI_ADDR_STRLEN];
        if (sriov_vf_addr(&s->pf, s->offset, s->stride, 0, &first) < 0 ||
            sriov_vf_addr(&s->pf, s->offset, s->stride, count - 1, &last) < 0)
                return strdup("beyond bus 255");
        if (count == 1)
                return strdup(pci_addr_format(&first, a));
        return strf("%s to %s", pci_addr_format(&first, a), pci_addr_format(&last, b));
}

static const char *made_by(const HostFacts *f, const PciAddr *pf) {
        for (size_t i = 0; i < f->n_vfs_made; i++)
                if (pci_addr_equal(&f->vfs_made[i].addr, pf))
                        return f->vfs_made[i].domain;
        return NULL;
}

/* Who uses the VFs a PF has now: their drivers, and the domains that hold them. */
static char *vfs_users(const HostFacts *f, const SriovFact *s) {
        _cleanup_free_ PciAddr *held = calloc(f->n_held + 1, sizeof *held);
        _cleanup_free_ char **by = calloc(f->n_held + 1, sizeof *by);
        if (!held || !by)
                return NULL;
        for (size_t i = 0; i < f->n_held; i++) {
                held[i] = f->held[i].addr;
                by[i] = f->held[i].domain;
        }
        return sriov_vfs_describe(s, held, by, f->n_held);
}

static int plan_vfs(Ctx *c, size_t i) {
        const VfsRequest *v = &c->d->policy->vfs[i];
        const SriovFact *s = &c->f->sriov[i];
        char pf[PCI_ADDR_STRLEN], a[PCI_ADDR_STRLEN];
        _cleanup_free_ PciAddr *mine = NULL;
        size_t n_mine = 0;
        int r;

        pci_addr_format(&v->pf, pf);
        if (!s->exists)
                return problem(c, true, "vfs-pf-not-found", strf("<vfs pf='%s'>: there is no PCI device %s on this host", pf, pf));
        if (is_hostdev(c->d, &v->pf))
                return problem(c, true, "vfs-pf-is-hostdev",
                               strf("<vfs pf='%s'>: %s is a <hostdev> of the domain itself; give the guest its VFs, "
                                    "or the PF without <vfs>",
                                    pf, pf));
        if (!s->capable)
                return problem(c, true, "vfs-no-sriov",
                               strf("<vfs pf='%s'>: %s has no SR-IOV capability (no sriov_totalvfs)%s%s", pf, pf,
                                    s->pf_driver ? "; driver " : "", s->pf_driver ? s->pf_driver : ""));
        if (v->count > s->total)
                return problem(c, true, "vfs-count",
                               strf("<vfs pf='%s' count='%u'>: %s offers at most %u VFs (sriov_totalvfs)", pf, v->count,
                                    pf, s->total));

        /* Which hostdevs are VFs of this PF: those its virtfnN links name,
         * and, while it has none, those the capability puts there. */
        mine = calloc(c->d->n_hostdevs + 1, sizeof *mine);
        if (!mine)
                return -ENOMEM;
        for (size_t k = 0; k < c->d->n_hostdevs; k++) {
                const PciAddr *h = &c->d->hostdevs[k].addr;
                bool vf = among(s->vfs, s->n_vfs, h) ||
                          (s->num == 0 && s->layout_known && sriov_vf_index(&s->pf, s->offset, s->stride, v->count, h) >= 0);
                if (vf)
                        mine[n_mine++] = *h;
        }

        if (s->num == 0) {
                if (!s->layout_known)
                        return problem(c, false, "vfs-layout-unknown",
                                       strf("<vfs pf='%s'>: cannot read the SR-IOV capability of %s (First VF Offset, VF "
                                            "Stride) to tell where its VFs will be: run as root",
                                            pf, pf));
                _cleanup_free_ char *range = vf_range(s, v->count);
                if (!range)
                        return -ENOMEM;
                if (n_mine == 0)
                        return problem(c, true, "vfs-unused",
                                       strf("<vfs pf='%s' count='%u'>: none of the domain's hostdevs is one of the VFs it "
                                            "makes (%s)",
                                            pf, v->count, range));
                if (!s->pf_driver) {
                        r = problem(c, false, "vfs-pf-no-driver",
                                    strf("<vfs pf='%s'>: %s has no driver: the kernel makes VFs through the PF's driver "
                                         "(bind one first)",
                                         pf, pf));
                        if (r < 0)
                                return r;
                }
                _cleanup_free_ char *taken = strdup("");
                for (size_t k = 0; taken && k < n_mine; k++) {
                        char *nt = strf("%s%s%s (VF %d)", taken, k ? ", " : "", pci_addr_format(&mine[k], a),
                                        sriov_vf_index(&s->pf, s->offset, s->stride, v->count, &mine[k]));
                        free(taken);
                        taken = nt;
                }
                if (!taken)
                        return -ENOMEM;
                r = decisions_add(&c->first, STEP_CREATE_VFS, pf, true,
                                 strf("%s: %u VFs made (%s), of which the domain takes %s%s; sriov_numvfs goes back to "
                                      "0 on release, once no other domain holds one",
                                      pf, v->count, range, taken,
                                      v->autoprobe_off ? "; without a host driver (autoprobe='no')" : ""));
                if (r < 0)
                        return r;
                for (size_t k = 0; k < n_mine; k++) {
                        pci_addr_format(&mine[k], a);
                        r = decisions_add(&c->last, STEP_DETACH_DEVICE, a, true,
                                         strf("%s goes to vfio-pci: a <hostdev> of the domain, a VF created by prepare "
                                              "(create-vfs %s)",
                                              a, pf));
                        if (r < 0)
                                return r;
                }
                return 0;
        }

        /* VFs exist: the domain's must be among them. */
        bool all = n_mine > 0;
        for (size_t k = 0; k < c->d->n_hostdevs; k++) {
                const PciAddr *h = &c->d->hostdevs[k].addr;
                if (!hostdev_fact(c, h) && !among(mine, n_mine, h) &&
                    sriov_planned_vfs(c->d, c->f->sriov, c->f->n_sriov, h) < 0)
                        all = false; /* missing, and no VF of this PF or of one whose VFs prepare makes */
        }
        if (!all) {
                _cleanup_free_ char *users = vfs_users(c->f, s);
                if (!users)
                        return -ENOMEM;
                if (n_mine == 0 && s->num > 0) {
                        _cleanup_free_ char *range = s->layout_known ? vf_range(s, v->count) : strdup("unknown");
                        return problem(c, false, "vfs-busy",
                                       strf("<vfs pf='%s' count='%u'>: %s has %u VFs already, none of them a hostdev of "
                                            "the domain (count='%u' would make %s); the kernel changes a non-zero count "
                                            "only through 0, and they are used: %s",
                                            pf, v->count, pf, s->num, v->count, range ? range : "?", users));
                }
                return problem(c, false, "vfs-busy",
                               strf("<vfs pf='%s' count='%u'>: %s has %u VFs already, not all the domain's; the kernel "
                                    "changes a non-zero count only through 0, and they are used: %s",
                                    pf, v->count, pf, s->num, users));
        }
        const char *maker = made_by(c->f, &v->pf);
        if (!maker)
                return note(c, strf("%s has %u VFs already, made outside vfio-hook: they stay as they are", pf, s->num));
        return decisions_add(&c->first, STEP_CREATE_VFS, pf, true,
                            strf("%s: its %u VFs were made by vfio-hook for domain %s; this domain shares them, and the "
                                 "last domain out sets sriov_numvfs back to 0",
                                 pf, s->num, maker));
}

static int plan_reset(Ctx *c, size_t i) {
        const ResetRequest *x = &c->d->policy->resets[i];
        const char *now = i < c->f->n_reset_methods ? c->f->reset_methods[i] : NULL;
        char dev[PCI_ADDR_STRLEN];

        pci_addr_format(&x->device, dev);
        if (!is_hostdev(c->d, &x->device))
                return problem(c, true, "reset-not-hostdev",
                               strf("<reset device='%s'>: %s is not a <hostdev> of the domain", dev, dev));
        if (!hostdev_fact(c, &x->device)) {
                if (sriov_planned_vfs(c->d, c->f->sriov, c->f->n_sriov, &x->device) >= 0)
                        return problem(c, true, "reset-method-unknown",
                                       strf("<reset device='%s'>: %s is a VF that prepare makes: its reset methods "
                                            "cannot be known before",
                                            dev, dev));
                return 0; /* not found: said already */
        }
        if (!now)
                return problem(c, true, "reset-method-unsupported",
                               strf("<reset device='%s' method='%s'>: %s has no reset_method (Linux >= 5.15 lists the "
                                    "device's reset methods there)",
                                    dev, x->method, dev));
        /* What reset_method lists; and the device_specific reset vendor-reset
         * supplies, which the kernel accepts when its probe says yes. */
        bool vendor = c->f->vendor_reset && streq(x->method, "device_specific") && hostdev_fact(c, &x->device) &&
                      vendor_reset_family(hostdev_fact(c, &x->device)->vendor, hostdev_fact(c, &x->device)->device);
        if (!word_list_contains(now, x->method) && !vendor)
                return problem(c, true, "reset-method-unsupported",
                               strf("<reset device='%s' method='%s'>: %s does not offer %s (it offers: %s)", dev,
                                    x->method, dev, x->method, now[0] ? now : "none"));
        if (streq(now, x->method))
                return note(c, strf("%s resets with %s already", dev, x->method));
        return decisions_add(&c->first, STEP_RESET_METHOD, dev, true,
                            strf("%s: reset_method becomes %s (now: %s); the old value comes back on release", dev,
                                 x->method, now));
}

/* Hostdevs that do not exist and that no <vfs> makes: named once. */
static int plan_missing(Ctx *c) {
        for (size_t k = 0; k < c->d->n_hostdevs; k++) {
                const PciAddr *h = &c->d->hostdevs[k].addr;
                char a[PCI_ADDR_STRLEN];
                if (hostdev_fact(c, h) || sriov_planned_vfs(c->d, c->f->sriov, c->f->n_sriov, h) >= 0)
                        continue;
                bool busy = false;
                for (size_t i = 0; i < c->d->policy->n_vfs && i < c->f->n_sriov; i++)
                        busy = busy || c->f->sriov[i].num > 0;
                if (busy)
                        continue; /* vfs-busy says it */
                pci_addr_format(h, a);
                int r = problem(c, true, "vfs-not-a-vf",
                                strf("hostdev %s does not exist and is no VF that the domain's <vfs> make: check its "
                                     "address against them (vfio-hook plan lists them)",
                                     a));
                if (r < 0)
                        return r;
        }
        return 0;
}

int sriov_plan(const Domain *d, const HostFacts *f, Plan *p) {
        Ctx c = { .d = d, .f = f, .p = p };
        int r = 0;

        if (!d->policy || (d->policy->n_vfs == 0 && d->policy->n_resets == 0))
                return 0;
        size_t n_problems = p->n_problems;
        for (size_t i = 0; r >= 0 && i < d->policy->n_vfs && i < f->n_sriov; i++)
                r = plan_vfs(&c, i);
        /* A <vfs> that is wrong itself explains its missing VFs. */
        if (r >= 0 && d->policy->n_vfs > 0 && p->n_problems == n_problems)
                r = plan_missing(&c);
        for (size_t i = 0; r >= 0 && i < d->policy->n_resets; i++)
                r = plan_reset(&c, i);
        if (r >= 0)
                r = plan_insert_decisions(p, &c.first, &c.last);
        decisions_done(&c.first);
        decisions_done(&c.last);
        return r < 0 ? r : 0;
}
