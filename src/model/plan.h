/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdio.h>

#include "model/decide.h"
#include "model/facts.h"

/* The ordered steps `prepare` takes for a domain on a host, why, what it
 * leaves as it is and why, and the problems that would stop it. Pure:
 * built from a Domain and HostFacts. */

typedef struct Step {
        StepAction action;
        char *target;     /* unit, "vtcon1", "efi-framebuffer.0", module, "0000:01:00.0" */
} Step;

typedef struct Problem {
        char *code;       /* "device-not-found", "not-endpoint", "group-not-viable", ... */
        char *message;
        bool bad_input;   /* the policy asks for what the host cannot do: exit 2 */
} Problem;

typedef struct Plan {
        char *domain;
        Step *steps;
        size_t n_steps;
        Problem *problems;
        size_t n_problems;
        char **notes;     /* information: builtin modules, no IOMMU, ... */
        Decisions decisions; /* every step's reason, every resource kept and why */
} Plan;

const char *step_action_to_string(StepAction a);
int step_action_from_string(const char *s, StepAction *ret);

void plan_done(Plan *p);
int plan_add_problem(Plan *p, const char *code, const char *fmt, ...) _printf_(3, 4);
int plan_add_note(Plan *p, const char *fmt, ...) _printf_(2, 3);
int plan_build(const Domain *d, const HostFacts *f, Plan *ret);

/* For parts of the plan built elsewhere (sriovplan.h). */
int plan_add_problem_text(Plan *p, bool bad_input, const char *code, const char *message);
int plan_add_note_text(Plan *p, const char *note);
/* Puts the decisions of first before the plan's and those of last (may be
 * NULL) after them, in prepare's order; their lists move into the plan. */
int plan_insert_decisions(Plan *p, Decisions *first, Decisions *last);
/* Some problem is in the policy itself (EXIT_BAD_INPUT, nothing changed). */
bool plan_bad_input(const Plan *p);

/* The reason of a step (decide.h). */
const char *plan_step_reason(const Plan *p, const Step *s);

/* The processes of f->holders that hold up the hand-off, per the plan. */
bool plan_holder_counts(const Plan *p, const Holder *h);

/* Text: the steps, each with its reason, what stays and why, holders
 * with their unit or session, notes, problems.
 * JSON: {"domain", "steps": [{"action", "target", "reason"}],
 *        "decisions": [{"resource", "kind", "action": "take"|"keep", "reason"}],
 *        "problems": [{"code", "message"}],
 *        "holders": [{"pid", "command", "path", "unit"}], "notes"} */
void plan_print_text(const Plan *p, const HostFacts *f, FILE *out);
void plan_print_json(const Plan *p, const HostFacts *f, FILE *out);
