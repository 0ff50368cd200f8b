/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The hook front: what libvirt runs for every operation of every domain.
 *
 * It links nothing but libc. It reads the domain XML from stdin and decides,
 * with one memmem(), whether the domain could carry our policy. Most calls
 * end here with exit 0. Only when there is work (a domain with policy on
 * prepare/release, a journal to replay, or a subcommand) does it exec the
 * engine, which loads libxml2, libkmod and, when needed, libvirt. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fastscan.h"

#define XML_MAX (16U * 1024U * 1024U)
#define STATE_DIR_DEFAULT "/run/vfio-hook"

static const char *const subcommands[] = {
        "check", "plan", "status", "restore", "help", "--help", "-h", "--version",
};

static bool is_subcommand(const char *s) {
        for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
                if (strcmp(s, subcommands[i]) == 0)
                        return true;
        return false;
}

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

/* Reads all of stdin. Returns the length, or -1 with errno set; sets
 * *too_big (and drains the rest) past XML_MAX. */
static ssize_t read_stdin(char **ret, bool *too_big) {
        size_t size = 0, alloc = 64 * 1024;
        char *buf = malloc(alloc);
        if (!buf)
                return -1;
        *too_big = false;
        for (;;) {
                if (size == alloc) {
                        if (alloc >= XML_MAX) {
                                char sink[65536];
                                *too_big = true;
                                while (read(STDIN_FILENO, sink, sizeof sink) > 0)
                                        ;
                                break;
                        }
                        alloc *= 2;
                        char *nb = realloc(buf, alloc);
                        if (!nb) {
                                free(buf);
                                return -1;
                        }
                        buf = nb;
                }
                ssize_t n = read(STDIN_FILENO, buf + size, alloc - size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EBADF) /* no stdin at all: an empty document */
                                break;
                        free(buf);
                        return -1;
                }
                if (n == 0)
                        break;
                size += (size_t) n;
        }
        *ret = buf;
        return (ssize_t) size;
}

/* Hand what we read to the engine as its stdin. */
static int replace_stdin(const char *buf, size_t len) {
        int fd = memfd_create("vfio-hook-domain-xml", MFD_CLOEXEC);
        if (fd < 0)
                return -1;
        for (size_t off = 0; off < len;) {
                ssize_t n = write(fd, buf + off, len - off);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        close(fd);
                        return -1;
                }
                off += (size_t) n;
        }
        if (lseek(fd, 0, SEEK_SET) < 0 || dup2(fd, STDIN_FILENO) < 0) {
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
 * names our namespace (nothing may stay detached). One stat(). */
static bool journal_exists(int argc, char **argv) {
        const char *dir = STATE_DIR_DEFAULT;
        for (int i = 4; i + 1 < argc; i++)
                if (strcmp(argv[i], "--state-dir") == 0)
                        dir = argv[i + 1];
        if (!name_is_safe(argv[1]))
                return false;
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s.journal", dir, argv[1]) >= (int) sizeof path)
                return false;
        struct stat st;
        return stat(path, &st) == 0;
}

int main(int argc, char **argv) {
        const char *base = strrchr(argv[0], '/');
        base = base ? base + 1 : argv[0];

        if (argc >= 2 && is_subcommand(argv[1]) && strcmp(base, "qemu") != 0)
                return exec_engine(argv);
        if (argc < 4) {
                fprintf(stderr,
                        "usage: vfio-hook DOMAIN OPERATION SUB-OPERATION [EXTRA]   (as libvirt's qemu hook)\n"
                        "       vfio-hook check|plan|status|restore ...              (see vfio-hook --help)\n");
                return 2;
        }

        const char *op = argv[2], *subop = argv[3];
        bool prepare = strcmp(op, "prepare") == 0 && strcmp(subop, "begin") == 0;
        bool release = strcmp(op, "release") == 0 && strcmp(subop, "end") == 0;

        /* Always drain stdin: libvirt writes the whole XML before it waits. */
        char *xml = NULL;
        bool too_big;
        ssize_t len = read_stdin(&xml, &too_big);
        if (len < 0) {
                fprintf(stderr, "vfio-hook: reading the domain XML from stdin: %s\n", strerror(errno));
                return prepare ? 1 : 0;
        }
        if (!prepare && !release) {
                free(xml);
                return 0;
        }
        if (too_big) {
                free(xml);
                if (!prepare)
                        return 0;
                fprintf(stderr, "vfio-hook: the domain XML on stdin is larger than %u MiB\n", XML_MAX >> 20);
                return 2;
        }

        bool work = fastscan_may_have_policy(xml, (size_t) len) || (release && journal_exists(argc, argv));
        if (!work) {
                free(xml);
                return 0;
        }
        if (replace_stdin(xml, (size_t) len) < 0) {
                fprintf(stderr, "vfio-hook: passing the domain XML on: %s\n", strerror(errno));
                free(xml);
                return 1;
        }
        free(xml);
        return exec_engine(argv);
}
