/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "console.h"
#include "domxml.h"
#include "holders.h"
#include "modules.h"
#include "pci.h"

/* Everything about the host that a plan for one domain depends on, read
 * over a sysroot, changing nothing. The plan is then a pure function of a
 * Domain and these facts. */

typedef enum UnitState {
        UNIT_ABSENT,    /* no such unit */
        UNIT_INACTIVE,
        UNIT_ACTIVE,
        UNIT_UNKNOWN,   /* systemd could not be asked (plan only) */
} UnitState;

typedef struct UnitFact {
        char *name;
        UnitState state;
} UnitFact;

/* How unit states are learnt: systemctl on a live host, the unit files of
 * a tree otherwise (see facts.c). */
typedef int (*UnitStateFn)(const char *unit, UnitState *ret, void *userdata);

typedef struct HostFacts {
        PciDevice **hostdevs;        /* aligned with Domain.hostdevs; NULL: not found */
        size_t n_hostdevs;
        PciDevice **others;          /* other members of the hostdevs' IOMMU groups */
        size_t n_others;
        int n_iommu_groups;
        bool has_display;            /* some hostdev is a display controller */
        VtConsole *vtconsoles;
        size_t n_vtconsoles;
        Framebuffer *framebuffers;
        size_t n_framebuffers;
        Stack stack;                 /* the policy's stack, auto resolved */
        char **stack_roots;          /* modules the stack starts from */
        char **unload_order;         /* loaded modules, holders first */
        char **builtin_modules;      /* part of the stack but built in */
        Holder *holders;
        size_t n_holders;
        UnitFact *units;             /* display manager, then the policy's services */
        size_t n_units;
} HostFacts;

void host_facts_done(HostFacts *f);

/* unit_state may be NULL: units then count as absent. A domain without a
 * policy is gathered with the defaults of an empty <vh:policy/>. Units are
 * the display manager (when stopped by the policy and a hostdev is a display
 * controller), the policy's services, then the resolved stack's services. */
int host_facts_gather(Sysroot *sr, const Domain *d, UnitStateFn unit_state, void *userdata, HostFacts *ret);

/* Unit states from the unit files of a tree: a unit whose file exists under
 * etc/systemd/system, run/systemd/system, lib/systemd/system or
 * usr/lib/systemd/system counts as active (a tree cannot say).
 * userdata is the tree's Sysroot. */
int unit_state_from_tree(const char *unit, UnitState *ret, void *userdata);
