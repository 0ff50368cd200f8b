/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "shared/sysroot.h"

/* The kernel log, from dev/kmsg: one record per read(2) on a live host
 * (until EAGAIN; EPIPE, records overwritten meanwhile, is skipped), a
 * plain file in a tree. Needs CAP_SYSLOG where dmesg_restrict is set.
 * Reads up to max bytes (the records that fit whole), NUL-terminated;
 * ret_len may be NULL. -ENODATA when there is none, -errno when it cannot
 * be opened or read. */
int kmsg_read(Sysroot *sr, size_t max, char **ret, size_t *ret_len);
