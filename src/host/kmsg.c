/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>

#include "host/kmsg.h"
#include "shared/macro.h"

int kmsg_read(Sysroot *sr, size_t max, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = sysroot_openf(sr, O_RDONLY | O_NONBLOCK, NULL, "dev/kmsg");
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, alloc = 0;
        char rec[8192];

        if (fd < 0)
                return fd;
        for (;;) {
                ssize_t n = read(fd, rec, sizeof rec);
                if (n < 0) {
                        if (errno == EINTR || errno == EPIPE) /* EPIPE: records were overwritten */
                                continue;
                        if (errno == EAGAIN || len > 0)
                                break;
                        return -errno;
                }
                if (n == 0 || len + (size_t) n + 1 > max)
                        break;
                if (len + (size_t) n + 1 > alloc) {
                        size_t na = alloc ? alloc * 2 : 64 * 1024;
                        while (na < len + (size_t) n + 1)
                                na *= 2;
                        char *nb = realloc(buf, na);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                        alloc = na;
                }
                memcpy(buf + len, rec, (size_t) n);
                len += (size_t) n;
        }
        if (!buf)
                return -ENODATA;
        buf[len] = 0;
        if (ret_len)
                *ret_len = len;
        *ret = TAKE_PTR(buf);
        return 0;
}
