/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libkmod.h>

#include "shared/macro.h"

/* libkmod, opened with dlopen() on the first module operation: the engine
 * runs on every hand-off, and most never load or unload a module; linked,
 * libkmod (with libcrypto, libzstd and liblzma behind it) was a third of
 * the engine's start. As with libvirt (virt.h) and sd-bus (sdbus.h), only
 * the header is used at build time; the functions are looked up into a
 * table typed from <libkmod.h>. */

typedef struct KmodLib {
        void *dl;
        __typeof__(kmod_new) *kmod_new;
        __typeof__(kmod_unref) *kmod_unref;
        __typeof__(kmod_set_log_fn) *kmod_set_log_fn;
        __typeof__(kmod_load_resources) *kmod_load_resources;
        __typeof__(kmod_list_next) *kmod_list_next;
        __typeof__(kmod_module_new_from_name) *kmod_module_new_from_name;
        __typeof__(kmod_module_new_from_lookup) *kmod_module_new_from_lookup;
        __typeof__(kmod_module_get_module) *kmod_module_get_module;
        __typeof__(kmod_module_get_name) *kmod_module_get_name;
        __typeof__(kmod_module_get_holders) *kmod_module_get_holders;
        __typeof__(kmod_module_get_refcnt) *kmod_module_get_refcnt;
        __typeof__(kmod_module_get_initstate) *kmod_module_get_initstate;
        __typeof__(kmod_module_remove_module) *kmod_module_remove_module;
        __typeof__(kmod_module_probe_insert_module) *kmod_module_probe_insert_module;
        __typeof__(kmod_module_unref) *kmod_module_unref;
        __typeof__(kmod_module_unref_list) *kmod_module_unref_list;
} KmodLib;

#define LIBKMOD_SONAME "libkmod.so.2"

/* kmod_list_foreach() of <libkmod.h>, through the table. */
#define kmodlib_list_foreach(l, entry, first) \
        for ((entry) = (first); (entry); (entry) = (l)->kmod_list_next((first), (entry)))

/* Opens LIBKMOD_SONAME (RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) and
 * resolves the functions above: -EOPNOTSUPP and one line when it cannot. */
int kmodlib_load(KmodLib *ret, char **ret_error);
