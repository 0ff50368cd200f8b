/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakehost.h"

/* mkhost SPEC DIR: build a fake host tree from a .host spec.
 * mkhost --snapshot DIR: print a tree's snapshot (to compare two trees). */

static int usage(FILE *f) {
        fputs("usage: mkhost SPEC DIR\n"
              "       mkhost --snapshot DIR\n"
              "Builds a fake host tree (sysfs, procfs, /dev, modules, units) from a .host\n"
              "spec into DIR, which must be absent or empty. See tests/data/README.\n",
              f);
        return f == stdout ? 0 : 2;
}

int main(int argc, char *argv[]) {
        int r;

        if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
                return usage(stdout);
        if (argc != 3)
                return usage(stderr);

        if (strcmp(argv[1], "--snapshot") == 0) {
                char *s = NULL;
                r = fakehost_snapshot(argv[2], &s);
                if (r < 0) {
                        fprintf(stderr, "mkhost: %s: %s\n", argv[2], strerror(-r));
                        return 1;
                }
                fputs(s, stdout);
                free(s);
                return 0;
        }

        r = fakehost_build(argv[1], argv[2]);
        if (r < 0) {
                const char *e = fakehost_error();
                fprintf(stderr, "mkhost: %s\n", e[0] ? e : strerror(-r));
                return 1;
        }
        return 0;
}
