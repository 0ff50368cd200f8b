/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "shared/sysroot.h"

/* A fake host tree (tests/fakehost.h) in a scratch directory of the build
 * tree, opened as a sysroot: what the check, plan and facts suites read. */
typedef struct Host {
        char *tmp;  /* the scratch directory (NULL: not the test's to remove) */
        char *root; /* tmp/host: the tree */
        Sysroot *sr;
} Host;

/* A scratch directory and the tree's path in it; no tree yet, no sysroot. */
void host_new(Host *h);

/* (Re)opens h->root as h->sr. */
void host_open_sysroot(Host *h);

/* A tree from a fixture of tests/data (NAME.host; NULL: none) with extra
 * spec lines after it (NULL: none), opened. */
void host_build(Host *h, const char *fixture, const char *extra);

/* Closes the sysroot and removes the scratch directory. */
void host_done(Host *h);
