/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "model/cpuset.h"
#include "shared/macro.h"

/* What a domain holds for its lifetime, besides its devices (docs/design.md,
 * "For the guest's lifetime"): a logind inhibitor lock (<inhibit>), the
 * host's own slices kept off the guest's CPUs (<isolate>), and huge pages
 * for its memory (<hugepages>). This part is pure: the policy's elements,
 * root's limits in the config file, the domain's memory, and the names
 * derived from them. */

/* The slices and scope whose AllowedCPUs= <isolate> narrows: everything
 * that runs on the host but the guests (machine.slice). */
extern const char *const isolate_units[];

typedef struct LifetimePolicy {
        char **inhibit;           /* <inhibit>: logind What= words, in order */
        CpuSet *isolate;          /* <isolate cpus=...>, NULL: none */
        uint64_t hugepage_kib;    /* <hugepages size=...>: 2048 or 1048576, 0: none */
        unsigned hugepages_percent; /* root's allow-hugepages limit, set by lifetime_check_allowed() */
} LifetimePolicy;

void lifetime_policy_done(LifetimePolicy *p);

/* The domain's memory as libvirt's XML says it, raw: interpreted (and only
 * then refused when wrong) when the policy asks for huge pages, so a
 * domain without our policy never fails on it. */
typedef struct DomainMemory {
        char *memory, *memory_unit;      /* <memory unit='KiB'>N</memory> */
        bool hugepages;                  /* <memoryBacking><hugepages/> */
        char *page_size, *page_unit;     /* its first <page size= unit=> */
        char *numa_mode, *numa_nodeset;  /* <numatune><memory mode= nodeset=> */
} DomainMemory;

void domain_memory_done(DomainMemory *m);

/* Root's limits (vfio-hook.conf(5)):
 *   allow-inhibit WHAT      a What= besides sleep and idle
 *   allow-isolate CPULIST   the CPUs a domain may take from the host
 *   allow-hugepages PERCENT the largest share of RAM in huge pages */
typedef struct LifetimeConfig {
        char **allowed_inhibit;
        CpuSet *isolate_cpus;     /* NULL: <isolate> refused */
        unsigned hugepages_percent; /* 0: <hugepages> refused */
} LifetimeConfig;

void lifetime_config_done(LifetimeConfig *c);

/* A config line's directive and its one value: 1 when it is one of ours
 * (and good), 0 when not ours, -EINVAL with a message (without the file
 * and line) when its value is bad. */
int lifetime_config_directive(LifetimeConfig *c, const char *directive, const char *value, char **ret_error);

/* The policy against root's limits: -EPERM and one line naming the element
 * and the directive that would allow it. Records the huge-page limit in p. */
int lifetime_check_allowed(LifetimePolicy *p, const LifetimeConfig *c, const char *config_path, char **ret_error);

/* logind's What= words. */
bool inhibit_what_valid(const char *w);
/* <inhibit>: What= words separated by ':' (as systemd-inhibit --what takes
 * them), each once. -EINVAL on an unknown or empty word. */
int inhibit_parse(const char *s, char ***ret);

/* "2M" or "1G" in KiB. */
int hugepage_size_parse(const char *s, uint64_t *ret_kib);
/* libvirt's scaled integers: N with unit b/bytes, KB, k/KiB, MB, M/MiB, GB,
 * G/GiB, TB, T/TiB, PB, P/PiB, EB, E/EiB (unit NULL: KiB), rounded up to
 * KiB. -EINVAL, -ERANGE. */
int memory_to_kib(const char *value, const char *unit, uint64_t *ret);

/* What the domain needs from the huge-page pools: the page size (KiB) and
 * the pages, per node of nodes (empty: from the pool of the whole host).
 * -EINVAL and a message when the domain's memory or its memoryBacking does
 * not fit the policy. */
typedef struct HugepageNeed {
        uint64_t page_kib;
        uint64_t pages;           /* in all */
        CpuSet nodes;             /* from <numatune>, empty: none */
        uint64_t pages_per_node;  /* when nodes is not empty */
} HugepageNeed;
int hugepage_need(const LifetimePolicy *p, const DomainMemory *m, HugepageNeed *ret, char **ret_error);

/* What the host has for the lifetime elements (lifetime_facts_gather()). */
typedef struct HugePool {
        int node;                 /* -1: the whole host's pool */
        uint64_t nr, free;        /* nr_hugepages, free_hugepages */
} HugePool;

typedef struct LifetimeFacts {
        bool have_cpus;
        CpuSet cpus;              /* online CPUs (else present) */
        uint64_t mem_total_kib;   /* MemTotal */
        uint64_t huge_total_kib;  /* nr_hugepages times the page size, over every pool size */
        bool pool_exists;         /* the host has pages of the policy's size */
        HugePool *pools;          /* of that size: the host's, or each node of the domain's nodeset */
        size_t n_pools;
} LifetimeFacts;

void lifetime_facts_done(LifetimeFacts *f);

/* The transient unit that holds a domain's inhibitor lock:
 * "vfio-hook-inhibit-NAME.service", NAME escaped as systemd-escape does
 * (a validated domain name: only '-', '+' and '@' are escaped, as \xNN);
 * a hash of the name when that would be too long for a unit name. */
#define INHIBIT_UNIT_MAX 256
void inhibit_unit_name(const char *domain, char buf[static INHIBIT_UNIT_MAX]);
/* Whether unit is a name inhibit_unit_name() can give: the prefix, the
 * suffix, and between them only letters, digits and ":_.-\\". */
bool inhibit_unit_valid(const char *unit);

/* Journal targets and originals of the lifetime steps, read back from a
 * journal: checked as untrusted input. */
bool isolate_unit_valid(const char *unit);
/* "2048kB" (the whole host's pool) or "node0:2048kB"; node -1 for the host. */
int hugepage_pool_parse(const char *s, int *ret_node, uint64_t *ret_kib);
void hugepage_pool_format(int node, uint64_t kib, char buf[static 64]);
/* "BEFORE+ADDED": the pool's nr_hugepages before, and the pages added. */
int hugepage_orig_parse(const char *s, uint64_t *ret_before, uint64_t *ret_added);
