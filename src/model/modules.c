/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>

#include "model/modules.h"
#include "shared/util.h"

void module_info_done(ModuleInfo *m) {
        if (!m)
                return;
        free(m->name);
        strv_free(m->holders);
        *m = (ModuleInfo) { .refcnt = -1 };
}

bool module_name_valid(const char *name) {
        size_t n = 0;
        if (!name || !*name)
                return false;
        for (; name[n]; n++) {
                unsigned char c = (unsigned char) name[n];
                /* Upper case exists in the wild (BusLogic). */
                if (c > 0x7f || !(isalnum(c) || c == '_' || c == '-'))
                        return false;
                if (n >= MODULE_NAME_MAX)
                        return false;
        }
        return true;
}

void module_name_normalize(char *name) {
        for (; name && *name; name++)
                if (*name == '-')
                        *name = '_';
}
