/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libxml/tree.h>

#include "model/lifetime.h"

/* A child of <policy>: 1 when it is <inhibit>, <isolate> or <hugepages>
 * (parsed into p), 0 when it is none of them, -EINVAL with one line when
 * it is wrong. */
int lifetime_policy_element(const xmlNode *n, LifetimePolicy *p, char **ret_error);

/* A child of <domain>: <memory>, <memoryBacking> and <numatune> are kept
 * raw in m (hugepage_need() reads them); others are ignored. */
int lifetime_domain_element(const xmlNode *n, DomainMemory *m);
