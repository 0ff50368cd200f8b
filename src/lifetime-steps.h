/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "domxml.h"
#include "hostops.h"
#include "journal.h"
#include "plan.h"
#include "sysroot.h"

/* The lifetime steps on a host (docs/design.md, "For the guest's
 * lifetime"): reading what they depend on, planning them, making them,
 * undoing them and checking they are undone. The engine calls these;
 * systemd is reached through HostOps only. */

/* Online CPUs, MemTotal and the huge-page pools of the policy's size (for
 * each node of the domain's <numatune> nodeset, else the host's). A domain
 * without a lifetime element reads nothing. */
int lifetime_facts_gather(Sysroot *sr, const Domain *d, LifetimeFacts *ret);

/* The CPU list of <isolate> against the host: CPUs it lacks, or none left
 * to the host, are bad input (-EINVAL and one line). */
int lifetime_check_host(const Domain *d, const LifetimeFacts *f, char **ret_error);

/* Decisions (put first: prepare takes these steps before the others),
 * problems and notes of the lifetime elements. */
int lifetime_plan(const Domain *d, const LifetimeFacts *f, Plan *p);

bool step_is_lifetime(StepAction a);

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
const char *lifetime_undo_verb(StepAction a);
void lifetime_missing_phrase(const JournalStep *s, char *buf, size_t size);
/* For status: what the step holds ("inhibitor lock (sleep)", ...). */
void lifetime_describe(const JournalStep *s, char *buf, size_t size);

/* The journal's orig of a lifetime step, checked as untrusted input. */
bool lifetime_orig_valid(StepAction a, const char *orig);
