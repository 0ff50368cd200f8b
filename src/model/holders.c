/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <limits.h>

#include "model/holders.h"
#include "shared/util.h"

/* Who holds a device node, and the cgroup arithmetic that names the unit
 * a process runs in: pure (host/holders.c scans proc). */

void holders_free(Holder *l, size_t n) {
        if (!l)
                return;
        for (size_t i = 0; i < n; i++) {
                free(l[i].command);
                free(l[i].path);
                free(l[i].cgroup);
                free(l[i].unit);
        }
        free(l);
}

/* ---- cgroups ----------------------------------------------------------------- */

#define CGROUP_PATH_MAX 4096U

int cgroup_from_proc(const char *text, char **ret) {
        const char *unified = NULL, *named = NULL;
        size_t unified_len = 0, named_len = 0;

        for (const char *p = text; p && *p;) {
                size_t len = strcspn(p, "\n");
                const char *c1 = memchr(p, ':', len), *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t) (c1 + 1 - p)) : NULL;
                if (c2) {
                        const char *path = c2 + 1;
                        size_t plen = len - (size_t) (path - p);
                        if (c1 - p == 1 && p[0] == '0' && c2 == c1 + 1) {
                                unified = path;
                                unified_len = plen;
                        } else if ((size_t) (c2 - c1 - 1) == strlen("name=systemd") &&
                                   strncmp(c1 + 1, "name=systemd", strlen("name=systemd")) == 0) {
                                named = path;
                                named_len = plen;
                        }
                }
                p += len + (p[len] == '\n');
        }
        /* On a hybrid host the unified line is "0::/" and systemd's own
         * hierarchy has the real place. */
        const char *path = named && (!unified || (unified_len == 1 && unified[0] == '/')) ? named : unified;
        size_t plen = path == named ? named_len : unified_len;

        *ret = NULL;
        if (!path || plen == 0 || plen > CGROUP_PATH_MAX || path[0] != '/')
                return 0;
        *ret = strndup(path, plen);
        return *ret ? 0 : -ENOMEM;
}

static bool unit_suffix(const char *s, size_t len) {
        static const char *const suffixes[] = { ".service", ".scope" };
        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
                size_t n = strlen(suffixes[i]);
                if (len > n && strncmp(s + len - n, suffixes[i], n) == 0)
                        return true;
        }
        return false;
}

int cgroup_unit(const char *path, char **ret) {
        const char *found = NULL;
        size_t found_len = 0;

        for (const char *p = path; p && *p;) {
                p += strspn(p, "/");
                size_t len = strcspn(p, "/");
                if (len > 0 && unit_suffix(p, len)) {
                        found = p;
                        found_len = len;
                }
                p += len;
        }
        *ret = found ? strndup(found, found_len) : NULL;
        return found && !*ret ? -ENOMEM : 0;
}

bool cgroup_in_unit(const char *path, const char *unit) {
        size_t n = strlen(unit);
        for (const char *p = path; p && *p;) {
                p += strspn(p, "/");
                size_t len = strcspn(p, "/");
                if (len == n && strncmp(p, unit, n) == 0)
                        return true;
                p += len;
        }
        return false;
}

bool cgroup_path_valid(const char *path) {
        if (!path || path[0] != '/' || strlen(path) >= PATH_MAX)
                return false;
        for (const char *p = path; *p;) {
                p++; /* the '/' */
                size_t len = strcspn(p, "/");
                if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                for (size_t i = 0; i < len; i++)
                        if ((unsigned char) p[i] <= ' ' || (unsigned char) p[i] >= 0x7f)
                                return false;
                p += len;
        }
        return true;
}

bool cgroup_in_user_session(const char *path) {
        return path && (streq(path, "/user.slice") || startswith(path, "/user.slice/"));
}

char *holder_describe(const Holder *h) {
        char *s = NULL;
        if (asprintf(&s, "pid %d (%s%s%s)", (int) h->pid, h->command, h->unit ? ", " : "", h->unit ? h->unit : "") < 0)
                return NULL;
        return s;
}
