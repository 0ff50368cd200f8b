/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "shared/macro.h"

/* libsystemd's sd-bus, opened with dlopen() only when a unit must be asked
 * about, stopped or started (docs/design.md, "The two binaries": the hook
 * links nothing it does not need on every call). As with libvirt (virt.h),
 * only the headers are used at build time; the functions are looked up
 * into a table typed from <systemd/sd-bus.h>. */

typedef struct SdBusLib {
        void *dl;
        __typeof__(sd_bus_new) *sd_bus_new;
        __typeof__(sd_bus_set_address) *sd_bus_set_address;
        __typeof__(sd_bus_start) *sd_bus_start;
        __typeof__(sd_bus_open_system) *sd_bus_open_system;
        __typeof__(sd_bus_flush_close_unref) *sd_bus_flush_close_unref;
        __typeof__(sd_bus_message_new_method_call) *sd_bus_message_new_method_call;
        __typeof__(sd_bus_message_append) *sd_bus_message_append;
        __typeof__(sd_bus_message_read) *sd_bus_message_read;
        __typeof__(sd_bus_message_open_container) *sd_bus_message_open_container;
        __typeof__(sd_bus_message_close_container) *sd_bus_message_close_container;
        __typeof__(sd_bus_message_enter_container) *sd_bus_message_enter_container;
        __typeof__(sd_bus_message_append_array) *sd_bus_message_append_array;
        __typeof__(sd_bus_message_append_strv) *sd_bus_message_append_strv;
        __typeof__(sd_bus_message_read_array) *sd_bus_message_read_array;
        __typeof__(sd_bus_message_unref) *sd_bus_message_unref;
        __typeof__(sd_bus_call) *sd_bus_call;
        __typeof__(sd_bus_process) *sd_bus_process;
        __typeof__(sd_bus_wait) *sd_bus_wait;
        __typeof__(sd_bus_match_signal) *sd_bus_match_signal;
        __typeof__(sd_bus_slot_unref) *sd_bus_slot_unref;
        __typeof__(sd_bus_error_free) *sd_bus_error_free;
        __typeof__(sd_bus_error_has_name) *sd_bus_error_has_name;
} SdBusLib;

#define LIBSYSTEMD_SONAME "libsystemd.so.0"

/* Opens LIBSYSTEMD_SONAME (RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) and
 * resolves the functions above: -EOPNOTSUPP and one line when it cannot. */
int sdbus_load(SdBusLib *ret, char **ret_error);
