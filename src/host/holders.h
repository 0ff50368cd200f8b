/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "model/holders.h"
#include "shared/sysroot.h"

/* Processes holding device nodes open (the links in proc/PID/fd). */

/* Processes with an open fd on any of the given device paths, or on a path
 * that starts with one of the prefixes ("/dev/nvidia"). Either list may be
 * NULL. Sorted by pid, then path. */
int holders_find(Sysroot *sr, char *const *paths, char *const *prefixes, Holder **ret, size_t *ret_n);

/* Whether a process of the cgroup (cgroup_path_valid(), as systemd's
 * ControlGroup gives it) holds a path that starts with one of the
 * prefixes: 1 yes, 0 no (also when the cgroup is gone), -EINVAL for a bad
 * path. Reads only the processes in its cgroup.procs (the unified
 * hierarchy's), not all of proc. */
int holders_in_cgroup(Sysroot *sr, const char *cgroup, char *const *prefixes);
