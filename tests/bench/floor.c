/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The floor of the fast-path benchmark: a program that only reads its
 * stdin (the domain XML) to the end and exits 0, as any hook must. Built by
 * bench.sh with `cc -O2`; built again linked against libvirt, libxml2 and
 * libkmod (-Wl,--no-as-needed) it shows what linking them the usual way
 * costs a hook before it does anything. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

int main(void) {
        size_t size = 0, alloc = 64 * 1024;
        char *buf = malloc(alloc);
        if (!buf)
                return 1;
        for (;;) {
                if (size == alloc) {
                        char *nb = realloc(buf, alloc *= 2);
                        if (!nb)
                                return 1;
                        buf = nb;
                }
                ssize_t n = read(STDIN_FILENO, buf + size, alloc - size);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                size += (size_t) n;
        }
        free(buf);
        return 0;
}
