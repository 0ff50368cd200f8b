/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "shared/macro.h"

/* (Not spawn.h: that name would hide the system <spawn.h> under -Isrc.)
 *
 * Running helper programs (systemctl, root's modprobe.d install commands)
 * the way a hook that runs as root should: an argv and an absolute path,
 * never a shell of our making and never $PATH lookups in the caller's
 * environment; a fixed environment (PATH=/usr/sbin:/usr/bin:/sbin:/bin,
 * LC_ALL=C, plus what the caller adds); stdin from /dev/null; stdout and
 * stderr captured up to a bound; every signal at its default and an empty
 * signal mask; its own process group; our file descriptors closed. Every
 * run has a deadline: when it passes, the whole process group is killed
 * with SIGKILL and the call returns -ETIME. */

#define SPAWN_OUTPUT_MAX (64U * 1024U)

/* Longer timeouts are cut to this (a day): deadlines stay far from
 * overflowing, and poll()'s milliseconds fit an int. */
#define SPAWN_TIMEOUT_MAX (24ULL * 3600ULL * USEC_PER_SEC)

typedef struct SpawnResult {
        int exit_status;   /* exit code; -1 when killed by a signal */
        int term_signal;   /* signal that ended it, 0 when it exited */
        char *out;         /* NUL-terminated, at most SPAWN_OUTPUT_MAX bytes */
        char *err;
        bool out_truncated, err_truncated;
} SpawnResult;

void spawn_result_done(SpawnResult *r);

/* Runs path (absolute) with argv (argv[0] is the name the program sees)
 * and, after the fixed variables, extra_env ("NAME=value" strings, may be
 * NULL). Returns 0 when the program ran and ended, whatever its status (look
 * at ret); -ETIME when the deadline passed (the program was killed; ret has
 * what it wrote until then); another negative errno when it could not be
 * started (-ENOENT, -EACCES, ...). ret is always initialized. */
int spawn_run_env(const char *path, const char *const argv[], const char *const extra_env[],
                  usec_t timeout, SpawnResult *ret);

static inline int spawn_run(const char *path, const char *const argv[], usec_t timeout, SpawnResult *ret) {
        return spawn_run_env(path, argv, NULL, timeout, ret);
}

/* Finds a well-known tool ("systemctl") in /usr/sbin, /usr/bin, /sbin, /bin
 * (in that order) and returns its absolute path in *ret (to be freed).
 * -ENOENT when it is in none of them.
 *
 * For tests only: after spawn_allow_test_overrides(), an environment
 * variable VFIO_HOOK_<TOOL> (tool upper-cased, '-' as '_', e.g.
 * VFIO_HOOK_SYSTEMCTL) with an absolute path replaces the lookup. The
 * program proper never calls spawn_allow_test_overrides(), so these
 * variables mean nothing to the installed hook. */
int spawn_find_tool(const char *tool, char **ret);
void spawn_allow_test_overrides(void);
bool spawn_test_overrides_allowed(void);

/* SIGKILLs a child (and its process group when group is true), then tries
 * to reap it for a short while (about 0.25 s): a process stuck in the
 * kernel (D state) does not die, and we do not wait for it for ever. When
 * it was reaped, *ret_status (may be NULL) gets its wait status. */
void process_kill_and_reap(pid_t pid, bool group, int *ret_status);

/* A pidfd for pid (pidfd_open(2), O_CLOEXEC), or a negative errno (-ENOSYS
 * before Linux 5.3). */
int process_pidfd(pid_t pid);

/* Waits until the child pid exits (its pidfd becomes readable; without
 * one, a doubling poll capped at 10 ms) and reaps it, for at most timeout.
 * True when it was reaped (or is not our child); *ret_status (may be NULL)
 * gets its wait status. */
bool process_wait_exit(pid_t pid, usec_t timeout, int *ret_status);

/* spawn_run() and deadline_run() wait for their children: when SIGCHLD is
 * ignored (inherited so), they set it back to the default. */
void sigchld_ensure_default(void);

/* One line describing how a run ended, for error messages:
 * "exited with status 3", "killed by signal 9 (Killed)". */
const char *spawn_describe_status(const SpawnResult *r, char *buf, size_t size);

/* The first non-empty line of s, stripped, in buf (for error messages). */
const char *spawn_first_line(const char *s, char *buf, size_t size);

/* Formats a timeout for messages: "30 s", "0.5 s". */
const char *format_timeout(usec_t t, char *buf, size_t size);
#define FORMAT_TIMEOUT_MAX 32
