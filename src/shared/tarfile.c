/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>

#include "shared/tarfile.h"
#include "shared/util.h"

#define TAR_BLOCK 512U

/* The ustar header (POSIX.1-1988, as extended by POSIX.1-2001). */
typedef struct TarHeader {
        char name[100];
        char mode[8];
        char uid[8];
        char gid[8];
        char size[12];
        char mtime[12];
        char chksum[8];
        char typeflag;
        char linkname[100];
        char magic[6];
        char version[2];
        char uname[32];
        char gname[32];
        char devmajor[8];
        char devminor[8];
        char prefix[155];
        char pad[12];
} TarHeader;

_Static_assert(sizeof(TarHeader) == TAR_BLOCK, "a tar header is one block");

void tar_writer_init(TarWriter *t, int fd, uint64_t mtime) {
        *t = (TarWriter) { .fd = fd, .mtime = mtime };
}

/* write_all(), counting what the archive holds. */
static int tar_write(TarWriter *t, const void *buf, size_t len) {
        int r = write_all(t->fd, buf, len);
        if (r >= 0)
                t->written += len;
        return r;
}

static int write_padded(TarWriter *t, const void *data, size_t len) {
        static const char zeros[TAR_BLOCK];
        int r = tar_write(t, data, len);
        if (r < 0 || len % TAR_BLOCK == 0)
                return r;
        return tar_write(t, zeros, TAR_BLOCK - len % TAR_BLOCK);
}

/* An octal number filling a field of n bytes, NUL-terminated. */
static int octal(char *field, size_t n, uint64_t v) {
        char buf[32];
        int k = snprintf(buf, sizeof buf, "%0*" PRIo64, (int) n - 1, v);
        if (k < 0 || (size_t) k != n - 1)
                return -EOVERFLOW;
        memcpy(field, buf, n);
        return 0;
}

/* Splits path into ustar's prefix and name; false when it does not fit. */
static bool split_path(const char *path, TarHeader *h) {
        size_t len = strlen(path);
        if (len <= sizeof h->name) {
                memcpy(h->name, path, len);
                return true;
        }
        for (const char *s = path + len - 1; s > path; s--) {
                if (*s != '/')
                        continue;
                size_t plen = (size_t) (s - path), nlen = len - plen - 1;
                if (nlen > sizeof h->name)
                        return false; /* and further left it only grows */
                if (plen <= sizeof h->prefix && nlen > 0) {
                        memcpy(h->prefix, path, plen);
                        memcpy(h->name, s + 1, nlen);
                        return true;
                }
        }
        return false;
}

/* "LEN key=value\n", where LEN counts the whole record, itself included. */
static int pax_record(FILE *f, const char *key, const char *value) {
        size_t body = 1 + strlen(key) + 1 + strlen(value) + 1, len = body + 1;
        for (;;) {
                char digits[32];
                size_t want = body + (size_t) snprintf(digits, sizeof digits, "%zu", len);
                if (want == len)
                        break;
                len = want;
        }
        return fprintf(f, "%zu %s=%s\n", len, key, value) < 0 ? -EIO : 0;
}

static int header_init(TarWriter *t, TarHeader *h, char type, mode_t mode, uint64_t size) {
        *h = (TarHeader) { .typeflag = type };
        memcpy(h->magic, "ustar", 6);
        memcpy(h->version, "00", 2);
        memcpy(h->uname, "root", 4);
        memcpy(h->gname, "root", 4);
        int r = octal(h->mode, sizeof h->mode, mode & 07777);
        if (r >= 0)
                r = octal(h->uid, sizeof h->uid, 0);
        if (r >= 0)
                r = octal(h->gid, sizeof h->gid, 0);
        if (r >= 0)
                r = octal(h->size, sizeof h->size, size);
        if (r >= 0)
                r = octal(h->mtime, sizeof h->mtime, t->mtime);
        return r;
}

static int header_write(TarWriter *t, TarHeader *h) {
        unsigned sum = 0;
        memset(h->chksum, ' ', sizeof h->chksum);
        for (size_t i = 0; i < sizeof *h; i++)
                sum += ((const unsigned char *) h)[i];
        /* Six octal digits, a NUL and a space, as ustar writes it. */
        snprintf(h->chksum, sizeof h->chksum, "%06o", sum & 0777777U);
        h->chksum[7] = ' ';
        return tar_write(t, h, sizeof *h);
}

static int add_entry(TarWriter *t, char type, const char *path, const char *target, const void *data, size_t len,
                     mode_t mode) {
        _cleanup_free_ char *name = NULL, *pax = NULL;
        size_t pax_len = 0;
        TarHeader h;
        int r;

        if (!path[0] || path[0] == '/')
                return -EINVAL;
        if (type == '5' && asprintf(&name, "%s/", path) < 0)
                return -ENOMEM;
        const char *p = name ? name : path;

        r = header_init(t, &h, type, mode, len);
        if (r < 0)
                return r;
        bool long_path = !split_path(p, &h);
        bool long_target = target && strlen(target) > sizeof h.linkname;
        if (target && !long_target)
                memcpy(h.linkname, target, strlen(target));

        if (long_path || long_target) {
                _cleanup_fclose_ FILE *f = open_memstream(&pax, &pax_len);
                if (!f)
                        return -ENOMEM;
                r = 0;
                if (long_path)
                        r = pax_record(f, "path", p);
                if (r >= 0 && long_target)
                        r = pax_record(f, "linkpath", target);
                if (r < 0 || fflush(f) != 0 || ferror(f))
                        return r < 0 ? r : -ENOMEM;
                fclose(TAKE_PTR(f));

                TarHeader x;
                r = header_init(t, &x, 'x', 0644, pax_len);
                if (r < 0)
                        return r;
                /* The extended header's own name is informative only. */
                snprintf(x.name, sizeof x.name, "PaxHeaders/%.80s", strrchr(p, '/') ? strrchr(p, '/') + 1 : p);
                r = header_write(t, &x);
                if (r >= 0)
                        r = write_padded(t, pax, pax_len);
                if (r < 0)
                        return r;
                if (long_path) {
                        /* Readers without pax see a truncated name: keep its end. */
                        memset(h.prefix, 0, sizeof h.prefix);
                        memset(h.name, 0, sizeof h.name);
                        size_t n = strlen(p);
                        memcpy(h.name, p + n - sizeof h.name + 1, sizeof h.name - 1);
                }
        }
        r = header_write(t, &h);
        if (r >= 0 && len > 0)
                r = write_padded(t, data, len);
        return r;
}

int tar_add_dir(TarWriter *t, const char *path, mode_t mode) {
        return add_entry(t, '5', path, NULL, NULL, 0, mode);
}

int tar_add_file(TarWriter *t, const char *path, const void *data, size_t len, mode_t mode) {
        return add_entry(t, '0', path, NULL, data, len, mode);
}

int tar_add_symlink(TarWriter *t, const char *path, const char *target) {
        if (!target[0])
                return -EINVAL;
        return add_entry(t, '2', path, target, NULL, 0, 0777);
}

int tar_finish(TarWriter *t) {
        static const char zeros[2 * TAR_BLOCK];
        return tar_write(t, zeros, sizeof zeros);
}
