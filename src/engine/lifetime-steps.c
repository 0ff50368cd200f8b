/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>

#include "engine/lifetime-steps.h"
#include "host/lifetime.h"
#include "model/lifetime-plan.h"
#include "shared/deadline.h"
#include "shared/log.h"
#include "shared/subprocess.h"
#include "shared/util.h"

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
        r = hugepage_pool_read(lr->sr, node, kib, &pool);
        if (r < 0)
                return errorf(ret_error, r, "reading the pool %s: %s", target, strerror(-r));
        if (pool.free >= want)
                return 0; /* freed meanwhile */
        uint64_t add = want - pool.free, goal = pool.nr + add;
        /* Checked again against the pools as they are now. */
        r = hugepage_total_kib(lr->sr, &total);
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
                r = hugepage_pool_write(lr->sr, node, kib, goal, lr->timeout, &why);
                if (r < 0)
                        return errorf(ret_error, r, "writing nr_hugepages of %s: %s", target, why ? why : strerror(-r));
                r = hugepage_pool_read(lr->sr, node, kib, &got);
                if (r < 0)
                        return r;
                if (got.nr >= goal || compacted)
                        break;
                /* The kernel fell short: free memory is too fragmented for
                 * whole huge pages. Compact it and ask again. */
                log_info("%s: %llu of %llu pages: compacting memory", target, (unsigned long long) got.nr,
                         (unsigned long long) goal);
                _cleanup_free_ char *cwhy = NULL;
                r = sysfs_write_under_deadline(lr->sr, "proc/sys/vm/compact_memory", "1", lr->timeout, &cwhy);
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
        r = hugepage_pool_read(sr, node, kib, &pool);
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
        r = hugepage_pool_write(sr, node, kib, goal, timeout, &why);
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
                    hugepage_pool_read(sr, node, kib, &pool) < 0)
                        return false;
                return pool.nr <= before + pages_held_elsewhere(state_fd, domain, s->target);
        }
        default:
                return false;
        }
}
