/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <limits.h>

#include "host/modules.h"
#include "shared/util.h"

/* Module facts come from three places, any of which may be missing (a
 * container has no proc/modules; a kernel without modules has no
 * modules.builtin): proc/modules and sys/module/NAME for loaded modules,
 * lib/modules/<release>/modules.builtin and sys/module/NAME without
 * initstate for built-in ones. */

/* Real stacks are 4 deep at most; anything far deeper is a broken tree. */
#define MODULE_DEPTH_MAX 32U
#define MODULE_VISIT_MAX 4096U
#define PROC_MODULES_MAX (8U * 1024U * 1024U)
#define MODULES_BUILTIN_MAX (8U * 1024U * 1024U)

/* Files read once per query, shared by every module looked at. */
typedef struct ModCtx {
        Sysroot *sr;
        bool have_proc;
        char *proc_modules;     /* NULL: no proc/modules */
        bool have_builtin;
        char **builtin;         /* normalized names, NULL: no list */
} ModCtx;

static void modctx_done(ModCtx *c) {
        free(c->proc_modules);
        strv_free(c->builtin);
}

static int modctx_proc(ModCtx *c, const char **ret) {
        if (!c->have_proc) {
                int r = sysroot_read_file(c->sr, "proc/modules", PROC_MODULES_MAX, &c->proc_modules);
                if (r < 0 && r != -ENOENT)
                        return r;
                c->have_proc = true;
        }
        *ret = c->proc_modules;
        return 0;
}

/* "kernel/drivers/gpu/drm/tiny/simpledrm.ko" -> "simpledrm" */
static int builtin_parse(char *text, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        char *save = NULL;
        int r;

        if (!l)
                return -ENOMEM;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                strstrip_trailing(line);
                char *base = strrchr(line, '/');
                base = base ? base + 1 : line;
                size_t len = strlen(base);
                if (len <= 3 || !streq(base + len - 3, ".ko"))
                        continue;
                base[len - 3] = 0;
                if (!module_name_valid(base))
                        continue;
                module_name_normalize(base);
                r = strv_extend(&l, base);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int modctx_builtin(ModCtx *c, char ***ret) {
        if (!c->have_builtin) {
                _cleanup_free_ char *release = NULL, *text = NULL;
                int r = sysroot_read_line(c->sr, "proc/sys/kernel/osrelease", &release);
                if (r < 0 && r != -ENOENT)
                        return r;
                if (release) {
                        if (!filename_is_safe(release, 128))
                                return -EINVAL;
                        _cleanup_free_ char *path = NULL;
                        if (asprintf(&path, "lib/modules/%s/modules.builtin", release) < 0)
                                return -ENOMEM;
                        r = sysroot_read_file(c->sr, path, MODULES_BUILTIN_MAX, &text);
                        if (r < 0 && r != -ENOENT)
                                return r;
                        if (text) {
                                r = builtin_parse(text, &c->builtin);
                                if (r < 0)
                                        return r;
                        }
                }
                c->have_builtin = true;
        }
        *ret = c->builtin;
        return 0;
}

/* Holders as "a,b," or "-" (the "used by" column of proc/modules). */
static int split_holders(const char *field, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        _cleanup_free_ char *copy = strdup(field);
        char *save = NULL;
        int r;

        if (!l || !copy)
                return -ENOMEM;
        if (!streq(field, "-"))
                for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                        if (!module_name_valid(t))
                                return -EINVAL;
                        module_name_normalize(t);
                        r = strv_extend_unique(&l, t);
                        if (r < 0)
                                return r;
                }
        *ret = TAKE_PTR(l);
        return 0;
}

/* Finds NAME in proc/modules. Returns 1 with refcnt and holders when listed,
 * 0 when not, -EINVAL when its line is malformed. */
static int proc_modules_find(const char *text, const char *name, int *ret_refcnt, char ***ret_holders) {
        const char *p = text;

        while (p && *p) {
                const char *eol = strchr(p, '\n');
                size_t len = eol ? (size_t) (eol - p) : strlen(p);
                size_t nlen = strcspn(p, " \t\n");

                if (nlen == strlen(name) && nlen < len && strncmp(p, name, nlen) == 0) {
                        _cleanup_free_ char *line = strndup(p, len);
                        char *save = NULL, *fields[4] = {};
                        unsigned refcnt;
                        int r;

                        if (!line)
                                return -ENOMEM;
                        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                                fields[i] = strtok_r(i == 0 ? line : NULL, " \t", &save);
                                if (!fields[i])
                                        return -EINVAL;
                        }
                        if (parse_uint(fields[2], &refcnt) < 0 || refcnt > INT_MAX)
                                return -EINVAL;
                        r = split_holders(fields[3], ret_holders);
                        if (r < 0)
                                return r;
                        *ret_refcnt = (int) refcnt;
                        return 1;
                }
                p = eol ? eol + 1 : NULL;
        }
        return 0;
}

static int sys_holders(Sysroot *sr, const char *name, char ***ret) {
        _cleanup_strv_free_ char **names = NULL, **l = NULL;
        int r;

        r = sysroot_list_dirf(sr, &names, "sys/module/%s/holders", name);
        if (r < 0)
                return r;
        l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (char **i = names; *i; i++) {
                if (!module_name_valid(*i))
                        return -EINVAL;
                module_name_normalize(*i);
                r = strv_extend_unique(&l, *i);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int modctx_info(ModCtx *c, const char *name, ModuleInfo *ret) {
        _cleanup_free_ char *n = NULL, *initstate = NULL, *refcnt_s = NULL;
        _cleanup_strv_free_ char **proc_holders = NULL, **holders = NULL;
        const char *proc = NULL;
        int proc_refcnt = -1, refcnt = -1, r;
        bool in_proc = false, has_dir;
        ModuleState state;

        if (!module_name_valid(name))
                return -EINVAL;
        n = strdup(name);
        if (!n)
                return -ENOMEM;
        module_name_normalize(n);

        r = modctx_proc(c, &proc);
        if (r < 0)
                return r;
        if (proc) {
                r = proc_modules_find(proc, n, &proc_refcnt, &proc_holders);
                if (r < 0)
                        return r;
                in_proc = r > 0;
        }

        r = sysroot_existsf(c->sr, "sys/module/%s", n);
        if (r < 0)
                return r;
        has_dir = r > 0;
        if (has_dir) {
                r = sysroot_read_linef(c->sr, &initstate, "sys/module/%s/initstate", n);
                if (r < 0 && r != -ENOENT)
                        return r;
        }

        if (in_proc || streq_ptr(initstate, "live")) {
                state = MODULE_LOADED;
                refcnt = proc_refcnt;
                if (has_dir) {
                        r = sysroot_read_linef(c->sr, &refcnt_s, "sys/module/%s/refcnt", n);
                        if (r < 0 && r != -ENOENT)
                                return r;
                        if (refcnt_s) {
                                unsigned v;
                                if (parse_uint(refcnt_s, &v) < 0 || v > INT_MAX)
                                        return -EINVAL;
                                refcnt = (int) v;
                        }
                        r = sys_holders(c->sr, n, &holders);
                        if (r < 0 && r != -ENOENT)
                                return r;
                }
                if (!holders)
                        holders = TAKE_PTR(proc_holders);
        } else {
                char **list = NULL;
                r = modctx_builtin(c, &list);
                if (r < 0)
                        return r;
                if (strv_contains(list, n) || (has_dir && !initstate))
                        state = MODULE_BUILTIN;
                else
                        state = MODULE_ABSENT;
        }

        if (!holders) {
                holders = calloc(1, sizeof(char *));
                if (!holders)
                        return -ENOMEM;
        }
        strv_sort(holders);

        *ret = (ModuleInfo) {
                .name = TAKE_PTR(n),
                .state = state,
                .refcnt = refcnt,
                .holders = TAKE_PTR(holders),
        };
        return 0;
}

int module_info_read(Sysroot *sr, const char *name, ModuleInfo *ret) {
        ModCtx c = { .sr = sr };
        int r = modctx_info(&c, name, ret);
        modctx_done(&c);
        return r;
}

typedef struct Walk {
        ModCtx ctx;
        char **order;       /* post-order: holders first */
        char **visiting;    /* the current DFS path, to catch cycles */
        unsigned visits;
} Walk;

static int walk_visit(Walk *w, const char *name, unsigned depth) {
        _cleanup_(module_info_done) ModuleInfo m = { .refcnt = -1 };
        int r;

        if (strv_contains(w->order, name))
                return 0;
        if (strv_contains(w->visiting, name) || depth > MODULE_DEPTH_MAX)
                return -ELOOP;
        if (++w->visits > MODULE_VISIT_MAX)
                return -E2BIG;

        r = modctx_info(&w->ctx, name, &m);
        if (r < 0)
                return r;
        /* A holder listed but not loaded is a stale entry: nothing to unload. */
        if (m.state != MODULE_LOADED)
                return 0;

        r = strv_extend(&w->visiting, m.name);
        if (r < 0)
                return r;
        for (char **h = m.holders; *h; h++) {
                r = walk_visit(w, *h, depth + 1);
                if (r < 0)
                        break;
        }
        size_t n = strv_length(w->visiting);
        free(w->visiting[n - 1]);
        w->visiting[n - 1] = NULL;
        if (r < 0)
                return r;

        return strv_extend(&w->order, m.name);
}

int modules_unload_order(Sysroot *sr, char *const *modules, char ***ret, char ***ret_builtin) {
        _cleanup_strv_free_ char **roots = NULL, **builtin = NULL;
        Walk w = { .ctx.sr = sr };
        int r;

        roots = calloc(1, sizeof(char *));
        builtin = calloc(1, sizeof(char *));
        w.order = calloc(1, sizeof(char *));
        w.visiting = calloc(1, sizeof(char *));
        if (!roots || !builtin || !w.order || !w.visiting) {
                r = -ENOMEM;
                goto finish;
        }

        for (char *const *i = modules; i && *i; i++) {
                _cleanup_free_ char *n = NULL;
                if (!module_name_valid(*i)) {
                        r = -EINVAL;
                        goto finish;
                }
                n = strdup(*i);
                if (!n) {
                        r = -ENOMEM;
                        goto finish;
                }
                module_name_normalize(n);
                r = strv_extend_unique(&roots, n);
                if (r < 0)
                        goto finish;
        }
        /* Sorted roots make the order independent of how the caller listed
         * them: the base of a stack sorts before the modules named after it. */
        strv_sort(roots);

        for (char **i = roots; *i; i++) {
                _cleanup_(module_info_done) ModuleInfo m = { .refcnt = -1 };

                r = modctx_info(&w.ctx, *i, &m);
                if (r < 0)
                        goto finish;
                if (m.state == MODULE_BUILTIN) {
                        r = strv_extend_unique(&builtin, m.name);
                        if (r < 0)
                                goto finish;
                        continue;
                }
                if (m.state != MODULE_LOADED)
                        continue;
                r = walk_visit(&w, m.name, 0);
                if (r < 0)
                        goto finish;
        }

        *ret = TAKE_PTR(w.order);
        if (ret_builtin)
                *ret_builtin = TAKE_PTR(builtin);
        r = 0;

finish:
        strv_free(w.order);
        strv_free(w.visiting);
        modctx_done(&w.ctx);
        return r;
}
