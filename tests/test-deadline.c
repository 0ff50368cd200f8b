/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* deadline_run() and spawn_run(): results, errors, payloads, timeouts,
 * crashes; output capture, the clean environment, tool lookup. Timing is
 * only ever checked against a generous upper bound. */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "check-main.h"
#include "shared/deadline.h"
#include "shared/subprocess.h"
#include "shared/util.h"

/* A timed-out call must come back well before this (it has 0.3 to 2 s; one
 * that ignored its deadline would take 30 s). Seconds of it are for a loaded
 * machine (make -j16 check on two cores). */
#define GENEROUS (10 * USEC_PER_SEC)

static int fn_answer(void *userdata, char **ret_error) {
        return 42;
}

static int fn_fail(void *userdata, char **ret_error) {
        *ret_error = strdup("the thing did not work");
        return -EINVAL;
}

static int fn_fail_silently(void *userdata, char **ret_error) {
        return -ENOENT;
}

static int fn_sleep(void *userdata, char **ret_error) {
        sleep_usec(30 * USEC_PER_SEC);
        return 0;
}

static void no_core_dumps(void) {
        struct rlimit rl = { 0, 0 };
        (void) setrlimit(RLIMIT_CORE, &rl);
}

static int fn_abort(void *userdata, char **ret_error) {
        no_core_dumps();
        abort();
}

static int fn_exit3(void *userdata, char **ret_error) {
        _exit(3);
}

static int fn_sees_parent_memory(void *userdata, char **ret_error) {
        int *v = userdata;
        int seen = *v;
        *v = 0; /* the child's copy only */
        return seen;
}

START_TEST(deadline_result) {
        char *e = NULL;

        ck_assert_int_eq(deadline_run(fn_answer, NULL, 10 * USEC_PER_SEC, &e), 42);
        ck_assert_ptr_null(e);

        int v = 7;
        ck_assert_int_eq(deadline_run(fn_sees_parent_memory, &v, 10 * USEC_PER_SEC, NULL), 7);
        ck_assert_int_eq(v, 7);
}
END_TEST

START_TEST(deadline_error) {
        _cleanup_free_ char *e = NULL, *e2 = NULL;

        ck_assert_int_eq(deadline_run(fn_fail, NULL, 10 * USEC_PER_SEC, &e), -EINVAL);
        ck_assert_str_eq(e, "the thing did not work");

        ck_assert_int_eq(deadline_run(fn_fail_silently, NULL, 10 * USEC_PER_SEC, &e2), -ENOENT);
        ck_assert_str_eq(e2, strerror(ENOENT));

        /* No error wanted: none given. */
        ck_assert_int_eq(deadline_run(fn_fail, NULL, 10 * USEC_PER_SEC, NULL), -EINVAL);
}
END_TEST

START_TEST(deadline_timeout) {
        _cleanup_free_ char *e = NULL;
        usec_t t0 = now_usec();

        ck_assert_int_eq(deadline_run(fn_sleep, NULL, 300 * USEC_PER_MSEC, &e), -ETIME);
        usec_t took = now_usec() - t0;
        ck_assert_uint_lt(took, GENEROUS);
        ck_assert_uint_ge(took, 300 * USEC_PER_MSEC);
        ck_assert_str_eq(e, "did not finish within 0.3 s");
}
END_TEST

START_TEST(deadline_crash) {
        _cleanup_free_ char *e = NULL, *e2 = NULL;

        ck_assert_int_eq(deadline_run(fn_abort, NULL, 10 * USEC_PER_SEC, &e), -EIO);
        ck_assert_msg(strstr(e, "worker process killed by signal 6"), "got: %s", e);
        ck_assert_msg(strstr(e, "without an answer"), "got: %s", e);

        ck_assert_int_eq(deadline_run(fn_exit3, NULL, 10 * USEC_PER_SEC, &e2), -EIO);
        ck_assert_str_eq(e2, "worker process exited with status 3 without an answer");
}
END_TEST

typedef struct PayloadSpec {
        size_t size;
        int r;
} PayloadSpec;

static int fn_payload(void *userdata, char **ret_payload, size_t *ret_size, char **ret_error) {
        PayloadSpec *p = userdata;
        char *b = malloc(p->size + 1);
        if (!b)
                return -ENOMEM;
        for (size_t i = 0; i < p->size; i++)
                b[i] = (char) ('a' + i % 26);
        b[p->size] = 0;
        *ret_payload = b;
        *ret_size = p->size;
        if (p->r < 0)
                *ret_error = strdup("failed after all");
        return p->r;
}

START_TEST(deadline_payload) {
        _cleanup_free_ char *e = NULL, *e2 = NULL;
        DeadlineAnswer small_a, large_a, over_a, fails_a;

        PayloadSpec small = { .size = 5 };
        ck_assert_int_eq(deadline_run_payload(fn_payload, &small, 10 * USEC_PER_SEC, 100, &small_a, NULL), 0);
        ck_assert_str_eq(small_a.payload, "abcde");
        ck_assert_uint_eq(small_a.size, 5);
        ck_assert(!small_a.timed_out);
        free(small_a.payload);

        /* Several pipe buffers' worth. */
        PayloadSpec large = { .size = 3 * 1024 * 1024 + 7 };
        ck_assert_int_eq(deadline_run_payload(fn_payload, &large, 30 * USEC_PER_SEC, 16 * 1024 * 1024, &large_a, NULL),
                         0);
        ck_assert_uint_eq(large_a.size, large.size);
        ck_assert_uint_eq(strlen(large_a.payload), large.size);
        ck_assert_int_eq(large_a.payload[large.size - 1], 'a' + (int) ((large.size - 1) % 26));
        free(large_a.payload);

        /* Over the bound: an error, not a truncated result. */
        PayloadSpec over = { .size = 101 };
        ck_assert_int_eq(deadline_run_payload(fn_payload, &over, 10 * USEC_PER_SEC, 100, &over_a, &e), -EFBIG);
        ck_assert_ptr_null(over_a.payload);
        ck_assert_msg(strstr(e, "too large"), "got: %s", e);

        /* A failure sends no payload. */
        PayloadSpec fails = { .size = 5, .r = -EPERM };
        ck_assert_int_eq(deadline_run_payload(fn_payload, &fails, 10 * USEC_PER_SEC, 100, &fails_a, &e2), -EPERM);
        ck_assert_ptr_null(fails_a.payload);
        ck_assert_str_eq(e2, "failed after all");
}
END_TEST

static int fn_payload_sleep(void *userdata, char **ret_payload, size_t *ret_size, char **ret_error) {
        sleep_usec(30 * USEC_PER_SEC);
        return 0;
}

static int fn_payload_etime(void *userdata, char **ret_payload, size_t *ret_size, char **ret_error) {
        *ret_error = strdup("my own timeout");
        return -ETIME;
}

START_TEST(deadline_timed_out_flag) {
        _cleanup_free_ char *e = NULL, *e2 = NULL;
        DeadlineAnswer a;

        ck_assert_int_eq(deadline_run_payload(fn_payload_sleep, NULL, 200 * USEC_PER_MSEC, 0, &a, &e), -ETIME);
        ck_assert(a.timed_out);

        ck_assert_int_eq(deadline_run_payload(fn_payload_etime, NULL, 10 * USEC_PER_SEC, 0, &a, &e2), -ETIME);
        ck_assert(!a.timed_out);
        ck_assert_str_eq(e2, "my own timeout");
}
END_TEST

/* spawn */

START_TEST(spawn_true_false) {
        SpawnResult r;
        char d[64];

        ck_assert_int_eq(spawn_run("/bin/true", (const char *[]) { "true", NULL }, 10 * USEC_PER_SEC, &r), 0);
        ck_assert_int_eq(r.exit_status, 0);
        ck_assert_int_eq(r.term_signal, 0);
        ck_assert_str_eq(r.out, "");
        ck_assert_str_eq(r.err, "");
        spawn_result_done(&r);

        ck_assert_int_eq(spawn_run("/bin/false", (const char *[]) { "false", NULL }, 10 * USEC_PER_SEC, &r), 0);
        ck_assert_int_eq(r.exit_status, 1);
        ck_assert_str_eq(spawn_describe_status(&r, d, sizeof d), "exited with status 1");
        spawn_result_done(&r);

        ck_assert_int_eq(spawn_run("/bin/sh", (const char *[]) { "sh", "-c", "kill -9 $$", NULL }, 10 * USEC_PER_SEC,
                                   &r), 0);
        ck_assert_int_eq(r.exit_status, -1);
        ck_assert_int_eq(r.term_signal, SIGKILL);
        ck_assert_str_eq(spawn_describe_status(&r, d, sizeof d), "killed by signal 9 (Killed)");
        spawn_result_done(&r);
}
END_TEST

START_TEST(sigchld_ignored) {
        SpawnResult r;
        _cleanup_free_ char *e = NULL;

        /* Inherited SIGCHLD=SIG_IGN would let the kernel reap our children
         * and hide how they ended. */
        signal(SIGCHLD, SIG_IGN);
        ck_assert_int_eq(spawn_run("/bin/false", (const char *[]) { "false", NULL }, 10 * USEC_PER_SEC, &r), 0);
        ck_assert_int_eq(r.exit_status, 1);
        spawn_result_done(&r);

        signal(SIGCHLD, SIG_IGN);
        ck_assert_int_eq(deadline_run(fn_exit3, NULL, 10 * USEC_PER_SEC, &e), -EIO);
        ck_assert_str_eq(e, "worker process exited with status 3 without an answer");
}
END_TEST

START_TEST(spawn_output) {
        SpawnResult r;
        char line[64];

        ck_assert_int_eq(spawn_run("/bin/sh", (const char *[]) { "sh", "-c", "echo out; echo; echo '  err line ' >&2; exit 4", NULL },
                                   10 * USEC_PER_SEC, &r), 0);
        ck_assert_int_eq(r.exit_status, 4);
        ck_assert_str_eq(r.out, "out\n\n");
        ck_assert_str_eq(r.err, "  err line \n");
        ck_assert_str_eq(spawn_first_line(r.err, line, sizeof line), "err line");
        ck_assert_str_eq(spawn_first_line("\n\n  \nsecond\nthird", line, sizeof line), "second");
        ck_assert(!r.out_truncated);
        spawn_result_done(&r);

        /* Bounded: the rest is read and dropped, the child is not blocked. */
        ck_assert_int_eq(spawn_run("/bin/sh", (const char *[]) { "sh", "-c", "yes | head -c 300000", NULL },
                                   10 * USEC_PER_SEC, &r), 0);
        ck_assert_int_eq(r.exit_status, 0);
        ck_assert(r.out_truncated);
        ck_assert_uint_eq(strlen(r.out), SPAWN_OUTPUT_MAX);
        spawn_result_done(&r);
}
END_TEST

START_TEST(spawn_environment) {
        SpawnResult r;

        ck_assert_int_eq(setenv("VFIO_HOOK_TEST_LEAK", "1", 1), 0);
        ck_assert_int_eq(spawn_run_env("/usr/bin/env", (const char *[]) { "env", NULL }, (const char *[]) { "EXTRA=yes", NULL },
                                       10 * USEC_PER_SEC, &r), 0);
        ck_assert_str_eq(r.out, "PATH=/usr/sbin:/usr/bin:/sbin:/bin\nLC_ALL=C\nEXTRA=yes\n");
        spawn_result_done(&r);

        /* stdin is /dev/null: cat ends at once. */
        ck_assert_int_eq(spawn_run("/bin/cat", (const char *[]) { "cat", NULL }, 10 * USEC_PER_SEC, &r), 0);
        ck_assert_int_eq(r.exit_status, 0);
        ck_assert_str_eq(r.out, "");
        spawn_result_done(&r);

        /* Our signal dispositions are not the child's. */
        signal(SIGTERM, SIG_IGN);
        ck_assert_int_eq(spawn_run("/bin/sh", (const char *[]) { "sh", "-c", "kill -TERM $$; exit 0", NULL },
                                   10 * USEC_PER_SEC, &r), 0);
        ck_assert_int_eq(r.term_signal, SIGTERM);
        spawn_result_done(&r);
        signal(SIGTERM, SIG_DFL);
}
END_TEST

START_TEST(spawn_timeout) {
        SpawnResult r;
        usec_t t0 = now_usec();

        ck_assert_int_eq(spawn_run("/bin/sleep", (const char *[]) { "sleep", "30", NULL }, 300 * USEC_PER_MSEC, &r), -ETIME);
        ck_assert_uint_lt(now_usec() - t0, GENEROUS);
        ck_assert_int_eq(r.term_signal, SIGKILL);
        spawn_result_done(&r);

        /* The whole process group goes: sh and its sleep. What it wrote
         * before the deadline is returned. sh marks, after its echo, that
         * it wrote: on a machine so loaded that sh did not get there within
         * the deadline, the call is tried again with a longer one. */
        char dir[] = "/tmp/vfio-hook-spawn-XXXXXX", script[128], mark[64];
        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(mark, sizeof mark, "%s/wrote", dir);
        snprintf(script, sizeof script, "echo started; : >%s; sleep 30; echo never", mark);
        bool wrote = false;
        for (usec_t timeout = 2 * USEC_PER_SEC; !wrote && timeout <= 16 * USEC_PER_SEC; timeout *= 2) {
                t0 = now_usec();
                ck_assert_int_eq(spawn_run("/bin/sh", (const char *[]) { "sh", "-c", script, NULL }, timeout, &r),
                                 -ETIME);
                ck_assert_uint_lt(now_usec() - t0, timeout + GENEROUS);
                wrote = access(mark, F_OK) == 0;
                if (wrote)
                        ck_assert_str_eq(r.out, "started\n");
                else
                        ck_assert_msg(streq(r.out, "") || streq(r.out, "started\n"), "got: %s", r.out);
                ck_assert_int_eq(r.term_signal, SIGKILL);
                spawn_result_done(&r);
        }
        ck_assert_msg(wrote, "sh never got to write within 16 s");
        (void) unlink(mark);
        ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(spawn_background_child) {
        SpawnResult r;
        usec_t t0 = now_usec();

        /* A program that leaves something running with our pipes open is
         * done when it exits: long before the sleep ends, and without
         * reaching the deadline (a wait for the pipes would hit it). */
        ck_assert_int_eq(spawn_run("/bin/sh", (const char *[]) { "sh", "-c", "sleep 40 & echo done", NULL },
                                   20 * USEC_PER_SEC, &r), 0);
        ck_assert_uint_lt(now_usec() - t0, GENEROUS);
        ck_assert_int_eq(r.exit_status, 0);
        ck_assert_str_eq(r.out, "done\n");
        spawn_result_done(&r);
}
END_TEST

START_TEST(spawn_errors) {
        SpawnResult r;

        ck_assert_int_eq(spawn_run("/nonexistent/program", (const char *[]) { "x", NULL }, USEC_PER_SEC, &r), -ENOENT);
        spawn_result_done(&r);
        ck_assert_int_eq(spawn_run("relative/path", (const char *[]) { "x", NULL }, USEC_PER_SEC, &r), -EINVAL);
        spawn_result_done(&r);
        ck_assert_int_eq(spawn_run("/dev/null", (const char *[]) { "x", NULL }, USEC_PER_SEC, &r), -EACCES);
        spawn_result_done(&r);
}
END_TEST

START_TEST(spawn_tools) {
        _cleanup_free_ char *sh = NULL, *sh2 = NULL, *o = NULL;
        char *none = NULL;

        ck_assert_int_eq(spawn_find_tool("sh", &sh), 0);
        ck_assert(streq(sh, "/usr/bin/sh") || streq(sh, "/bin/sh") || streq(sh, "/usr/sbin/sh") ||
                  streq(sh, "/sbin/sh"));
        ck_assert_int_eq(spawn_find_tool("vfio-hook-no-such-tool", &none), -ENOENT);
        ck_assert_int_eq(spawn_find_tool("../sh", &none), -EINVAL);
        ck_assert_int_eq(spawn_find_tool("-sh", &none), -EINVAL);

        /* The override means nothing until a test opts in. */
        ck_assert_int_eq(setenv("VFIO_HOOK_SH", "/opt/fake/sh", 1), 0);
        ck_assert_int_eq(spawn_find_tool("sh", &sh2), 0);
        ck_assert_str_eq(sh2, sh);
        spawn_allow_test_overrides();
        ck_assert_int_eq(spawn_find_tool("sh", &o), 0);
        ck_assert_str_eq(o, "/opt/fake/sh");
}
END_TEST

/* A child's exit is waited for on its pidfd: as soon as it exits, and no
 * longer than asked when it does not. */
START_TEST(wait_exit) {
        int status = 0;
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                usleep(100 * 1000);
                _exit(7);
        }
        usec_t t0 = now_usec();
        ck_assert(process_wait_exit(pid, 20 * USEC_PER_SEC, &status));
        ck_assert_uint_lt(now_usec() - t0, GENEROUS);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 7);

        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0)
                for (;;)
                        pause();
        t0 = now_usec();
        ck_assert(!process_wait_exit(pid, 200 * USEC_PER_MSEC, NULL));
        usec_t took = now_usec() - t0;
        ck_assert_uint_ge(took, 200 * USEC_PER_MSEC);
        ck_assert_uint_lt(took, GENEROUS);
        /* It reaps for 250 ms, which a loaded machine (make -j16 check on
         * two cores) can take to run the child's exit: then the test
         * reaps it. */
        status = -1;
        process_kill_and_reap(pid, false, &status);
        if (status == -1)
                ck_assert(process_wait_exit(pid, GENEROUS, &status));
        ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %#x", (unsigned) status);
}
END_TEST

START_TEST(timeouts_format) {
        char t[FORMAT_TIMEOUT_MAX];

        ck_assert_str_eq(format_timeout(30 * USEC_PER_SEC, t, sizeof t), "30 s");
        ck_assert_str_eq(format_timeout(500 * USEC_PER_MSEC, t, sizeof t), "0.5 s");
        ck_assert_str_eq(format_timeout(1250 * USEC_PER_MSEC, t, sizeof t), "1.25 s");
}
END_TEST

/* A worker whose setup creates the file named in userdata (it keeps none
 * of its parent's descriptors); "pid" answers its pid, "hang" never. */
static int mark_init(void *userdata, char **ret_error) {
        int fd = open(userdata, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        close(fd);
        return 0;
}

static int pid_call(void *userdata, const char *request, size_t size, char **ret_error) {
        if (streq(request, "hang")) {
                char hanging[80];
                snprintf(hanging, sizeof hanging, "%s.hang", (const char *) userdata);
                (void) mark_init(hanging, NULL);
                sleep_usec(30 * USEC_PER_SEC);
        }
        if (streq(request, "pid"))
                return (int) getpid();
        return (int) size;
}

static const DeadlineWorkerOps pid_ops = { .init = mark_init, .call = pid_call };

static void mark_path(char path[static 64]) {
        snprintf(path, 64, "/tmp/vfio-hook-worker-XXXXXX");
        int fd = mkstemp(path);
        ck_assert_int_ge(fd, 0);
        close(fd);
        ck_assert_int_eq(unlink(path), 0);
}

START_TEST(worker_begun_early) {
        DeadlineWorker *w = NULL;
        char mark[64];
        int status = 0;

        mark_path(mark);
        ck_assert_int_eq(deadline_worker_begin(&w, &pid_ops, mark, NULL), 0);
        /* Set up before any request. */
        usec_t t0 = now_usec();
        while (access(mark, F_OK) < 0 && now_usec() - t0 < GENEROUS)
                sleep_usec(USEC_PER_MSEC);
        ck_assert_int_eq(access(mark, F_OK), 0);
        ck_assert_int_eq(unlink(mark), 0);
        int worker = deadline_worker_call(&w, &pid_ops, mark, "pid", 3, GENEROUS, NULL, NULL);
        ck_assert_int_gt(worker, 0);
        ck_assert_int_eq(deadline_worker_call(&w, &pid_ops, mark, "ab", 2, GENEROUS, NULL, NULL), 2);
        ck_assert_int_eq(deadline_worker_begin(&w, &pid_ops, mark, NULL), 0); /* running already */
        ck_assert_int_eq(access(mark, F_OK), -1);
        _cleanup_close_ int pidfd = process_pidfd(worker);
        ck_assert_int_ge(pidfd, 0);
        deadline_worker_stop(&w);
        ck_assert_ptr_null(w);
        /* Killed and not waited for: it is gone soon after, and reaped
         * either by stop (when it died that fast) or here. */
        ck_assert_int_eq(fd_wait_readable(pidfd, now_usec() + GENEROUS), 0);
        status = -1;
        ck_assert(process_wait_exit(worker, GENEROUS, &status));
        ck_assert_msg(status == -1 || (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL), "status %#x",
                      (unsigned) status);
}
END_TEST

/* A hook that libvirt kills leaves no worker behind, even one in a call. */
START_TEST(worker_dies_with_parent) {
        int p[2], status = 0;
        pid_t worker = 0;
        char mark[64];

        mark_path(mark);
        ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0); /* the orphan comes to us */
        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        pid_t mid = fork();
        ck_assert_int_ge(mid, 0);
        if (mid == 0) {
                DeadlineWorker *w = NULL;
                pid_t pid = deadline_worker_call(&w, &pid_ops, mark, "pid", 3, GENEROUS, NULL, NULL);
                if (write(p[1], &pid, sizeof pid) != sizeof pid)
                        _exit(1);
                (void) deadline_worker_call(&w, &pid_ops, mark, "hang", 4, 60 * USEC_PER_SEC, NULL, NULL);
                _exit(1);
        }
        ck_assert_int_eq(read(p[0], &worker, sizeof worker), (ssize_t) sizeof worker);
        ck_assert_int_gt(worker, 0);
        char hanging[80];
        snprintf(hanging, sizeof hanging, "%s.hang", mark);
        for (usec_t t0 = now_usec(); access(hanging, F_OK) < 0 && now_usec() - t0 < GENEROUS;)
                sleep_usec(USEC_PER_MSEC);
        ck_assert_int_eq(access(hanging, F_OK), 0); /* in its call: only its parent's death ends it */
        ck_assert_int_eq(kill(mid, SIGKILL), 0);
        ck_assert_int_eq(waitpid(mid, &status, 0), mid);
        ck_assert(process_wait_exit(worker, GENEROUS, &status));
        ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        (void) unlink(mark);
        (void) unlink(hanging);
        close(p[0]);
        close(p[1]);
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("deadline");
        TCase *tc = test_tcase("deadline");

        tcase_add_test(tc, deadline_result);
        tcase_add_test(tc, deadline_error);
        tcase_add_test(tc, deadline_timeout);
        tcase_add_test(tc, deadline_crash);
        tcase_add_test(tc, deadline_payload);
        tcase_add_test(tc, deadline_timed_out_flag);
        tcase_add_test(tc, worker_begun_early);
        tcase_add_test(tc, worker_dies_with_parent);
        suite_add_tcase(s, tc);

        tc = test_tcase("spawn");
        tcase_add_test(tc, spawn_true_false);
        tcase_add_test(tc, spawn_output);
        tcase_add_test(tc, sigchld_ignored);
        tcase_add_test(tc, spawn_environment);
        tcase_add_test(tc, spawn_timeout);
        tcase_add_test(tc, spawn_background_child);
        tcase_add_test(tc, spawn_errors);
        tcase_add_test(tc, spawn_tools);
        tcase_add_test(tc, timeouts_format);
        tcase_add_test(tc, wait_exit);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(suite());
}
