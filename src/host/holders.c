/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>

#include "host/holders.h"
#include "shared/util.h"

/* One pass over proc: for each process, list its fd directory and read each
 * link with readlinkat() on that directory (links are read, never
 * followed). The command is read only for processes that match. */

#define HOLDERS_MAX 65536U

static bool is_pid(const char *s, pid_t *ret) {
        unsigned v;
        if (strlen(s) > 10 || parse_uint(s, &v) < 0 || v == 0 || v > INT_MAX)
                return false;
        *ret = (pid_t) v;
        return true;
}

/* A process that exits under us, or whose fds we may not see, is not a
 * holder we can report: skip it. */
static bool skippable(int r) {
        return r == -ENOENT || r == -ESRCH || r == -EACCES || r == -EPERM || r == -ENOTDIR;
}

static bool path_matches(const char *target, char *const *paths, char *const *prefixes) {
        if (strv_contains(paths, target))
                return true;
        for (char *const *p = prefixes; p && *p; p++)
                if (startswith(target, *p))
                        return true;
        return false;
}

typedef struct HolderList {
        Holder *l;
        size_t n, alloc;
} HolderList;

static int holder_add(HolderList *h, pid_t pid, const char *command, const char *cgroup, const char *path) {
        for (size_t i = 0; i < h->n; i++)
                if (h->l[i].pid == pid && streq(h->l[i].path, path))
                        return 0;
        if (h->n >= HOLDERS_MAX)
                return -E2BIG;
        if (h->n == h->alloc) {
                size_t na = h->alloc ? h->alloc * 2 : 8;
                Holder *nl = realloc(h->l, na * sizeof *nl);
                if (!nl)
                        return -ENOMEM;
                h->l = nl;
                h->alloc = na;
        }
        Holder e = { .pid = pid, .command = strdup(command), .path = strdup(path), .cgroup = cgroup ? strdup(cgroup) : NULL };
        if (!e.command || !e.path || (cgroup && !e.cgroup) || cgroup_unit(cgroup, &e.unit) < 0) {
                free(e.command);
                free(e.path);
                free(e.cgroup);
                return -ENOMEM;
        }
        h->l[h->n++] = e;
        return 0;
}

/* Any user names their process and, within their session, its cgroup:
 * keep both printable, they end up in messages. */
static void make_printable(char *s) {
        for (; s && *s; s++)
                if ((unsigned char) *s < 0x20 || (unsigned char) *s >= 0x7f)
                        *s = '?';
}

static int read_cgroup(Sysroot *sr, pid_t pid, char **ret) {
        _cleanup_free_ char *text = NULL, *path = NULL;

        *ret = NULL;
        if (asprintf(&path, "proc/%d/cgroup", (int) pid) < 0)
                return -ENOMEM;
        int r = sysroot_read_file(sr, path, 64 * 1024, &text);
        if (r < 0)
                return skippable(r) ? 0 : r;
        r = cgroup_from_proc(text, ret);
        if (r >= 0)
                make_printable(*ret);
        return r;
}

static int scan_process(Sysroot *sr, pid_t pid, char *const *paths, char *const *prefixes, HolderList *h) {
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_free_ char *command = NULL, *cgroup = NULL;
        struct dirent *de;
        int r;

        r = sysroot_opendirf(sr, &d, "proc/%d/fd", (int) pid);
        if (r < 0)
                return r;

        while ((errno = 0, de = readdir(d))) {
                char target[PATH_MAX];
                unsigned fd;

                if (parse_uint(de->d_name, &fd) < 0)
                        continue;
                ssize_t n = readlinkat(dirfd(d), de->d_name, target, sizeof target - 1);
                if (n < 0) {
                        if (errno == ENOENT) /* closed meanwhile */
                                continue;
                        return -errno;
                }
                target[n] = 0;
                if (!path_matches(target, paths, prefixes))
                        continue;

                if (!command) {
                        r = sysroot_read_linef(sr, &command, "proc/%d/comm", (int) pid);
                        if (r < 0)
                                return r;
                        make_printable(command);
                        r = read_cgroup(sr, pid, &cgroup);
                        if (r < 0)
                                return r;
                }
                r = holder_add(h, pid, command, cgroup, target);
                if (r < 0)
                        return r;
        }
        if (errno != 0)
                return -errno;
        return 0;
}

static int cmp_holder(const void *x, const void *y) {
        const Holder *a = x, *b = y;
        if (a->pid != b->pid)
                return a->pid < b->pid ? -1 : 1;
        return strcmp(a->path, b->path);
}

int holders_find(Sysroot *sr, char *const *paths, char *const *prefixes, Holder **ret, size_t *ret_n) {
        _cleanup_closedir_ DIR *d = NULL;
        HolderList h = {};
        struct dirent *de;
        int r;

        r = sysroot_opendirf(sr, &d, "proc");
        if (r == -ENOENT) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        if (r < 0)
                return r;

        while ((errno = 0, de = readdir(d))) {
                pid_t pid;
                if (!is_pid(de->d_name, &pid))
                        continue;
                r = scan_process(sr, pid, paths, prefixes, &h);
                if (r < 0 && !skippable(r))
                        goto fail;
        }
        if (errno != 0) {
                r = -errno;
                goto fail;
        }

        if (h.n > 0)
                qsort(h.l, h.n, sizeof *h.l, cmp_holder);
        *ret = h.l;
        *ret_n = h.n;
        return 0;

fail:
        holders_free(h.l, h.n);
        return r;
}


int holders_in_cgroup(Sysroot *sr, const char *cgroup, char *const *prefixes) {
        _cleanup_free_ char *path = NULL, *procs = NULL;
        HolderList h = {};
        int r;

        if (!cgroup_path_valid(cgroup))
                return -EINVAL;
        if (asprintf(&path, "sys/fs/cgroup%s/cgroup.procs", cgroup) < 0)
                return -ENOMEM;
        r = sysroot_read_file(sr, path, 1024 * 1024, &procs);
        if (r < 0)
                return skippable(r) ? 0 : r;

        for (char *line = procs, *next; line && *line && h.n == 0; line = next) {
                pid_t pid;
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                if (!is_pid(line, &pid))
                        continue;
                r = scan_process(sr, pid, NULL, prefixes, &h);
                if (r < 0 && !skippable(r)) {
                        holders_free(h.l, h.n);
                        return r;
                }
        }
        r = h.n > 0;
        holders_free(h.l, h.n);
        return r;
}
