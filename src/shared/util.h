/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdarg.h>

#include "shared/macro.h"

/* NULL-terminated string vectors. */
char **strv_free(char **l);
size_t strv_length(char *const *l);
bool strv_contains(char *const *l, const char *s);
/* Appends a copy of s. Returns 0 or -ENOMEM; l is untouched on failure. */
int strv_extend(char ***l, const char *s);
/* Appends s only when not already present. Returns 1 when added, 0 when present. */
int strv_extend_unique(char ***l, const char *s);
void strv_sort(char **l);

static inline void strv_freep(char ***l) {
        strv_free(*l);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)

/* A formatted string, NULL on -ENOMEM. */
char *strf(const char *fmt, ...) _printf_(1, 2);
char *vstrf(const char *fmt, va_list ap) _printf_(1, 0);

/* Monotonic clock, in microseconds. */
usec_t now_usec(void);
/* Sleep a short while (for polling loops that have a deadline). */
void sleep_usec(usec_t t);

/* The pause of a retry loop that polls what sends no event (a lock, sysfs,
 * a module's refcount): sleeps that double from the first wait while below
 * cap, never past the deadline. Where the wait is for a process to exit,
 * a pidfd says when (process_wait_exit()). */
typedef struct PollUntil {
        usec_t deadline;
        usec_t wait; /* the next sleep */
        usec_t cap;
} PollUntil;
/* Sleeps and returns true; false, at once, when the deadline has passed. */
bool poll_until(PollUntil *p);
/* The next pause, doubled for the one after, without sleeping: for a loop
 * that waits on an event meanwhile (an sd_bus_wait() timeout). */
usec_t poll_next_wait(PollUntil *p);
/* For state the kernel or systemd gives no event for: a change is seen
 * within 20 ms, and the first look again comes after 1 ms. */
#define POLL_UNTIL(d) ((PollUntil) { .deadline = (d), .wait = USEC_PER_MSEC, .cap = 20 * USEC_PER_MSEC })

/* Writes all of buf to fd, again after EINTR and short writes. -EIO when
 * write() writes nothing. */
int write_all(int fd, const void *buf, size_t len);
/* Reads fd to its end: at most max bytes (-EFBIG past them, nothing more
 * is read), NUL-terminated in *ret (free() it), their number in *ret_size
 * (may be NULL). timeout (0: none) bounds the whole read: -ETIME when the
 * end did not come in time. fd may be non-blocking (EAGAIN: poll() waits);
 * -EBADF when it is closed. */
int read_full_fd(int fd, size_t max, usec_t timeout, char **ret, size_t *ret_size);
/* 0 once fd is readable, or closed at the other end (read() says which);
 * -ETIME at the deadline (0: none), -EBADF when fd is not open. */
int fd_wait_readable(int fd, usec_t deadline);

/* Strip trailing whitespace/newlines in place; returns s. */
char *strstrip_trailing(char *s);

/* Parse an unsigned decimal integer in full (no sign, no trailing junk). */
int parse_uint(const char *s, unsigned *ret);
int parse_u64(const char *s, uint64_t *ret);

/* Names that may appear as a path component: [A-Za-z0-9_.@:+-], not "." or "..",
 * 1..max characters. Used for every name that ends up in a path. */
bool filename_is_safe(const char *s, size_t max);

/* Escaping for a terminal or a log line, so that no byte of untrusted input
 * is read as a control sequence: "\\", "\n", "\t", and "\xNN" for every
 * other byte below 0x20 or from 0x7f (DEL, C1 controls in UTF-8, any
 * non-ASCII). escape_byte() writes at most 4 characters and a NUL into out
 * and returns how many; escape_string() returns a new string (NULL on
 * ENOMEM). */
size_t escape_byte(unsigned char c, char out[static 5]);
char *escape_string(const char *s);

/* The kernel command line in words, as the kernel splits it ("a=\"b c\""
 * is one word), up to "--". */
int cmdline_split(const char *s, char ***ret);
/* The value of the last KEY=VALUE ('-' and '_' alike in KEY, as the kernel
 * compares them), "" for a bare KEY, NULL when absent. */
const char *cmdline_get(char *const *l, const char *key);

/* Sets *ret_error (when ret_error is not NULL) to a formatted line and
 * returns r, for `return errorf(ret_error, -EIO, "...", ...);`. */
int errorf(char **ret_error, int r, const char *fmt, ...) _printf_(3, 4);
