/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "shared/macro.h"

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

/* What deadline_run_payload() brings back besides fn's result. */
typedef struct DeadlineAnswer {
        char *payload;   /* fn's payload, NUL-terminated: NULL when fn failed or max_payload is 0 */
        size_t size;
        bool timed_out;  /* -ETIME came from the deadline, not from fn */
} DeadlineAnswer;

/* The same, and when fn returns >= 0, its payload (up to max_payload bytes)
 * comes back in ret (may be NULL) too. A larger payload is an error
 * (-EFBIG). The caller frees ret->payload. */
int deadline_run_payload(DeadlinePayloadFn fn, void *userdata, usec_t timeout, size_t max_payload, DeadlineAnswer *ret,
                         char **ret_error);

/* A worker: one child that keeps what it set up (a library loaded, a
 * connection open) for a series of calls, each under its own deadline: a
 * hand-off that detaches several devices loads libvirt and connects once.
 * In the child, ops->init() runs on the first request (its error is that
 * request's answer, and the worker exits), or at once when the worker was
 * begun early (deadline_worker_begin()); ops->call() on each request.
 * When a call's deadline passes, the worker is SIGKILLed and *w reset:
 * the next call starts a new one. Requests are at most
 * DEADLINE_REQUEST_MAX bytes. Children of deadline_run() and workers die
 * with the process that started them (PR_SET_PDEATHSIG). */

#define DEADLINE_REQUEST_MAX 256U

typedef struct DeadlineWorker DeadlineWorker;

typedef struct DeadlineWorkerOps {
        int (*init)(void *userdata, char **ret_error);
        int (*call)(void *userdata, const char *request, size_t size, char **ret_error);
} DeadlineWorkerOps;

/* Starts the worker when *w is NULL, sends request, waits for the answer
 * until the deadline. Returns what ops->call() (or init()) returned, with
 * its error line; -ETIME (*ret_timed_out set, "did not finish within N s")
 * when the deadline passed; -EIO ("worker process ...") when it died
 * without answering. */
int deadline_worker_call(DeadlineWorker **w, const DeadlineWorkerOps *ops, void *userdata, const void *request,
                         size_t size, usec_t timeout, bool *ret_timed_out, char **ret_error);

/* Starts the worker now (when *w is NULL) and has it run ops->init() at
 * once, so that its setup overlaps with what the caller does meanwhile;
 * the first call waits for it under that call's deadline. Only fork()
 * can fail here. */
int deadline_worker_begin(DeadlineWorker **w, const DeadlineWorkerOps *ops, void *userdata, char **ret_error);

/* Ends the worker between calls: SIGKILL, not waited for (a worker holds
 * nothing of its parent's but its socket: stdout and stderr are
 * /dev/null). What it holds (a connection to libvirtd) closes with it, as
 * any client's that exits. A long-lived caller reaps it later (or leaves
 * a zombie until it exits). *w = NULL. */
void deadline_worker_stop(DeadlineWorker **w);
