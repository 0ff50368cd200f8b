/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "sysroot.h"

/* Processes holding device nodes open (the links in proc/PID/fd). */

typedef struct Holder {
        pid_t pid;
        char *command;  /* proc/<pid>/comm */
        char *path;     /* the node held: "/dev/dri/card0" */
} Holder;

void holders_free(Holder *l, size_t n);

/* Processes with an open fd on any of the given device paths, or on any
 * /dev/nvidia* node when nvidia_nodes is set. Sorted by pid, then path. */
int holders_find(Sysroot *sr, char *const *paths, bool nvidia_nodes, Holder **ret, size_t *ret_n);
