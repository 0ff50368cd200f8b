/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* A kernel module as the hook knows it, and the rule for module names
 * (host/modules.h reads them). */

/* MODULE_NAME_LEN is 64 - sizeof(unsigned long), with the NUL. */
#define MODULE_NAME_MAX 55U

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
