/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "shared/macro.h"

/* A library opened with dlopen() into a table of function pointers typed
 * from its header (virt.h, sdbus.h, kmodlib.h): the table is a struct
 * whose first member is the handle (void *dl), and each symbol names the
 * offset of its pointer there. */

typedef struct DlibSymbol {
        const char *name;
        size_t offset;
} DlibSymbol;

#define DLIB_SYMBOL(type, n) { #n, offsetof(type, n) }

/* Opens soname (RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE: libraries keep
 * thread-local data and handlers that must not point into an unmapped
 * library) and fills table, of size bytes (its handle first, then each
 * symbol); all zeros when it fails.
 * -EOPNOTSUPP and one line when it cannot: "SONAME not found: install
 * PACKAGE (...)", "SONAME lacks SYMBOL: LIBRARY too old? (...)". */
int dlib_load(const char *soname, const char *package, const char *library, const DlibSymbol *symbols, size_t n,
              void *table, size_t size, char **ret_error);
