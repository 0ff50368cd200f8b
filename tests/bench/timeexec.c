/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* timeexec: time programs the way libvirt runs its hook, without a shell's
 * measuring loop in the figures.
 *
 *   timeexec [-n RUNS] [-r ROUNDS] [-w WARMUP] [-i FILE] [-m] [-v] [-x STATUS]
 *            LABEL PROGRAM [ARG...] [::: LABEL PROGRAM [ARG...]]...
 *
 * Each run forks, gives the child FILE on its stdin (through a pipe written
 * by the parent after the fork, as libvirt does; -m: a memfd instead) and
 * stdout/stderr on /dev/null (-v: inherited), execs PROGRAM (PATH is
 * searched when it has no '/'), and waits for it with wait4(). The time of
 * a run is CLOCK_MONOTONIC from before fork() to after wait4() returns; its
 * peak RSS is the child's own ru_maxrss from wait4().
 *
 * Several commands are run interleaved, one run of each in turn (the order
 * rotating), so that a change in the machine's load hits all of them alike.
 * WARMUP runs of each come first and are not counted. With ROUNDS, each
 * command runs ROUNDS x RUNS times and the median of each consecutive block
 * of RUNS is printed too, to show how much the figures drift.
 *
 * One line per command on stdout, tab-separated key=value after the label:
 *   LABEL runs=N median_ms= p90_ms= min_ms= max_ms= cpu_med_ms= rss_med_kib=
 *         rss_max_kib= fails=N round_medians_ms=A,B,...
 * (all over the N = ROUNDS x RUNS counted runs; cpu: the child's user +
 * system time from wait4, which a busy machine inflates less than the wall
 * time; rss_max_kib is the peak).
 * fails counts runs that did not exit with STATUS (default 0); the exit
 * status of timeexec is 1 if any run failed, 2 on bad usage.
 *
 * Note on RSS: at exec the kernel folds the old address space's high-water
 * mark into the process's maxrss, so a child's figure includes the few pages
 * it touched between fork and exec; a plain C program measured alongside
 * shows that floor. */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct Cmd {
        const char *label;
        char **argv;
        double *ms, *cpu;
        long *rss;
        int n, fails;
        int last_status;
} Cmd;

static const char *input;
static size_t input_len;
static bool use_memfd, verbose;
static int want_status;
static int devnull = -1;

static void die(const char *what) {
        fprintf(stderr, "timeexec: %s: %s\n", what, strerror(errno));
        exit(2);
}

static int usage(void) {
        fputs("usage: timeexec [-n RUNS] [-r ROUNDS] [-w WARMUP] [-i FILE] [-m] [-v] [-x STATUS]\n"
              "                LABEL PROGRAM [ARG...] [::: LABEL PROGRAM [ARG...]]...\n",
              stderr);
        return 2;
}

static double now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static void read_input(const char *path) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                die(path);
        struct stat st;
        if (fstat(fd, &st) < 0)
                die(path);
        char *buf = malloc((size_t) st.st_size + 1);
        if (!buf)
                die("malloc");
        size_t off = 0;
        for (;;) {
                ssize_t n = read(fd, buf + off, (size_t) st.st_size - off);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        die(path);
                }
                if (n == 0 || (off += (size_t) n) == (size_t) st.st_size)
                        break;
        }
        close(fd);
        input = buf;
        input_len = off;
}

static void write_all(int fd, const char *p, size_t len) {
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return; /* EPIPE: the child did not read it all, as a hook may */
                }
                p += n;
                len -= (size_t) n;
        }
}

/* One run: returns its time; *cpu_ms (user + system), *rss_kib and
 * *status from wait4(). */
static double run_once(char **argv, double *cpu_ms, long *rss_kib, int *status) {
        int in = -1, wr = -1;
        double t0 = now_ms();

        if (use_memfd) {
                in = memfd_create("timeexec-input", MFD_CLOEXEC);
                if (in < 0)
                        die("memfd_create");
                write_all(in, input, input_len);
                if (lseek(in, 0, SEEK_SET) < 0)
                        die("lseek");
        } else {
                int p[2];
                if (pipe2(p, O_CLOEXEC) < 0)
                        die("pipe");
                in = p[0];
                wr = p[1];
        }

        pid_t pid = fork();
        if (pid < 0)
                die("fork");
        if (pid == 0) {
                if (dup2(in, STDIN_FILENO) < 0)
                        _exit(126);
                if (!verbose && (dup2(devnull, STDOUT_FILENO) < 0 || dup2(devnull, STDERR_FILENO) < 0))
                        _exit(126);
                if (strchr(argv[0], '/'))
                        execv(argv[0], argv);
                else
                        execvp(argv[0], argv);
                _exit(127);
        }
        close(in);
        if (wr >= 0) {
                write_all(wr, input, input_len);
                close(wr);
        }

        struct rusage ru;
        pid_t w;
        while ((w = wait4(pid, status, 0, &ru)) < 0 && errno == EINTR)
                ;
        if (w < 0)
                die("wait4");
        double t1 = now_ms();
        *rss_kib = ru.ru_maxrss;
        *cpu_ms = (double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
                  (double) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
        return t1 - t0;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

static int cmp_long(const void *a, const void *b) {
        long x = *(const long *) a, y = *(const long *) b;
        return (x > y) - (x < y);
}

/* The q-quantile by the nearest-rank method (q = 0.5: the median, the mean
 * of the two middle values for an even count). */
static double quantile(const double *sorted, int n, double q) {
        if (q == 0.5 && n % 2 == 0)
                return (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        int k = (int) (q * n + 0.999999);
        if (k < 1)
                k = 1;
        if (k > n)
                k = n;
        return sorted[k - 1];
}

static void describe_status(int st, char *buf, size_t size) {
        if (WIFEXITED(st))
                snprintf(buf, size, "exit %d", WEXITSTATUS(st));
        else if (WIFSIGNALED(st))
                snprintf(buf, size, "signal %d", WTERMSIG(st));
        else
                snprintf(buf, size, "status 0x%x", st);
}

int main(int argc, char **argv) {
        int runs = 200, rounds = 1, warmup = 10, c;
        const char *input_path = NULL;

        while ((c = getopt(argc, argv, "+n:r:w:i:mvx:h")) >= 0)
                switch (c) {
                case 'n':
                        runs = atoi(optarg);
                        break;
                case 'r':
                        rounds = atoi(optarg);
                        break;
                case 'w':
                        warmup = atoi(optarg);
                        break;
                case 'i':
                        input_path = optarg;
                        break;
                case 'm':
                        use_memfd = true;
                        break;
                case 'v':
                        verbose = true;
                        break;
                case 'x':
                        want_status = atoi(optarg);
                        break;
                default:
                        return usage();
                }
        if (runs < 1 || rounds < 1 || warmup < 0 || optind + 2 > argc)
                return usage();

        if (input_path)
                read_input(input_path);
        else
                input = "";

        int total = runs * rounds;

        /* Split the rest into commands at ":::". */
        int max_cmds = argc - optind, n_cmds = 0;
        Cmd *cmds = calloc((size_t) max_cmds, sizeof *cmds);
        if (!cmds)
                die("calloc");
        for (int i = optind; i < argc;) {
                int j = i;
                while (j < argc && strcmp(argv[j], ":::") != 0)
                        j++;
                if (j - i < 2)
                        return usage();
                Cmd *cmd = &cmds[n_cmds++];
                cmd->label = argv[i];
                cmd->argv = &argv[i + 1];
                argv[j < argc ? j : argc] = NULL; /* argv[argc] is NULL already */
                cmd->ms = calloc((size_t) total, sizeof *cmd->ms);
                cmd->cpu = calloc((size_t) total, sizeof *cmd->cpu);
                cmd->rss = calloc((size_t) total, sizeof *cmd->rss);
                if (!cmd->ms || !cmd->cpu || !cmd->rss)
                        die("calloc");
                i = j + 1;
        }

        devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (devnull < 0)
                die("/dev/null");
        signal(SIGPIPE, SIG_IGN);

        for (int r = 0; r < warmup + total; r++)
                for (int k = 0; k < n_cmds; k++) {
                        Cmd *cmd = &cmds[(k + r) % n_cmds];
                        long rss;
                        int st;
                        double cpu;
                        double ms = run_once(cmd->argv, &cpu, &rss, &st);
                        if (r < warmup)
                                continue;
                        cmd->ms[cmd->n] = ms;
                        cmd->cpu[cmd->n] = cpu;
                        cmd->rss[cmd->n] = rss;
                        cmd->n++;
                        if (!WIFEXITED(st) || WEXITSTATUS(st) != want_status) {
                                cmd->fails++;
                                cmd->last_status = st;
                        }
                }

        struct rusage self;
        getrusage(RUSAGE_SELF, &self);
        printf("# parent rss_kib=%ld runs=%d rounds=%d warmup=%d input_bytes=%zu stdin=%s\n", self.ru_maxrss, runs,
               rounds, warmup, input_len, use_memfd ? "memfd" : "pipe");

        int ret = 0;
        for (int k = 0; k < n_cmds; k++) {
                Cmd *cmd = &cmds[k];
                char round_medians[1024] = "";
                for (int q = 0, off = 0; q < rounds && off < (int) sizeof round_medians - 16; q++) {
                        double *block = cmd->ms + (size_t) q * (size_t) runs;
                        qsort(block, (size_t) runs, sizeof *block, cmp_double);
                        off += snprintf(round_medians + off, sizeof round_medians - (size_t) off, "%s%.3f",
                                        q ? "," : "", quantile(block, runs, 0.5));
                }
                qsort(cmd->ms, (size_t) cmd->n, sizeof *cmd->ms, cmp_double);
                qsort(cmd->cpu, (size_t) cmd->n, sizeof *cmd->cpu, cmp_double);
                qsort(cmd->rss, (size_t) cmd->n, sizeof *cmd->rss, cmp_long);
                printf("%s\truns=%d\tmedian_ms=%.3f\tp90_ms=%.3f\tmin_ms=%.3f\tmax_ms=%.3f\tcpu_med_ms=%.3f\t"
                       "rss_med_kib=%ld\trss_max_kib=%ld\tfails=%d\tround_medians_ms=%s\n",
                       cmd->label, cmd->n, quantile(cmd->ms, cmd->n, 0.5), quantile(cmd->ms, cmd->n, 0.9),
                       cmd->ms[0], cmd->ms[cmd->n - 1], quantile(cmd->cpu, cmd->n, 0.5), cmd->rss[cmd->n / 2], cmd->rss[cmd->n - 1], cmd->fails, round_medians);
                if (cmd->fails) {
                        char why[64];
                        describe_status(cmd->last_status, why, sizeof why);
                        fprintf(stderr, "timeexec: %s: %d of %d runs did not exit %d (last: %s)\n", cmd->label,
                                cmd->fails, cmd->n, want_status, why);
                        ret = 1;
                }
        }
        return ret;
}
