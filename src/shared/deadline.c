/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "shared/deadline.h"
#include "shared/subprocess.h"
#include "shared/util.h"

/* What the child writes: this header, then err_len bytes of error line,
 * then payload_len bytes of payload. */
typedef struct DeadlineHeader {
        int32_t r;
        uint32_t err_len;
        uint64_t payload_len;
} DeadlineHeader;

/* In a child right after fork(): it dies with its parent (a hook killed
 * by libvirt leaves no worker connected to libvirtd behind), and the
 * hook's stdin, libvirt's XML pipe, is not its business. */
static void child_setup(pid_t parent) {
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                _exit(EXIT_FAILURE);
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null >= 0 && null != STDIN_FILENO) {
                (void) dup2(null, STDIN_FILENO);
                close(null);
        }
        (void) signal(SIGPIPE, SIG_DFL);
}

_noreturn_ static void child_main(int fd, DeadlinePayloadFn fn, void *userdata, size_t max_payload) {
        char *error = NULL, *payload = NULL;
        size_t size = 0;

        int r = fn(userdata, &payload, &size, &error);

        DeadlineHeader h = { .r = r };
        if (r >= 0) {
                if (!payload)
                        size = 0;
                if (size > max_payload) {
                        free(error);
                        error = NULL;
                        if (asprintf(&error, "result too large (%zu bytes, at most %zu)", size, max_payload) < 0)
                                error = NULL;
                        h.r = -EFBIG;
                        size = 0;
                }
        } else
                size = 0;
        if (h.r < 0 && error)
                h.err_len = (uint32_t) strnlen(error, DEADLINE_ERROR_MAX);
        h.payload_len = size;

        if (write_all(fd, &h, sizeof h) < 0 ||
            write_all(fd, error, h.err_len) < 0 ||
            write_all(fd, payload, size) < 0)
                _exit(EXIT_FAILURE);
        _exit(EXIT_SUCCESS);
}

/* "exited with status 1", "was killed by signal 9 (Killed)": a waitpid() status. */
#define EXIT_DESCRIPTION_MAX 128U
static const char *exit_description(int status, char buf[static EXIT_DESCRIPTION_MAX]) {
        SpawnResult sr = { .exit_status = -1 };
        if (WIFSIGNALED(status))
                sr.term_signal = WTERMSIG(status);
        else if (WIFEXITED(status))
                sr.exit_status = WEXITSTATUS(status);
        return spawn_describe_status(&sr, buf, EXIT_DESCRIPTION_MAX);
}

/* A failed fn's answer: its error line, else strerror() of its result. */
static int answer_error(const DeadlineHeader *h, const char *err, char **ret_error) {
        if (h->err_len > 0)
                return errorf(ret_error, h->r, "%.*s", (int) h->err_len, err);
        return errorf(ret_error, h->r, "%s", strerror(-h->r));
}

/* Waits for the child to be gone after it closed its end of the pipe; it
 * is on its way out, but if it is stuck there until the deadline, it is
 * killed and, if it does not die at once, abandoned. */
static void reap_child(pid_t pid, usec_t deadline, int *ret_status) {
        usec_t now = now_usec();
        if (process_wait_exit(pid, now < deadline ? deadline - now : 0, ret_status))
                return;
        process_kill_and_reap(pid, false, ret_status);
}

/* Forks the child that runs fn and writes its answer to the pipe whose
 * reading end comes back in *ret_fd. */
static int child_fork(DeadlinePayloadFn fn, void *userdata, size_t max_payload, pid_t *ret_pid, int *ret_fd,
                      char **ret_error) {
        int p[2];

        if (pipe2(p, O_CLOEXEC) < 0)
                return errorf(ret_error, -errno, "cannot create a pipe: %s", strerror(errno));
        pid_t parent = getpid(), pid = fork();
        if (pid < 0) {
                int r = -errno;
                safe_close(p[0]);
                safe_close(p[1]);
                return errorf(ret_error, r, "cannot fork: %s", strerror(-r));
        }
        if (pid == 0) {
                close(p[0]);
                child_setup(parent);
                child_main(p[1], fn, userdata, max_payload);
        }
        safe_close(p[1]);
        *ret_pid = pid;
        *ret_fd = p[0];
        return 0;
}

/* Reads the child's answer until it closes the pipe: -ETIME when the
 * deadline passes first, -EFBIG past limit bytes. */
static int answer_read(int fd, usec_t deadline, size_t limit, char **ret_buf, size_t *ret_len) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, cap = 0;

        for (;;) {
                int r = fd_wait_readable(fd, deadline);
                if (r < 0)
                        return r;
                if (len == cap) {
                        if (cap > limit)
                                return -EFBIG;
                        size_t ncap = cap ? cap * 2 : 4096;
                        if (ncap > limit + 1)
                                ncap = limit + 1;
                        char *nb = realloc(buf, ncap);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                        cap = ncap;
                }
                ssize_t k = read(fd, buf + len, cap - len);
                if (k < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                len += (size_t) k;
                if (len > limit)
                        return -EFBIG;
        }
        *ret_buf = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

/* The answer of a child that has exited with status. */
static int answer_parse(const char *buf, size_t len, int status, size_t max_payload, DeadlineAnswer *ret,
                        char **ret_error) {
        DeadlineHeader h;

        if (len < sizeof h) {
                char d[EXIT_DESCRIPTION_MAX];
                return errorf(ret_error, -EIO, "worker process %s without an answer", exit_description(status, d));
        }
        memcpy(&h, buf, sizeof h);
        if (h.err_len > DEADLINE_ERROR_MAX || h.payload_len > max_payload ||
            len != sizeof h + h.err_len + h.payload_len)
                return errorf(ret_error, -EIO, "worker process sent a malformed answer");

        const char *err = buf + sizeof h;
        if (h.r < 0)
                return answer_error(&h, err, ret_error);
        if (ret && max_payload > 0) {
                char *pl = strndup(err + h.err_len, h.payload_len);
                if (!pl)
                        return -ENOMEM;
                ret->payload = pl;
                ret->size = h.payload_len;
        }
        return h.r;
}

int deadline_run_payload(DeadlinePayloadFn fn, void *userdata, usec_t timeout, size_t max_payload, DeadlineAnswer *ret,
                         char **ret_error) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        char t[FORMAT_TIMEOUT_MAX];
        size_t len = 0;
        int status = 0;
        pid_t pid = 0;

        if (ret_error)
                *ret_error = NULL;
        if (ret)
                *ret = (DeadlineAnswer) {};
        else
                max_payload = 0;
        if (timeout > SPAWN_TIMEOUT_MAX)
                timeout = SPAWN_TIMEOUT_MAX;
        usec_t deadline = now_usec() + timeout;
        sigchld_ensure_default();

        int r = child_fork(fn, userdata, max_payload, &pid, &fd, ret_error);
        if (r < 0)
                return r;
        size_t limit = sizeof(DeadlineHeader) + DEADLINE_ERROR_MAX + max_payload;
        r = answer_read(fd, deadline, limit, &buf, &len);
        if (r < 0) {
                process_kill_and_reap(pid, false, NULL);
                if (r == -ETIME && ret)
                        ret->timed_out = true;
                if (r == -ETIME)
                        return errorf(ret_error, r, "did not finish within %s", format_timeout(timeout, t, sizeof t));
                if (r == -EFBIG)
                        return errorf(ret_error, r, "worker process sent more than %zu bytes", limit);
                return errorf(ret_error, r, "cannot read the worker's answer: %s", strerror(-r));
        }
        reap_child(pid, deadline, &status);
        return answer_parse(buf, len, status, max_payload, ret, ret_error);
}

typedef struct PlainCall {
        DeadlineFn fn;
        void *userdata;
} PlainCall;

static int plain_trampoline(void *userdata, char **ret_payload, size_t *ret_size, char **ret_error) {
        PlainCall *c = userdata;

        return c->fn(c->userdata, ret_error);
}

int deadline_run(DeadlineFn fn, void *userdata, usec_t timeout, char **ret_error) {
        PlainCall c = { .fn = fn, .userdata = userdata };

        return deadline_run_payload(plain_trampoline, &c, timeout, 0, NULL, ret_error);
}

/* ------------------------------------------------------------------ workers */

/* A request is one datagram of at most DEADLINE_REQUEST_MAX bytes; an
 * answer is a DeadlineHeader (payload_len: 1 when the worker exits after
 * it) and the error line. SOCK_SEQPACKET keeps them apart. */
#define WORKER_EXITS 1U

struct DeadlineWorker {
        pid_t pid;
        int fd;
};

static int send_answer(int fd, int r, const char *error, bool exits) {
        char buf[sizeof(DeadlineHeader) + DEADLINE_ERROR_MAX];
        DeadlineHeader h = { .r = r, .payload_len = exits ? WORKER_EXITS : 0 };
        if (r < 0 && error)
                h.err_len = (uint32_t) strnlen(error, DEADLINE_ERROR_MAX);
        memcpy(buf, &h, sizeof h);
        if (h.err_len)
                memcpy(buf + sizeof h, error, h.err_len);
        ssize_t k;
        do
                k = send(fd, buf, sizeof h + h.err_len, MSG_NOSIGNAL);
        while (k < 0 && errno == EINTR);
        return k < 0 ? -errno : 0;
}

/* eager: init() at once, while the parent does other things; its result
 * answers the first request. */
_noreturn_ static void worker_main(int fd, const DeadlineWorkerOps *ops, void *userdata, bool eager) {
        char *error = NULL;
        bool tried = false;
        int init = 0;

        /* It is killed, not waited for (deadline_worker_stop()): nothing of
         * the parent's may stay open with it while it dies, neither the
         * hook's stdout and stderr (libvirt reads them to their end) nor a
         * lock. Its answers go over fd. */
        int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null >= 0) {
                (void) dup2(null, STDOUT_FILENO);
                (void) dup2(null, STDERR_FILENO);
                if (null > STDERR_FILENO)
                        close(null);
        }
        if (fd > STDERR_FILENO + 1)
                (void) close_range(STDERR_FILENO + 1, (unsigned) fd - 1, 0);
        (void) close_range((unsigned) fd + 1, ~0U, 0);

        if (eager) {
                init = ops->init(userdata, &error);
                tried = true;
        }
        for (;;) {
                char req[DEADLINE_REQUEST_MAX + 1];
                ssize_t k = recv(fd, req, DEADLINE_REQUEST_MAX, 0);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break; /* the parent is done (or gone) */
                req[k] = 0;

                /* Set up on the first request, under its deadline. */
                if (!tried) {
                        init = ops->init(userdata, &error);
                        tried = true;
                }
                if (init < 0) {
                        (void) send_answer(fd, init, error, true);
                        _exit(EXIT_FAILURE);
                }
                free(error);
                error = NULL;
                int r = ops->call(userdata, req, (size_t) k, &error);
                if (send_answer(fd, r, error, false) < 0)
                        break;
        }
        _exit(EXIT_SUCCESS);
}

static int worker_start(const DeadlineWorkerOps *ops, void *userdata, bool eager, DeadlineWorker **ret,
                        char **ret_error) {
        _cleanup_close_ int mine = -1, theirs = -1;
        int sv[2];

        sigchld_ensure_default();
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return errorf(ret_error, -errno, "cannot create a socket pair: %s", strerror(errno));
        mine = sv[0];
        theirs = sv[1];

        DeadlineWorker *w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        pid_t parent = getpid(), pid = fork();
        if (pid < 0) {
                int r = -errno;
                free(w);
                return errorf(ret_error, r, "cannot fork: %s", strerror(-r));
        }
        if (pid == 0) {
                mine = (closep(&mine), -1);
                child_setup(parent);
                worker_main(theirs, ops, userdata, eager);
        }
        w->pid = pid;
        w->fd = TAKE_FD(mine);
        *ret = w;
        return 0;
}

/* Gone for good: killed, reaped if it dies at once. */
static void worker_kill(DeadlineWorker **w) {
        process_kill_and_reap((*w)->pid, false, NULL);
        close((*w)->fd);
        free(*w);
        *w = NULL;
}

static int worker_lost(DeadlineWorker **w, char **ret_error) {
        int status = 0;
        char d[EXIT_DESCRIPTION_MAX];

        if (process_wait_exit((*w)->pid, 250 * USEC_PER_MSEC, &status))
                (void) errorf(ret_error, 0, "worker process %s without an answer", exit_description(status, d));
        else
                (void) errorf(ret_error, 0, "worker process closed its socket without an answer");
        worker_kill(w);
        return -EIO;
}

int deadline_worker_call(DeadlineWorker **w, const DeadlineWorkerOps *ops, void *userdata, const void *request,
                         size_t size, usec_t timeout, bool *ret_timed_out, char **ret_error) {
        char buf[sizeof(DeadlineHeader) + DEADLINE_ERROR_MAX + 1];
        char t[FORMAT_TIMEOUT_MAX];
        int r;

        if (ret_error)
                *ret_error = NULL;
        if (ret_timed_out)
                *ret_timed_out = false;
        if (size == 0 || size > DEADLINE_REQUEST_MAX)
                return -EINVAL;
        if (timeout > SPAWN_TIMEOUT_MAX)
                timeout = SPAWN_TIMEOUT_MAX;
        usec_t deadline = now_usec() + timeout;

        if (!*w) {
                r = worker_start(ops, userdata, false, w, ret_error);
                if (r < 0)
                        return r;
        }

        ssize_t k;
        do
                k = send((*w)->fd, request, size, MSG_NOSIGNAL);
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return worker_lost(w, ret_error);

        r = fd_wait_readable((*w)->fd, deadline);
        if (r == -ETIME) {
                worker_kill(w);
                if (ret_timed_out)
                        *ret_timed_out = true;
                return errorf(ret_error, r, "did not finish within %s", format_timeout(timeout, t, sizeof t));
        }
        if (r < 0) {
                worker_kill(w);
                return errorf(ret_error, r, "poll() failed: %s", strerror(-r));
        }

        do
                k = recv((*w)->fd, buf, sizeof buf - 1, MSG_DONTWAIT);
        while (k < 0 && errno == EINTR);
        DeadlineHeader h;
        if (k < (ssize_t) sizeof h)
                return worker_lost(w, ret_error);
        memcpy(&h, buf, sizeof h);
        if (h.err_len > DEADLINE_ERROR_MAX || (size_t) k != sizeof h + h.err_len) {
                worker_kill(w);
                return errorf(ret_error, -EIO, "worker process sent a malformed answer");
        }
        if (h.payload_len & WORKER_EXITS)
                deadline_worker_stop(w);
        if (h.r < 0)
                return answer_error(&h, buf + sizeof h, ret_error);
        return h.r;
}

int deadline_worker_begin(DeadlineWorker **w, const DeadlineWorkerOps *ops, void *userdata, char **ret_error) {
        if (ret_error)
                *ret_error = NULL;
        if (*w)
                return 0;
        return worker_start(ops, userdata, true, w, ret_error);
}

void deadline_worker_stop(DeadlineWorker **w) {
        if (!w || !*w)
                return;
        /* No call is in flight: its connection ends with it, as any
         * client's that exits (a polite close cost libvirt's ~100 ms of
         * teardown on the hand-off's path). Its exit (unmapping libvirt) is
         * not waited for either: reaped now if it is gone already, else by
         * whoever inherits it when this process exits (the engine does,
         * right after the hand-off). */
        (void) kill((*w)->pid, SIGKILL);
        (void) waitpid((*w)->pid, NULL, WNOHANG);
        close((*w)->fd);
        free(*w);
        *w = NULL;
}
