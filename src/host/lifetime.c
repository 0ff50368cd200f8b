/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>

#include "host/lifetime.h"
#include "shared/deadline.h"
#include "shared/util.h"

/* What the lifetime steps depend on, read over a sysroot, and the writes
 * that change huge-page pools. */

static int read_u64f(Sysroot *sr, uint64_t *ret, const char *fmt, ...) _printf_(3, 4);
static int read_u64f(Sysroot *sr, uint64_t *ret, const char *fmt, ...) {
        _cleanup_free_ char *path = NULL, *v = NULL;
        va_list ap;
        va_start(ap, fmt);
        path = vstrf(fmt, ap);
        va_end(ap);
        if (!path)
                return -ENOMEM;
        int r = sysroot_read_line(sr, path, &v);
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

int hugepage_pool_read(Sysroot *sr, int node, uint64_t kib, HugePool *ret) {
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
int sysfs_write_under_deadline(Sysroot *sr, const char *path, const char *value, usec_t timeout, char **ret_error) {
        if (!sysroot_is_host(sr))
                return sysroot_write(sr, path, value);
        SysWrite w = { .sr = sr, .path = path, .value = value };
        return deadline_run(sys_write, &w, timeout, ret_error);
}

int hugepage_pool_write(Sysroot *sr, int node, uint64_t kib, uint64_t nr, usec_t timeout, char **ret_error) {
        char v[32], path[160];
        snprintf(v, sizeof v, "%llu", (unsigned long long) nr);
        if (node < 0)
                snprintf(path, sizeof path, "sys/kernel/mm/hugepages/hugepages-%llukB/nr_hugepages", (unsigned long long) kib);
        else
                snprintf(path, sizeof path, "sys/devices/system/node/node%d/hugepages/hugepages-%llukB/nr_hugepages", node,
                         (unsigned long long) kib);
        return sysfs_write_under_deadline(sr, path, v, timeout, ret_error);
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
int hugepage_total_kib(Sysroot *sr, uint64_t *ret) {
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
                r = hugepage_total_kib(sr, &f.huge_total_kib);
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
                        r = hugepage_pool_read(sr, n ? (int) node : -1, p->hugepage_kib, &f.pools[f.n_pools]);
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

