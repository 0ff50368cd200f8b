/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "engine/engine.h"
#include "model/journal.h"

/* The engine's side of <vfs> and <reset> (sriov.h): what release and
 * restore undo, and whether it is undone. e->domain is the domain whose
 * journal is replayed. */

/* The first other domain (by name) whose journal holds a VF of pf, or NULL
 * in *ret_domain; a journal that cannot be read counts as holding one. */
int engine_vfs_held_elsewhere(Engine *e, const PciAddr *pf, char **ret_domain);

/* create-vfs PF COUNT[+autoprobe]: the VFs go (sriov_numvfs 0) unless
 * another domain still holds one of them (the last one out removes them);
 * autoprobe comes back on when prepare turned it off and died meanwhile. */
int engine_undo_create_vfs(Engine *e, const JournalStep *s, char **ret_error);
bool engine_create_vfs_undone(Engine *e, const JournalStep *s);

/* reset-method DEV OLD: OLD written back. */
int engine_undo_reset_method(Engine *e, const JournalStep *s);
bool engine_reset_method_undone(Engine *e, const JournalStep *s);
