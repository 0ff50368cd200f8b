/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dlfcn.h>

#include "shared/dlib.h"
#include "shared/util.h"

int dlib_load(const char *soname, const char *package, const char *library, const DlibSymbol *symbols, size_t n,
              void *table, size_t size, char **ret_error) {
        memset(table, 0, size);
        if (ret_error)
                *ret_error = NULL;
        (void) dlerror();
        void *dl = dlopen(soname, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        if (!dl) {
                const char *e = dlerror();
                return errorf(ret_error, -EOPNOTSUPP, "%s not found: install %s (%s)", soname, package,
                              e ? e : "dlopen() failed");
        }
        for (size_t i = 0; i < n; i++) {
                (void) dlerror();
                void *p = dlsym(dl, symbols[i].name);
                if (!p) {
                        const char *e = dlerror();
                        int r = errorf(ret_error, -EOPNOTSUPP, "%s lacks %s: %s too old? (%s)", soname,
                                       symbols[i].name, library, e ? e : "no such symbol");
                        dlclose(dl);
                        memset(table, 0, size);
                        return r;
                }
                memcpy((char *) table + symbols[i].offset, &p, sizeof p);
        }
        memcpy(table, &dl, sizeof dl);
        return 0;
}
