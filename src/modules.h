/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sysroot.h"

/* Kernel module facts over a sysroot (sys/module, proc/modules,
 * lib/modules/<release>/modules.builtin) and the unload order. */

typedef enum ModuleState {
        MODULE_ABSENT,   /* not loaded, not built in */
        MODULE_LOADED,
        MODULE_BUILTIN,
} ModuleState;

typedef struct ModuleInfo {
        char *name;
        ModuleState state;
        int refcnt;      /* -1 when unknown or built in */
        char **holders;  /* modules that use this one, sorted */
} ModuleInfo;

void module_info_done(ModuleInfo *m);

/* Module names use [A-Za-z0-9_] (upper case is rare: BusLogic), at most 55
 * characters; '-' is the same as '_' for the kernel. Returns false for
 * anything else. */
bool module_name_valid(const char *name);
/* Canonical form: '-' replaced by '_'. */
void module_name_normalize(char *name);

int module_info_read(Sysroot *sr, const char *name, ModuleInfo *ret);

/* From the given modules, those that are loaded plus every loaded module
 * holding them (transitively), in the order to unload: each module after
 * all of its holders (nvidia: nvidia_drm, nvidia_modeset, nvidia_uvm,
 * nvidia). Built-in modules are left out and returned in *ret_builtin
 * (may be NULL). */
int modules_unload_order(Sysroot *sr, char *const *modules, char ***ret, char ***ret_builtin);
