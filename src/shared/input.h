/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Reading the domain XML that libvirt writes on the hook's stdin, bounded
 * in size and in time, whatever stdin is: a pipe that never ends
 * (/dev/zero), a writer that never closes, a non-blocking pipe (EAGAIN), a
 * closed descriptor. libc only: the hook front uses it too. */

/* How long the whole XML may take to arrive. libvirt writes it from memory
 * as soon as the hook starts. */
#define INPUT_TIMEOUT_SEC 5U

/* Reads fd to its end, at most max bytes, within timeout_usec (0: no time
 * limit). Returns 0 with the bytes, NUL-terminated, in *ret (free() it)
 * and their number in *ret_len; -EFBIG past max bytes (nothing more is
 * read), -ETIME when the end did not come in time, -EBADF when fd is
 * closed, another negative errno on a read error. */
int input_read(int fd, size_t max, uint64_t timeout_usec, char **ret, size_t *ret_len);

/* What went wrong, to follow "the domain XML on stdin ": "is larger than
 * 16 MiB", "did not end within 5 s", "cannot be read: stdin is closed",
 * "cannot be read: <strerror>". */
const char *input_strerror(int r, size_t max, uint64_t timeout_usec, char *buf, size_t size);
