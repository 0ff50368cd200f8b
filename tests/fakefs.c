/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Files, links and paths inside a fake host tree (tests/fakefs.h), and its removal. */
#include <ctype.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "fakefs.h"
#include "fakehost.h"
#include "shared/util.h"

bool fs_name_ok(const char *s) {
        return filename_is_safe(s, 255);
}

/* "dddd:bb:ss.f", lower-case hex. */
bool fs_addr_ok(const char *s) {
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

static int fs_vpathf(char **ret, const char *root, const char *fmt, va_list ap) _printf_(3, 0);
static int fs_vpathf(char **ret, const char *root, const char *fmt, va_list ap) {
        _cleanup_free_ char *rel = NULL;
        if (vasprintf(&rel, fmt, ap) < 0)
                return -ENOMEM;
        if (asprintf(ret, "%s/%s", root, rel) < 0)
                return -ENOMEM;
        return 0;
}

/* The full path of a rel path under root. */
_printf_(3, 4) int fs_pathf(char **ret, const char *root, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int r = fs_vpathf(ret, root, fmt, ap);
        va_end(ap);
        return r;
}

_printf_(2, 3) int fs_existsf(const char *root, const char *fmt, ...) {
        _cleanup_free_ char *p = NULL;
        struct stat st;
        va_list ap;
        va_start(ap, fmt);
        int r = fs_vpathf(&p, root, fmt, ap);
        va_end(ap);
        if (r < 0)
                return r;
        if (lstat(p, &st) < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
        return 1;
}

/* Parents are made only when the directory itself cannot be: most calls
 * are for directories that exist or whose parent does. */
int fs_mkdir_p(const char *path) {
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
        int r = fs_mkdir_p(parent);
        if (r < 0)
                return r;
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

_printf_(2, 3) int fs_mkdirf(const char *root, const char *fmt, ...) {
        _cleanup_free_ char *p = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = fs_vpathf(&p, root, fmt, ap);
        va_end(ap);
        if (r < 0)
                return r;
        return fs_mkdir_p(p);
}

int fs_mkdir_parent(const char *path) {
        _cleanup_free_ char *dir = strdup(path);
        if (!dir)
                return -ENOMEM;
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir)
                return 0;
        *slash = 0;
        return fs_mkdir_p(dir);
}

int fs_write_full(const char *path, const void *buf, size_t len, bool append) {
        int r = fs_mkdir_parent(path);
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
_printf_(3, 4) int fs_writef(const char *root, const char *content, const char *fmt, ...) {
        _cleanup_free_ char *p = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = fs_vpathf(&p, root, fmt, ap);
        va_end(ap);
        if (r < 0)
                return r;
        return fs_write_full(p, content, strlen(content), false);
}

int fs_read_full_flags(const char *path, int flags, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | flags);
        if (fd < 0)
                return -errno;
        return read_full_fd(fd, FILE_MAX, 0, ret, ret_len);
}

/* Files inside a tree are never followed through links. */
int fs_read_full(const char *path, char **ret, size_t *ret_len) {
        return fs_read_full_flags(path, O_NOFOLLOW, ret, ret_len);
}

_printf_(3, 4) int fs_readf(const char *root, char **ret, const char *fmt, ...) {
        _cleanup_free_ char *p = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = fs_vpathf(&p, root, fmt, ap);
        va_end(ap);
        if (r < 0)
                return r;
        return fs_read_full(p, ret, NULL);
}

static int fs_split_path(const char *path, char ***ret) {
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
int fs_rel_normalize(const char *path, char **ret) {
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
static int fs_rel_target(const char *link_rel, const char *target_rel, char **ret) {
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
        r = fs_split_path(dir, &from);
        if (r < 0)
                return r;
        r = fs_split_path(target_rel, &to);
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
int fs_make_link(const char *root, const char *link_rel, const char *target_rel) {
        _cleanup_free_ char *target = NULL, *path = NULL;
        int r = fs_rel_target(link_rel, target_rel, &target);
        if (r < 0)
                return r;
        r = fs_pathf(&path, root, "%s", link_rel);
        if (r < 0)
                return r;
        r = fs_mkdir_parent(path);
        if (r < 0)
                return r;
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        if (symlink(target, path) < 0)
                return -errno;
        return 0;
}

/* Where a link inside the tree points, as a rel path. */
_printf_(3, 4) int fs_resolvef(const char *root, char **ret, const char *fmt, ...) {
        _cleanup_free_ char *rel = NULL, *path = NULL, *joined = NULL;
        char buf[PATH_MAX];
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&rel, fmt, ap) < 0 ? -ENOMEM : 0;
        va_end(ap);
        if (r < 0)
                return r;
        r = fs_pathf(&path, root, "%s", rel);
        if (r < 0)
                return r;
        ssize_t n = readlink(path, buf, sizeof buf - 1);
        if (n < 0)
                return errno == EINVAL ? -ENOLINK : -errno;
        buf[n] = 0;
        if (buf[0] == '/')
                return fs_rel_normalize(buf, ret);
        char *slash = strrchr(rel, '/');
        if (slash)
                *slash = 0;
        if (asprintf(&joined, "%s/%s", slash ? rel : "", buf) < 0)
                return -ENOMEM;
        return fs_rel_normalize(joined, ret);
}

_printf_(3, 4) int fs_link_basenamef(const char *root, char **ret, const char *fmt, ...) {
        _cleanup_free_ char *path = NULL;
        char buf[PATH_MAX];
        va_list ap;
        va_start(ap, fmt);
        int r = fs_vpathf(&path, root, fmt, ap);
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

_printf_(2, 3) int fs_unlinkf(const char *root, const char *fmt, ...) {
        _cleanup_free_ char *p = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = fs_vpathf(&p, root, fmt, ap);
        va_end(ap);
        if (r < 0)
                return r;
        if (unlink(p) < 0)
                return -errno;
        return 0;
}

static int fs_rm_rf_at(int dfd, const char *name) {
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
                int r = fs_rm_rf_at(dirfd(d), de->d_name);
                if (r < 0)
                        return r;
        }
        if (errno != 0)
                return -errno;
        return unlinkat(dfd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}

int fakehost_rm_rf(const char *root) {
        return fs_rm_rf_at(AT_FDCWD, root);
}

_printf_(2, 3) int fs_rm_rff(const char *root, const char *fmt, ...) {
        _cleanup_free_ char *p = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = fs_vpathf(&p, root, fmt, ap);
        va_end(ap);
        if (r < 0)
                return r;
        return fs_rm_rf_at(AT_FDCWD, p);
}

/* Sorted entries of a rel directory; an absent one is empty. */
_printf_(3, 4) int fs_listf(const char *root, char ***ret, const char *fmt, ...) {
        _cleanup_free_ char *p = NULL;
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        va_list ap;
        va_start(ap, fmt);
        int r = fs_vpathf(&p, root, fmt, ap);
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
