/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "macro.h"

/* Calls that may hang (libvirt, module init/exit) run in a forked child that
 * the parent can abandon. The child runs fn and sends its result, its error
 * line and optionally a payload back over a pipe, then _exit()s (no atexit
 * handlers, no stdio flushing, nothing it loaded touches the parent). The
 * parent waits with poll() until the deadline; when it passes, it SIGKILLs
 * the child, reaps it if it dies within a short while (a child stuck in the
 * kernel may not) and returns -ETIME.
 *
 * The child is a copy of the parent: fn may use what the parent set up, but
 * whatever fn changes in memory stays in the child. */

typedef int (*DeadlineFn)(void *userdata, char **ret_error);
typedef int (*DeadlinePayloadFn)(void *userdata, char **ret_payload, size_t *ret_size, char **ret_error);

#define DEADLINE_ERROR_MAX 4096U

/* Returns what fn returned. When fn returned < 0, *ret_error (may be NULL)
 * gets fn's error line, or strerror() of the result when fn gave none.
 * -ETIME with "did not finish within N s" when the deadline passed; -EIO
 * with "worker process ..." when the child died without answering (crash,
 * abort); other negative errno when the child could not be started. */
int deadline_run(DeadlineFn fn, void *userdata, usec_t timeout, char **ret_error);

/* The same, and when fn returns >= 0, its payload (up to max_payload
 * bytes, NUL-terminated in *ret_payload, length in *ret_size) comes back
 * too. A larger payload is an error (-EFBIG). *ret_timed_out (may be NULL)
 * tells whether -ETIME came from the deadline (rather than from fn). */
int deadline_run_payload(DeadlinePayloadFn fn, void *userdata, usec_t timeout, size_t max_payload,
                         char **ret_payload, size_t *ret_size, bool *ret_timed_out, char **ret_error);
