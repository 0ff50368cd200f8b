/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dlfcn.h>
#include <stddef.h>

#include "host/sdbus.h"
#include "shared/subprocess.h"
#include "shared/util.h"

#define SYM(n) { #n, offsetof(SdBusLib, n) }

static const struct {
        const char *name;
        size_t offset;
} sdbus_symbols[] = {
        SYM(sd_bus_new),
        SYM(sd_bus_set_address),
        SYM(sd_bus_start),
        SYM(sd_bus_open_system),
        SYM(sd_bus_flush_close_unref),
        SYM(sd_bus_message_new_method_call),
        SYM(sd_bus_message_append),
        SYM(sd_bus_message_read),
        SYM(sd_bus_message_unref),
        SYM(sd_bus_call),
        SYM(sd_bus_process),
        SYM(sd_bus_wait),
        SYM(sd_bus_match_signal),
        SYM(sd_bus_slot_unref),
        SYM(sd_bus_error_free),
        SYM(sd_bus_error_has_name),
};

int sdbus_load(SdBusLib *ret, char **ret_error) {
        SdBusLib l = {};

        if (ret_error)
                *ret_error = NULL;
        (void) dlerror();
        l.dl = dlopen(LIBSYSTEMD_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        if (!l.dl) {
                const char *e = dlerror();
                return errorf(ret_error, -EOPNOTSUPP, "%s not found: install libsystemd0 (%s)", LIBSYSTEMD_SONAME,
                              e ? e : "dlopen() failed");
        }
        for (size_t i = 0; i < ELEMENTSOF(sdbus_symbols); i++) {
                (void) dlerror();
                void *p = dlsym(l.dl, sdbus_symbols[i].name);
                if (!p) {
                        const char *e = dlerror();
                        int r = errorf(ret_error, -EOPNOTSUPP, "%s lacks %s: libsystemd too old? (%s)",
                                       LIBSYSTEMD_SONAME, sdbus_symbols[i].name, e ? e : "no such symbol");
                        dlclose(l.dl);
                        return r;
                }
                memcpy((char *) &l + sdbus_symbols[i].offset, &p, sizeof p);
        }
        *ret = l;
        return 0;
}
