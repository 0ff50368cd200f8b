/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The hook front: what libvirt runs for every operation of every domain.
 *
 * It links nothing but libc. It reads the domain XML from stdin and decides,
 * with one memmem(), whether the domain could carry our policy. Most calls
 * end here with exit 0. Only when there is work (a domain with policy on
 * prepare/release, a journal to replay, or a subcommand) does it exec the
 * engine, which loads libxml2 and, when needed, libkmod and libvirt. libvirt's
 * call reaches the engine as --hook [OPTIONS] -- NAME OP SUBOP [EXTRA]
 * (cmdline.h): a domain called "status" or "-x" is a domain there too. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "model/domxml.h"
#include "model/fastscan.h"
#include "shared/cmdline.h"
#include "shared/input.h"
#include "shared/util.h"

#define XML_TIMEOUT_USEC ((uint64_t) INPUT_TIMEOUT_SEC * 1000000U)

/* When libvirt ran us (CLOCK_MONOTONIC, µs): the engine logs how long the
 * whole hook took, exec included ("the hook ran N ms"), which is what
 * libvirt waits for and what `make bench` compares. */
static char started[32];

/* The installed engine; else the one beside this binary (a build tree);
 * VFIO_HOOK_ENGINE overrides both (libvirt gives hooks a clean environment). */
static int exec_engine(char **argv) {
        const char *env = getenv("VFIO_HOOK_ENGINE");
        char beside[PATH_MAX];
        const char *engine = env && *env ? env : LIBEXECDIR "/vfio-hook-engine";

        if (!(env && *env) && access(engine, X_OK) < 0) {
                ssize_t n = readlink("/proc/self/exe", beside, sizeof beside - sizeof "/vfio-hook-engine");
                if (n > 0) {
                        beside[n] = 0;
                        char *slash = strrchr(beside, '/');
                        if (slash) {
                                strcpy(slash, "/vfio-hook-engine");
                                engine = beside;
                        }
                }
        }
        argv[0] = (char *) engine;
        execv(engine, argv);
        fprintf(stderr, "vfio-hook: cannot run %s: %s\n", engine, strerror(errno));
        return 1;
}

/* libvirt's call, handed on without a doubt about what is the name:
 * ENGINE --hook [OPTIONS] -- NAME OP SUBOP [EXTRA]. */
static int exec_engine_hook(int argc, char **argv, const HookCall *call, int next) {
        char **args = calloc((size_t) argc + 8, sizeof(char *));
        int n = 0;
        if (!args) {
                fprintf(stderr, "vfio-hook: %s\n", strerror(errno));
                return 1;
        }
        args[n++] = argv[0];
        args[n++] = (char *) "--hook";
        for (int i = next; i < argc; i++)
                args[n++] = argv[i];
        args[n++] = (char *) "--";
        args[n++] = (char *) call->domain;
        args[n++] = (char *) call->op;
        args[n++] = (char *) call->subop;
        if (call->extra)
                args[n++] = (char *) call->extra;
        args[n] = NULL;
        if (started[0])
                (void) setenv("VFIO_HOOK_STARTED_USEC", started, 1);
        int r = exec_engine(args);
        free(args);
        return r;
}

/* Hand what we read to the engine as its stdin. */
static int replace_stdin(const char *buf, size_t len) {
        int fd = memfd_create("vfio-hook-domain-xml", MFD_CLOEXEC);
        if (fd < 0)
                return -1;
        if (write_all(fd, buf, len) < 0 || lseek(fd, 0, SEEK_SET) < 0 || dup2(fd, STDIN_FILENO) < 0) {
                close(fd);
                return -1;
        }
        close(fd); /* dup2 cleared FD_CLOEXEC on the copy */
        return 0;
}

/* A domain name as the engine accepts it in a file name. */
static bool name_is_safe(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > 200 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.@:+-") == n;
}

/* Release must run when a journal exists, even if the live XML no longer
 * names our namespace (nothing may stay detached). One stat(). The state
 * directory is the engine's default unless the options after libvirt's
 * arguments say otherwise (read as the engine reads them). */
static bool journal_exists(int argc, char **argv, const char *domain, int next) {
        Options o = { .state_dir = STATE_DIR_DEFAULT };
        const char *bad;
        int n_pos;
        char **pos = calloc((size_t) argc + 1, sizeof(char *));
        if (!pos)
                return true; /* let the engine decide */
        CmdlineError e = cmdline_parse(argc, argv, next, &o, pos, &n_pos, &bad);
        free(pos);
        if (e != CMDLINE_OK)
                return true; /* the engine says what is wrong */
        if (!name_is_safe(domain))
                return false;
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s.journal", o.state_dir, domain) >= (int) sizeof path)
                return false;
        struct stat st;
        return stat(path, &st) == 0;
}

int main(int argc, char **argv) {
        HookCall call;
        int next;

        struct timespec ts;
        if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0)
                snprintf(started, sizeof started, "%llu",
                         (unsigned long long) ts.tv_sec * 1000000U + (unsigned long long) ts.tv_nsec / 1000U);

        if (!cmdline_hook_call(argc, argv, &call, &next)) {
                if (argc >= 1 && cmdline_called_as_hook(argv[0])) {
                        fprintf(stderr, "vfio-hook: %s is libvirt's hook: libvirt runs it as %s DOMAIN OPERATION "
                                        "SUB-OPERATION EXTRA (the command line is vfio-hook --help)\n",
                                argv[0], argv[0]);
                        return 2;
                }
                return exec_engine(argv); /* the command line: the engine reads it */
        }

        bool prepare = strcmp(call.op, "prepare") == 0 && strcmp(call.subop, "begin") == 0;
        bool release = strcmp(call.op, "release") == 0 && strcmp(call.subop, "end") == 0;

        /* On release the journal is the authority: when there is one, the
         * engine replays it whatever stdin holds, and reads the XML itself
         * (within the same bounds) only for its <timeout>. */
        if (release && journal_exists(argc, argv, call.domain, next))
                return exec_engine_hook(argc, argv, &call, next);

        /* Read stdin (libvirt writes the whole XML), up to the size and time
         * limits: a stdin that never ends must not keep the hook. */
        char *xml = NULL, why[128];
        size_t len = 0;
        int r = input_read(STDIN_FILENO, DOMXML_MAX_SIZE, XML_TIMEOUT_USEC, &xml, &len);
        if (!prepare) {
                free(xml);
                return 0;
        }
        if (r == -EBADF)
                return 0; /* no stdin at all: an empty document, no policy */
        if (r < 0) {
                fprintf(stderr, "vfio-hook: the domain XML on stdin %s\n",
                        input_strerror(r, DOMXML_MAX_SIZE, XML_TIMEOUT_USEC, why, sizeof why));
                return r == -EFBIG || r == -ETIME ? 2 : 1;
        }
        if (!fastscan_may_have_policy(xml, len)) {
                free(xml);
                return 0;
        }
        if (replace_stdin(xml, len) < 0) {
                fprintf(stderr, "vfio-hook: passing the domain XML on: %s\n", strerror(errno));
                free(xml);
                return 1;
        }
        free(xml);
        return exec_engine_hook(argc, argv, &call, next);
}
