/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "deadline.h"
#include "subprocess.h"
#include "util.h"

/* What the child writes: this header, then err_len bytes of error line,
 * then payload_len bytes of payload. */
typedef struct DeadlineHeader {
        int32_t r;
        uint32_t err_len;
        uint64_t payload_len;
} DeadlineHeader;

static int write_all(int fd, const void *p, size_t n) {
        const char *c = p;

        while (n > 0) {
                ssize_t k = write(fd, c, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                c += k;
                n -= (size_t) k;
        }
        return 0;
}

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

static int make_error(char **ret_error, const char *fmt, ...) _printf_(2, 3);
static int make_error(char **ret_error, const char *fmt, ...) {
        va_list ap;
        char *s;

        if (!ret_error)
                return 0;
        va_start(ap, fmt);
        int k = vasprintf(&s, fmt, ap);
        va_end(ap);
        *ret_error = k < 0 ? NULL : s;
        return k < 0 ? -ENOMEM : 0;
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

int deadline_run_payload(DeadlinePayloadFn fn, void *userdata, usec_t timeout, size_t max_payload,
                         char **ret_payload, size_t *ret_size, bool *ret_timed_out, char **ret_error) {
        _cleanup_close_ int rfd = -1, wfd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, cap = 0;
        int p[2], status = 0;
        char t[FORMAT_TIMEOUT_MAX];

        if (ret_error)
                *ret_error = NULL;
        if (ret_payload)
                *ret_payload = NULL;
        if (ret_size)
                *ret_size = 0;
        if (ret_timed_out)
                *ret_timed_out = false;
        if (!ret_payload)
                max_payload = 0;

        if (timeout > SPAWN_TIMEOUT_MAX)
                timeout = SPAWN_TIMEOUT_MAX;
        usec_t deadline = now_usec() + timeout;
        sigchld_ensure_default();
        size_t limit = sizeof(DeadlineHeader) + DEADLINE_ERROR_MAX + max_payload;

        if (pipe2(p, O_CLOEXEC) < 0) {
                int r = -errno;
                make_error(ret_error, "cannot create a pipe: %s", strerror(-r));
                return r;
        }
        rfd = p[0];
        wfd = p[1];

        pid_t parent = getpid(), pid = fork();
        if (pid < 0) {
                int r = -errno;
                make_error(ret_error, "cannot fork: %s", strerror(-r));
                return r;
        }
        if (pid == 0) {
                close(rfd);
                child_setup(parent);
                child_main(wfd, fn, userdata, max_payload);
        }
        wfd = (closep(&wfd), -1);

        bool eof = false, too_much = false;
        while (!eof) {
                usec_t now = now_usec();
                if (now >= deadline)
                        break;
                int ms = (int) ((deadline - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC);
                struct pollfd pfd = { .fd = rfd, .events = POLLIN };

                int q = poll(&pfd, 1, ms);
                if (q < 0) {
                        if (errno == EINTR)
                                continue;
                        int r = -errno;
                        process_kill_and_reap(pid, false, NULL);
                        make_error(ret_error, "poll() failed: %s", strerror(-r));
                        return r;
                }
                if (q == 0)
                        continue;

                if (len == cap) {
                        size_t ncap = cap ? cap * 2 : 4096;
                        if (ncap > limit + 1)
                                ncap = limit + 1;
                        if (ncap <= len) {
                                too_much = true;
                                break;
                        }
                        char *nb = realloc(buf, ncap);
                        if (!nb) {
                                process_kill_and_reap(pid, false, NULL);
                                return -ENOMEM;
                        }
                        buf = nb;
                        cap = ncap;
                }
                ssize_t k = read(rfd, buf + len, cap - len);
                if (k < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        int r = -errno;
                        process_kill_and_reap(pid, false, NULL);
                        make_error(ret_error, "cannot read the worker's answer: %s", strerror(-r));
                        return r;
                }
                if (k == 0)
                        eof = true;
                len += (size_t) k;
                if (len > limit) {
                        too_much = true;
                        break;
                }
        }

        if (!eof && !too_much) {
                process_kill_and_reap(pid, false, NULL);
                if (ret_timed_out)
                        *ret_timed_out = true;
                make_error(ret_error, "did not finish within %s", format_timeout(timeout, t, sizeof t));
                return -ETIME;
        }
        if (too_much) {
                process_kill_and_reap(pid, false, NULL);
                make_error(ret_error, "worker process sent more than %zu bytes", limit);
                return -EFBIG;
        }

        reap_child(pid, deadline, &status);

        DeadlineHeader h;
        if (len < sizeof h) {
                SpawnResult sr = { .exit_status = -1 };
                char d[128];

                if (WIFSIGNALED(status))
                        sr.term_signal = WTERMSIG(status);
                else if (WIFEXITED(status))
                        sr.exit_status = WEXITSTATUS(status);
                make_error(ret_error, "worker process %s without an answer",
                           spawn_describe_status(&sr, d, sizeof d));
                return -EIO;
        }
        memcpy(&h, buf, sizeof h);
        if (h.err_len > DEADLINE_ERROR_MAX || h.payload_len > max_payload ||
            len != sizeof h + h.err_len + h.payload_len) {
                make_error(ret_error, "worker process sent a malformed answer");
                return -EIO;
        }

        const char *err = buf + sizeof h;
        if (h.r < 0) {
                if (ret_error) {
                        if (h.err_len > 0)
                                *ret_error = strndup(err, h.err_len);
                        else
                                *ret_error = strdup(strerror(-h.r));
                }
                return h.r;
        }

        if (ret_payload) {
                char *pl = malloc(h.payload_len + 1);
                if (!pl)
                        return -ENOMEM;
                memcpy(pl, err + h.err_len, h.payload_len);
                pl[h.payload_len] = 0;
                *ret_payload = pl;
                if (ret_size)
                        *ret_size = h.payload_len;
        }
        return h.r;
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

        return deadline_run_payload(plain_trampoline, &c, timeout, 0, NULL, NULL, NULL, ret_error);
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
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                int r = -errno;
                make_error(ret_error, "cannot create a socket pair: %s", strerror(-r));
                return r;
        }
        mine = sv[0];
        theirs = sv[1];

        DeadlineWorker *w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        pid_t parent = getpid(), pid = fork();
        if (pid < 0) {
                int r = -errno;
                free(w);
                make_error(ret_error, "cannot fork: %s", strerror(-r));
                return r;
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

static void worker_lost(DeadlineWorker **w, char **ret_error) {
        int status = 0;
        SpawnResult sr = { .exit_status = -1 };
        char d[128];

        if (process_wait_exit((*w)->pid, 250 * USEC_PER_MSEC, &status)) {
                if (WIFSIGNALED(status))
                        sr.term_signal = WTERMSIG(status);
                else if (WIFEXITED(status))
                        sr.exit_status = WEXITSTATUS(status);
                make_error(ret_error, "worker process %s without an answer", spawn_describe_status(&sr, d, sizeof d));
        } else
                make_error(ret_error, "worker process closed its socket without an answer");
        worker_kill(w);
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
        if (k < 0) {
                worker_lost(w, ret_error);
                return -EIO;
        }

        for (;;) {
                usec_t now = now_usec();
                if (now >= deadline) {
                        worker_kill(w);
                        if (ret_timed_out)
                                *ret_timed_out = true;
                        make_error(ret_error, "did not finish within %s", format_timeout(timeout, t, sizeof t));
                        return -ETIME;
                }
                struct pollfd pfd = { .fd = (*w)->fd, .events = POLLIN };
                int q = poll(&pfd, 1, (int) ((deadline - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC));
                if (q < 0 && errno != EINTR) {
                        r = -errno;
                        worker_kill(w);
                        make_error(ret_error, "poll() failed: %s", strerror(-r));
                        return r;
                }
                if (q > 0)
                        break;
        }

        do
                k = recv((*w)->fd, buf, sizeof buf - 1, MSG_DONTWAIT);
        while (k < 0 && errno == EINTR);
        DeadlineHeader h;
        if (k < (ssize_t) sizeof h) {
                worker_lost(w, ret_error);
                return -EIO;
        }
        memcpy(&h, buf, sizeof h);
        if (h.err_len > DEADLINE_ERROR_MAX || (size_t) k != sizeof h + h.err_len) {
                worker_kill(w);
                make_error(ret_error, "worker process sent a malformed answer");
                return -EIO;
        }
        if (h.payload_len & WORKER_EXITS)
                deadline_worker_stop(w);
        if (h.r < 0 && ret_error)
                *ret_error = h.err_len > 0 ? strndup(buf + sizeof h, h.err_len) : strdup(strerror(-h.r));
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
