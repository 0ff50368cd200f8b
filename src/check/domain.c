/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "check/domain.h"
#include "check/strbuf.h"
#include "model/lifetime-plan.h"
#include "shared/util.h"

/* The domain: its policy, its devices and their IOMMU groups, the
 * lifetime steps; and the order in which every domain check runs. */

static bool is_hostdev(const Domain *d, const PciAddr *a) {
        for (size_t i = 0; i < d->n_hostdevs; i++)
                if (pci_addr_equal(&d->hostdevs[i].addr, a))
                        return true;
        return false;
}

static bool driver_is_vfio(const char *driver) {
        return streq_ptr(driver, "vfio-pci") || streq_ptr(driver, "pci-stub");
}

static int check_policy(DomainCtx *c, CheckReport *r) {
        const Policy *p = c->d->policy;
        char qb[VALUE_QUOTE_BUFSZ];
        if (!p)
                return check_report_add(
                        r, CHECK_WARN, "policy",
                        strf("domain %s has no vfio-hook policy: the hook leaves it alone (checked with the "
                             "defaults of an empty policy)",
                             value_quote(c->d->name, qb)),
                        strf("virsh metadata %s --uri " POLICY_NAMESPACE " --key vh --config --set "
                             "'<policy/>'",
                             value_quote(c->d->name, qb)));
        return check_report_pass(
                r, "policy", "stack %s, console %s, framebuffer %s, display manager %s, holders %s, timeout %us",
                stack_to_string(p->stack), choice_to_string(p->console, "unbind"),
                choice_to_string(p->framebuffer, "unbind"), choice_to_string(p->display_manager, "stop"),
                p->holders == HOLDERS_TERMINATE ? "terminate" : "refuse", p->timeout_sec);
}

static int check_device(DomainCtx *c, size_t i, CheckReport *r) {
        const PciDevice *dev = i < c->f.n_hostdevs ? c->f.hostdevs[i] : NULL;
        char addr[PCI_ADDR_STRLEN], qb[VALUE_QUOTE_BUFSZ];
        _cleanup_free_ char *id = NULL, *name = NULL, *driver = NULL;

        pci_addr_format(&c->d->hostdevs[i].addr, addr);
        id = strf("device:%s", addr);
        if (!id)
                return -ENOMEM;
        ssize_t v = dev ? -1 : sriov_planned_vfs(c->d, c->f.sriov, c->f.n_sriov, &c->d->hostdevs[i].addr);
        if (v >= 0) {
                char pf[PCI_ADDR_STRLEN];
                const SriovFact *s = &c->f.sriov[v];
                return check_report_pass(
                        r, id, "hostdev %s does not exist yet: VF %d of %s, created by prepare (<vfs count='%u'>)",
                        addr,
                        sriov_vf_index(&s->pf, s->offset, s->stride, c->policy->vfs[v].count, &c->d->hostdevs[i].addr),
                        pci_addr_format(&s->pf, pf), c->policy->vfs[v].count);
        }
        if (!dev)
                return check_report_add(r, CHECK_FAIL, id, strf("hostdev %s does not exist on this host", addr),
                                        strf("find the device's address with `lspci -D` and fix the domain's <hostdev> "
                                             "(virsh edit %s)",
                                             value_quote(c->d->name, qb)));
        name = pci_names_describe(c->names, dev);
        if (!name)
                return -ENOMEM;
        if (dev->is_bridge)
                return check_report_add(r, CHECK_FAIL, id, strf("%s %s is a PCI bridge, not an endpoint", addr, name),
                                        strf("remove it from the domain and give the devices behind it instead"));

        if (!dev->driver)
                driver = strdup("no driver");
        else if (driver_is_vfio(dev->driver))
                driver = strf("driver %s (handed over already)", dev->driver);
        else if (dev->driver_module && !streq(dev->driver_module, dev->driver))
                driver = strf("driver %s (module %s)", dev->driver, dev->driver_module);
        else
                driver = strf("driver %s", dev->driver);
        if (!driver)
                return -ENOMEM;

        if (dev->iommu_group < 0)
                return check_report_add(r, CHECK_FAIL, id,
                                        strf("%s %s, %s, is in no IOMMU group%s", addr, name, driver,
                                             c->n_groups == 0 ? " (the IOMMU is off)" : ""),
                                        strf("%s", c->n_groups == 0
                                                           ? "turn the IOMMU on: see iommu-enabled"
                                                           : "the kernel's IOMMU does not cover this device: it "
                                                             "cannot be given to a guest"));
        return check_report_pass(r, id, "%s %s, %s, IOMMU group %d", addr, name, driver, dev->iommu_group);
}

static int check_group(DomainCtx *c, int group, CheckReport *r) {
        _cleanup_free_ PciAddr *members = NULL;
        _cleanup_free_ char *id = strf("iommu-group:%d", group), *ours = NULL, *fine = NULL, *blocking = NULL,
                                *blockers = NULL;
        _cleanup_strbuf_ StrBuf b_ours = {}, b_fine = {}, b_block = {}, b_addrs = {};
        size_t n = 0, n_block = 0;
        int k;

        if (!id)
                return -ENOMEM;
        k = pci_iommu_group_members(c->sr, group, &members, &n);
        if (k == -ENOMEM)
                return k;
        if (k < 0)
                return check_report_add(r, CHECK_WARN, id, strf("cannot list IOMMU group %d: %s", group, strerror(-k)),
                                        strf("run as root"));

        if (strbuf_open(&b_ours) < 0 || strbuf_open(&b_fine) < 0 || strbuf_open(&b_block) < 0 ||
            strbuf_open(&b_addrs) < 0)
                return -ENOMEM;
        for (size_t j = 0; j < n; j++) {
                _cleanup_pci_device_ PciDevice *m = NULL;
                _cleanup_free_ char *name = NULL;
                char addr[PCI_ADDR_STRLEN];

                pci_addr_format(&members[j], addr);
                if (is_hostdev(c->d, &members[j])) {
                        fprintf(b_ours.f, "%s%s", ftell(b_ours.f) ? ", " : "", addr);
                        continue;
                }
                k = pci_device_read(c->sr, &members[j], &m);
                if (k == -ENOMEM)
                        return k;
                if (k < 0)
                        continue; /* gone meanwhile */
                if (m->is_bridge) {
                        fprintf(b_fine.f, "%s%s (bridge)", ftell(b_fine.f) ? ", " : "", addr);
                        continue;
                }
                if (!pci_member_blocks_vfio(m)) {
                        fprintf(b_fine.f, "%s%s (%s)", ftell(b_fine.f) ? ", " : "", addr,
                                m->driver ? m->driver : "no driver");
                        continue;
                }
                name = pci_names_describe(c->names, m);
                if (!name)
                        return -ENOMEM;
                fprintf(b_block.f, "%s%s %s on %s", ftell(b_block.f) ? "; " : "", addr, name, m->driver);
                fprintf(b_addrs.f, "%s%s", ftell(b_addrs.f) ? ", " : "", addr);
                n_block++;
        }
        ours = strbuf_take(&b_ours);
        fine = strbuf_take(&b_fine);
        blocking = strbuf_take(&b_block);
        blockers = strbuf_take(&b_addrs);
        if (!ours || !fine || !blocking || !blockers)
                return -ENOMEM;

        if (n_block > 0)
                k = check_report_add(
                        r, CHECK_FAIL, id,
                        strf("IOMMU group %d also holds %s, not in the domain: VFIO takes a group whole", group,
                             blocking),
                        strf("add %s to the domain as <hostdev> too (%s leave%s the host with it), or move the "
                             "card to a slot with its own IOMMU group",
                             blockers, n_block == 1 ? "it" : "they", n_block == 1 ? "s" : ""));
        else
                k = check_report_pass(r, id, "IOMMU group %d: %s in the domain%s%s", group, ours,
                                      fine[0] ? "; also " : "", fine);

        return k;
}

static bool group_listed(const DomainCtx *c, size_t upto, int group) {
        for (size_t i = 0; i < upto; i++)
                if (c->f.hostdevs[i] && c->f.hostdevs[i]->iommu_group == group)
                        return true;
        return false;
}

/* <inhibit>, <isolate>, <hugepages>: each step and what it changes, or
 * what stops it (lifetime-steps.h). */
static int check_lifetime(DomainCtx *c, CheckReport *r) {
        _cleanup_(plan_done) Plan p = {};
        int k = lifetime_plan(c->d, &c->f.lifetime, &p);
        for (size_t i = 0; k >= 0 && i < p.decisions.n; i++) {
                const Decision *x = &p.decisions.list[i];
                _cleanup_free_ char *id = strf("%s:%s", decision_kind_to_string(x->kind), x->resource);
                k = id ? check_report_add(r, CHECK_PASS, id, strdup(x->reason), NULL) : -ENOMEM;
        }
        for (size_t i = 0; k >= 0 && i < p.n_problems; i++)
                k = check_report_add(r, CHECK_FAIL, p.problems[i].code, strdup(p.problems[i].message),
                                     strf("change the policy, or root's limits in vfio-hook.conf(5)"));
        return k;
}

int domain_checks_run(Sysroot *sr, PciNames *names, const Domain *d, int n_groups, CheckReport *r) {
        _cleanup_(policy_done) Policy defaults = {};
        DomainCtx c = { .sr = sr, .names = names, .d = d, .policy = d->policy, .n_groups = n_groups };
        char qb[VALUE_QUOTE_BUFSZ];
        int k;

        if (!c.policy) {
                policy_init(&defaults);
                c.policy = &defaults;
        }
        k = check_policy(&c, r);
        if (k < 0)
                return k;

        /* Units count as running when their unit file is there: a check
         * asks no daemon, and says what prepare would do if they ran. */
        k = host_facts_gather(sr, d, unit_state_from_tree, sr, &c.f);
        if (k == -ENOMEM)
                return k;
        if (k < 0)
                return check_report_add(r, CHECK_FAIL, "host-state",
                                        strf("cannot read the host's state: %s", strerror(-k)),
                                        strf("run as root; with --sysroot, check the tree"));
        Policy automatic = *c.policy;
        automatic.console = automatic.framebuffer = automatic.display_manager = CHOICE_AUTO;
        k = decide(d, c.policy, &c.f, &c.ds);
        if (k >= 0)
                k = decide(d, &automatic, &c.f, &c.auto_ds);
        if (k < 0) {
                host_facts_done(&c.f);
                decisions_done(&c.ds);
                return k;
        }

        if (d->n_hostdevs == 0)
                k = check_report_add(
                        r, CHECK_WARN, "hostdevs", strf("domain %s has no PCI <hostdev>", value_quote(d->name, qb)),
                        strf("add the GPU and its audio function: virsh attach-device %s FILE --config, or "
                             "virt-manager's Add Hardware > PCI Host Device",
                             value_quote(d->name, qb)));
        for (size_t i = 0; k >= 0 && i < d->n_hostdevs; i++)
                k = check_device(&c, i, r);
        for (size_t i = 0; k >= 0 && i < c.f.n_hostdevs; i++) {
                const PciDevice *dev = c.f.hostdevs[i];
                if (dev && dev->iommu_group >= 0 && !group_listed(&c, i, dev->iommu_group))
                        k = check_group(&c, dev->iommu_group, r);
        }
        for (size_t i = 0; k >= 0 && i < c.f.n_hostdevs; i++) {
                const PciDevice *dev = c.f.hostdevs[i];
                if (dev && dev->vendor == 0x1002 && pci_device_is_display(dev))
                        k = check_reset(&c, dev, r);
        }
        if (k >= 0)
                k = check_sriov(&c, r);
        if (k >= 0)
                k = check_policy_resets(&c, r);
        if (k >= 0 && (c.f.has_display || (c.f.stack_roots && c.f.stack_roots[0])))
                k = check_driver_stack(&c, r);
        if (k >= 0 && c.f.has_display)
                k = check_domain_display(&c, r);
        if (k >= 0 && d->policy)
                k = check_lifetime(&c, r);
        host_facts_done(&c.f);
        decisions_done(&c.ds);
        decisions_done(&c.auto_ds);
        return k;
}
