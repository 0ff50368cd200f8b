/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "fakehost.h"
#include "shared/macro.h"
#include "shared/util.h"

/* Paths inside the tree are "relative paths" (rel): "sys/bus/pci/devices".
 * Links are made relative the way sysfs makes them, computed from the
 * link's own place, so the tree can be moved and read through a Sysroot. */

#define FILE_MAX (1024U * 1024U)

static _Thread_local char last_error[512];

const char *fakehost_error(void) {
        return last_error;
}

/* ---- path helpers ---------------------------------------------------------- */

static bool name_ok(const char *s) {
        return filename_is_safe(s, 255);
}

/* "dddd:bb:ss.f", lower-case hex. */
static bool addr_ok(const char *s) {
        static const char pattern[] = "xxxx:xx:xx.x";
        if (!s || strlen(s) != strlen(pattern))
                return false;
        for (size_t i = 0; pattern[i]; i++) {
                if (pattern[i] == 'x') {
                        if (!isdigit((unsigned char) s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
                                return false;
                } else if (s[i] != pattern[i])
                        return false;
        }
        return s[11] <= '7' && strchr("01", s[8]) && isdigit((unsigned char) s[11]);
}

static int vpathf(char **ret, const char *root, const char *fmt, va_list ap) _printf_(3, 0);
static int vpathf(char **ret, const char *root, const char *fmt, va_list ap) {
        _cleanup_free_ char *rel = NULL;
        if (vasprintf(&rel, fmt, ap) < 0)
                return -ENOMEM;
        if (asprintf(ret, "%s/%s", root, rel) < 0)
                return -ENOMEM;
        return 0;
}

/* The full path of a rel path under root. */
_printf_(3, 4) static int pathf(char **ret, const char *root, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int r = vpathf(ret, root, fmt, ap);
        va_end(ap);
        return r;
}

_printf_(2, 3) static int existsf(const char *root, const char *fmt, ...) {
        _cleanup_free_ char *p = NULL;
        struct stat st;
        va_list ap;
        va_start(ap, fmt);
        int r = vpathf(&p, root, fmt, ap);
        va_end(ap);
        if (r < 0)
                return r;
        if (lstat(p, &st) < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
        return 1;
}

/* Parents are made only when the directory itself cannot be: most calls
 * are for directories that exist or whose parent does. */
static int mkdir_p(const char *path) {
        if (mkdir(path, 0755) >= 0 || errno == EEXIST)
                return 0;
        if (errno != ENOENT)
                return -errno;
        _cleanup_free_ char *parent = strdup(path);
        if (!parent)
                return -ENOMEM;
        char *slash = strrchr(parent, '/');
        if (!slash || slash == parent)
                return -ENOENT;
        *slash = 0;
        int r = mkdir_p(parent);
        if (r < 0)
                return r;
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

_printf_(2, 3) static int mkdirf(const char *root, const char *fmt, ...) {
        _cleanup_free_ char *p = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = vpathf(&p, root, fmt, ap);
        va_end(ap);
        if (r < 0)
                return r;
        return mkdir_p(p);
}

static int mkdir_parent(const char *path) {
        _cleanup_free_ char *dir = strdup(path);
        if (!dir)
                return -ENOMEM;
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir)
                return 0;
        *slash = 0;
        return mkdir_p(dir);
}

static int write_full(const char *path, const void *buf, size_t len, bool append) {
        int r = mkdir_parent(path);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
        if (fd < 0)
                return -errno;
        const char *p = buf;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

/* Writes content to a rel path, creating its directories. */
_printf_(3, 4) static int writef(const char *root, const char *content, const char *fmt, ...) {
        _cleanup_free_ char *p = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = vpathf(&p, root, fmt, ap);
        va_end(ap);
        if (r < 0)
                return r;
        return write_full(p, content, strlen(content), false);
}

static int read_full_flags(const char *path, int flags, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | flags);
        if (fd < 0)
                return -errno;
        size_t len = 0, alloc = 4096;
        _cleanup_free_ char *buf = malloc(alloc + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (len == alloc) {
                        if (alloc >= FILE_MAX)
                                return -EFBIG;
                        alloc *= 2;
                        char *nb = realloc(buf, alloc + 1);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                }
                ssize_t n = read(fd, buf + len, alloc - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        buf[len] = 0;
        *ret = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

/* Files inside a tree are never followed through links. */
static int read_full(const char *path, char **ret, size_t *ret_len) {
        return read_full_flags(path, O_NOFOLLOW, ret, ret_len);
}

_printf_(3, 4) static int readf(const char *root, char **ret, const char *fmt, ...) {
        _cleanup_free_ char *p = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = vpathf(&p, root, fmt, ap);
        va_end(ap);
        if (r < 0)
                return r;
        return read_full(p, ret, NULL);
}

static int split_path(const char *path, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        _cleanup_free_ char *copy = strdup(path);
        char *save = NULL;
        if (!l || !copy)
                return -ENOMEM;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save))
                if (strv_extend(&l, c) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

/* Collapses "a/b/../c/./d" to "a/c/d" (never above the root). */
static int rel_normalize(const char *path, char **ret) {
        _cleanup_free_ char *copy = strdup(path), *out = calloc(1, strlen(path) + 1);
        char *save = NULL;
        if (!copy || !out)
                return -ENOMEM;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                if (streq(c, "."))
                        continue;
                if (streq(c, "..")) {
                        char *slash = strrchr(out, '/');
                        if (slash)
                                *slash = 0;
                        else
                                out[0] = 0;
                        continue;
                }
                if (out[0])
                        strcat(out, "/");
                strcat(out, c);
        }
        *ret = TAKE_PTR(out);
        return 0;
}

/* The relative target that reaches target_rel from the directory of link_rel:
 * "../" for each component of that directory past the common prefix. */
static int rel_target(const char *link_rel, const char *target_rel, char **ret) {
        _cleanup_strv_free_ char **from = NULL, **to = NULL;
        _cleanup_free_ char *dir = strdup(link_rel);
        size_t common = 0, len = 2;
        int r;

        if (!dir)
                return -ENOMEM;
        char *slash = strrchr(dir, '/');
        if (slash)
                *slash = 0;
        else
                dir[0] = 0;
        r = split_path(dir, &from);
        if (r < 0)
                return r;
        r = split_path(target_rel, &to);
        if (r < 0)
                return r;
        while (from[common] && to[common] && streq(from[common], to[common]))
                common++;

        for (size_t i = common; from[i]; i++)
                len += 3;
        for (size_t i = common; to[i]; i++)
                len += strlen(to[i]) + 1;
        char *out = calloc(1, len);
        if (!out)
                return -ENOMEM;
        for (size_t i = common; from[i]; i++)
                strcat(out, "../");
        for (size_t i = common; to[i]; i++) {
                strcat(out, to[i]);
                strcat(out, "/");
        }
        size_t n = strlen(out);
        if (n > 0)
                out[n - 1] = 0;
        else
                strcpy(out, ".");
        *ret = out;
        return 0;
}

/* A relative symlink at link_rel pointing at target_rel, as sysfs makes them. */
static int make_link(const char *root, const char *link_rel, const char *target_rel) {
        _cleanup_free_ char *target = NULL, *path = NULL;
        int r = rel_target(link_rel, target_rel, &target);
        if (r < 0)
                return r;
        r = pathf(&path, root, "%s", link_rel);
        if (r < 0)
                return r;
        r = mkdir_parent(path);
        if (r < 0)
                return r;
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        if (symlink(target, path) < 0)
                return -errno;
        return 0;
}

/* Where a link inside the tree points, as a rel path. */
_printf_(3, 4) static int resolvef(const char *root, char **ret, const char *fmt, ...) {
        _cleanup_free_ char *rel = NULL, *path = NULL, *joined = NULL;
        char buf[PATH_MAX];
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&rel, fmt, ap) < 0 ? -ENOMEM : 0;
        va_end(ap);
        if (r < 0)
                return r;
        r = pathf(&path, root, "%s", rel);
        if (r < 0)
                return r;
        ssize_t n = readlink(path, buf, sizeof buf - 1);
        if (n < 0)
                return errno == EINVAL ? -ENOLINK : -errno;
        buf[n] = 0;
        if (buf[0] == '/')
                return rel_normalize(buf, ret);
        char *slash = strrchr(rel, '/');
        if (slash)
                *slash = 0;
        if (asprintf(&joined, "%s/%s", slash ? rel : "", buf) < 0)
                return -ENOMEM;
        return rel_normalize(joined, ret);
}

_printf_(3, 4) static int link_basenamef(const char *root, char **ret, const char *fmt, ...) {
        _cleanup_free_ char *path = NULL;
        char buf[PATH_MAX];
        va_list ap;
        va_start(ap, fmt);
        int r = vpathf(&path, root, fmt, ap);
        va_end(ap);
        if (r < 0)
                return r;
        ssize_t n = readlink(path, buf, sizeof buf - 1);
        if (n < 0)
                return -errno;
        buf[n] = 0;
        const char *base = strrchr(buf, '/');
        char *s = strdup(base ? base + 1 : buf);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

_printf_(2, 3) static int unlinkf(const char *root, const char *fmt, ...) {
        _cleanup_free_ char *p = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = vpathf(&p, root, fmt, ap);
        va_end(ap);
        if (r < 0)
                return r;
        if (unlink(p) < 0)
                return -errno;
        return 0;
}

static int rm_rf_at(int dfd, const char *name) {
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return unlinkat(dfd, name, 0) < 0 ? -errno : 0;

        int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        _cleanup_closedir_ DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                int r = rm_rf_at(dirfd(d), de->d_name);
                if (r < 0)
                        return r;
        }
        if (errno != 0)
                return -errno;
        return unlinkat(dfd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}

int fakehost_rm_rf(const char *root) {
        return rm_rf_at(AT_FDCWD, root);
}

_printf_(2, 3) static int rm_rff(const char *root, const char *fmt, ...) {
        _cleanup_free_ char *p = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = vpathf(&p, root, fmt, ap);
        va_end(ap);
        if (r < 0)
                return r;
        return rm_rf_at(AT_FDCWD, p);
}

/* Sorted entries of a rel directory; an absent one is empty. */
_printf_(3, 4) static int listf(const char *root, char ***ret, const char *fmt, ...) {
        _cleanup_free_ char *p = NULL;
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        va_list ap;
        va_start(ap, fmt);
        int r = vpathf(&p, root, fmt, ap);
        va_end(ap);
        if (r < 0)
                return r;
        if (!l)
                return -ENOMEM;
        _cleanup_closedir_ DIR *d = opendir(p);
        if (!d) {
                if (errno != ENOENT)
                        return -errno;
                *ret = TAKE_PTR(l);
                return 0;
        }
        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                r = strv_extend(&l, de->d_name);
                if (r < 0)
                        return r;
        }
        if (errno != 0)
                return -errno;
        strv_sort(l);
        *ret = TAKE_PTR(l);
        return 0;
}

/* ---- skeleton and kernel ------------------------------------------------------ */

int fakehost_init(const char *root) {
        static const char *const dirs[] = {
                "sys/devices/platform",
                "sys/devices/virtual/vtconsole",
                "sys/bus/pci/devices",
                "sys/bus/pci/drivers",
                "sys/bus/platform/devices",
                "sys/bus/platform/drivers",
                "sys/kernel/iommu_groups",
                "sys/class/vtconsole",
                "sys/class/drm",
                "sys/module",
                "proc/sys/kernel",
                "dev/dri",
                "etc/systemd/system",
        };
        int r = mkdir_p(root);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                r = mkdirf(root, "%s", dirs[i]);
                if (r < 0)
                        return r;
        }
        if (existsf(root, "proc/modules") == 0) {
                r = writef(root, "", "proc/modules");
                if (r < 0)
                        return r;
        }
        r = writef(root, "", "sys/bus/pci/drivers_probe");
        if (r < 0)
                return r;
        return writef(root, "", "sys/bus/pci/rescan");
}

int fakehost_set_kernel(const char *root, const char *release) {
        int r;
        if (!name_ok(release))
                return -EINVAL;
        /* As the kernel shows it: one line. */
        _cleanup_free_ char *line = NULL;
        if (asprintf(&line, "%s\n", release) < 0)
                return -ENOMEM;
        r = writef(root, line, "proc/sys/kernel/osrelease");
        if (r < 0)
                return r;
        if (existsf(root, "lib/modules/%s/modules.builtin", release) == 0)
                return writef(root, "", "lib/modules/%s/modules.builtin", release);
        return 0;
}

static int kernel_release(const char *root, char **ret) {
        _cleanup_free_ char *s = NULL;
        int r = readf(root, &s, "proc/sys/kernel/osrelease");
        if (r < 0)
                return r;
        strstrip_trailing(s);
        if (!name_ok(s))
                return -EINVAL;
        *ret = TAKE_PTR(s);
        return 0;
}

static bool builtin_listed(const char *root, const char *name) {
        _cleanup_free_ char *release = NULL, *text = NULL, *needle = NULL;
        if (kernel_release(root, &release) < 0)
                return false;
        if (readf(root, &text, "lib/modules/%s/modules.builtin", release) < 0)
                return false;
        if (asprintf(&needle, "/%s.ko\n", name) < 0)
                return false;
        return strstr(text, needle);
}

int fakehost_builtin_add(const char *root, const char *name, const char *path, bool sysfs) {
        _cleanup_free_ char *release = NULL, *line = NULL, *file = NULL;
        int r;

        if (!name_ok(name) || (path && (strstr(path, "\n") || !*path)))
                return -EINVAL;
        r = kernel_release(root, &release);
        if (r < 0)
                return r;
        if (path)
                r = asprintf(&line, "%s\n", path);
        else
                r = asprintf(&line, "kernel/drivers/misc/%s.ko\n", name);
        if (r < 0)
                return -ENOMEM;
        r = pathf(&file, root, "lib/modules/%s/modules.builtin", release);
        if (r < 0)
                return r;
        r = write_full(file, line, strlen(line), true);
        if (r < 0)
                return r;
        if (sysfs)
                return mkdirf(root, "sys/module/%s/parameters", name);
        return 0;
}

/* ---- modules ------------------------------------------------------------------- */

static bool module_loaded(const char *root, const char *name) {
        return existsf(root, "sys/module/%s/initstate", name) > 0;
}

static int module_refcnt(const char *root, const char *name, int *ret) {
        _cleanup_free_ char *s = NULL;
        unsigned v;
        int r = readf(root, &s, "sys/module/%s/refcnt", name);
        if (r < 0)
                return r;
        strstrip_trailing(s);
        if (parse_uint(s, &v) < 0 || v > INT_MAX)
                return -EINVAL;
        *ret = (int) v;
        return 0;
}

static int module_write_refcnt(const char *root, const char *name, int refcnt) {
        char buf[32];
        snprintf(buf, sizeof buf, "%d\n", refcnt < 0 ? 0 : refcnt);
        return writef(root, buf, "sys/module/%s/refcnt", name);
}

/* proc/modules follows sys/module: rewrite NAME's line from it (dropping it
 * when the module is not loaded). Lines are kept sorted by name, unlike the
 * kernel's newest-first, so that unloading and reloading a module gives the
 * same tree (and the same snapshot) as before. */
static int module_sync_proc(const char *root, const char *name) {
        _cleanup_free_ char *text = NULL, *line = NULL, *path = NULL, *out = NULL;
        _cleanup_strv_free_ char **holders = NULL, **lines = NULL;
        size_t nlen = strlen(name), len = 1;
        int r;

        r = pathf(&path, root, "proc/modules");
        if (r < 0)
                return r;
        r = read_full(path, &text, NULL);
        if (r == -ENOENT)
                return 0; /* a host without proc/modules stays so */
        if (r < 0)
                return r;

        lines = calloc(1, sizeof(char *));
        if (!lines)
                return -ENOMEM;
        char *save = NULL;
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                if (strncmp(l, name, nlen) == 0 && l[nlen] == ' ')
                        continue;
                r = strv_extend(&lines, l);
                if (r < 0)
                        return r;
        }

        if (module_loaded(root, name)) {
                int refcnt = 0;
                r = module_refcnt(root, name, &refcnt);
                if (r < 0)
                        return r;
                r = listf(root, &holders, "sys/module/%s/holders", name);
                if (r < 0)
                        return r;
                size_t ul = 2;
                for (char **h = holders; *h; h++)
                        ul += strlen(*h) + 1;
                _cleanup_free_ char *used = calloc(1, ul);
                if (!used)
                        return -ENOMEM;
                for (char **h = holders; *h; h++) {
                        strcat(used, *h);
                        strcat(used, ",");
                }
                if (!used[0])
                        strcpy(used, "-");
                if (asprintf(&line, "%s 16384 %d %s Live 0x0000000000000000", name, refcnt, used) < 0)
                        return -ENOMEM;
                r = strv_extend(&lines, line);
                if (r < 0)
                        return r;
        }
        strv_sort(lines);

        for (char **l = lines; *l; l++)
                len += strlen(*l) + 1;
        out = calloc(1, len);
        if (!out)
                return -ENOMEM;
        for (char **l = lines; *l; l++) {
                strcat(out, *l);
                strcat(out, "\n");
        }
        return write_full(path, out, strlen(out), false);
}

static bool module_name_ok(const char *name) {
        if (!name_ok(name) || strlen(name) > 55)
                return false;
        for (const char *p = name; *p; p++)
                if (!isalnum((unsigned char) *p) && *p != '_' && *p != '-')
                        return false;
        return true;
}

int fakehost_module_add(const char *root, const char *name, int refcnt, char *const *holders) {
        int r;

        if (!module_name_ok(name))
                return -EINVAL;
        for (char *const *h = holders; h && *h; h++)
                if (!module_name_ok(*h))
                        return -EINVAL;

        r = writef(root, "live\n", "sys/module/%s/initstate", name);
        if (r < 0)
                return r;
        r = writef(root, "16384\n", "sys/module/%s/coresize", name);
        if (r < 0)
                return r;
        r = module_write_refcnt(root, name, refcnt >= 0 ? refcnt : (int) strv_length(holders));
        if (r < 0)
                return r;
        r = rm_rff(root, "sys/module/%s/holders", name);
        if (r < 0)
                return r;
        r = mkdirf(root, "sys/module/%s/holders", name);
        if (r < 0)
                return r;
        for (char *const *h = holders; h && *h; h++) {
                _cleanup_free_ char *l = NULL, *t = NULL;
                if (asprintf(&l, "sys/module/%s/holders/%s", name, *h) < 0 || asprintf(&t, "sys/module/%s", *h) < 0)
                        return -ENOMEM;
                r = make_link(root, l, t);
                if (r < 0)
                        return r;
        }
        return module_sync_proc(root, name);
}

int fakehost_module_set_refcnt(const char *root, const char *name, int refcnt) {
        if (!module_name_ok(name) || refcnt < 0)
                return -EINVAL;
        if (!module_loaded(root, name))
                return -ENOENT;
        int r = module_write_refcnt(root, name, refcnt);
        if (r < 0)
                return r;
        return module_sync_proc(root, name);
}

int fakehost_module_load(const char *root, const char *name, char *const *uses) {
        int r;

        if (!module_name_ok(name))
                return -EINVAL;
        if (existsf(root, "sys/module/%s", name) > 0 || builtin_listed(root, name))
                return -EEXIST;
        for (char *const *u = uses; u && *u; u++) {
                if (!module_name_ok(*u))
                        return -EINVAL;
                if (!module_loaded(root, *u))
                        return -ENOENT;
        }

        r = fakehost_module_add(root, name, 0, NULL);
        if (r < 0)
                return r;
        for (char *const *u = uses; u && *u; u++) {
                _cleanup_free_ char *l = NULL, *t = NULL;
                int refcnt = 0;
                if (asprintf(&l, "sys/module/%s/holders/%s", *u, name) < 0 || asprintf(&t, "sys/module/%s", name) < 0)
                        return -ENOMEM;
                r = make_link(root, l, t);
                if (r < 0)
                        return r;
                r = module_refcnt(root, *u, &refcnt);
                if (r < 0)
                        return r;
                r = module_write_refcnt(root, *u, refcnt + 1);
                if (r < 0)
                        return r;
                r = module_sync_proc(root, *u);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int driver_remove(const char *root, const char *bus, const char *driver);

/* Drivers of a bus whose module link names module. */
static int remove_module_drivers(const char *root, const char *bus, const char *module) {
        _cleanup_strv_free_ char **drivers = NULL;
        int r = listf(root, &drivers, "sys/bus/%s/drivers", bus);
        if (r < 0)
                return r;
        for (char **d = drivers; *d; d++) {
                _cleanup_free_ char *m = NULL;
                if (link_basenamef(root, &m, "sys/bus/%s/drivers/%s/module", bus, *d) < 0)
                        continue;
                if (!streq(m, module))
                        continue;
                r = driver_remove(root, bus, *d);
                if (r < 0)
                        return r;
        }
        return 0;
}

int fakehost_module_unload(const char *root, const char *name) {
        _cleanup_strv_free_ char **holders = NULL, **modules = NULL;
        int refcnt = 0, r;

        if (!module_name_ok(name))
                return -EINVAL;
        if (!module_loaded(root, name))
                return -ENOENT;
        r = listf(root, &holders, "sys/module/%s/holders", name);
        if (r < 0)
                return r;
        r = module_refcnt(root, name, &refcnt);
        if (r < 0)
                return r;
        if (holders[0] || refcnt > 0)
                return -EAGAIN;

        /* It no longer holds what it used. */
        r = listf(root, &modules, "sys/module");
        if (r < 0)
                return r;
        for (char **m = modules; *m; m++) {
                int c = 0;
                if (existsf(root, "sys/module/%s/holders/%s", *m, name) <= 0)
                        continue;
                r = unlinkf(root, "sys/module/%s/holders/%s", *m, name);
                if (r < 0)
                        return r;
                if (module_refcnt(root, *m, &c) >= 0) {
                        r = module_write_refcnt(root, *m, c - 1);
                        if (r < 0)
                                return r;
                }
                r = module_sync_proc(root, *m);
                if (r < 0)
                        return r;
        }

        r = remove_module_drivers(root, "pci", name);
        if (r < 0)
                return r;
        r = remove_module_drivers(root, "platform", name);
        if (r < 0)
                return r;
        r = rm_rff(root, "sys/module/%s", name);
        if (r < 0)
                return r;
        return module_sync_proc(root, name);
}

/* ---- PCI ----------------------------------------------------------------------- */

static int pci_dir(const char *root, const char *addr, char **ret) {
        if (!addr_ok(addr))
                return -EINVAL;
        int r = resolvef(root, ret, "sys/bus/pci/devices/%s", addr);
        return r == -ENOLINK ? -ENOENT : r;
}

int fakehost_pci_add(const char *root, const FakePci *p) {
        _cleanup_free_ char *parent = NULL, *dir = NULL, *link = NULL;
        unsigned char config[64] = {};
        char buf[64];
        int r;

        if (!p || !addr_ok(p->addr) || p->vendor > 0xffff || p->device > 0xffff || p->class > 0xffffff ||
            p->header_type > 0xff)
                return -EINVAL;
        if (existsf(root, "sys/bus/pci/devices/%s", p->addr) > 0)
                return -EEXIST;

        if (p->parent) {
                r = pci_dir(root, p->parent, &parent);
                if (r < 0)
                        return r;
        } else if (asprintf(&parent, "sys/devices/pci%.7s", p->addr) < 0)
                return -ENOMEM;
        if (asprintf(&dir, "%s/%s", parent, p->addr) < 0)
                return -ENOMEM;
        r = mkdirf(root, "%s", dir);
        if (r < 0)
                return r;

        static const char *const hex4[] = { "vendor", "device", "subsystem_vendor", "subsystem_device" };
        const unsigned hex4_values[] = { p->vendor, p->device, p->vendor, 0 };
        for (size_t i = 0; i < ELEMENTSOF(hex4); i++) {
                snprintf(buf, sizeof buf, "0x%04x\n", hex4_values[i]);
                r = writef(root, buf, "%s/%s", dir, hex4[i]);
                if (r < 0)
                        return r;
        }
        snprintf(buf, sizeof buf, "0x%06x\n", p->class);
        r = writef(root, buf, "%s/class", dir);
        if (r < 0)
                return r;
        r = writef(root, "0xa1\n", "%s/revision", dir);
        if (r < 0)
                return r;
        r = writef(root, "0\n", "%s/enable", dir);
        if (r < 0)
                return r;
        snprintf(buf, sizeof buf, "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X\n", p->vendor, p->device, p->vendor, 0U,
                 p->class >> 16, (p->class >> 8) & 0xffU, p->class & 0xffU);
        r = writef(root, buf, "%s/modalias", dir);
        if (r < 0)
                return r;
        static const char *const empty[] = { "remove", "rescan", "reset", "uevent" };
        for (size_t i = 0; i < ELEMENTSOF(empty); i++) {
                r = writef(root, "", "%s/%s", dir, empty[i]);
                if (r < 0)
                        return r;
        }
        r = writef(root, "(null)\n", "%s/driver_override", dir);
        if (r < 0)
                return r;

        /* The first 64 bytes of config space, as non-root may read them. */
        int ht = p->header_type >= 0 ? p->header_type : (p->class >> 8) == 0x0604 ? 1 : 0;
        config[0] = (unsigned char) (p->vendor & 0xff);
        config[1] = (unsigned char) (p->vendor >> 8);
        config[2] = (unsigned char) (p->device & 0xff);
        config[3] = (unsigned char) (p->device >> 8);
        config[8] = 0xa1;
        config[9] = (unsigned char) (p->class & 0xff);
        config[10] = (unsigned char) ((p->class >> 8) & 0xff);
        config[11] = (unsigned char) (p->class >> 16);
        config[14] = (unsigned char) ht;
        _cleanup_free_ char *cpath = NULL;
        r = pathf(&cpath, root, "%s/config", dir);
        if (r < 0)
                return r;
        r = write_full(cpath, config, sizeof config, false);
        if (r < 0)
                return r;

        if (asprintf(&link, "%s/subsystem", dir) < 0)
                return -ENOMEM;
        r = make_link(root, link, "sys/bus/pci");
        if (r < 0)
                return r;
        free(link);
        if (asprintf(&link, "sys/bus/pci/devices/%s", p->addr) < 0)
                return -ENOMEM;
        r = make_link(root, link, dir);
        if (r < 0)
                return r;

        if (p->iommu_group >= 0) {
                _cleanup_free_ char *group = NULL, *glink = NULL, *dlink = NULL;
                if (asprintf(&group, "sys/kernel/iommu_groups/%d", p->iommu_group) < 0 ||
                    asprintf(&glink, "%s/devices/%s", group, p->addr) < 0 ||
                    asprintf(&dlink, "%s/iommu_group", dir) < 0)
                        return -ENOMEM;
                if (existsf(root, "%s/type", group) == 0) {
                        r = writef(root, "DMA\n", "%s/type", group);
                        if (r < 0)
                                return r;
                        r = writef(root, "", "%s/reserved_regions", group);
                        if (r < 0)
                                return r;
                }
                r = make_link(root, glink, dir);
                if (r < 0)
                        return r;
                r = make_link(root, dlink, group);
                if (r < 0)
                        return r;
        }
        return 0;
}

int fakehost_pci_driver(const char *root, const char *addr, char **ret) {
        _cleanup_free_ char *dir = NULL;
        int r = pci_dir(root, addr, &dir);
        if (r < 0)
                return r;
        r = link_basenamef(root, ret, "%s/driver", dir);
        if (r == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        return r;
}

/* Bind and unbind, for any bus: the device's driver link and the driver's
 * back-link. */
static int bus_bind(const char *root, const char *bus, const char *dev_dir, const char *name, const char *driver) {
        _cleanup_free_ char *drv = NULL, *l1 = NULL, *l2 = NULL;
        int r;

        if (!name_ok(driver))
                return -EINVAL;
        if (asprintf(&drv, "sys/bus/%s/drivers/%s", bus, driver) < 0)
                return -ENOMEM;
        if (existsf(root, "%s", drv) <= 0)
                return -ENOENT;
        if (existsf(root, "%s/driver", dev_dir) > 0)
                return -EBUSY;
        if (asprintf(&l1, "%s/driver", dev_dir) < 0 || asprintf(&l2, "%s/%s", drv, name) < 0)
                return -ENOMEM;
        r = make_link(root, l1, drv);
        if (r < 0)
                return r;
        return make_link(root, l2, dev_dir);
}

static int bus_unbind(const char *root, const char *dev_dir, const char *name) {
        _cleanup_free_ char *drv = NULL;
        int r = resolvef(root, &drv, "%s/driver", dev_dir);
        if (r == -ENOENT || r == -ENOLINK)
                return -ENODEV;
        if (r < 0)
                return r;
        r = unlinkf(root, "%s/%s", drv, name);
        if (r < 0 && r != -ENOENT)
                return r;
        return unlinkf(root, "%s/driver", dev_dir);
}

int fakehost_pci_bind(const char *root, const char *addr, const char *driver) {
        _cleanup_free_ char *dir = NULL;
        int r = pci_dir(root, addr, &dir);
        if (r < 0)
                return r;
        return bus_bind(root, "pci", dir, addr, driver);
}

int fakehost_pci_unbind(const char *root, const char *addr) {
        _cleanup_free_ char *dir = NULL;
        int r = pci_dir(root, addr, &dir);
        if (r < 0)
                return r;
        return bus_unbind(root, dir, addr);
}

int fakehost_pci_set_driver_override(const char *root, const char *addr, const char *driver) {
        _cleanup_free_ char *dir = NULL, *value = NULL;
        int r = pci_dir(root, addr, &dir);
        if (r < 0)
                return r;
        if (driver && !name_ok(driver))
                return -EINVAL;
        if (asprintf(&value, "%s\n", driver ? driver : "(null)") < 0)
                return -ENOMEM;
        return writef(root, value, "%s/driver_override", dir);
}

int fakehost_pci_driver_add(const char *root, const char *driver, const char *module) {
        _cleanup_free_ char *drv = NULL;
        int r;

        if (!name_ok(driver) || (module && !module_name_ok(module)))
                return -EINVAL;
        if (module && !module_loaded(root, module))
                return -ENOENT;
        if (existsf(root, "sys/bus/pci/drivers/%s", driver) > 0)
                return -EEXIST;
        if (asprintf(&drv, "sys/bus/pci/drivers/%s", driver) < 0)
                return -ENOMEM;
        static const char *const files[] = { "bind", "unbind", "new_id", "remove_id", "uevent" };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                r = writef(root, "", "%s/%s", drv, files[i]);
                if (r < 0)
                        return r;
        }
        if (module) {
                _cleanup_free_ char *l = NULL, *t = NULL, *back = NULL;
                if (asprintf(&l, "%s/module", drv) < 0 || asprintf(&t, "sys/module/%s", module) < 0 ||
                    asprintf(&back, "sys/module/%s/drivers/pci:%s", module, driver) < 0)
                        return -ENOMEM;
                r = make_link(root, l, t);
                if (r < 0)
                        return r;
                r = make_link(root, back, drv);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int driver_remove(const char *root, const char *bus, const char *driver) {
        _cleanup_strv_free_ char **entries = NULL;
        _cleanup_free_ char *module = NULL;
        int r;

        if (!name_ok(driver))
                return -EINVAL;
        if (existsf(root, "sys/bus/%s/drivers/%s", bus, driver) <= 0)
                return -ENOENT;
        r = listf(root, &entries, "sys/bus/%s/drivers/%s", bus, driver);
        if (r < 0)
                return r;
        /* Back-links are the bound devices. */
        for (char **e = entries; *e; e++) {
                _cleanup_free_ char *dev = NULL;
                if (streq(*e, "module"))
                        continue;
                r = resolvef(root, &dev, "sys/bus/%s/drivers/%s/%s", bus, driver, *e);
                if (r == -ENOLINK)
                        continue;
                if (r < 0)
                        return r;
                r = bus_unbind(root, dev, *e);
                if (r < 0 && r != -ENODEV)
                        return r;
        }
        if (link_basenamef(root, &module, "sys/bus/%s/drivers/%s/module", bus, driver) >= 0) {
                r = unlinkf(root, "sys/module/%s/drivers/%s:%s", module, bus, driver);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        return rm_rff(root, "sys/bus/%s/drivers/%s", bus, driver);
}

int fakehost_pci_driver_remove(const char *root, const char *driver) {
        return driver_remove(root, "pci", driver);
}

static bool drm_node_ok(const char *node, unsigned *ret_minor) {
        const char *p;
        if (startswith(node, "card"))
                p = node + 4;
        else if (startswith(node, "renderD"))
                p = node + 7;
        else
                return false;
        return strlen(p) <= 6 && parse_uint(p, ret_minor) >= 0;
}

int fakehost_drm_add(const char *root, const char *addr, const char *node) {
        _cleanup_free_ char *dir = NULL, *ndir = NULL, *l = NULL, *sub = NULL;
        char buf[128];
        unsigned minor;
        int r;

        if (!drm_node_ok(node, &minor))
                return -EINVAL;
        r = pci_dir(root, addr, &dir);
        if (r < 0)
                return r;
        if (existsf(root, "%s/drm/%s", dir, node) > 0)
                return -EEXIST;
        if (asprintf(&ndir, "%s/drm/%s", dir, node) < 0 || asprintf(&l, "sys/class/drm/%s", node) < 0 ||
            asprintf(&sub, "%s/subsystem", ndir) < 0)
                return -ENOMEM;
        snprintf(buf, sizeof buf, "226:%u\n", minor);
        r = writef(root, buf, "%s/dev", ndir);
        if (r < 0)
                return r;
        snprintf(buf, sizeof buf, "MAJOR=226\nMINOR=%u\nDEVNAME=dri/%s\nDEVTYPE=drm_minor\n", minor, node);
        r = writef(root, buf, "%s/uevent", ndir);
        if (r < 0)
                return r;
        r = make_link(root, sub, "sys/class/drm");
        if (r < 0)
                return r;
        r = make_link(root, l, ndir);
        if (r < 0)
                return r;
        return writef(root, "", "dev/dri/%s", node);
}

int fakehost_drm_remove(const char *root, const char *addr, const char *node) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_strv_free_ char **left = NULL;
        unsigned minor;
        int r;

        if (!drm_node_ok(node, &minor))
                return -EINVAL;
        r = pci_dir(root, addr, &dir);
        if (r < 0)
                return r;
        if (existsf(root, "%s/drm/%s", dir, node) <= 0)
                return -ENOENT;
        r = rm_rff(root, "%s/drm/%s", dir, node);
        if (r < 0)
                return r;
        r = unlinkf(root, "sys/class/drm/%s", node);
        if (r < 0 && r != -ENOENT)
                return r;
        r = unlinkf(root, "dev/dri/%s", node);
        if (r < 0 && r != -ENOENT)
                return r;
        r = listf(root, &left, "%s/drm", dir);
        if (r < 0)
                return r;
        return left[0] ? 0 : rm_rff(root, "%s/drm", dir);
}

int fakehost_pci_remove(const char *root, const char *addr) {
        _cleanup_free_ char *dir = NULL, *group = NULL;
        _cleanup_strv_free_ char **entries = NULL, **nodes = NULL, **left = NULL;
        int r;

        r = pci_dir(root, addr, &dir);
        if (r < 0)
                return r;
        r = listf(root, &entries, "%s", dir);
        if (r < 0)
                return r;
        for (char **e = entries; *e; e++)
                if (addr_ok(*e))
                        return -EBUSY;

        r = fakehost_pci_unbind(root, addr);
        if (r < 0 && r != -ENODEV)
                return r;
        r = listf(root, &nodes, "%s/drm", dir);
        if (r < 0)
                return r;
        for (char **n = nodes; *n; n++) {
                r = fakehost_drm_remove(root, addr, *n);
                if (r < 0 && r != -EINVAL)
                        return r;
        }
        r = resolvef(root, &group, "%s/iommu_group", dir);
        if (r >= 0) {
                r = unlinkf(root, "%s/devices/%s", group, addr);
                if (r < 0 && r != -ENOENT)
                        return r;
                r = listf(root, &left, "%s/devices", group);
                if (r < 0)
                        return r;
                if (!left[0]) {
                        r = rm_rff(root, "%s", group);
                        if (r < 0)
                                return r;
                }
        } else if (r != -ENOENT)
                return r;
        r = unlinkf(root, "sys/bus/pci/devices/%s", addr);
        if (r < 0)
                return r;
        return rm_rff(root, "%s", dir);
}

/* ---- SR-IOV ------------------------------------------------------------------------ */

int fakehost_sriov_add(const char *root, const char *pf, unsigned total, unsigned offset, unsigned stride,
                       unsigned vf_device, bool cap, const char *vf_driver) {
        _cleanup_free_ char *dir = NULL, *config = NULL, *cpath = NULL;
        char buf[32];
        size_t len = 0;
        int r = pci_dir(root, pf, &dir);
        if (r < 0)
                return r;
        if (total > 0xffff || offset > 0xffff || stride > 0xffff || vf_device > 0xffff || (vf_driver && !name_ok(vf_driver)))
                return -EINVAL;
        const struct {
                const char *name;
                unsigned value;
        } attrs[] = {
                { "sriov_totalvfs", total }, { "sriov_numvfs", 0 },    { "sriov_offset", offset },
                { "sriov_stride", stride },  { "sriov_drivers_autoprobe", 1 },
        };
        for (size_t i = 0; i < ELEMENTSOF(attrs); i++) {
                snprintf(buf, sizeof buf, "%u\n", attrs[i].value);
                r = writef(root, buf, "%s/%s", dir, attrs[i].name);
                if (r < 0)
                        return r;
        }
        snprintf(buf, sizeof buf, "%04x\n", vf_device);
        r = writef(root, buf, "%s/sriov_vf_device", dir);
        if (r < 0)
                return r;
        if (cap) {
                /* The SR-IOV capability, the only extended one, at 0x100. */
                r = pathf(&cpath, root, "%s/config", dir);
                if (r < 0)
                        return r;
                r = read_full(cpath, &config, &len);
                if (r < 0)
                        return r;
                unsigned char *c = calloc(1, 4096);
                if (!c)
                        return -ENOMEM;
                memcpy(c, config, len < 256 ? len : 256);
                const unsigned words[][2] = { { 0x100, 0x0010 }, { 0x102, 0x0001 }, { 0x10e, total },
                                              { 0x114, offset }, { 0x116, stride }, { 0x11a, vf_device } };
                for (size_t i = 0; i < ELEMENTSOF(words); i++) {
                        c[words[i][0]] = (unsigned char) (words[i][1] & 0xff);
                        c[words[i][0] + 1] = (unsigned char) (words[i][1] >> 8);
                }
                r = write_full(cpath, c, 4096, false);
                free(c);
                if (r < 0)
                        return r;
        }
        r = mkdirf(root, "run/fakekernel/sriov");
        if (r < 0 && r != -EEXIST)
                return r;
        return writef(root, vf_driver ? vf_driver : "", "run/fakekernel/sriov/%s", pf);
}

static int read_uint(const char *root, unsigned *ret, const char *dir, const char *attr) {
        _cleanup_free_ char *s = NULL;
        int r = readf(root, &s, "%s/%s", dir, attr);
        if (r < 0)
                return r;
        return sscanf(s, "%x", ret) == 1 ? 0 : -EINVAL;
}

static int next_iommu_group(const char *root) {
        _cleanup_strv_free_ char **groups = NULL;
        int max = -1;
        if (listf(root, &groups, "sys/kernel/iommu_groups") < 0)
                return 0;
        for (char **g = groups; *g; g++)
                if (atoi(*g) > max)
                        max = atoi(*g);
        return max + 1;
}

int fakehost_sriov_set_numvfs(const char *root, const char *pf, unsigned n) {
        _cleanup_free_ char *dir = NULL, *vfdrv = NULL, *num_s = NULL, *group = NULL;
        unsigned num, offset, stride, vendor, device, class, dom, bus, slot, fn;
        char buf[32];
        int r = pci_dir(root, pf, &dir);
        if (r < 0)
                return r;
        r = readf(root, &num_s, "%s/sriov_numvfs", dir);
        if (r < 0)
                return r;
        num = (unsigned) atoi(num_s);
        free(num_s);
        num_s = NULL;
        if (n == 0) {
                for (unsigned i = num; i > 0; i--) {
                        _cleanup_free_ char *vf = NULL;
                        r = link_basenamef(root, &vf, "%s/virtfn%u", dir, i - 1);
                        if (r == -ENOENT)
                                continue;
                        if (r < 0)
                                return r;
                        r = fakehost_pci_remove(root, vf);
                        if (r < 0 && r != -ENOENT)
                                return r;
                        r = unlinkf(root, "%s/virtfn%u", dir, i - 1);
                        if (r < 0)
                                return r;
                }
                return writef(root, "0\n", "%s/sriov_numvfs", dir);
        }
        if (read_uint(root, &vendor, dir, "vendor") < 0 || read_uint(root, &device, dir, "sriov_vf_device") < 0 ||
            read_uint(root, &class, dir, "class") < 0 || readf(root, &num_s, "%s/sriov_offset", dir) < 0)
                return -EINVAL;
        offset = (unsigned) atoi(num_s);
        free(num_s);
        num_s = NULL;
        if (readf(root, &num_s, "%s/sriov_stride", dir) < 0)
                return -EINVAL;
        stride = (unsigned) atoi(num_s);
        (void) readf(root, &vfdrv, "run/fakekernel/sriov/%s", pf);
        free(num_s);
        num_s = NULL;
        bool autoprobe = readf(root, &num_s, "%s/sriov_drivers_autoprobe", dir) >= 0 && atoi(num_s) != 0;
        bool grouped = resolvef(root, &group, "%s/iommu_group", dir) >= 0;
        if (sscanf(pf, "%x:%x:%x.%x", &dom, &bus, &slot, &fn) != 4)
                return -EINVAL;
        /* The PF's parent: the bridge above it, or none. */
        _cleanup_free_ char *parent = strdup(dir);
        if (!parent)
                return -ENOMEM;
        *strrchr(parent, '/') = 0;
        const char *up = strrchr(parent, '/');
        bool below_bridge = up && addr_ok(up + 1);

        for (unsigned i = 0; i < n; i++) {
                unsigned rid = bus * 256 + (slot << 3 | fn) + offset + stride * i;
                char vf[16];
                _cleanup_free_ char *vfdir = NULL;
                if (rid > 0xffff)
                        return -ERANGE;
                snprintf(vf, sizeof vf, "%04x:%02x:%02x.%x", dom, rid >> 8, (rid & 0xff) >> 3, rid & 7);
                FakePci p = { .addr = vf, .vendor = vendor, .device = device, .class = class,
                              .parent = below_bridge ? up + 1 : NULL, .iommu_group = grouped ? next_iommu_group(root) : -1,
                              .header_type = 0 };
                r = fakehost_pci_add(root, &p);
                if (r < 0)
                        return r;
                r = pci_dir(root, vf, &vfdir);
                if (r < 0)
                        return r;
                _cleanup_free_ char *l1 = NULL, *l2 = NULL;
                if (asprintf(&l1, "%s/virtfn%u", dir, i) < 0 || asprintf(&l2, "%s/physfn", vfdir) < 0)
                        return -ENOMEM;
                r = make_link(root, l1, vfdir);
                if (r >= 0)
                        r = make_link(root, l2, dir);
                if (r < 0)
                        return r;
                if (autoprobe && vfdrv && vfdrv[0] && existsf(root, "sys/bus/pci/drivers/%s", vfdrv) > 0) {
                        r = fakehost_pci_bind(root, vf, vfdrv);
                        if (r < 0)
                                return r;
                }
        }
        snprintf(buf, sizeof buf, "%u\n", n);
        return writef(root, buf, "%s/sriov_numvfs", dir);
}

/* ---- consoles and framebuffers --------------------------------------------------- */

int fakehost_vtcon_add(const char *root, unsigned n, const char *name, int bind) {
        _cleanup_free_ char *dir = NULL, *l = NULL, *sub = NULL, *content = NULL;
        int r;

        if (!name || strchr(name, '\n') || (bind != 0 && bind != 1))
                return -EINVAL;
        if (existsf(root, "sys/class/vtconsole/vtcon%u", n) > 0)
                return -EEXIST;
        if (asprintf(&dir, "sys/devices/virtual/vtconsole/vtcon%u", n) < 0 ||
            asprintf(&l, "sys/class/vtconsole/vtcon%u", n) < 0 || asprintf(&sub, "%s/subsystem", dir) < 0 ||
            asprintf(&content, "%s\n", name) < 0)
                return -ENOMEM;
        r = writef(root, content, "%s/name", dir);
        if (r < 0)
                return r;
        r = writef(root, bind ? "1\n" : "0\n", "%s/bind", dir);
        if (r < 0)
                return r;
        r = writef(root, "", "%s/uevent", dir);
        if (r < 0)
                return r;
        r = make_link(root, sub, "sys/class/vtconsole");
        if (r < 0)
                return r;
        return make_link(root, l, dir);
}

int fakehost_vtcon_set_bind(const char *root, unsigned n, int bind) {
        if (bind != 0 && bind != 1)
                return -EINVAL;
        if (existsf(root, "sys/devices/virtual/vtconsole/vtcon%u/bind", n) <= 0)
                return -ENOENT;
        return writef(root, bind ? "1\n" : "0\n", "sys/devices/virtual/vtconsole/vtcon%u/bind", n);
}

int fakehost_vtcon_remove(const char *root, unsigned n) {
        if (existsf(root, "sys/devices/virtual/vtconsole/vtcon%u", n) <= 0)
                return -ENOENT;
        int r = unlinkf(root, "sys/class/vtconsole/vtcon%u", n);
        if (r < 0 && r != -ENOENT)
                return r;
        return rm_rff(root, "sys/devices/virtual/vtconsole/vtcon%u", n);
}

int fakehost_platform_driver_add(const char *root, const char *driver) {
        static const char *const files[] = { "bind", "unbind", "uevent" };
        if (!name_ok(driver))
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                if (existsf(root, "sys/bus/platform/drivers/%s/%s", driver, files[i]) > 0)
                        continue;
                int r = writef(root, "", "sys/bus/platform/drivers/%s/%s", driver, files[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int platform_dir(const char *root, const char *device, char **ret) {
        if (!name_ok(device))
                return -EINVAL;
        int r = resolvef(root, ret, "sys/bus/platform/devices/%s", device);
        return r == -ENOLINK ? -ENOENT : r;
}

int fakehost_fb_add(const char *root, const char *device, const char *driver) {
        return fakehost_fb_add_below(root, device, driver, NULL);
}

int fakehost_fb_add_below(const char *root, const char *device, const char *driver, const char *parent) {
        _cleanup_free_ char *dir = NULL, *l = NULL, *sub = NULL, *alias = NULL, *pdir = NULL;
        int r;

        if (!name_ok(device) || (driver && !name_ok(driver)))
                return -EINVAL;
        if (existsf(root, "sys/bus/platform/devices/%s", device) > 0)
                return -EEXIST;
        if (parent) {
                r = pci_dir(root, parent, &pdir);
                if (r < 0)
                        return r;
        }
        if (asprintf(&dir, "%s/%s", pdir ? pdir : "sys/devices/platform", device) < 0 ||
            asprintf(&l, "sys/bus/platform/devices/%s", device) < 0 || asprintf(&sub, "%s/subsystem", dir) < 0 ||
            asprintf(&alias, "platform:%.*s\n", (int) strcspn(device, "."), device) < 0)
                return -ENOMEM;
        r = writef(root, "(null)\n", "%s/driver_override", dir);
        if (r < 0)
                return r;
        r = writef(root, alias, "%s/modalias", dir);
        if (r < 0)
                return r;
        r = writef(root, "", "%s/uevent", dir);
        if (r < 0)
                return r;
        r = make_link(root, sub, "sys/bus/platform");
        if (r < 0)
                return r;
        r = make_link(root, l, dir);
        if (r < 0)
                return r;
        return driver ? fakehost_fb_bind(root, device, driver) : 0;
}

int fakehost_fb_bind(const char *root, const char *device, const char *driver) {
        _cleanup_free_ char *dir = NULL;
        int r = platform_dir(root, device, &dir);
        if (r < 0)
                return r;
        r = fakehost_platform_driver_add(root, driver);
        if (r < 0)
                return r;
        return bus_bind(root, "platform", dir, device, driver);
}

int fakehost_fb_unbind(const char *root, const char *device) {
        _cleanup_free_ char *dir = NULL;
        int r = platform_dir(root, device, &dir);
        if (r < 0)
                return r;
        return bus_unbind(root, dir, device);
}

int fakehost_fb_remove(const char *root, const char *device) {
        _cleanup_free_ char *dir = NULL;
        int r = platform_dir(root, device, &dir);
        if (r < 0)
                return r;
        r = bus_unbind(root, dir, device);
        if (r < 0 && r != -ENODEV)
                return r;
        r = unlinkf(root, "sys/bus/platform/devices/%s", device);
        if (r < 0)
                return r;
        return rm_rff(root, "%s", dir);
}

/* The sysfs directory of a PCI function or platform device; NULL name: none. */
static int device_dir(const char *root, const char *name, char **ret) {
        if (!name) {
                *ret = NULL;
                return 0;
        }
        return addr_ok(name) ? pci_dir(root, name, ret) : platform_dir(root, name, ret);
}

int fakehost_graphics_add(const char *root, unsigned n, const char *name, const char *device) {
        _cleanup_free_ char *ddir = NULL, *dir = NULL, *l = NULL, *sub = NULL, *dev = NULL, *uevent = NULL;
        char node[16];
        int r;

        if (!name || strchr(name, '\n') || n > 31)
                return -EINVAL;
        snprintf(node, sizeof node, "fb%u", n);
        if (existsf(root, "sys/class/graphics/%s", node) > 0)
                return -EEXIST;
        r = device_dir(root, device, &ddir);
        if (r < 0)
                return r;
        if (asprintf(&dir, "%s/graphics/%s", ddir ? ddir : "sys/devices/virtual", node) < 0 ||
            asprintf(&l, "sys/class/graphics/%s", node) < 0 || asprintf(&sub, "%s/subsystem", dir) < 0 ||
            asprintf(&dev, "%s/device", dir) < 0 ||
            asprintf(&uevent, "MAJOR=29\nMINOR=%u\nDEVNAME=%s\n", n, node) < 0)
                return -ENOMEM;
        _cleanup_free_ char *line = NULL;
        if (asprintf(&line, "%s\n", name) < 0)
                return -ENOMEM;
        r = writef(root, line, "%s/name", dir);
        if (r >= 0)
                r = writef(root, uevent, "%s/uevent", dir);
        if (r >= 0)
                r = make_link(root, sub, "sys/class/graphics");
        if (r >= 0 && ddir) {
                /* As the kernel writes it: up to the device's parent, then its name. */
                _cleanup_free_ char *path = NULL, *target = NULL;
                const char *base = strrchr(ddir, '/');
                if (pathf(&path, root, "%s", dev) < 0 || asprintf(&target, "../../../%s", base ? base + 1 : ddir) < 0)
                        return -ENOMEM;
                r = symlink(target, path) < 0 ? -errno : 0;
        }
        if (r >= 0)
                r = make_link(root, l, dir);
        return r < 0 ? r : writef(root, "", "dev/%s", node);
}

int fakehost_devnode_add(const char *root, const char *addr, const char *subdir, const char *devname) {
        _cleanup_free_ char *ddir = NULL, *rel = NULL, *uevent = NULL;
        int r;

        if (!subdir[0] || subdir[0] == '/' || strstr(subdir, "..") || strchr(devname, '\n') || !devname[0] ||
            devname[0] == '/' || strstr(devname, ".."))
                return -EINVAL;
        r = rel_normalize(subdir, &rel);
        if (r < 0)
                return r;
        r = pci_dir(root, addr, &ddir);
        if (r < 0)
                return r;
        if (asprintf(&uevent, "MAJOR=116\nMINOR=0\nDEVNAME=%s\n", devname) < 0)
                return -ENOMEM;
        r = writef(root, uevent, "%s/%s/uevent", ddir, rel);
        if (r < 0)
                return r;
        return writef(root, "", "dev/%s", devname);
}

/* ---- processes, nodes, units ---------------------------------------------------------- */

int fakehost_process_add(const char *root, pid_t pid, const char *comm, char *const *fds) {
        char buf[32];
        int r;

        if (pid <= 0 || !comm || !*comm || strchr(comm, '\n') || strchr(comm, '/'))
                return -EINVAL;
        if (existsf(root, "proc/%d", (int) pid) > 0)
                return -EEXIST;
        /* The kernel keeps 15 characters of the command. */
        snprintf(buf, sizeof buf, "%.15s\n", comm);
        r = writef(root, buf, "proc/%d/comm", (int) pid);
        if (r < 0)
                return r;
        r = mkdirf(root, "proc/%d/fd", (int) pid);
        if (r < 0)
                return r;
        for (size_t i = 0; fds && fds[i]; i++) {
                _cleanup_free_ char *path = NULL;
                r = pathf(&path, root, "proc/%d/fd/%zu", (int) pid, i);
                if (r < 0)
                        return r;
                if (symlink(fds[i], path) < 0)
                        return -errno;
        }
        return 0;
}

int fakehost_process_remove(const char *root, pid_t pid) {
        if (pid <= 0)
                return -EINVAL;
        if (existsf(root, "proc/%d", (int) pid) <= 0)
                return -ENOENT;
        return rm_rff(root, "proc/%d", (int) pid);
}

static int dev_node_rel(const char *node, char **ret) {
        if (startswith(node, "/dev/"))
                node += strlen("/dev/");
        _cleanup_free_ char *copy = strdup(node);
        char *save = NULL;
        if (!copy)
                return -ENOMEM;
        if (!*node || node[strlen(node) - 1] == '/')
                return -EINVAL;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save))
                if (!name_ok(c))
                        return -EINVAL;
        if (asprintf(ret, "dev/%s", node) < 0)
                return -ENOMEM;
        return 0;
}

int fakehost_dev_add(const char *root, const char *node) {
        _cleanup_free_ char *rel = NULL;
        int r = dev_node_rel(node, &rel);
        if (r < 0)
                return r;
        return writef(root, "", "%s", rel);
}

int fakehost_dev_remove(const char *root, const char *node) {
        _cleanup_free_ char *rel = NULL;
        int r = dev_node_rel(node, &rel);
        if (r < 0)
                return r;
        return unlinkf(root, "%s", rel);
}

int fakehost_unit_add(const char *root, const char *unit) {
        _cleanup_free_ char *content = NULL;
        if (!name_ok(unit))
                return -EINVAL;
        if (asprintf(&content, "[Unit]\nDescription=%s (fake)\n", unit) < 0)
                return -ENOMEM;
        return writef(root, content, "etc/systemd/system/%s", unit);
}

int fakehost_unit_remove(const char *root, const char *unit) {
        if (!name_ok(unit))
                return -EINVAL;
        return unlinkf(root, "etc/systemd/system/%s", unit);
}

/* ---- any file, link or directory --------------------------------------------------- */

/* A path inside the tree: relative (a leading '/' is dropped), every
 * component a safe name, so nothing is made outside the root. */
static int tree_path(const char *root, const char *path, char **ret) {
        if (!path)
                return -EINVAL;
        path += strspn(path, "/");
        if (!*path || strlen(path) > PATH_MAX)
                return -EINVAL;
        _cleanup_free_ char *copy = strdup(path);
        char *save = NULL;
        if (!copy)
                return -ENOMEM;
        size_t n = 0;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save), n++)
                if (!name_ok(c))
                        return -EINVAL;
        if (n == 0 || strstr(path, "//") || path[strlen(path) - 1] == '/')
                return -EINVAL;
        return pathf(ret, root, "%s", path);
}

int fakehost_file_add(const char *root, const char *path, const void *content, size_t len, mode_t mode) {
        _cleanup_free_ char *p = NULL;
        int r = tree_path(root, path, &p);
        if (r < 0)
                return r;
        if (mode & ~(mode_t) 07777)
                return -EINVAL;
        r = write_full(p, content, len, false);
        if (r < 0)
                return r;
        return chmod(p, mode) < 0 ? -errno : 0;
}

int fakehost_link_add(const char *root, const char *path, const char *target) {
        _cleanup_free_ char *p = NULL;
        int r = tree_path(root, path, &p);
        if (r < 0)
                return r;
        if (!target || !*target || strchr(target, '\n') || strlen(target) >= PATH_MAX)
                return -EINVAL;
        r = mkdir_parent(p);
        if (r < 0)
                return r;
        if (unlink(p) < 0 && errno != ENOENT)
                return -errno;
        return symlink(target, p) < 0 ? -errno : 0;
}

int fakehost_dir_add(const char *root, const char *path) {
        _cleanup_free_ char *p = NULL;
        int r = tree_path(root, path, &p);
        if (r < 0)
                return r;
        return mkdir_p(p);
}

/* ---- snapshots ---------------------------------------------------------------------- */

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

        r = pathf(&full, root, "%s", rel);
        if (r < 0)
                return r;
        r = listf(root, &names, "%s", rel);
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
                                r = read_full(cfull, &content, &len);
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

        r = existsf(root, "%s", "");
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

/* ---- specs ----------------------------------------------------------------------------- */

typedef struct Bridge {
        char addr[16];
        unsigned secondary;
} Bridge;

typedef struct Spec {
        const char *root;
        const char *file;
        unsigned line;
        Bridge *bridges;
        size_t n_bridges;
        unsigned next_bus;
        unsigned depth;       /* of include */
} Spec;

static int spec_text(Spec *s, const char *text);

_printf_(2, 3) static int spec_error(Spec *s, const char *fmt, ...) {
        char msg[400];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        snprintf(last_error, sizeof last_error, "%s:%u: %s", s->file, s->line, msg);
        return -EINVAL;
}

static int spec_fail(Spec *s, const char *what, int r) {
        snprintf(last_error, sizeof last_error, "%s:%u: %s: %s", s->file, s->line, what, strerror(-r));
        return r;
}

/* Words, with "double quotes" (\" and \\ inside) and # comments. */
static int tokenize(const char *line, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        _cleanup_free_ char *word = malloc(strlen(line) + 1);
        const char *p = line;

        if (!l || !word)
                return -ENOMEM;
        for (;;) {
                size_t n = 0;
                while (*p && isspace((unsigned char) *p))
                        p++;
                if (!*p || *p == '#')
                        break;
                if (*p == '"') {
                        p++;
                        while (*p && *p != '"') {
                                if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
                                        p++;
                                word[n++] = *p++;
                        }
                        if (*p != '"')
                                return -EINVAL;
                        p++;
                        if (*p && !isspace((unsigned char) *p))
                                return -EINVAL;
                } else
                        while (*p && !isspace((unsigned char) *p))
                                word[n++] = *p++;
                word[n] = 0;
                if (strv_extend(&l, word) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* key=value options after the positional words. */
static const char *opt(char **words, const char *key) {
        size_t k = strlen(key);
        for (char **w = words; *w; w++)
                if (strncmp(*w, key, k) == 0 && (*w)[k] == '=')
                        return *w + k + 1;
        return NULL;
}

static int check_opts(Spec *s, char **words, const char *const *allowed) {
        for (char **w = words; *w; w++) {
                size_t k = strcspn(*w, "=");
                bool ok = false;
                if ((*w)[k] != '=')
                        return spec_error(s, "expected key=value, got \"%s\"", *w);
                for (const char *const *a = allowed; *a; a++)
                        if (strlen(*a) == k && strncmp(*w, *a, k) == 0)
                                ok = true;
                if (!ok)
                        return spec_error(s, "unknown option \"%.*s\"", (int) k, *w);
        }
        return 0;
}

static int parse_hex(const char *str, unsigned max, unsigned *ret) {
        char *end;
        if (!str || !isxdigit((unsigned char) str[0]))
                return -EINVAL;
        if (startswith(str, "0x"))
                str += 2;
        errno = 0;
        unsigned long v = strtoul(str, &end, 16);
        if (errno || *end || end == str || v > max)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

static int split_commas(const char *s, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        _cleanup_free_ char *copy = strdup(s ? s : "");
        char *save = NULL;
        if (!l || !copy)
                return -ENOMEM;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
                if (strv_extend(&l, t) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

static int spec_ensure_module(Spec *s, const char *module) {
        if (module_loaded(s->root, module))
                return 0;
        int r = fakehost_module_add(s->root, module, -1, NULL);
        return r < 0 ? spec_fail(s, module, r) : 0;
}

static int spec_pci(Spec *s, char **w) {
        static const char *const allowed[] = { "driver", "module", "group", "drm", "parent", "secondary", "header", NULL };
        unsigned vendor, device, class, bus, domain, v;
        const char *parent, *driver, *module, *group, *header, *secondary;
        FakePci p = { .iommu_group = -1, .header_type = -1 };
        int r;

        if (strv_length(w) < 4)
                return spec_error(s, "pci: expected ADDR VVVV:DDDD CLASS [key=value...]");
        if (!addr_ok(w[1]))
                return spec_error(s, "pci: bad address \"%s\" (want dddd:bb:ss.f, lower case)", w[1]);
        if (strlen(w[2]) != 9 || w[2][4] != ':')
                return spec_error(s, "pci: bad id \"%s\" (want vvvv:dddd)", w[2]);
        {
                char ven[5] = {}, dev[5] = {};
                memcpy(ven, w[2], 4);
                memcpy(dev, w[2] + 5, 4);
                if (parse_hex(ven, 0xffff, &vendor) < 0 || parse_hex(dev, 0xffff, &device) < 0)
                        return spec_error(s, "pci: bad id \"%s\"", w[2]);
        }
        if (parse_hex(w[3], 0xffffff, &class) < 0)
                return spec_error(s, "pci: bad class \"%s\"", w[3]);
        r = check_opts(s, w + 4, allowed);
        if (r < 0)
                return r;

        p.addr = w[1];
        p.vendor = vendor;
        p.device = device;
        p.class = class;
        if ((group = opt(w + 4, "group"))) {
                if (parse_uint(group, &v) < 0 || v > INT_MAX)
                        return spec_error(s, "pci: bad group \"%s\"", group);
                p.iommu_group = (int) v;
        }
        if ((header = opt(w + 4, "header"))) {
                if (parse_uint(header, &v) < 0 || v > 0xff)
                        return spec_error(s, "pci: bad header \"%s\"", header);
                p.header_type = (int) v;
        }

        /* Devices below bus 0 hang under the bridge whose secondary bus is theirs. */
        sscanf(w[1], "%x:%x", &domain, &bus);
        parent = opt(w + 4, "parent");
        if (!parent && bus != 0) {
                for (size_t i = 0; i < s->n_bridges; i++)
                        if (s->bridges[i].secondary == bus && strncmp(s->bridges[i].addr, w[1], 4) == 0)
                                parent = s->bridges[i].addr;
                if (!parent)
                        return spec_error(s, "pci: no bridge leads to bus %02x: declare one first or give parent=", bus);
        }
        p.parent = parent;

        r = fakehost_pci_add(s->root, &p);
        if (r < 0)
                return spec_fail(s, "pci", r);

        bool bridge = (class >> 8) == 0x0604 || p.header_type == 1 || p.header_type == 2;
        if (bridge) {
                unsigned sec = s->next_bus;
                if ((secondary = opt(w + 4, "secondary"))) {
                        if (parse_hex(secondary, 0xff, &sec) < 0)
                                return spec_error(s, "pci: bad secondary \"%s\" (hex bus)", secondary);
                } else if (sec > 0xff)
                        return spec_error(s, "pci: out of bus numbers");
                Bridge *nb = realloc(s->bridges, (s->n_bridges + 1) * sizeof *nb);
                if (!nb)
                        return -ENOMEM;
                s->bridges = nb;
                snprintf(s->bridges[s->n_bridges].addr, sizeof s->bridges[0].addr, "%s", w[1]);
                s->bridges[s->n_bridges++].secondary = sec;
                if (sec + 1 > s->next_bus)
                        s->next_bus = sec + 1;
        } else if (opt(w + 4, "secondary"))
                return spec_error(s, "pci: secondary= on a device that is not a bridge");

        driver = opt(w + 4, "driver");
        module = opt(w + 4, "module");
        if (module && !driver)
                return spec_error(s, "pci: module= needs driver=");
        if (driver) {
                if (!name_ok(driver) || (module && !module_name_ok(module)))
                        return spec_error(s, "pci: bad driver or module name");
                if (existsf(s->root, "sys/bus/pci/drivers/%s", driver) > 0) {
                        _cleanup_free_ char *m = NULL;
                        (void) link_basenamef(s->root, &m, "sys/bus/pci/drivers/%s/module", driver);
                        if (module && !streq_ptr(m, module))
                                return spec_error(s, "pci: driver %s was declared with module %s", driver,
                                                  m ? m : "(built in)");
                } else {
                        if (module) {
                                r = spec_ensure_module(s, module);
                                if (r < 0)
                                        return r;
                        }
                        r = fakehost_pci_driver_add(s->root, driver, module);
                        if (r < 0)
                                return spec_fail(s, driver, r);
                }
                r = fakehost_pci_bind(s->root, w[1], driver);
                if (r < 0)
                        return spec_fail(s, "bind", r);
        }

        const char *drm = opt(w + 4, "drm");
        if (drm) {
                _cleanup_strv_free_ char **nodes = NULL;
                r = split_commas(drm, &nodes);
                if (r < 0)
                        return r;
                for (char **n = nodes; *n; n++) {
                        r = fakehost_drm_add(s->root, w[1], *n);
                        if (r == -EINVAL)
                                return spec_error(s, "pci: bad DRM node \"%s\"", *n);
                        if (r < 0)
                                return spec_fail(s, *n, r);
                }
        }
        return 0;
}

/* file PATH CONTENT [mode=OCTAL]: CONTENT as written, with \n, \t and \xNN
 * standing for a newline, a tab and any byte. */
static int spec_file(Spec *s, char **w) {
        static const char *const allowed[] = { "mode", NULL };
        const char *mode_s, *in;
        unsigned long mode = 0644;
        size_t len = 0;
        int r;

        if (strv_length(w) < 3)
                return spec_error(s, "file: expected PATH CONTENT [mode=OCTAL]");
        r = check_opts(s, w + 3, allowed);
        if (r < 0)
                return r;
        if ((mode_s = opt(w + 3, "mode"))) {
                char *end;
                errno = 0;
                mode = strtoul(mode_s, &end, 8);
                if (errno || end == mode_s || *end || mode > 07777)
                        return spec_error(s, "file: bad mode \"%s\" (octal, like 0755)", mode_s);
        }

        _cleanup_free_ char *content = malloc(strlen(w[2]) + 1);
        if (!content)
                return -ENOMEM;
        for (in = w[2]; *in; in++) {
                if (in[0] == '\\' && in[1] == 'n') {
                        content[len++] = '\n';
                        in++;
                } else if (in[0] == '\\' && in[1] == 't') {
                        content[len++] = '\t';
                        in++;
                } else if (in[0] == '\\' && in[1] == 'x' && isxdigit((unsigned char) in[2]) &&
                           isxdigit((unsigned char) in[3])) {
                        char hex[3] = { in[2], in[3], 0 };
                        content[len++] = (char) strtoul(hex, NULL, 16);
                        in += 3;
                } else
                        content[len++] = *in;
        }

        r = fakehost_file_add(s->root, w[1], content, len, (mode_t) mode);
        if (r == -EINVAL)
                return spec_error(s, "file: bad path \"%s\"", w[1]);
        if (r < 0)
                return spec_fail(s, w[1], r);
        return 0;
}

/* include FILE: another spec, its name relative to this one's directory. */
static int spec_include(Spec *s, char **w) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        const char *slash = strrchr(s->file, '/');
        int r;

        if (strv_length(w) != 2)
                return spec_error(s, "include: expected FILE");
        if (s->depth >= 4)
                return spec_error(s, "include: nested too deep");
        if (w[1][0] == '/' || !slash)
                path = strdup(w[1]);
        else if (asprintf(&path, "%.*s/%s", (int) (slash - s->file), s->file, w[1]) < 0)
                path = NULL;
        if (!path)
                return -ENOMEM;
        r = read_full_flags(path, 0, &text, NULL);
        if (r < 0)
                return spec_fail(s, path, r);

        const char *file = s->file;
        unsigned line = s->line;
        s->file = path;
        s->line = 0;
        s->depth++;
        r = spec_text(s, text);
        s->depth--;
        s->file = file;
        s->line = line;
        return r;
}

static int spec_line(Spec *s, char **w) {
        const char *cmd = w[0];
        size_t n = strv_length(w);
        unsigned v;
        int r = 0;

        if (streq(cmd, "kernel")) {
                if (n != 2)
                        return spec_error(s, "kernel: expected RELEASE");
                r = fakehost_set_kernel(s->root, w[1]);
        } else if (streq(cmd, "pci"))
                return spec_pci(s, w);
        else if (streq(cmd, "pcidriver")) {
                static const char *const allowed[] = { "module", NULL };
                if (n < 2)
                        return spec_error(s, "pcidriver: expected NAME [module=M]");
                r = check_opts(s, w + 2, allowed);
                if (r < 0)
                        return r;
                const char *module = opt(w + 2, "module");
                if (module) {
                        if (!module_name_ok(module))
                                return spec_error(s, "pcidriver: bad module \"%s\"", module);
                        r = spec_ensure_module(s, module);
                        if (r < 0)
                                return r;
                }
                r = fakehost_pci_driver_add(s->root, w[1], module);
        } else if (streq(cmd, "module")) {
                static const char *const allowed[] = { "refcnt", "holders", NULL };
                _cleanup_strv_free_ char **holders = NULL;
                int refcnt = -1;
                if (n < 2)
                        return spec_error(s, "module: expected NAME [refcnt=N] [holders=a,b]");
                r = check_opts(s, w + 2, allowed);
                if (r < 0)
                        return r;
                if (!module_name_ok(w[1]))
                        return spec_error(s, "module: bad name \"%s\"", w[1]);
                if (opt(w + 2, "refcnt")) {
                        if (parse_uint(opt(w + 2, "refcnt"), &v) < 0 || v > INT_MAX)
                                return spec_error(s, "module: bad refcnt");
                        refcnt = (int) v;
                }
                r = split_commas(opt(w + 2, "holders"), &holders);
                if (r < 0)
                        return r;
                for (char **h = holders; *h; h++) {
                        if (!module_name_ok(*h))
                                return spec_error(s, "module: bad holder \"%s\"", *h);
                        r = spec_ensure_module(s, *h);
                        if (r < 0)
                                return r;
                }
                r = fakehost_module_add(s->root, w[1], refcnt, holders);
        } else if (streq(cmd, "builtin")) {
                static const char *const allowed[] = { "path", "sysfs", NULL };
                if (n < 2)
                        return spec_error(s, "builtin: expected NAME [path=P] [sysfs=yes|no]");
                r = check_opts(s, w + 2, allowed);
                if (r < 0)
                        return r;
                const char *sysfs = opt(w + 2, "sysfs");
                if (sysfs && !streq(sysfs, "yes") && !streq(sysfs, "no"))
                        return spec_error(s, "builtin: sysfs= is yes or no");
                r = fakehost_builtin_add(s->root, w[1], opt(w + 2, "path"), sysfs && streq(sysfs, "yes"));
                if (r == -ENOENT)
                        return spec_error(s, "builtin: needs a kernel line before it");
        } else if (streq(cmd, "sriov")) {
                static const char *const allowed[] = { "total", "offset", "stride", "vfdevice", "cap", "vfdriver", NULL };
                unsigned total, offset = 1, stride = 1, vfdev = 0;
                const char *cap = opt(w + 2, "cap");
                if (n < 3)
                        return spec_error(s, "sriov: expected PF total=N [offset=O] [stride=S] [vfdevice=HEX] [cap=yes|no] [vfdriver=D]");
                r = check_opts(s, w + 2, allowed);
                if (r < 0)
                        return r;
                if (!opt(w + 2, "total") || parse_uint(opt(w + 2, "total"), &total) < 0 ||
                    (opt(w + 2, "offset") && parse_uint(opt(w + 2, "offset"), &offset) < 0) ||
                    (opt(w + 2, "stride") && parse_uint(opt(w + 2, "stride"), &stride) < 0) ||
                    (opt(w + 2, "vfdevice") && parse_hex(opt(w + 2, "vfdevice"), 0xffff, &vfdev) < 0) ||
                    (cap && !streq(cap, "yes") && !streq(cap, "no")))
                        return spec_error(s, "sriov: bad total=, offset=, stride=, vfdevice= or cap=");
                r = fakehost_sriov_add(s->root, w[1], total, offset, stride, vfdev, !cap || streq(cap, "yes"),
                                       opt(w + 2, "vfdriver"));
        } else if (streq(cmd, "vtcon")) {
                unsigned b;
                if (n != 4 || parse_uint(w[1], &v) < 0 || parse_uint(w[3], &b) < 0 || b > 1)
                        return spec_error(s, "vtcon: expected N \"NAME\" 0|1");
                r = fakehost_vtcon_add(s->root, v, w[2], (int) b);
        } else if (streq(cmd, "fb")) {
                static const char *const allowed[] = { "driver", "parent", NULL };
                if (n < 2)
                        return spec_error(s, "fb: expected DEVICE [driver=D] [parent=ADDR]");
                r = check_opts(s, w + 2, allowed);
                if (r < 0)
                        return r;
                r = fakehost_fb_add_below(s->root, w[1], opt(w + 2, "driver"), opt(w + 2, "parent"));
        } else if (streq(cmd, "graphics")) {
                static const char *const allowed[] = { "device", NULL };
                if (n < 3 || parse_uint(w[1], &v) < 0)
                        return spec_error(s, "graphics: expected N \"NAME\" [device=ADDR|PLATFORM-DEVICE]");
                r = check_opts(s, w + 3, allowed);
                if (r < 0)
                        return r;
                r = fakehost_graphics_add(s->root, v, w[2], opt(w + 3, "device"));
        } else if (streq(cmd, "devnode")) {
                if (n != 4)
                        return spec_error(s, "devnode: expected ADDR SUBDIR DEVNAME");
                r = fakehost_devnode_add(s->root, w[1], w[2], w[3]);
        } else if (streq(cmd, "platform-driver")) {
                if (n != 2)
                        return spec_error(s, "platform-driver: expected NAME");
                r = fakehost_platform_driver_add(s->root, w[1]);
        } else if (streq(cmd, "proc")) {
                if (n < 3 || parse_uint(w[1], &v) < 0 || v == 0 || v > INT_MAX)
                        return spec_error(s, "proc: expected PID COMM [TARGET...]");
                /* Declaring a process again replaces it. */
                r = fakehost_process_remove(s->root, (pid_t) v);
                if (r >= 0 || r == -ENOENT)
                        r = fakehost_process_add(s->root, (pid_t) v, w[2], w + 3);
        } else if (streq(cmd, "dev")) {
                if (n < 2)
                        return spec_error(s, "dev: expected NODE...");
                for (char **d = w + 1; *d && r >= 0; d++)
                        r = fakehost_dev_add(s->root, *d);
        } else if (streq(cmd, "unit")) {
                if (n < 2)
                        return spec_error(s, "unit: expected UNIT...");
                for (char **u = w + 1; *u && r >= 0; u++)
                        r = fakehost_unit_add(s->root, *u);
        } else if (streq(cmd, "file"))
                return spec_file(s, w);
        else if (streq(cmd, "include"))
                return spec_include(s, w);
        else if (streq(cmd, "link")) {
                if (n != 3)
                        return spec_error(s, "link: expected PATH TARGET");
                r = fakehost_link_add(s->root, w[1], w[2]);
        } else if (streq(cmd, "dir")) {
                if (n < 2)
                        return spec_error(s, "dir: expected PATH...");
                for (char **d = w + 1; *d && r >= 0; d++)
                        r = fakehost_dir_add(s->root, *d);
        } else
                return spec_error(s, "unknown directive \"%s\"", cmd);

        if (r == -EINVAL)
                return spec_error(s, "%s: bad value", cmd);
        if (r < 0)
                return spec_fail(s, cmd, r);
        return 0;
}

static int spec_text(Spec *s, const char *text) {
        int r = 0;
        const char *p = text;
        while (*p) {
                _cleanup_strv_free_ char **words = NULL;
                _cleanup_free_ char *line = NULL;
                size_t len = strcspn(p, "\n");
                line = strndup(p, len);
                if (!line)
                        return -ENOMEM;
                p += len + (p[len] == '\n');
                s->line++;
                r = tokenize(line, &words);
                if (r == -EINVAL)
                        return spec_error(s, "unterminated quote");
                if (r < 0)
                        return r;
                if (!words[0])
                        continue;
                r = spec_line(s, words);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int build(const char *spec, const char *file, const char *root) {
        Spec s = { .root = root, .file = file, .next_bus = 1 };
        int r;

        last_error[0] = 0;
        r = existsf(root, "%s", "");
        if (r > 0) {
                _cleanup_strv_free_ char **l = NULL;
                r = listf(root, &l, "%s", "");
                if (r < 0)
                        return r;
                if (l[0]) {
                        snprintf(last_error, sizeof last_error, "%s: not empty", root);
                        return -EEXIST;
                }
        }
        r = fakehost_init(root);
        if (r < 0) {
                snprintf(last_error, sizeof last_error, "%s: %s", root, strerror(-r));
                return r;
        }

        r = spec_text(&s, spec);
        free(s.bridges);
        return r < 0 ? r : 0;
}

int fakehost_build_string(const char *spec, const char *root) {
        return build(spec, "<string>", root);
}

int fakehost_build(const char *spec_path, const char *root) {
        _cleanup_free_ char *text = NULL;
        /* A spec may be a link (examples/ shares one with tests/data/). */
        int r = read_full_flags(spec_path, 0, &text, NULL);
        if (r < 0) {
                snprintf(last_error, sizeof last_error, "%s: %s", spec_path, strerror(-r));
                return r;
        }
        return build(text, spec_path, root);
}
