/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdio.h>

#include "facts.h"

/* The ordered steps `prepare` takes for a domain on a host, and the
 * problems that would stop it. Pure: built from a Domain and HostFacts. */

typedef enum StepAction {
        STEP_STOP_UNIT,
        STEP_UNBIND_VTCONSOLE,
        STEP_UNBIND_FRAMEBUFFER,
        STEP_UNLOAD_MODULE,
        STEP_DETACH_DEVICE,
        _STEP_ACTION_MAX,
} StepAction;

typedef struct Step {
        StepAction action;
        char *target;     /* unit, "vtcon1", "efi-framebuffer.0", module, "0000:01:00.0" */
} Step;

typedef struct Problem {
        char *code;       /* "device-not-found", "not-endpoint", "group-not-viable", ... */
        char *message;
} Problem;

typedef struct Plan {
        char *domain;
        Step *steps;
        size_t n_steps;
        Problem *problems;
        size_t n_problems;
        char **notes;     /* information: builtin modules, no IOMMU, ... */
} Plan;

const char *step_action_to_string(StepAction a);
int step_action_from_string(const char *s, StepAction *ret);

void plan_done(Plan *p);
int plan_build(const Domain *d, const HostFacts *f, Plan *ret);

void plan_print_text(const Plan *p, const HostFacts *f, FILE *out);
void plan_print_json(const Plan *p, const HostFacts *f, FILE *out);
