/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "shared/macro.h"

/* Sets of CPUs or NUMA nodes in the kernel's list format ("0-3,8,10-11"),
 * as /sys/devices/system/cpu/online, cpuset.cpus and libvirt's nodeset
 * write them. Pure. */

#define CPUSET_MAX 8192U

typedef struct CpuSet {
        uint64_t bits[CPUSET_MAX / 64];
} CpuSet;

/* Strict: decimal numbers below CPUSET_MAX without sign or leading zeros,
 * ranges "a-b" with a <= b, separated by ',' (and, with blanks_too, by
 * blanks, as systemd prints AllowedCPUs=). "" is the empty set. -EINVAL on
 * anything else, -ERANGE for a number too large. */
int cpuset_parse(const char *s, bool blanks_too, CpuSet *ret);
/* "0-3,8"; "" for the empty set. NULL on -ENOMEM. */
char *cpuset_format(const CpuSet *s);

/* systemd's D-Bus form of a CPU set (AllowedCPUs, type "ay"): CPU n is
 * bit n % 8 of byte n / 8. From: bits past CPUSET_MAX are -ERANGE. To:
 * the bytes up to the highest CPU (0 for the empty set, which systemd
 * reads as "unset"); buf holds CPUSET_MAX / 8. */
int cpuset_from_mask(const uint8_t *mask, size_t size, CpuSet *ret);
size_t cpuset_to_mask(const CpuSet *s, uint8_t buf[static CPUSET_MAX / 8]);

void cpuset_add(CpuSet *s, unsigned cpu);
bool cpuset_has(const CpuSet *s, unsigned cpu);
unsigned cpuset_count(const CpuSet *s);
bool cpuset_equal(const CpuSet *a, const CpuSet *b);
/* Whether every member of a is in b. */
bool cpuset_subset(const CpuSet *a, const CpuSet *b);
/* a minus b. */
void cpuset_remove_all(CpuSet *a, const CpuSet *b);
