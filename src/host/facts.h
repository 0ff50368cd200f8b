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

/* Where systemd finds unit files (and aliases such as
 * display-manager.service), below the root and without its '/', in
 * systemd's order for the first four. Those with in_tree are where unit
 * files are installed and enabled: what a tree (dump, check --sysroot)
 * holds and looks at. The others, transient and generated units and
 * /usr/local, are looked at on the live host alone. */
typedef struct UnitDir {
        const char *path;
        bool in_tree;
} UnitDir;
extern const UnitDir unit_dirs[];
extern const size_t n_unit_dirs;

/* Unit states from the unit files of a tree: a unit whose file exists in
 * an in_tree unit_dirs[] entry counts as active (a tree cannot say).
 * userdata is the tree's Sysroot. */
int unit_state_from_tree(const char *unit, UnitState *ret, void *userdata);
