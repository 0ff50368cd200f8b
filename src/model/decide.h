/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "model/domxml.h"
#include "model/facts.h"

/* What prepare changes on the host and what it leaves as it is, each with
 * its reason. `auto` (the default of <console>, <framebuffer> and
 * <display-manager>) applies one rule: a host resource changes only when it
 * depends on a device the domain takes. The same rule decides which modules
 * of the stack go: one is unloaded only when every device it serves goes to
 * the domain. Explicit values mean what they say.
 *
 * Pure: everything comes from the Domain, its Policy and the HostFacts. */

typedef enum StepAction {
        STEP_STOP_UNIT,
        STEP_UNBIND_VTCONSOLE,
        STEP_UNBIND_FRAMEBUFFER,
        STEP_UNLOAD_MODULE,
        STEP_DETACH_DEVICE,
        STEP_CREATE_VFS,      /* sriov_numvfs of a <vfs> PF (first in prepare: sriovplan.h) */
        STEP_RESET_METHOD,    /* reset_method of a <reset> device */
        STEP_START_INHIBITOR,   /* lifetime.h: a logind inhibitor in a transient unit */
        STEP_ISOLATE_CPUS,      /* AllowedCPUs= of a host slice */
        STEP_RAISE_HUGEPAGES,   /* nr_hugepages of a pool */
        _STEP_ACTION_MAX,
} StepAction;

typedef struct Decision {
        StepAction kind;   /* the step that would change it */
        char *resource;    /* "display-manager.service", "vtcon1", "efi-framebuffer.0", "nvidia", "0000:01:00.0" */
        bool take;         /* changed by prepare (a step), or kept as it is */
        char *reason;      /* one line: "display-manager.service stays: ..." */
        const char *why;   /* the reason without "RESOURCE stays: ", inside reason */
} Decision;

typedef struct Decisions {
        Decision *list;    /* in the order of prepare's steps */
        size_t n;
        /* Processes holding these nodes, or nodes under these prefixes, stop
         * the hand-off (or are terminated): the domain's device nodes, each
         * NVIDIA GPU's /dev/nvidiaN, and the nodes of modules that go
         * (/dev/nvidia*, /dev/kfd). */
        char **holder_paths;
        char **holder_prefixes;
        char *console;     /* what draws the console ("fb0 (i915drmfb) of 0000:00:02.0"), NULL: unknown */
        char **notes;
} Decisions;

void decisions_done(Decisions *ds);

int decide(const Domain *d, const Policy *p, const HostFacts *f, Decisions *ret);

const Decision *decisions_find(const Decisions *ds, StepAction kind, const char *resource);
/* Whether a process holding path holds up the hand-off. */
bool decisions_holder_counts(const Decisions *ds, const char *path);

/* Appends a decision (reason is taken, even on failure). */
int decisions_add(Decisions *ds, StepAction kind, const char *resource, bool take, char *reason);

/* "unit", "vtconsole", "framebuffer", "module", "device", "vfs", "reset",
 * "inhibitor", "cpus", "hugepages". */
const char *decision_kind_to_string(StepAction kind);
