/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "host/hostops.h"
#include "model/domxml.h"
#include "model/journal.h"
#include "model/lifetime.h"
#include "shared/sysroot.h"

/* The lifetime steps on a host (docs/design.md, "For the guest's
 * lifetime"): making them, undoing them and checking they are undone.
 * systemd is reached through HostOps only. */

/* One step of prepare. record() journals the step before the change (orig
 * may be NULL), done() after it. */
typedef struct LifetimeRun {
        Sysroot *sr;
        HostOps *ops;
        const Domain *d;
        const LifetimeFacts *facts;
        int state_fd;             /* the other domains' journals */
        usec_t timeout;
        int (*record)(void *userdata, StepAction a, const char *target, const char *orig);
        int (*done)(void *userdata);
        void *userdata;
} LifetimeRun;

int lifetime_step(const LifetimeRun *lr, StepAction a, const char *target, char **ret_error);

/* Undo one journaled step, looking at the host first. */
int lifetime_undo(Sysroot *sr, HostOps *ops, const JournalStep *s, usec_t timeout, char **ret_error);
/* Whether its change is undone now. state_fd and domain: the other
 * domains' journals, whose pages stay in a shared pool. */
bool lifetime_undone(Sysroot *sr, HostOps *ops, int state_fd, const char *domain, const JournalStep *s);
