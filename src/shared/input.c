/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libc only: linked into the hook front too. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shared/input.h"

static uint64_t now_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000U + (uint64_t) ts.tv_nsec / 1000U;
}

/* Waits until fd is readable (or at its end) or the deadline passes. */
static int wait_readable(int fd, uint64_t deadline) {
        for (;;) {
                int ms = -1;
                if (deadline) {
                        uint64_t now = now_us();
                        if (now >= deadline)
                                return -ETIME;
                        ms = (int) ((deadline - now + 999) / 1000);
                }
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int n = poll(&p, 1, ms);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        continue; /* the deadline decides */
                if (p.revents & POLLNVAL)
                        return -EBADF;
                return 0; /* POLLIN, POLLHUP, POLLERR: read() says which */
        }
}

int input_read(int fd, size_t max, uint64_t timeout_usec, char **ret, size_t *ret_len) {
        uint64_t deadline = timeout_usec ? now_us() + timeout_usec : 0;
        size_t size = 0, alloc = 64 * 1024;
        char *buf = malloc(alloc + 1);
        int r;

        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (size == alloc) {
                        if (size > max)
                                break;
                        /* Room for one byte past max: that byte tells "too big". */
                        alloc = alloc * 2 > max + 1 ? max + 1 : alloc * 2;
                        char *nb = realloc(buf, alloc + 1);
                        if (!nb) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        buf = nb;
                }
                r = wait_readable(fd, deadline);
                if (r < 0)
                        goto fail;
                ssize_t n = read(fd, buf + size, alloc - size);
                if (n < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue; /* EAGAIN: a non-blocking pipe; poll() waits */
                        r = -errno;
                        goto fail;
                }
                if (n == 0)
                        break;
                size += (size_t) n;
        }
        if (size > max) {
                r = -EFBIG;
                goto fail;
        }
        buf[size] = 0;
        *ret = buf;
        *ret_len = size;
        return 0;
fail:
        free(buf);
        return r;
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
