/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "model/lifetime.h"
#include "model/policy.h"
#include "shared/subprocess.h"
#include "shared/util.h"

const char *const isolate_units[] = { "system.slice", "user.slice", "init.scope", NULL };

/* logind's What= (org.freedesktop.login1(5), systemd-inhibit(1)). */
static const char *const inhibit_whats[] = {
        "shutdown", "sleep", "idle", "handle-power-key", "handle-suspend-key", "handle-hibernate-key",
        "handle-lid-switch", "handle-reboot-key", NULL,
};
/* Keeping the host awake while a guest has its GPU is what <inhibit> is
 * for; blocking shutdown or taking the keys needs root's word. */
static const char *const inhibit_builtin[] = { "sleep", "idle", NULL };

static bool names_contain(const char *const *l, const char *s) {
        for (; *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

void lifetime_policy_done(LifetimePolicy *p) {
        if (!p)
                return;
        p->inhibit = strv_free(p->inhibit);
        free(p->isolate);
        p->isolate = NULL;
}

void domain_memory_done(DomainMemory *m) {
        if (!m)
                return;
        free(m->memory);
        free(m->memory_unit);
        free(m->page_size);
        free(m->page_unit);
        free(m->numa_mode);
        free(m->numa_nodeset);
        *m = (DomainMemory) {};
}

void lifetime_facts_done(LifetimeFacts *f) {
        if (!f)
                return;
        free(f->pools);
        *f = (LifetimeFacts) {};
}

void lifetime_config_done(LifetimeConfig *c) {
        if (!c)
                return;
        c->allowed_inhibit = strv_free(c->allowed_inhibit);
        free(c->isolate_cpus);
        c->isolate_cpus = NULL;
}

bool inhibit_what_valid(const char *w) {
        return w && names_contain(inhibit_whats, w);
}

int inhibit_parse(const char *s, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *copy = NULL;
        char *p, *w;

        if (!s || !*s)
                return -EINVAL;
        copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        for (p = copy; (w = strsep(&p, ":"));) {
                if (!inhibit_what_valid(w))
                        return -EINVAL;
                if (strv_extend_unique(&l, w) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int hugepage_size_parse(const char *s, uint64_t *ret_kib) {
        if (streq_ptr(s, "2M"))
                *ret_kib = 2048;
        else if (streq_ptr(s, "1G"))
                *ret_kib = 1024 * 1024;
        else
                return -EINVAL;
        return 0;
}

int memory_to_kib(const char *value, const char *unit, uint64_t *ret) {
        static const struct {
                const char *name;
                uint64_t base;
                unsigned power;
        } units[] = {
                { "b", 1, 0 },     { "bytes", 1, 0 }, { "KB", 1000, 1 }, { "k", 1024, 1 }, { "KiB", 1024, 1 },
                { "MB", 1000, 2 }, { "M", 1024, 2 },  { "MiB", 1024, 2 }, { "GB", 1000, 3 }, { "G", 1024, 3 },
                { "GiB", 1024, 3 }, { "TB", 1000, 4 }, { "T", 1024, 4 },  { "TiB", 1024, 4 }, { "PB", 1000, 5 },
                { "P", 1024, 5 },  { "PiB", 1024, 5 }, { "EB", 1000, 6 }, { "E", 1024, 6 },  { "EiB", 1024, 6 },
        };
        uint64_t v = 0, scale = 1;
        size_t i;

        if (!value || !*value)
                return -EINVAL;
        for (const char *s = value; *s; s++) {
                if (*s < '0' || *s > '9')
                        return -EINVAL;
                if (v > (UINT64_MAX - 9) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t) (*s - '0');
        }
        if (!unit)
                unit = "KiB";
        for (i = 0; i < ELEMENTSOF(units); i++)
                if (streq(unit, units[i].name))
                        break;
        if (i == ELEMENTSOF(units))
                return -EINVAL;
        for (unsigned k = 0; k < units[i].power; k++)
                scale *= units[i].base;
        /* bytes = v * scale, in KiB rounded up, without overflowing. */
        if (scale % 1024 == 0) {
                uint64_t f = scale / 1024;
                if (v > UINT64_MAX / f)
                        return -ERANGE;
                *ret = v * f;
                return 0;
        }
        if (v > UINT64_MAX / scale)
                return -ERANGE;
        uint64_t bytes = v * scale;
        *ret = bytes / 1024 + (bytes % 1024 != 0);
        return 0;
}

int lifetime_config_directive(LifetimeConfig *c, const char *directive, const char *value, char **ret_error) {
        char q[VALUE_QUOTE_BUFSZ];
        int r;

        if (streq(directive, "allow-inhibit")) {
                if (!inhibit_what_valid(value))
                        return errorf(ret_error, -EINVAL,
                                         "allow-inhibit: '%s' is not one of logind's What= (shutdown, sleep, idle, "
                                         "handle-power-key, handle-suspend-key, handle-hibernate-key, "
                                         "handle-lid-switch, handle-reboot-key)",
                                         value_quote(value, q));
                r = strv_extend_unique(&c->allowed_inhibit, value);
                return r < 0 ? r : 1;
        }
        if (streq(directive, "allow-isolate")) {
                CpuSet s;
                if (cpuset_parse(value, false, &s) < 0 || cpuset_count(&s) == 0)
                        return errorf(ret_error, -EINVAL,
                                         "allow-isolate: '%s' is not a CPU list (such as 2-7,10-15)", value_quote(value, q));
                if (!c->isolate_cpus) {
                        c->isolate_cpus = calloc(1, sizeof(CpuSet));
                        if (!c->isolate_cpus)
                                return -ENOMEM;
                }
                for (unsigned i = 0; i < CPUSET_MAX; i++)
                        if (cpuset_has(&s, i))
                                cpuset_add(c->isolate_cpus, i);
                return 1;
        }
        if (streq(directive, "allow-hugepages")) {
                unsigned pc;
                if (parse_uint(value, &pc) < 0 || pc < 1 || pc > 90)
                        return errorf(ret_error, -EINVAL,
                                         "allow-hugepages: '%s' is not a percentage of RAM from 1 to 90",
                                         value_quote(value, q));
                c->hugepages_percent = pc;
                return 1;
        }
        return 0;
}

int lifetime_check_allowed(LifetimePolicy *p, const LifetimeConfig *c, const char *path, char **ret_error) {
        for (char **w = p->inhibit; w && *w; w++)
                if (!names_contain(inhibit_builtin, *w) && !(c && strv_contains(c->allowed_inhibit, *w)))
                        return errorf(ret_error, -EPERM,
                                         "policy: <inhibit>%s</inhibit> is not allowed (allowed: sleep, idle and "
                                         "allow-inhibit lines of %s)",
                                         *w, path);
        if (p->isolate) {
                if (!c || !c->isolate_cpus)
                        return errorf(ret_error, -EPERM,
                                         "policy: <isolate> is not allowed: %s has no allow-isolate line (the CPUs "
                                         "root lets a domain take)",
                                         path);
                if (!cpuset_subset(p->isolate, c->isolate_cpus)) {
                        _cleanup_free_ char *want = cpuset_format(p->isolate), *may = cpuset_format(c->isolate_cpus);
                        return errorf(ret_error, -EPERM,
                                         "policy: <isolate cpus='%s'/> is not allowed: allow-isolate in %s lets a "
                                         "domain take CPUs %s only",
                                         want ? want : "?", path, may ? may : "?");
                }
        }
        if (p->hugepage_kib) {
                if (!c || c->hugepages_percent == 0)
                        return errorf(ret_error, -EPERM,
                                         "policy: <hugepages> is not allowed: %s has no allow-hugepages line (the "
                                         "largest share of RAM in huge pages, in percent)",
                                         path);
                p->hugepages_percent = c->hugepages_percent;
        }
        return 0;
}

int hugepage_need(const LifetimePolicy *p, const DomainMemory *m, HugepageNeed *ret, char **ret_error) {
        char q[VALUE_QUOTE_BUFSZ], q2[VALUE_QUOTE_BUFSZ];
        HugepageNeed n = { .page_kib = p->hugepage_kib };
        uint64_t mem;
        int r;

        if (!m->hugepages)
                return errorf(ret_error, -EINVAL,
                                 "policy: <hugepages> needs the domain to use them: add <memoryBacking><hugepages/>"
                                 "</memoryBacking> to the domain");
        if (!m->memory)
                return errorf(ret_error, -EINVAL, "policy: <hugepages> needs the domain's <memory>");
        r = memory_to_kib(m->memory, m->memory_unit, &mem);
        if (r < 0 || mem == 0)
                return errorf(ret_error, -EINVAL, "domain XML: <memory unit='%s'>%s</memory> is not a size",
                                 value_quote(m->memory_unit ? m->memory_unit : "KiB", q), value_quote(m->memory, q2));
        if (m->page_size) {
                uint64_t page;
                r = memory_to_kib(m->page_size, m->page_unit, &page);
                if (r < 0)
                        return errorf(ret_error, -EINVAL, "domain XML: <page size='%s' unit='%s'/> is not a size",
                                         value_quote(m->page_size, q), value_quote(m->page_unit ? m->page_unit : "KiB", q2));
                if (page != n.page_kib)
                        return errorf(ret_error, -EINVAL,
                                         "policy: <hugepages> sizes the pool of %s pages, but the domain's "
                                         "<memoryBacking> asks for pages of %llu KiB",
                                         n.page_kib == 2048 ? "2M" : "1G", (unsigned long long) page);
        }
        n.pages = mem / n.page_kib + (mem % n.page_kib != 0);
        /* Pages of a node are the domain's only when QEMU must take them
         * there; "preferred" may take them anywhere. */
        if (m->numa_nodeset && !streq_ptr(m->numa_mode, "preferred")) {
                r = cpuset_parse(m->numa_nodeset, false, &n.nodes);
                if (r < 0 || cpuset_count(&n.nodes) == 0)
                        return errorf(ret_error, -EINVAL,
                                         "domain XML: <numatune><memory nodeset='%s'/> is not a list of nodes "
                                         "vfio-hook reads (such as 0 or 0-1)",
                                         value_quote(m->numa_nodeset, q));
                unsigned k = cpuset_count(&n.nodes);
                n.pages_per_node = n.pages / k + (n.pages % k != 0);
        }
        *ret = n;
        return 0;
}

/* FNV-1a, 64 bits: a stable short name for a long domain name. */
static uint64_t fnv1a(const char *s) {
        uint64_t h = UINT64_C(14695981039346656037);
        for (; *s; s++) {
                h ^= (unsigned char) *s;
                h *= UINT64_C(1099511628211);
        }
        return h;
}

void inhibit_unit_name(const char *domain, char buf[static INHIBIT_UNIT_MAX]) {
        static const char prefix[] = "vfio-hook-inhibit-", suffix[] = ".service";
        size_t o = sizeof prefix - 1;

        memcpy(buf, prefix, o);
        for (size_t i = 0; domain[i]; i++) {
                unsigned char c = (unsigned char) domain[i];
                bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                            c == ':' || (c == '.' && i > 0);
                if (o + 4 + sizeof suffix > 255) {
                        /* Escaped names never hold a bare '-': "hash-" cannot be one. */
                        snprintf(buf, INHIBIT_UNIT_MAX, "%shash-%016llx%s", prefix, (unsigned long long) fnv1a(domain),
                                 suffix);
                        return;
                }
                if (keep)
                        buf[o++] = (char) c;
                else
                        o += (size_t) snprintf(buf + o, 5, "\\x%02x", c);
        }
        memcpy(buf + o, suffix, sizeof suffix);
}

bool inhibit_unit_valid(const char *unit) {
        static const char prefix[] = "vfio-hook-inhibit-", suffix[] = ".service";
        size_t n = unit ? strlen(unit) : 0;
        if (!unit || !startswith(unit, prefix) || n >= INHIBIT_UNIT_MAX || n < sizeof prefix + sizeof suffix - 1 ||
            !streq(unit + n - (sizeof suffix - 1), suffix))
                return false;
        for (const char *c = unit; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                      strchr(":_.-\\", *c)))
                        return false;
        return true;
}

bool isolate_unit_valid(const char *unit) {
        return unit && names_contain(isolate_units, unit);
}

/* A decimal number at the start of s; *end: what follows it. */
static int parse_u64_prefix(const char *s, const char **end, uint64_t *ret) {
        uint64_t v = 0;
        if (*s < '0' || *s > '9')
                return -EINVAL;
        for (; *s >= '0' && *s <= '9'; s++) {
                if (v > (UINT64_MAX - 9) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t) (*s - '0');
        }
        *end = s;
        *ret = v;
        return 0;
}

int hugepage_pool_parse(const char *s, int *ret_node, uint64_t *ret_kib) {
        const char *e;
        uint64_t node = 0, kib;
        int n = -1;

        if (!s)
                return -EINVAL;
        if (startswith(s, "node")) {
                if (parse_u64_prefix(s + 4, &e, &node) < 0 || *e != ':' || node >= CPUSET_MAX)
                        return -EINVAL;
                n = (int) node;
                s = e + 1;
        }
        if (parse_u64_prefix(s, &e, &kib) < 0 || !streq(e, "kB") || (kib != 2048 && kib != 1024 * 1024))
                return -EINVAL;
        *ret_node = n;
        *ret_kib = kib;
        return 0;
}

void hugepage_pool_format(int node, uint64_t kib, char buf[static 64]) {
        if (node >= 0)
                snprintf(buf, 64, "node%d:%llukB", node, (unsigned long long) kib);
        else
                snprintf(buf, 64, "%llukB", (unsigned long long) kib);
}

int hugepage_orig_parse(const char *s, uint64_t *ret_before, uint64_t *ret_added) {
        const char *e;
        if (!s || parse_u64_prefix(s, &e, ret_before) < 0 || *e != '+' || parse_u64_prefix(e + 1, &e, ret_added) < 0 || *e)
                return -EINVAL;
        return 0;
}
