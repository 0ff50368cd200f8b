/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "shared/sysroot.h"
#include "shared/util.h"

struct Sysroot {
        int fd;
        char *path;
        SysrootWriteFn write_hook;
        void *write_userdata;
};

int sysroot_open(const char *path, Sysroot **ret) {
        _cleanup_close_ int fd = open(path ? path : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        Sysroot *sr = calloc(1, sizeof *sr);
        if (!sr)
                return -ENOMEM;
        sr->path = strdup(path ? path : "/");
        if (!sr->path) {
                free(sr);
                return -ENOMEM;
        }
        sr->fd = TAKE_FD(fd);
        *ret = sr;
        return 0;
}

Sysroot *sysroot_free(Sysroot *sr) {
        if (!sr)
                return NULL;
        if (sr->fd >= 0)
                close(sr->fd);
        free(sr->path);
        free(sr);
        return NULL;
}

const char *sysroot_path(const Sysroot *sr) {
        return sr->path;
}

bool sysroot_is_host(const Sysroot *sr) {
        return streq(sr->path, "/");
}

void sysroot_set_write_hook(Sysroot *sr, SysrootWriteFn fn, void *userdata) {
        sr->write_hook = fn;
        sr->write_userdata = userdata;
}

static int vformat(char **ret, const char *fmt, va_list ap) _printf_(2, 0);
static int vformat(char **ret, const char *fmt, va_list ap) {
        char *p;
        if (vasprintf(&p, fmt, ap) < 0)
                return -ENOMEM;
        /* A leading '/' means the same as none: everything is under the root. */
        if (p[0] == '/')
                memmove(p, p + strspn(p, "/"), strlen(p + strspn(p, "/")) + 1);
        *ret = p;
        return 0;
}

/* vformat() of a ...f() function's own format and arguments. */
#define FORMAT_PATH(ret, fmt)                              \
        ({                                                 \
                va_list _ap;                               \
                va_start(_ap, fmt);                        \
                int _r = vformat(ret, fmt, _ap);           \
                va_end(_ap);                               \
                _r;                                        \
        })

/* Resolve inside the root. openat2() needs Linux 5.6; fall back to openat()
 * on older kernels (links then resolve as they would on the host). */
static int sysroot_openat(Sysroot *sr, const char *path, int flags) {
        struct open_how how = {
                .flags = (uint64_t) (flags | O_CLOEXEC),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        const char *p = path[0] ? path : ".";
        int fd;
        /* RESOLVE_IN_ROOT fails with EAGAIN when a rename or mount anywhere
         * races a ".." step of the walk, and sysfs links are full of "..":
         * udev renames during bind/unbind make that happen. Try again. */
        for (unsigned tries = 0;; tries++) {
                fd = (int) syscall(SYS_openat2, sr->fd, p, &how, sizeof how);
                if (fd >= 0 || errno != EAGAIN || tries >= 1000)
                        break;
        }
        if (fd < 0 && errno == ENOSYS)
                fd = openat(sr->fd, p, flags | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int sysroot_openf(Sysroot *sr, int flags, char **ret_path, const char *fmt, ...) {
        _cleanup_free_ char *path = NULL;
        int r = FORMAT_PATH(&path, fmt);
        if (r < 0)
                return r;
        int fd = sysroot_openat(sr, path, flags);
        if (fd >= 0 && ret_path)
                *ret_path = TAKE_PTR(path);
        return fd;
}

int sysroot_read_file(Sysroot *sr, const char *path, size_t max, char **ret) {
        if (path[0] == '/')
                path += strspn(path, "/");
        _cleanup_close_ int fd = sysroot_openat(sr, path, O_RDONLY);
        if (fd < 0)
                return fd;
        size_t size;
        int r = read_full_fd(fd, max, 0, ret, &size);
        return r < 0 ? r : (int) (size > INT32_MAX ? INT32_MAX : size);
}

int sysroot_read_line(Sysroot *sr, const char *path, char **ret) {
        char *s;
        int r = sysroot_read_file(sr, path, 64 * 1024, &s);
        if (r < 0)
                return r;
        s[strcspn(s, "\n")] = 0;
        *ret = strstrip_trailing(s);
        return 0;
}

int sysroot_read_linef(Sysroot *sr, char **ret, const char *fmt, ...) {
        _cleanup_free_ char *path = NULL;
        int r = FORMAT_PATH(&path, fmt);
        if (r < 0)
                return r;
        return sysroot_read_line(sr, path, ret);
}

int sysroot_read_hexf(Sysroot *sr, unsigned *ret, const char *fmt, ...) {
        _cleanup_free_ char *path = NULL, *s = NULL;
        int r = FORMAT_PATH(&path, fmt);
        if (r < 0)
                return r;
        r = sysroot_read_line(sr, path, &s);
        if (r < 0)
                return r;
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 16);
        if (errno != 0 || end == s || *end != 0 || v > UINT32_MAX)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

/* Split "a/b/c" into the directory fd of "a/b" and the name "c". */
static int open_parent(Sysroot *sr, const char *path, const char **ret_name) {
        const char *slash = strrchr(path, '/');
        if (!slash) {
                *ret_name = path;
                return sysroot_openat(sr, "", O_PATH | O_DIRECTORY);
        }
        _cleanup_free_ char *dir = strndup(path, (size_t) (slash - path));
        if (!dir)
                return -ENOMEM;
        *ret_name = slash + 1;
        return sysroot_openat(sr, dir, O_PATH | O_DIRECTORY);
}

int sysroot_readlinkf(Sysroot *sr, char **ret, const char *fmt, ...) {
        _cleanup_free_ char *path = NULL;
        int r = FORMAT_PATH(&path, fmt);
        if (r < 0)
                return r;
        const char *name;
        _cleanup_close_ int dfd = open_parent(sr, path, &name);
        if (dfd < 0)
                return dfd;
        char buf[4096];
        ssize_t n = readlinkat(dfd, name, buf, sizeof buf - 1);
        if (n < 0)
                return -errno;
        buf[n] = 0;
        char *s = strdup(buf);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int sysroot_link_basenamef(Sysroot *sr, char **ret, const char *fmt, ...) {
        _cleanup_free_ char *path = NULL, *target = NULL;
        int r = FORMAT_PATH(&path, fmt);
        if (r < 0)
                return r;
        r = sysroot_readlinkf(sr, &target, "%s", path);
        if (r < 0)
                return r;
        strstrip_trailing(target);
        while (strlen(target) > 1 && target[strlen(target) - 1] == '/')
                target[strlen(target) - 1] = 0;
        const char *base = strrchr(target, '/');
        char *s = strdup(base ? base + 1 : target);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int sysroot_existsf(Sysroot *sr, const char *fmt, ...) {
        _cleanup_free_ char *path = NULL;
        int r = FORMAT_PATH(&path, fmt);
        if (r < 0)
                return r;
        int fd = sysroot_openat(sr, path, O_PATH);
        if (fd < 0)
                return fd == -ENOENT || fd == -ENOTDIR ? 0 : fd;
        close(fd);
        return 1;
}

int sysroot_opendirf(Sysroot *sr, DIR **ret, const char *fmt, ...) {
        _cleanup_free_ char *path = NULL;
        int r = FORMAT_PATH(&path, fmt);
        if (r < 0)
                return r;
        int fd = sysroot_openat(sr, path, O_RDONLY | O_DIRECTORY);
        if (fd < 0)
                return fd;
        DIR *d = fdopendir(fd);
        if (!d) {
                r = -errno;
                close(fd);
                return r;
        }
        *ret = d;
        return 0;
}

int sysroot_list_dirf(Sysroot *sr, char ***ret, const char *fmt, ...) {
        _cleanup_free_ char *path = NULL;
        int r = FORMAT_PATH(&path, fmt);
        if (r < 0)
                return r;
        _cleanup_closedir_ DIR *d = NULL;
        r = sysroot_opendirf(sr, &d, "%s", path);
        if (r < 0)
                return r;
        /* Grown by doubling: strv_extend() would make a big directory quadratic. */
        size_t n = 0, alloc = 16;
        _cleanup_strv_free_ char **l = calloc(alloc + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (n == alloc) {
                        char **nl = realloc(l, (alloc * 2 + 1) * sizeof(char *));
                        if (!nl)
                                return -ENOMEM;
                        l = nl;
                        alloc *= 2;
                }
                l[n] = strdup(de->d_name);
                if (!l[n])
                        return -ENOMEM;
                l[++n] = NULL;
        }
        if (errno != 0)
                return -errno;
        strv_sort(l);
        *ret = TAKE_PTR(l);
        return 0;
}

int sysroot_write(Sysroot *sr, const char *path, const char *value) {
        if (path[0] == '/')
                path += strspn(path, "/");
        if (sr->write_hook)
                return sr->write_hook(sr, path, value, sr->write_userdata);
        return sysroot_write_direct(sr, path, value);
}

int sysroot_write_direct(Sysroot *sr, const char *path, const char *value) {
        if (path[0] == '/')
                path += strspn(path, "/");
        _cleanup_close_ int fd = sysroot_openat(sr, path, O_WRONLY | O_TRUNC);
        if (fd < 0)
                return fd;
        size_t len = strlen(value);
        ssize_t n = write(fd, value, len);
        if (n < 0)
                return -errno;
        if ((size_t) n != len)
                return -EIO;
        return 0;
}

int sysroot_writef(Sysroot *sr, const char *value, const char *fmt, ...) {
        _cleanup_free_ char *path = NULL;
        int r = FORMAT_PATH(&path, fmt);
        if (r < 0)
                return r;
        return sysroot_write(sr, path, value);
}

const char *sysroot_open_hint(int error) {
        return error == -ENOTDIR ? " (a dump is a tar archive: extract it with tar -xf, then give its directory)" : "";
}
