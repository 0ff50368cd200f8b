/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdio.h>

#include "host/facts.h"
#include "host/hostops.h"
#include "model/domxml.h"
#include "model/policy.h"
#include "shared/cmdline.h"
#include "shared/exitcode.h"
#include "shared/sysroot.h"

/* prepare, release/restore and status: the steps of a plan made for real,
 * journaled before each change, undone in reverse on failure
 * (the shape of libvirt's virhostdev.c detach with its rollback). */

typedef struct Engine {
        Sysroot *sr;
        HostOps *ops;
        const Config *cfg;       /* root's allowlist for release and restore (NULL: the built-in one) */
        int state_fd;            /* the state directory */
        unsigned abort_after;    /* test knob: SIGKILL ourselves after step N (0: off) */
        const char *domain;      /* whose journal is being written or replayed */
} Engine;

/* Opens (creating with mode 0700 when asked) the state directory and checks
 * that nobody else can write to it: owned by us, not group/other-writable. */
int engine_open_state_dir(const char *path, bool create, int *ret_fd, char **ret_error);

/* Records in f the devices other domains hold (from their journals in
 * state_fd), which go back to their drivers on those domains' release:
 * `plan` shows what prepare would decide with them. d's own journal (the
 * domain runs) is skipped. */
int engine_add_held_devices(int state_fd, const Domain *d, HostFacts *f);

/* Each returns one of the exit codes above, having logged why. */
int engine_prepare(Engine *e, const Domain *d);
/* libvirt's release: the journal replayed (timeout_sec 0: the default). */
int engine_release(Engine *e, const char *domain, unsigned timeout_sec);
/* `vfio-hook restore`: the same, but refused (EXIT_FAILED) while libvirt
 * runs the domain or cannot say whether it does, unless forced. */
int engine_restore(Engine *e, const char *domain, bool force);
int engine_status(Engine *e, bool json, FILE *out);
