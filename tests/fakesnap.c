/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A fake host tree as sorted text, and the difference of two (tests/fakesnap.h). */
#include <fcntl.h>
#include <sys/stat.h>

#include "fakefs.h"
#include "fakesnap.h"
#include "shared/macro.h"
#include "shared/util.h"

typedef struct Entry {
        char *path;
        char *line;
} Entry;

typedef struct Entries {
        Entry *l;
        size_t n, alloc;
} Entries;

static void entries_done(Entries *e) {
        for (size_t i = 0; i < e->n; i++) {
                free(e->l[i].path);
                free(e->l[i].line);
        }
        free(e->l);
}

static int escape(const char *s, size_t len, char **ret) {
        char *out = malloc(len * 4 + 1), *o = out;
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) s[i];
                if (c == '\\') {
                        *o++ = '\\';
                        *o++ = '\\';
                } else if (c == '\n') {
                        *o++ = '\\';
                        *o++ = 'n';
                } else if (c < 0x20 || c >= 0x7f)
                        o += sprintf(o, "\\x%02x", c);
                else
                        *o++ = (char) c;
        }
        *o = 0;
        *ret = out;
        return 0;
}

static int entries_add(Entries *e, const char *path, char *line) {
        if (e->n == e->alloc) {
                size_t na = e->alloc ? e->alloc * 2 : 256;
                Entry *nl = realloc(e->l, na * sizeof *nl);
                if (!nl) {
                        free(line);
                        return -ENOMEM;
                }
                e->l = nl;
                e->alloc = na;
        }
        char *p = strdup(path);
        if (!p) {
                free(line);
                return -ENOMEM;
        }
        e->l[e->n++] = (Entry) { .path = p, .line = line };
        return 0;
}

static int snapshot_walk(const char *root, const char *rel, Entries *e) {
        _cleanup_free_ char *full = NULL;
        _cleanup_strv_free_ char **names = NULL;
        int r;

        r = fs_pathf(&full, root, "%s", rel);
        if (r < 0)
                return r;
        r = fs_listf(root, &names, "%s", rel);
        if (r < 0)
                return r;
        for (char **n = names; *n; n++) {
                _cleanup_free_ char *crel = NULL, *cfull = NULL;
                char *line = NULL;
                struct stat st;

                if (asprintf(&crel, "%s%s%s", rel, rel[0] ? "/" : "", *n) < 0 ||
                    asprintf(&cfull, "%s/%s", full, *n) < 0)
                        return -ENOMEM;
                if (lstat(cfull, &st) < 0)
                        return -errno;
                if (S_ISLNK(st.st_mode)) {
                        char buf[PATH_MAX];
                        ssize_t k = readlink(cfull, buf, sizeof buf - 1);
                        if (k < 0)
                                return -errno;
                        buf[k] = 0;
                        if (asprintf(&line, "l %s -> %s", crel, buf) < 0)
                                return -ENOMEM;
                        r = entries_add(e, crel, line);
                } else if (S_ISDIR(st.st_mode)) {
                        if (asprintf(&line, "d %s", crel) < 0)
                                return -ENOMEM;
                        r = entries_add(e, crel, line);
                        if (r >= 0)
                                r = snapshot_walk(root, crel, e);
                } else {
                        _cleanup_free_ char *content = NULL, *esc = NULL;
                        size_t len = 0;
                        if (S_ISREG(st.st_mode)) {
                                r = fs_read_full(cfull, &content, &len);
                                if (r < 0)
                                        return r;
                        }
                        r = escape(content ? content : "", len, &esc);
                        if (r < 0)
                                return r;
                        if (asprintf(&line, "f %s %s", crel, esc) < 0)
                                return -ENOMEM;
                        r = entries_add(e, crel, line);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

static int cmp_entry(const void *x, const void *y) {
        return strcmp(((const Entry *) x)->path, ((const Entry *) y)->path);
}

int fakehost_snapshot(const char *root, char **ret) {
        Entries e = {};
        size_t len = 1;
        int r;

        r = fs_existsf(root, "%s", "");
        if (r == 0)
                return -ENOENT;
        r = snapshot_walk(root, "", &e);
        if (r < 0)
                goto finish;
        if (e.n > 0)
                qsort(e.l, e.n, sizeof *e.l, cmp_entry);
        for (size_t i = 0; i < e.n; i++)
                len += strlen(e.l[i].line) + 1;
        char *out = malloc(len), *o = out;
        if (!out) {
                r = -ENOMEM;
                goto finish;
        }
        for (size_t i = 0; i < e.n; i++) {
                size_t l = strlen(e.l[i].line);
                memcpy(o, e.l[i].line, l);
                o[l] = '\n';
                o += l + 1;
        }
        *o = 0;
        *ret = out;
        r = 0;
finish:
        entries_done(&e);
        return r;
}

static int split_sorted(const char *s, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        _cleanup_free_ char *copy = strdup(s);
        char *save = NULL;
        if (!l || !copy)
                return -ENOMEM;
        for (char *t = strtok_r(copy, "\n", &save); t; t = strtok_r(NULL, "\n", &save))
                if (strv_extend(&l, t) < 0)
                        return -ENOMEM;
        strv_sort(l);
        *ret = TAKE_PTR(l);
        return 0;
}

char *fakehost_snapshot_diff(const char *a, const char *b) {
        _cleanup_strv_free_ char **la = NULL, **lb = NULL;
        _cleanup_free_ char *out = NULL;
        size_t len = 0, i = 0, j = 0;

        if (split_sorted(a ? a : "", &la) < 0 || split_sorted(b ? b : "", &lb) < 0)
                return NULL;
        out = calloc(1, 1);
        if (!out)
                return NULL;
        while (la[i] || lb[j]) {
                int c = !la[i] ? 1 : !lb[j] ? -1 : strcmp(la[i], lb[j]);
                const char *line;
                char sign;
                if (c == 0) {
                        i++;
                        j++;
                        continue;
                }
                if (c < 0) {
                        sign = '-';
                        line = la[i++];
                } else {
                        sign = '+';
                        line = lb[j++];
                }
                size_t add = strlen(line) + 3;
                char *n = realloc(out, len + add + 1);
                if (!n)
                        return NULL;
                out = n;
                sprintf(out + len, "%c %s\n", sign, line);
                len += add;
        }
        return len ? TAKE_PTR(out) : NULL;
}
