/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "model/lifetime-plan.h"
#include "shared/util.h"

int lifetime_check_host(const Domain *d, const LifetimeFacts *f, char **ret_error) {
        const LifetimePolicy *p = d->policy ? &d->policy->lifetime : NULL;
        if (!p || !p->isolate)
                return 0;
        _cleanup_free_ char *want = cpuset_format(p->isolate), *have = cpuset_format(&f->cpus);
        if (!want || !have)
                return -ENOMEM;
        if (!f->have_cpus)
                return errorf(ret_error, -EINVAL,
                              "policy: <isolate cpus='%s'/>: cannot read the host's CPUs "
                              "(/sys/devices/system/cpu/online)",
                              want);
        if (!cpuset_subset(p->isolate, &f->cpus))
                return errorf(ret_error, -EINVAL,
                              "policy: <isolate cpus='%s'/> names CPUs this host does not have (it has %s)", want, have);
        CpuSet left = f->cpus;
        cpuset_remove_all(&left, p->isolate);
        if (cpuset_count(&left) == 0)
                return errorf(ret_error, -EINVAL,
                              "policy: <isolate cpus='%s'/> would leave the host no CPU (it has %s): keep one for it",
                              want, have);
        return 0;
}

static int plan_isolate(const Domain *d, const LifetimeFacts *f, Plan *p, Decisions *ds) {
        const CpuSet *iso = d->policy->lifetime.isolate;
        _cleanup_free_ char *err = NULL;
        int r = lifetime_check_host(d, f, &err);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return plan_add_problem(p, "isolate-cpus", "%s", err);
        CpuSet left = f->cpus;
        cpuset_remove_all(&left, iso);
        _cleanup_free_ char *l = cpuset_format(&left), *g = cpuset_format(iso);
        if (!l || !g)
                return -ENOMEM;
        for (size_t i = 0; isolate_units[i]; i++) {
                r = decisions_add(ds, STEP_ISOLATE_CPUS, isolate_units[i], true,
                                  strf("%s: AllowedCPUs= narrowed to CPUs %s (at most), CPUs %s left to the guest "
                                       "until release: <isolate>",
                                       isolate_units[i], l, g));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int plan_hugepages(const Domain *d, const LifetimeFacts *f, Plan *p, Decisions *ds) {
        const LifetimePolicy *lp = &d->policy->lifetime;
        _cleanup_free_ char *err = NULL;
        HugepageNeed need;
        int r = hugepage_need(lp, &d->memory, &need, &err);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return plan_add_problem(p, "hugepages", "%s", err);
        const char *size = lp->hugepage_kib == 2048 ? "2M" : "1G";
        if (!f->pool_exists)
                return plan_add_problem(p, "hugepages",
                                        "the host has no pool of %s huge pages (/sys/kernel/mm/hugepages/hugepages-%llukB)",
                                        size, (unsigned long long) lp->hugepage_kib);
        unsigned n_nodes = cpuset_count(&need.nodes);
        if (f->n_pools < (n_nodes ? n_nodes : 1))
                return plan_add_problem(p, "hugepages", "the host lacks a NUMA node of the domain's <numatune> nodeset");
        uint64_t added_kib = 0;
        for (size_t i = 0; i < f->n_pools; i++) {
                const HugePool *pool = &f->pools[i];
                uint64_t want = n_nodes ? need.pages_per_node : need.pages;
                char name[64];
                hugepage_pool_format(pool->node, lp->hugepage_kib, name);
                if (pool->free >= want) {
                        r = decisions_add(ds, STEP_RAISE_HUGEPAGES, name, false,
                                          strf("%s stays: its %llu free pages hold the domain's %llu", name,
                                               (unsigned long long) pool->free, (unsigned long long) want));
                        if (r < 0)
                                return r;
                        continue;
                }
                uint64_t add = want - pool->free;
                added_kib += add * lp->hugepage_kib;
                r = decisions_add(ds, STEP_RAISE_HUGEPAGES, name, true,
                                  strf("%s: nr_hugepages %llu -> %llu (%llu free, the domain needs %llu pages of %s), "
                                       "the %llu added given back on release: <hugepages>",
                                       name, (unsigned long long) pool->nr, (unsigned long long) (pool->nr + add),
                                       (unsigned long long) pool->free, (unsigned long long) want, size,
                                       (unsigned long long) add));
                if (r < 0)
                        return r;
        }
        uint64_t limit = f->mem_total_kib / 100 * lp->hugepages_percent;
        if (lp->hugepages_percent > 0 && added_kib > 0 && f->huge_total_kib + added_kib > limit)
                return plan_add_problem(p, "hugepages-limit",
                                        "huge pages would take %llu MiB of the host's %llu MiB, more than the %u%% root "
                                        "allows (allow-hugepages)",
                                        (unsigned long long) ((f->huge_total_kib + added_kib) / 1024),
                                        (unsigned long long) (f->mem_total_kib / 1024), lp->hugepages_percent);
        return 0;
}

int lifetime_plan(const Domain *d, const LifetimeFacts *f, Plan *p) {
        _cleanup_(decisions_done) Decisions ds = {};
        const LifetimePolicy *lp = d->policy ? &d->policy->lifetime : NULL;
        int r = 0;

        if (!lp || (!lp->inhibit && !lp->isolate && !lp->hugepage_kib))
                return 0;
        /* The order of prepare: the lock first (nothing sleeps during the
         * hand-off), the pages while memory is least fragmented, then the CPUs. */
        if (lp->inhibit) {
                char unit[INHIBIT_UNIT_MAX];
                _cleanup_free_ char *what = NULL;
                inhibit_unit_name(d->name, unit);
                for (char **w = lp->inhibit; *w; w++) {
                        char *n = strf("%s%s%s", what ? what : "", what ? ":" : "", *w);
                        free(what);
                        what = n;
                        if (!what)
                                return -ENOMEM;
                }
                r = decisions_add(&ds, STEP_START_INHIBITOR, unit, true,
                                  strf("%s: holds a logind inhibitor lock (%s, \"vfio-hook: %s has the GPU\") until "
                                       "release: <inhibit>",
                                       unit, what, d->name));
        }
        if (r >= 0 && lp->hugepage_kib)
                r = plan_hugepages(d, f, p, &ds);
        if (r >= 0 && lp->isolate)
                r = plan_isolate(d, f, p, &ds);
        if (r < 0)
                return r;

        /* Put them before the decisions of the hand-off. */
        return plan_insert_decisions(p, &ds, NULL);
}

bool step_is_lifetime(StepAction a) {
        return a == STEP_START_INHIBITOR || a == STEP_ISOLATE_CPUS || a == STEP_RAISE_HUGEPAGES;
}

const char *lifetime_undo_verb(StepAction a) {
        switch (a) {
        case STEP_START_INHIBITOR:
                return "stop";
        case STEP_ISOLATE_CPUS:
                return "give back CPUs of";
        case STEP_RAISE_HUGEPAGES:
                return "give back huge pages of";
        default:
                return "undo";
        }
}

void lifetime_missing_phrase(const JournalStep *s, char *buf, size_t size) {
        uint64_t before = 0, added = 0;
        switch (s->action) {
        case STEP_START_INHIBITOR:
                snprintf(buf, size, "the inhibitor %s still runs", s->target);
                break;
        case STEP_ISOLATE_CPUS:
                snprintf(buf, size, "%s is not back on AllowedCPUs=%s", s->target,
                         streq_ptr(s->orig, "-") ? "(all)" : s->orig ? s->orig : "?");
                break;
        case STEP_RAISE_HUGEPAGES:
                (void) hugepage_orig_parse(s->orig, &before, &added);
                snprintf(buf, size, "the huge-page pool %s still has the %llu pages added", s->target,
                         (unsigned long long) added);
                break;
        default:
                snprintf(buf, size, "%s is not undone", s->target);
        }
}

void lifetime_describe(const JournalStep *s, char *buf, size_t size) {
        uint64_t before = 0, added = 0;
        switch (s->action) {
        case STEP_START_INHIBITOR:
                snprintf(buf, size, "inhibitor lock (%s)", s->orig ? s->orig : "?");
                break;
        case STEP_ISOLATE_CPUS:
                snprintf(buf, size, "AllowedCPUs narrowed (was %s)", streq_ptr(s->orig, "-") ? "all" : s->orig ? s->orig : "?");
                break;
        case STEP_RAISE_HUGEPAGES:
                (void) hugepage_orig_parse(s->orig, &before, &added);
                snprintf(buf, size, "%llu huge pages added (nr_hugepages was %llu)", (unsigned long long) added,
                         (unsigned long long) before);
                break;
        default:
                buf[0] = 0;
        }
}

bool lifetime_orig_valid(StepAction a, const char *orig) {
        CpuSet s;
        uint64_t x, y;
        _cleanup_strv_free_ char **l = NULL;
        switch (a) {
        case STEP_START_INHIBITOR:
                return orig && inhibit_parse(orig, &l) >= 0;
        case STEP_ISOLATE_CPUS:
                return streq_ptr(orig, "-") || (orig && cpuset_parse(orig, false, &s) >= 0 && cpuset_count(&s) > 0);
        case STEP_RAISE_HUGEPAGES:
                return hugepage_orig_parse(orig, &x, &y) >= 0;
        default:
                return false;
        }
}
