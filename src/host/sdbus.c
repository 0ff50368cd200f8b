/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dlfcn.h>
#include <stddef.h>

#include "host/sdbus.h"
#include "shared/dlib.h"
#include "shared/util.h"

#define SYM(n) DLIB_SYMBOL(SdBusLib, n)

static const DlibSymbol sdbus_symbols[] = {
        SYM(sd_bus_new),
        SYM(sd_bus_set_address),
        SYM(sd_bus_start),
        SYM(sd_bus_open_system),
        SYM(sd_bus_flush_close_unref),
        SYM(sd_bus_message_new_method_call),
        SYM(sd_bus_message_append),
        SYM(sd_bus_message_read),
        SYM(sd_bus_message_open_container),
        SYM(sd_bus_message_close_container),
        SYM(sd_bus_message_enter_container),
        SYM(sd_bus_message_append_array),
        SYM(sd_bus_message_append_strv),
        SYM(sd_bus_message_read_array),
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
        return dlib_load(LIBSYSTEMD_SONAME, "libsystemd0", "libsystemd", sdbus_symbols, ELEMENTSOF(sdbus_symbols), ret,
                         sizeof *ret, ret_error);
}
