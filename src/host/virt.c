/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dlfcn.h>
#include <stddef.h>

#include "host/virt.h"
#include "shared/subprocess.h"
#include "shared/util.h"

#define SYM(n) { #n, offsetof(VirtLib, n) }

static const struct {
        const char *name;
        size_t offset;
} virt_symbols[] = {
        SYM(virInitialize),
        SYM(virSetErrorFunc),
        SYM(virGetLastErrorMessage),
        SYM(virGetLastErrorCode),
        SYM(virConnectOpen),
        SYM(virConnectOpenReadOnly),
        SYM(virConnectClose),
        SYM(virNodeDeviceLookupByName),
        SYM(virNodeDeviceDetachFlags),
        SYM(virNodeDeviceReAttach),
        SYM(virNodeDeviceFree),
        SYM(virDomainLookupByName),
        SYM(virDomainGetXMLDesc),
        SYM(virDomainIsActive),
        SYM(virDomainFree),
        SYM(virDomainDefineXML),
        SYM(virDomainSetMetadata),
        SYM(virDomainIsPersistent),
};

int virt_load(const char *soname, VirtLib *ret, char **ret_error) {
        VirtLib v = {};

        if (ret_error)
                *ret_error = NULL;
        if (!soname)
                soname = LIBVIRT_SONAME;

        /* NODELETE: libvirt keeps thread-local data and handlers that must
         * not point into an unmapped library. */
        (void) dlerror();
        v.dl = dlopen(soname, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        if (!v.dl) {
                const char *e = dlerror();
                return errorf(ret_error, -EOPNOTSUPP, "%s not found: install libvirt0 (%s)", soname,
                              e ? e : "dlopen() failed");
        }

        for (size_t i = 0; i < ELEMENTSOF(virt_symbols); i++) {
                (void) dlerror();
                void *p = dlsym(v.dl, virt_symbols[i].name);
                if (!p) {
                        const char *e = dlerror();
                        int r = errorf(ret_error, -EOPNOTSUPP, "%s lacks %s: libvirt too old? (%s)", soname,
                                       virt_symbols[i].name, e ? e : "no such symbol");
                        dlclose(v.dl);
                        return r;
                }
                memcpy((char *) &v + virt_symbols[i].offset, &p, sizeof p);
        }

        *ret = v;
        return 0;
}

void virt_unload(VirtLib *v) {
        if (v && v->dl)
                dlclose(v->dl);
        if (v)
                *v = (VirtLib) {};
}

static void silent_error_handler(void *userdata, virErrorPtr error) {
}

int virt_init(VirtLib *v, char **ret_error) {
        if (ret_error)
                *ret_error = NULL;
        /* Before anything else: libvirt prints every error on stderr unless
         * told otherwise, and we report errors ourselves. */
        v->virSetErrorFunc(NULL, silent_error_handler);
        if (v->virInitialize() < 0)
                return errorf(ret_error, -EIO, "cannot initialize libvirt: %s", virt_last_error(v));
        return 0;
}

const char *virt_last_error(VirtLib *v) {
        const char *m = v->virGetLastErrorMessage ? v->virGetLastErrorMessage() : NULL;
        return m ? m : "unknown libvirt error";
}
