/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* A process holding a device node open, and the cgroup paths that say which
 * unit or login it belongs to. */

typedef struct Holder {
        pid_t pid;
        char *command;  /* proc/<pid>/comm */
        char *path;     /* the node held: "/dev/dri/card0" */
        char *cgroup;   /* its cgroup ("/user.slice/user-1000.slice/session-2.scope"), NULL when unknown */
        char *unit;     /* the systemd unit or session scope the cgroup is: "session-2.scope", NULL when none */
} Holder;

void holders_free(Holder *l, size_t n);

/* Pure. The process's cgroup from the text of proc/PID/cgroup: the unified
 * hierarchy's ("0::/path"), else systemd's own ("N:name=systemd:/path").
 * NULL in *ret when neither is there. */
int cgroup_from_proc(const char *text, char **ret);

/* Pure. The innermost systemd unit of a cgroup path: its last component
 * that is a .service or .scope ("/user.slice/user-1000.slice/session-2.scope"
 * -> "session-2.scope"); NULL in *ret when there is none. */
int cgroup_unit(const char *path, char **ret);

/* Pure. Whether the cgroup is inside UNIT ("/system.slice/gdm.service/x"). */
bool cgroup_in_unit(const char *path, const char *unit);

/* Pure. Whether PATH is a cgroup path as systemd gives it (ControlGroup:
 * "/system.slice/gdm.service"): absolute, below the root, no empty, "."
 * or ".." component, printable ASCII, shorter than PATH_MAX. It is joined
 * to sys/fs/cgroup. */
bool cgroup_path_valid(const char *path);

/* Pure. Whether the cgroup belongs to a user's login (user.slice). */
bool cgroup_in_user_session(const char *path);

/* "pid 1500 (gnome-shell, session-2.scope)": for messages. */
char *holder_describe(const Holder *h);
