/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dlfcn.h>

#include "host/virt.h"
#include "shared/dlib.h"
#include "shared/util.h"

#define SYM(n) DLIB_SYMBOL(VirtLib, n)

static const DlibSymbol virt_symbols[] = {
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
        return dlib_load(soname ? soname : LIBVIRT_SONAME, "libvirt0", "libvirt", virt_symbols,
                         ELEMENTSOF(virt_symbols), ret, sizeof *ret, ret_error);
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
