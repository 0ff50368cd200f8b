/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>

#include "deadline.h"
#include "lifetime-steps.h"
#include "log.h"
#include "subprocess.h"
#include "util.h"

/* ------------------------------------------------------------------ facts */

static int read_u64f(Sysroot *sr, uint64_t *ret, const char *fmt, ...) _printf_(3, 4);
static int read_u64f(Sysroot *sr, uint64_t *ret, const char *fmt, ...) {
        _cleanup_free_ char *path = NULL, *v = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&path, fmt, ap);
        va_end(ap);
        if (r < 0) {
                path = NULL;
                return -ENOMEM;
        }
        r = sysroot_read_line(sr, path, &v);
        if (r < 0)
                return r;
        char *end;
        errno = 0;
        unsigned long long x = strtoull(v, &end, 10);
        if (errno != 0 || end == v || *end || v[0] == '-')
                return -EINVAL;
        *ret = x;
        return 0;
}

static int pool_read(Sysroot *sr, int node, uint64_t kib, HugePool *ret) {
        HugePool p = { .node = node };
        int r;
        if (node < 0) {
                r = read_u64f(sr, &p.nr, "sys/kernel/mm/hugepages/hugepages-%llukB/nr_hugepages", (unsigned long long) kib);
                if (r >= 0)
                        r = read_u64f(sr, &p.free, "sys/kernel/mm/hugepages/hugepages-%llukB/free_hugepages",
                                      (unsigned long long) kib);
        } else {
                r = read_u64f(sr, &p.nr, "sys/devices/system/node/node%d/hugepages/hugepages-%llukB/nr_hugepages", node,
                              (unsigned long long) kib);
                if (r >= 0)
                        r = read_u64f(sr, &p.free, "sys/devices/system/node/node%d/hugepages/hugepages-%llukB/free_hugepages",
                                      node, (unsigned long long) kib);
        }
        if (r < 0)
                return r;
        *ret = p;
        return 0;
}

typedef struct SysWrite {
        Sysroot *sr;
        const char *path, *value;
} SysWrite;

static int sys_write(void *userdata, char **ret_error) {
        SysWrite *w = userdata;
        return sysroot_write(w->sr, w->path, w->value);
}

/* Growing a pool (or compacting) makes the kernel reclaim and compact
 * memory inside the write, which can take minutes: on the host the write
 * runs in a child under the deadline (the kernel's loop stops at a
 * signal, keeping what it found). A tree's fake kernel answers at once. */
static int write_under_deadline(Sysroot *sr, const char *path, const char *value, usec_t timeout, char **ret_error) {
        if (!sysroot_is_host(sr))
                return sysroot_write(sr, path, value);
        SysWrite w = { .sr = sr, .path = path, .value = value };
        return deadline_run(sys_write, &w, timeout, ret_error);
}

static int pool_write(Sysroot *sr, int node, uint64_t kib, uint64_t nr, usec_t timeout, char **ret_error) {
        char v[32], path[160];
        snprintf(v, sizeof v, "%llu", (unsigned long long) nr);
        if (node < 0)
                snprintf(path, sizeof path, "sys/kernel/mm/hugepages/hugepages-%llukB/nr_hugepages", (unsigned long long) kib);
        else
                snprintf(path, sizeof path, "sys/devices/system/node/node%d/hugepages/hugepages-%llukB/nr_hugepages", node,
                         (unsigned long long) kib);
        return write_under_deadline(sr, path, v, timeout, ret_error);
}

static int read_mem_total(Sysroot *sr, uint64_t *ret) {
        _cleanup_free_ char *s = NULL;
        int r = sysroot_read_file(sr, "proc/meminfo", 64 * 1024, &s);
        if (r < 0)
                return r;
        const char *m = strstr(s, "MemTotal:");
        unsigned long long kib;
        if (!m || sscanf(m, "MemTotal: %llu kB", &kib) != 1)
                return -EINVAL;
        *ret = kib;
        return 0;
}

/* nr_hugepages times the page size, over every pool size of the host. */
static int huge_total(Sysroot *sr, uint64_t *ret) {
        _cleanup_strv_free_ char **dirs = NULL;
        uint64_t total = 0;
        int r = sysroot_list_dirf(sr, &dirs, "sys/kernel/mm/hugepages");
        if (r == -ENOENT) {
                *ret = 0;
                return 0;
        }
        if (r < 0)
                return r;
        for (char **d = dirs; *d; d++) {
                unsigned long long kib;
                uint64_t nr;
                char tail[4];
                if (sscanf(*d, "hugepages-%llu%3s", &kib, tail) != 2 || !streq(tail, "kB"))
                        continue;
                r = read_u64f(sr, &nr, "sys/kernel/mm/hugepages/hugepages-%llukB/nr_hugepages", kib);
                if (r < 0)
                        return r;
                total += nr * kib;
        }
        *ret = total;
        return 0;
}

static int read_cpus(Sysroot *sr, CpuSet *ret) {
        static const char *const files[] = { "sys/devices/system/cpu/online", "sys/devices/system/cpu/present" };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *v = NULL;
                if (sysroot_read_line(sr, files[i], &v) < 0)
                        continue;
                return cpuset_parse(v, false, ret);
        }
        return -ENOENT;
}

int lifetime_facts_gather(Sysroot *sr, const Domain *d, LifetimeFacts *ret) {
        _cleanup_(lifetime_facts_done) LifetimeFacts f = {};
        const LifetimePolicy *p = d->policy ? &d->policy->lifetime : NULL;
        int r;

        if (!p || (!p->isolate && !p->hugepage_kib)) {
                *ret = f;
                return 0;
        }
        if (p->isolate)
                f.have_cpus = read_cpus(sr, &f.cpus) >= 0;
        if (p->hugepage_kib) {
                HugepageNeed need;
                if (hugepage_need(p, &d->memory, &need, NULL) < 0) {
                        *ret = f;
                        f = (LifetimeFacts) {};
                        return 0; /* the plan says why */
                }
                (void) read_mem_total(sr, &f.mem_total_kib);
                r = huge_total(sr, &f.huge_total_kib);
                if (r < 0)
                        return r;
                f.pool_exists = sysroot_existsf(sr, "sys/kernel/mm/hugepages/hugepages-%llukB",
                                                (unsigned long long) p->hugepage_kib) > 0;
                unsigned n = cpuset_count(&need.nodes);
                f.pools = calloc(n ? n : 1, sizeof(HugePool));
                if (!f.pools)
                        return -ENOMEM;
                for (unsigned node = 0; f.pool_exists && node < CPUSET_MAX; node++) {
                        if (n > 0 && !cpuset_has(&need.nodes, node))
                                continue;
                        r = pool_read(sr, n ? (int) node : -1, p->hugepage_kib, &f.pools[f.n_pools]);
                        if (r >= 0)
                                f.n_pools++;
                        else if (r != -ENOENT)
                                return r;
                        if (n == 0)
                                break;
                }
        }
        *ret = f;
        f = (LifetimeFacts) {};
        return 0;
}

/* ------------------------------------------------------------------ checks and plan */

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
        Decision *nl = calloc(ds.n + p->decisions.n + 1, sizeof *nl);
        if (!nl)
                return -ENOMEM;
        memcpy(nl, ds.list, ds.n * sizeof *nl);
        if (p->decisions.n)
                memcpy(nl + ds.n, p->decisions.list, p->decisions.n * sizeof *nl);
        free(p->decisions.list);
        p->decisions.list = nl;
        p->decisions.n += ds.n;
        free(ds.list);
        ds = (Decisions) {};
        return 0;
}

bool step_is_lifetime(StepAction a) {
        return a == STEP_START_INHIBITOR || a == STEP_ISOLATE_CPUS || a == STEP_RAISE_HUGEPAGES;
}

/* ------------------------------------------------------------------ steps */

static int step_inhibit(const LifetimeRun *lr, const char *unit, char **ret_error) {
        _cleanup_free_ char *what = NULL, *why = NULL;
        for (char **w = lr->d->policy->lifetime.inhibit; w && *w; w++) {
                char *n = strf("%s%s%s", what ? what : "", what ? ":" : "", *w);
                free(what);
                what = n;
                if (!what)
                        return -ENOMEM;
        }
        if (!what)
                return -EINVAL;
        why = strf("vfio-hook: %s has the GPU", lr->d->name);
        if (!why)
                return -ENOMEM;
        int r = lr->record(lr->userdata, STEP_START_INHIBITOR, unit, what);
        if (r < 0)
                return r;
        r = lr->ops->inhibitor_start(lr->ops, unit, what, why, lr->timeout, ret_error);
        return r < 0 ? r : lr->done(lr->userdata);
}

/* Calls fn for each step of action a on target in the other domains'
 * journals; stops at the first that returns non-zero, and returns that. */
static int other_journals_steps(int state_fd, const char *self, StepAction a, const char *target,
                                int (*fn)(const char *domain, const JournalStep *s, void *userdata), void *userdata) {
        _cleanup_strv_free_ char **domains = NULL;
        if (state_fd < 0 || journal_list(state_fd, &domains) < 0)
                return 0;
        for (char **o = domains; *o; o++) {
                _cleanup_(journal_done) Journal j = {};
                if (streq(*o, self) || journal_load(state_fd, *o, &j, NULL) < 0)
                        continue;
                for (size_t i = 0; i < j.n_steps; i++)
                        if (j.steps[i].action == a && streq(j.steps[i].target, target)) {
                                int r = fn(*o, &j.steps[i], userdata);
                                if (r != 0)
                                        return r;
                        }
        }
        return 0;
}

static int take_domain(const char *domain, const JournalStep *s, void *userdata) {
        char **ret = userdata;
        *ret = strdup(domain);
        return *ret ? 1 : -ENOMEM;
}

static int add_pages(const char *domain, const JournalStep *s, void *userdata) {
        uint64_t *n = userdata, before, added;
        if (hugepage_orig_parse(s->orig, &before, &added) >= 0)
                *n += added;
        return 0;
}

static int step_isolate(const LifetimeRun *lr, const char *unit, char **ret_error) {
        _cleanup_free_ char *old = NULL, *orig = NULL, *new = NULL, *other = NULL;
        CpuSet cur, next;
        int r;

        /* Two domains' isolations of one slice could not be undone apart. */
        r = other_journals_steps(lr->state_fd, lr->d->name, STEP_ISOLATE_CPUS, unit, take_domain, &other);
        if (r < 0)
                return r;
        if (r > 0)
                return errorf(ret_error, -EBUSY, "domain %s keeps %s off CPUs already: one domain at a time may isolate",
                              other, unit);
        r = lr->ops->allowed_cpus_get(lr->ops, unit, &old, ret_error);
        if (r < 0)
                return r;
        if (cpuset_parse(old, true, &cur) < 0)
                return errorf(ret_error, -EIO, "%s has AllowedCPUs=%s, which vfio-hook cannot read", unit, old);
        next = cpuset_count(&cur) ? cur : lr->facts->cpus;
        cpuset_remove_all(&next, lr->d->policy->lifetime.isolate);
        if (cpuset_count(&next) == 0)
                return errorf(ret_error, -EINVAL, "%s may use CPUs %s only: isolating would leave it none", unit, old);
        orig = cpuset_count(&cur) ? cpuset_format(&cur) : strdup("-");
        new = cpuset_format(&next);
        if (!orig || !new)
                return -ENOMEM;
        r = lr->record(lr->userdata, STEP_ISOLATE_CPUS, unit, orig);
        if (r < 0)
                return r;
        r = lr->ops->allowed_cpus_set(lr->ops, unit, new, lr->timeout, ret_error);
        return r < 0 ? r : lr->done(lr->userdata);
}

static int step_hugepages(const LifetimeRun *lr, const char *target, char **ret_error) {
        const LifetimePolicy *lp = &lr->d->policy->lifetime;
        HugepageNeed need;
        HugePool pool;
        uint64_t kib, total;
        int node, r;

        r = hugepage_need(lp, &lr->d->memory, &need, ret_error);
        if (r < 0)
                return r;
        r = hugepage_pool_parse(target, &node, &kib);
        if (r < 0 || kib != need.page_kib)
                return -EINVAL;
        uint64_t want = node >= 0 ? need.pages_per_node : need.pages;
        r = pool_read(lr->sr, node, kib, &pool);
        if (r < 0)
                return errorf(ret_error, r, "reading the pool %s: %s", target, strerror(-r));
        if (pool.free >= want)
                return 0; /* freed meanwhile */
        uint64_t add = want - pool.free, goal = pool.nr + add;
        /* Checked again against the pools as they are now. */
        r = huge_total(lr->sr, &total);
        if (r < 0)
                return r;
        uint64_t limit = lr->facts->mem_total_kib / 100 * lp->hugepages_percent;
        if (total + add * kib > limit)
                return errorf(ret_error, -E2BIG,
                              "%llu more pages of %llu kB would put %llu MiB of the host's %llu MiB in huge pages, more "
                              "than the %u%% root allows (allow-hugepages)",
                              (unsigned long long) add, (unsigned long long) kib,
                              (unsigned long long) ((total + add * kib) / 1024),
                              (unsigned long long) (lr->facts->mem_total_kib / 1024), lp->hugepages_percent);

        char orig[64];
        snprintf(orig, sizeof orig, "%llu+%llu", (unsigned long long) pool.nr, (unsigned long long) add);
        r = lr->record(lr->userdata, STEP_RAISE_HUGEPAGES, target, orig);
        if (r < 0)
                return r;
        HugePool got;
        bool compacted = false;
        for (;;) {
                _cleanup_free_ char *why = NULL;
                r = pool_write(lr->sr, node, kib, goal, lr->timeout, &why);
                if (r < 0)
                        return errorf(ret_error, r, "writing nr_hugepages of %s: %s", target, why ? why : strerror(-r));
                r = pool_read(lr->sr, node, kib, &got);
                if (r < 0)
                        return r;
                if (got.nr >= goal || compacted)
                        break;
                /* The kernel fell short: free memory is too fragmented for
                 * whole huge pages. Compact it and ask again. */
                log_info("%s: %llu of %llu pages: compacting memory", target, (unsigned long long) got.nr,
                         (unsigned long long) goal);
                _cleanup_free_ char *cwhy = NULL;
                r = write_under_deadline(lr->sr, "proc/sys/vm/compact_memory", "1", lr->timeout, &cwhy);
                if (r < 0)
                        return errorf(ret_error, r, "compacting memory: %s", cwhy ? cwhy : strerror(-r));
                compacted = true;
        }
        if (got.nr < goal) {
                uint64_t had = got.nr > pool.nr ? got.nr - pool.nr : 0;
                return errorf(ret_error, -ENOMEM,
                              "the pool %s reached %llu of %llu pages even after compacting memory: %llu of the %llu "
                              "pages of %llu kB the domain needs could be had",
                              target, (unsigned long long) got.nr, (unsigned long long) goal,
                              (unsigned long long) (pool.free + had), (unsigned long long) want,
                              (unsigned long long) kib);
        }
        return lr->done(lr->userdata);
}

int lifetime_step(const LifetimeRun *lr, StepAction a, const char *target, char **ret_error) {
        switch (a) {
        case STEP_START_INHIBITOR:
                return step_inhibit(lr, target, ret_error);
        case STEP_ISOLATE_CPUS:
                return step_isolate(lr, target, ret_error);
        case STEP_RAISE_HUGEPAGES:
                return step_hugepages(lr, target, ret_error);
        default:
                return -EINVAL;
        }
}

/* ------------------------------------------------------------------ undo */

static int undo_hugepages(Sysroot *sr, const JournalStep *s, usec_t timeout, char **ret_error) {
        uint64_t kib, before, added;
        HugePool pool;
        int node;
        int r = hugepage_pool_parse(s->target, &node, &kib);
        if (r < 0 || hugepage_orig_parse(s->orig, &before, &added) < 0)
                return -EINVAL;
        r = pool_read(sr, node, kib, &pool);
        if (r < 0)
                return errorf(ret_error, r, "reading the pool %s: %s", s->target, strerror(-r));
        /* Exactly the pages this step added. A step not marked done may
         * have added fewer: then the pool goes back to what it was. */
        uint64_t floor = s->done ? 0 : before;
        uint64_t goal = pool.nr > added ? pool.nr - added : 0;
        if (goal < floor)
                goal = floor;
        if (goal >= pool.nr)
                return 0;
        _cleanup_free_ char *why = NULL;
        r = pool_write(sr, node, kib, goal, timeout, &why);
        return r < 0 ? errorf(ret_error, r, "writing nr_hugepages of %s: %s", s->target, why ? why : strerror(-r)) : 0;
}

int lifetime_undo(Sysroot *sr, HostOps *ops, const JournalStep *s, usec_t timeout, char **ret_error) {
        switch (s->action) {
        case STEP_START_INHIBITOR:
                return ops->inhibitor_stop(ops, s->target, timeout, ret_error);
        case STEP_ISOLATE_CPUS:
                return ops->allowed_cpus_set(ops, s->target, streq_ptr(s->orig, "-") ? "" : s->orig, timeout,
                                             ret_error);
        case STEP_RAISE_HUGEPAGES:
                return undo_hugepages(sr, s, timeout, ret_error);
        default:
                return -EINVAL;
        }
}

/* Pages other domains' journals added to the same pool: they stay. */
static uint64_t pages_held_elsewhere(int state_fd, const char *self, const char *pool) {
        uint64_t n = 0;
        (void) other_journals_steps(state_fd, self, STEP_RAISE_HUGEPAGES, pool, add_pages, &n);
        return n;
}

bool lifetime_undone(Sysroot *sr, HostOps *ops, int state_fd, const char *domain, const JournalStep *s) {
        switch (s->action) {
        case STEP_START_INHIBITOR: {
                UnitState st;
                return ops->inhibitor_state(ops, s->target, &st) >= 0 && st != UNIT_ACTIVE;
        }
        case STEP_ISOLATE_CPUS: {
                _cleanup_free_ char *v = NULL;
                CpuSet now, was = {};
                if (ops->allowed_cpus_get(ops, s->target, &v, NULL) < 0 || cpuset_parse(v, true, &now) < 0)
                        return false;
                if (!streq_ptr(s->orig, "-") && cpuset_parse(s->orig, false, &was) < 0)
                        return false;
                return cpuset_equal(&now, &was);
        }
        case STEP_RAISE_HUGEPAGES: {
                uint64_t kib, before, added;
                HugePool pool;
                int node;
                if (hugepage_pool_parse(s->target, &node, &kib) < 0 || hugepage_orig_parse(s->orig, &before, &added) < 0 ||
                    pool_read(sr, node, kib, &pool) < 0)
                        return false;
                return pool.nr <= before + pages_held_elsewhere(state_fd, domain, s->target);
        }
        default:
                return false;
        }
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
