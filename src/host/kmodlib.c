/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "host/kmodlib.h"
#include "shared/dlib.h"
#include "shared/util.h"

#define SYM(n) DLIB_SYMBOL(KmodLib, n)

static const DlibSymbol kmodlib_symbols[] = {
        SYM(kmod_new),
        SYM(kmod_unref),
        SYM(kmod_set_log_fn),
        SYM(kmod_load_resources),
        SYM(kmod_list_next),
        SYM(kmod_module_new_from_name),
        SYM(kmod_module_new_from_lookup),
        SYM(kmod_module_get_module),
        SYM(kmod_module_get_name),
        SYM(kmod_module_get_holders),
        SYM(kmod_module_get_refcnt),
        SYM(kmod_module_get_initstate),
        SYM(kmod_module_remove_module),
        SYM(kmod_module_probe_insert_module),
        SYM(kmod_module_unref),
        SYM(kmod_module_unref_list),
};

int kmodlib_load(KmodLib *ret, char **ret_error) {
        return dlib_load(LIBKMOD_SONAME, "libkmod2", "libkmod", kmodlib_symbols, ELEMENTSOF(kmodlib_symbols), ret,
                         sizeof *ret, ret_error);
}
