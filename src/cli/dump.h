/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "host/facts.h"
#include "model/policy.h"
#include "shared/sysroot.h"

/* `vfio-hook dump [FILE]`: a tar archive of exactly what vfio-hook reads on
 * this host, laid out as the host is (sys/, proc/, dev/kmsg, etc/, lib/,
 * run/, usr/share/misc/pci.ids) under one top directory, so that once
 * extracted it is a tree for --sysroot: `plan --sysroot DIR --xml FILE` and
 * `check --sysroot DIR` answer as they do on the host. What it holds and
 * leaves out: docs/design.md, "The dump". */

/* The dump's own record at the top of the tree: what made it, and the state
 * systemd gave for each unit a plan may ask about ("unit NAME STATE"). */
#define DUMP_INFO_FILE "vfio-hook-dump"

/* A UnitStateFn (facts.h) for a tree: the state a dump recorded, when the
 * tree is a dump (a unit it did not record is UNIT_UNKNOWN); else
 * unit_state_from_tree(). userdata: the Sysroot. */
int dump_unit_state(const char *unit, UnitState *ret, void *userdata);

/* Writes the dump of sr to file ("-": stdout, refused on a terminal;
 * NULL: vfio-hook-dump-DATE.tar in the current directory). A file that
 * exists is never replaced; the new one is created 0600. Unit states come
 * from unit_state(userdata); cfg (may be NULL) adds the services root
 * allows; the journals in state_dir (may be NULL) go to STATE_DIR_IN_TREE.
 * Logs one line per problem; returns EXIT_OK, EXIT_FAILED or
 * EXIT_BAD_INPUT (exitcode.h). */
int dump_command(Sysroot *sr, const Config *cfg, UnitStateFn unit_state, void *userdata, const char *state_dir,
                 const char *file);
