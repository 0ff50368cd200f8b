/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dlfcn.h>
#include <stddef.h>

#include "kmodlib.h"
#include "subprocess.h"

#define SYM(n) { #n, offsetof(KmodLib, n) }

static const struct {
        const char *name;
        size_t offset;
} kmodlib_symbols[] = {
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
        KmodLib l = {};

        if (ret_error)
                *ret_error = NULL;
        (void) dlerror();
        l.dl = dlopen(LIBKMOD_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        if (!l.dl) {
                const char *e = dlerror();
                return errorf(ret_error, -EOPNOTSUPP, "%s not found: install libkmod2 (%s)", LIBKMOD_SONAME,
                              e ? e : "dlopen() failed");
        }
        for (size_t i = 0; i < ELEMENTSOF(kmodlib_symbols); i++) {
                (void) dlerror();
                void *p = dlsym(l.dl, kmodlib_symbols[i].name);
                if (!p) {
                        const char *e = dlerror();
                        int r = errorf(ret_error, -EOPNOTSUPP, "%s lacks %s: libkmod too old? (%s)", LIBKMOD_SONAME,
                                       kmodlib_symbols[i].name, e ? e : "no such symbol");
                        dlclose(l.dl);
                        return r;
                }
                memcpy((char *) &l + kmodlib_symbols[i].offset, &p, sizeof p);
        }
        *ret = l;
        return 0;
}
