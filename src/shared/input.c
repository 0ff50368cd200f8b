/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libc only: linked into the hook front too. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "shared/input.h"
#include "shared/util.h"

int input_read(int fd, size_t max, uint64_t timeout_usec, char **ret, size_t *ret_len) {
        return read_full_fd(fd, max, timeout_usec, ret, ret_len);
}

const char *input_strerror(int r, size_t max, uint64_t timeout_usec, char *buf, size_t size) {
        switch (r) {
        case -EFBIG:
                snprintf(buf, size, "is larger than %zu MiB", max >> 20);
                break;
        case -ETIME:
                snprintf(buf, size, "did not end within %llu s", (unsigned long long) (timeout_usec / 1000000U));
                break;
        case -EBADF:
                snprintf(buf, size, "cannot be read: stdin is closed");
                break;
        default:
                snprintf(buf, size, "cannot be read: %s", strerror(-r));
        }
        return buf;
}
