/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "model/modules.h"
#include "shared/sysroot.h"

/* Kernel module facts over a sysroot (sys/module, proc/modules,
 * lib/modules/<release>/modules.builtin) and the unload order. */

int module_info_read(Sysroot *sr, const char *name, ModuleInfo *ret);

/* From the given modules, those that are loaded plus every loaded module
 * holding them (transitively), in the order to unload: each module after
 * all of its holders (nvidia: nvidia_drm, nvidia_modeset, nvidia_uvm,
 * nvidia). Built-in modules are left out and returned in *ret_builtin
 * (may be NULL). */
int modules_unload_order(Sysroot *sr, char *const *modules, char ***ret, char ***ret_builtin);
