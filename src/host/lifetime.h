/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "model/domxml.h"
#include "model/lifetime.h"
#include "shared/sysroot.h"

/* What the lifetime steps depend on, over a sysroot (docs/design.md, "For
 * the guest's lifetime"), and the writes to the huge-page pools. */

/* Online CPUs, MemTotal and the huge-page pools of the policy's size (for
 * each node of the domain's <numatune> nodeset, else the host's). A domain
 * without a lifetime element reads nothing. */
int lifetime_facts_gather(Sysroot *sr, const Domain *d, LifetimeFacts *ret);

/* A huge-page pool of kib-sized pages: the host's (node < 0) or a node's. */
int hugepage_pool_read(Sysroot *sr, int node, uint64_t kib, HugePool *ret);

/* Sets its nr_hugepages under the deadline (growing a pool can take minutes). */
int hugepage_pool_write(Sysroot *sr, int node, uint64_t kib, uint64_t nr, usec_t timeout, char **ret_error);

/* nr_hugepages times the page size, over every pool size of the host. */
int hugepage_total_kib(Sysroot *sr, uint64_t *ret);

/* A sysfs or procfs write that the kernel may take long over, under the deadline. */
int sysfs_write_under_deadline(Sysroot *sr, const char *path, const char *value, usec_t timeout, char **ret_error);
