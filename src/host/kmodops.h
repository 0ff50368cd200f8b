/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "shared/macro.h"

/* Removing and loading kernel modules with libkmod, for the real host.
 *
 * Removal is kmod_module_remove_module(mod, 0): no KMOD_REMOVE_FORCE.
 * libkmod always adds KMOD_REMOVE_NOWAIT (O_NONBLOCK), and kernels since
 * 3.13 never wait in delete_module() anyway, so a module that is in use
 * fails at once with EAGAIN (refcount or holders) or EBUSY (still loading
 * or unloading) instead of blocking; we retry those with a growing interval
 * (10 ms up to 200 ms) until the deadline. Holders are the caller's
 * business: this removes exactly one module.
 *
 * Loading is kmod_module_new_from_lookup() + kmod_module_probe_insert_module()
 * like modprobe: options from modprobe.d and the command line, softdeps and
 * dependencies apply; the blacklist does NOT (a blacklisted GPU module that
 * was loaded before must come back); a loaded or built-in module is
 * success. `install` commands of modprobe.d are honoured as modprobe does,
 * run as /bin/sh -c under the deadline with subprocess.h's clean environment
 * (plus MODPROBE_MODULE): they are root's configuration, never input.
 *
 * Both run in a deadline_run() child: a module's init or exit function
 * that hangs in the kernel becomes -ETIME, not a hung hook. */

typedef struct KmodOps KmodOps;

/* kmod_new(NULL, NULL) + kmod_load_resources() (a missing index, e.g. no
 * /lib/modules/$(uname -r), is not an error: libkmod then reads files). */
int kmodops_new(KmodOps **ret, char **ret_error);
KmodOps *kmodops_free(KmodOps *k);
static inline void kmodops_freep(KmodOps **k) {
        kmodops_free(*k);
}
#define _cleanup_kmodops_ _cleanup_(kmodops_freep)

/* 0 when removed; -ENOENT when not loaded; -EOPNOTSUPP when built into the
 * kernel (nothing to do: note it); -ETIME when still in use at the
 * deadline; another negative errno otherwise. Errors read
 * "removing module NAME: ...". */
int kmodops_remove(KmodOps *k, const char *name, usec_t timeout, char **ret_error);

/* 0 when loaded (or already loaded, or built in); -ENOENT when there is no
 * such module for the running kernel. Errors read "loading module NAME: ...". */
int kmodops_load(KmodOps *k, const char *name, usec_t timeout, char **ret_error);

/* The modules that claim a modalias ("pci:v000010DEd00002484sv..."), as
 * modprobe would find them (modules.alias, and built-in ones): names with
 * '_', NULL-terminated, possibly none. -EINVAL on an alias with a blank or
 * a control character. */
int kmodops_alias_modules(KmodOps *k, const char *alias, char ***ret, char **ret_error);
