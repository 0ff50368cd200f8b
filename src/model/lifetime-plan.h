/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "model/domxml.h"
#include "model/journal.h"
#include "model/lifetime.h"
#include "model/plan.h"

/* The lifetime elements planned against the host's facts, and what the
 * journal and status say of their steps (engine/lifetime-steps.h takes them). */

/* The CPU list of <isolate> against the host: CPUs it lacks, or none left
 * to the host, are bad input (-EINVAL and one line). */
int lifetime_check_host(const Domain *d, const LifetimeFacts *f, char **ret_error);

/* Decisions (put first: prepare takes these steps before the others),
 * problems and notes of the lifetime elements. */
int lifetime_plan(const Domain *d, const LifetimeFacts *f, Plan *p);
bool step_is_lifetime(StepAction a);
const char *lifetime_undo_verb(StepAction a);
void lifetime_missing_phrase(const JournalStep *s, char *buf, size_t size);

/* For status: what the step holds ("inhibitor lock (sleep)", ...). */
void lifetime_describe(const JournalStep *s, char *buf, size_t size);

/* The journal's orig of a lifetime step, checked as untrusted input. */
bool lifetime_orig_valid(StepAction a, const char *orig);
