/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "model/holders.h"
#include "shared/sysroot.h"

/* Processes holding device nodes open (the links in proc/PID/fd). */

/* Processes with an open fd on any of the given device paths, or on a path
 * that starts with one of the prefixes ("/dev/nvidia"). Either list may be
 * NULL. Sorted by pid, then path. */
int holders_find(Sysroot *sr, char *const *paths, char *const *prefixes, Holder **ret, size_t *ret_n);
