/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "shared/subprocess.h"
#include "shared/util.h"

static const char *const fixed_env[] = {
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
        "LC_ALL=C",
};

static const char *const tool_dirs[] = {
        "/usr/sbin",
        "/usr/bin",
        "/sbin",
        "/bin",
};

static bool test_overrides;

void spawn_allow_test_overrides(void) {
        test_overrides = true;
}

bool spawn_test_overrides_allowed(void) {
        return test_overrides;
}

void spawn_result_done(SpawnResult *r) {
        if (!r)
                return;
        free(r->out);
        free(r->err);
        *r = (SpawnResult) { .exit_status = -1 };
}

static bool is_executable_file(const char *path) {
        struct stat st;

        return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int spawn_find_tool(const char *tool, char **ret) {
        if (!filename_is_safe(tool, 64) || tool[0] == '-')
                return -EINVAL;

        if (test_overrides) {
                char var[sizeof("VFIO_HOOK_") + 64] = "VFIO_HOOK_";
                size_t n = strlen(var);

                for (const char *p = tool; *p && n < sizeof(var) - 1; p++)
                        var[n++] = *p == '-' || *p == '.' ? '_' : (char) toupper((unsigned char) *p);
                var[n] = 0;

                const char *v = secure_getenv(var);
                if (v && v[0] == '/') {
                        char *copy = strdup(v);
                        if (!copy)
                                return -ENOMEM;
                        *ret = copy;
                        return 0;
                }
        }

        for (size_t i = 0; i < ELEMENTSOF(tool_dirs); i++) {
                char *path;

                if (asprintf(&path, "%s/%s", tool_dirs[i], tool) < 0)
                        return -ENOMEM;
                if (is_executable_file(path)) {
                        *ret = path;
                        return 0;
                }
                free(path);
        }
        return -ENOENT;
}

typedef struct OutBuf {
        char *data;
        size_t len;
        bool truncated;
} OutBuf;

/* Reads what is there. Returns 1 when data was read, 0 at EOF, -EAGAIN when
 * nothing is available now, another negative errno on error. Data beyond
 * SPAWN_OUTPUT_MAX is read and dropped, so that the child never blocks on a
 * full pipe. */
static int outbuf_read(int fd, OutBuf *b) {
        char chunk[4096];
        ssize_t n = read(fd, chunk, sizeof chunk);

        if (n < 0)
                return errno == EINTR ? -EAGAIN : -errno;
        if (n == 0)
                return 0;

        size_t room = SPAWN_OUTPUT_MAX - b->len;
        size_t take = (size_t) n < room ? (size_t) n : room;
        if (take < (size_t) n)
                b->truncated = true;
        if (take > 0) {
                char *d = realloc(b->data, b->len + take + 1);
                if (!d)
                        return -ENOMEM;
                memcpy(d + b->len, chunk, take);
                b->len += take;
                d[b->len] = 0;
                b->data = d;
        }
        return 1;
}

static char *outbuf_take(OutBuf *b) {
        if (!b->data)
                return strdup("");
        return TAKE_PTR(b->data);
}

int process_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
        int fd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (fd >= 0) {
                /* pidfd_open() sets O_CLOEXEC itself; make sure anyway. */
                (void) fcntl(fd, F_SETFD, FD_CLOEXEC);
                return fd;
        }
        return -errno;
#else
        return -ENOSYS;
#endif
}

bool process_wait_exit(pid_t pid, usec_t timeout, int *ret_status) {
        _cleanup_close_ int pidfd = process_pidfd(pid);
        PollUntil poll_wait = { .deadline = now_usec() + timeout, .wait = 100, .cap = 10 * USEC_PER_MSEC };
        int status;

        for (;;) {
                pid_t r = waitpid(pid, &status, WNOHANG);
                if (r == pid || (r < 0 && errno != EINTR)) {
                        if (r == pid && ret_status)
                                *ret_status = status;
                        return true;
                }
                if (pidfd >= 0) {
                        /* The kernel says when it exits: no polling. */
                        usec_t now = now_usec();
                        if (now >= poll_wait.deadline)
                                return false;
                        struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
                        (void) poll(&pfd, 1, (int) ((poll_wait.deadline - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC));
                        continue;
                }
                /* No pidfd (Linux < 5.3): a short doubling poll. */
                if (!poll_until(&poll_wait))
                        return false;
        }
}

void process_kill_and_reap(pid_t pid, bool group, int *ret_status) {
        if (group)
                (void) kill(-pid, SIGKILL);
        (void) kill(pid, SIGKILL);
        (void) process_wait_exit(pid, 250 * USEC_PER_MSEC, ret_status);
}

static void set_status(SpawnResult *r, int status) {
        if (WIFEXITED(status)) {
                r->exit_status = WEXITSTATUS(status);
                r->term_signal = 0;
        } else if (WIFSIGNALED(status)) {
                r->exit_status = -1;
                r->term_signal = WTERMSIG(status);
        }
}

static int build_env(const char *const extra_env[], char ***ret) {
        size_t n_extra = strv_length((char *const *) extra_env);
        char **env = calloc(ELEMENTSOF(fixed_env) + n_extra + 1, sizeof(char *));
        if (!env)
                return -ENOMEM;

        size_t k = 0;
        for (size_t i = 0; i < ELEMENTSOF(fixed_env); i++)
                env[k++] = (char *) fixed_env[i];
        for (size_t i = 0; i < n_extra; i++)
                env[k++] = (char *) extra_env[i];
        env[k] = NULL;
        *ret = env;
        return 0;
}

void sigchld_ensure_default(void) {
        struct sigaction sa;

        /* With SIGCHLD ignored, children are reaped by the kernel and
         * waitpid() cannot tell how they ended. */
        if (sigaction(SIGCHLD, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN) {
                sa.sa_handler = SIG_DFL;
                sa.sa_flags &= ~SA_NOCLDWAIT;
                (void) sigaction(SIGCHLD, &sa, NULL);
        }
}

/* The child's end of a run: its pid, a pidfd when the kernel has them, and
 * the read ends of its stdout and stderr (non-blocking). */
typedef struct Child {
        pid_t pid;
        int pidfd, out_r, err_r;
} Child;

static void child_close(Child *c) {
        c->pidfd = safe_close(c->pidfd);
        c->out_r = safe_close(c->out_r);
        c->err_r = safe_close(c->err_r);
}

/* posix_spawn() with the environment, descriptors, signals and process group
 * the header promises. */
static int child_start(const char *path, const char *const argv[], char **env, Child *ret) {
        _cleanup_close_ int out_r = -1, out_w = -1, err_r = -1, err_w = -1;
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t all, none;
        pid_t pid;
        int p[2], r;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        out_r = p[0];
        out_w = p[1];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        err_r = p[0];
        err_w = p[1];

        r = posix_spawn_file_actions_init(&fa);
        if (r != 0)
                return -r;
        r = posix_spawnattr_init(&attr);
        if (r != 0) {
                posix_spawn_file_actions_destroy(&fa);
                return -r;
        }

        sigfillset(&all);
        sigemptyset(&none);
        r = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        if (r == 0)
                r = posix_spawn_file_actions_adddup2(&fa, out_w, STDOUT_FILENO);
        if (r == 0)
                r = posix_spawn_file_actions_adddup2(&fa, err_w, STDERR_FILENO);
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 34)
        /* Whatever our caller (libvirtd) left open is not the child's. */
        if (r == 0)
                r = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
        if (r == 0)
                r = posix_spawnattr_setsigmask(&attr, &none);
        if (r == 0)
                r = posix_spawnattr_setsigdefault(&attr, &all);
        if (r == 0)
                r = posix_spawnattr_setpgroup(&attr, 0);
        if (r == 0)
                r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                                            POSIX_SPAWN_SETPGROUP);
        if (r == 0)
                r = posix_spawn(&pid, path, &fa, &attr, (char *const *) argv, env);

        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        if (r != 0)
                return -r;

        /* Only the child writes to the pipes now: EOF when it (and what it
         * started) is done with them. */
        (void) fcntl(out_r, F_SETFL, O_NONBLOCK);
        (void) fcntl(err_r, F_SETFL, O_NONBLOCK);
        *ret = (Child) {
                .pid = pid,
                .pidfd = process_pidfd(pid),
                .out_r = TAKE_FD(out_r),
                .err_r = TAKE_FD(err_r),
        };
        return 0;
}

/* Reads one ready pipe; closes it at EOF or on error. */
static int pipe_read_ready(int *fd, OutBuf *b) {
        int q = outbuf_read(*fd, b);

        if (q == 0 || (q < 0 && q != -EAGAIN))
                *fd = safe_close(*fd);
        return q < 0 && q != -EAGAIN ? q : 0;
}

/* After a kill, what is in the pipes is read for this long at most: a
 * writer that escaped the process group must not keep us reading. */
#define PIPES_DRAIN_GRACE (20 * USEC_PER_MSEC)

/* Takes what is buffered in the pipes now, without waiting for writers that
 * are still alive (what the child left running in the background), and
 * closes them; reading stops at the deadline. */
static int pipes_drain(Child *c, OutBuf *out, OutBuf *err, usec_t deadline) {
        int fail = 0;

        for (int k = 0; k < 2; k++) {
                int *fd = k == 0 ? &c->out_r : &c->err_r;
                OutBuf *b = k == 0 ? out : err;
                while (*fd >= 0) {
                        int q = outbuf_read(*fd, b);
                        if (q == 1 && now_usec() < deadline)
                                continue;
                        if (q < 0 && q != -EAGAIN && fail == 0)
                                fail = q;
                        *fd = safe_close(*fd);
                }
        }
        return fail;
}

/* Collects the child's output until it exits (*exited, *status) or the
 * deadline passes (-ETIME, the child still running). */
static int child_wait(Child *c, usec_t deadline, OutBuf *out, OutBuf *err, bool *exited, int *status) {
        usec_t backoff = USEC_PER_MSEC;

        for (;;) {
                struct pollfd pfd[3];
                int n = 0, i_out = -1, i_err = -1, i_pid = -1, q;

                if (c->out_r >= 0) {
                        i_out = n;
                        pfd[n++] = (struct pollfd) { .fd = c->out_r, .events = POLLIN };
                }
                if (c->err_r >= 0) {
                        i_err = n;
                        pfd[n++] = (struct pollfd) { .fd = c->err_r, .events = POLLIN };
                }
                if (c->pidfd >= 0) {
                        i_pid = n;
                        pfd[n++] = (struct pollfd) { .fd = c->pidfd, .events = POLLIN };
                }

                usec_t now = now_usec();
                if (now >= deadline)
                        return -ETIME;
                usec_t wait = deadline - now;
                if (c->pidfd < 0) {
                        /* No pidfd (old kernel): look at the child now and then. */
                        if (wait > backoff)
                                wait = backoff;
                        if (backoff < 16 * USEC_PER_MSEC)
                                backoff *= 2;
                }
                int ms = (int) ((wait + USEC_PER_MSEC - 1) / USEC_PER_MSEC);

                if (poll(pfd, (nfds_t) n, ms) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }

                if (i_out >= 0 && pfd[i_out].revents && (q = pipe_read_ready(&c->out_r, out)) < 0)
                        return q;
                if (i_err >= 0 && pfd[i_err].revents && (q = pipe_read_ready(&c->err_r, err)) < 0)
                        return q;
                if (c->pidfd < 0 || (i_pid >= 0 && pfd[i_pid].revents)) {
                        pid_t w = waitpid(c->pid, status, WNOHANG);
                        if (w == c->pid) {
                                *exited = true;
                                return 0;
                        }
                        if (w < 0 && errno != EINTR)
                                return -errno;
                }
        }
}

int spawn_run_env(const char *path, const char *const argv[], const char *const extra_env[],
                  usec_t timeout, SpawnResult *ret) {
        _cleanup_free_ char **env = NULL;
        OutBuf out = {}, err = {};
        Child c = { .pidfd = -1, .out_r = -1, .err_r = -1 };
        bool exited = false;
        int r, status = 0;

        *ret = (SpawnResult) { .exit_status = -1 };

        if (!path || path[0] != '/' || !argv || !argv[0])
                return -EINVAL;

        if (timeout > SPAWN_TIMEOUT_MAX)
                timeout = SPAWN_TIMEOUT_MAX;
        usec_t deadline = now_usec() + timeout;
        sigchld_ensure_default();

        r = build_env(extra_env, &env);
        if (r < 0)
                return r;
        r = child_start(path, argv, env, &c);
        if (r < 0)
                return r;

        r = child_wait(&c, deadline, &out, &err, &exited, &status);
        if (!exited) {
                status = W_EXITCODE(0, SIGKILL);
                process_kill_and_reap(c.pid, true, &status);
        }
        /* Killed or not, what it wrote before it ended is part of the
         * result: the deadline path returns it too. */
        int q = pipes_drain(&c, &out, &err, exited ? deadline : now_usec() + PIPES_DRAIN_GRACE);
        if (r == 0)
                r = q;
        child_close(&c);
        set_status(ret, status);

        ret->out = outbuf_take(&out);
        ret->err = outbuf_take(&err);
        ret->out_truncated = out.truncated;
        ret->err_truncated = err.truncated;
        free(out.data);
        free(err.data);
        if (!ret->out || !ret->err) {
                spawn_result_done(ret);
                return -ENOMEM;
        }
        return r;
}

const char *spawn_describe_status(const SpawnResult *r, char *buf, size_t size) {
        if (r->term_signal > 0)
                snprintf(buf, size, "killed by signal %d (%s)", r->term_signal, strsignal(r->term_signal));
        else
                snprintf(buf, size, "exited with status %d", r->exit_status);
        return buf;
}

const char *spawn_first_line(const char *s, char *buf, size_t size) {
        if (size == 0)
                return buf;
        buf[0] = 0;
        if (!s)
                return buf;

        for (;;) {
                s += strspn(s, " \t\r\n");
                if (!*s)
                        return buf;
                size_t n = strcspn(s, "\n");
                if (n >= size)
                        n = size - 1;
                memcpy(buf, s, n);
                buf[n] = 0;
                strstrip_trailing(buf);
                if (buf[0])
                        return buf;
                s += n;
        }
}

const char *format_timeout(usec_t t, char *buf, size_t size) {
        if (t % USEC_PER_SEC == 0)
                snprintf(buf, size, "%llu s", (unsigned long long) (t / USEC_PER_SEC));
        else
                snprintf(buf, size, "%g s", (double) t / (double) USEC_PER_SEC);
        return buf;
}
