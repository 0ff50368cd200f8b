/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "model/facts.h"
#include "shared/sysroot.h"

/* unit_state may be NULL: units then count as absent. A domain without a
 * policy is gathered with the defaults of an empty <vh:policy/>. Units are
 * the display manager (when a hostdev is a display controller: the plan
 * decides whether it stops), the policy's services, then the resolved
 * stack's services. */
int host_facts_gather(Sysroot *sr, const Domain *d, UnitStateFn unit_state, void *userdata, HostFacts *ret);
/* Unit states from the unit files of a tree: a unit whose file exists under
 * etc/systemd/system, run/systemd/system, lib/systemd/system or
 * usr/lib/systemd/system counts as active (a tree cannot say).
 * userdata is the tree's Sysroot. */
int unit_state_from_tree(const char *unit, UnitState *ret, void *userdata);
