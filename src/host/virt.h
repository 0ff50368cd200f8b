/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "shared/macro.h"

/* libvirt, opened with dlopen() only when there is work: linking it costs
 * ~11 ms per exec of the hook (docs/design.md, "The two binaries"). Only its
 * headers are used at build time; the functions we call are looked up with
 * dlsym() into a table typed from <libvirt/libvirt.h>, so that a call with
 * the wrong arguments does not compile.
 *
 * Open it in a deadline_run() child (nodedev.c does): the parent process
 * then never holds libvirt's state or threads. */

typedef struct VirtLib {
        void *dl;
        __typeof__(virInitialize) *virInitialize;
        __typeof__(virSetErrorFunc) *virSetErrorFunc;
        __typeof__(virGetLastErrorMessage) *virGetLastErrorMessage;
        __typeof__(virGetLastErrorCode) *virGetLastErrorCode;
        __typeof__(virConnectOpen) *virConnectOpen;
        __typeof__(virConnectOpenReadOnly) *virConnectOpenReadOnly;
        __typeof__(virConnectClose) *virConnectClose;
        __typeof__(virNodeDeviceLookupByName) *virNodeDeviceLookupByName;
        __typeof__(virNodeDeviceDetachFlags) *virNodeDeviceDetachFlags;
        __typeof__(virNodeDeviceReAttach) *virNodeDeviceReAttach;
        __typeof__(virNodeDeviceFree) *virNodeDeviceFree;
        __typeof__(virDomainLookupByName) *virDomainLookupByName;
        __typeof__(virDomainGetXMLDesc) *virDomainGetXMLDesc;
        __typeof__(virDomainIsActive) *virDomainIsActive;
        __typeof__(virDomainFree) *virDomainFree;
        /* enable, disable */
        __typeof__(virDomainDefineXML) *virDomainDefineXML;
        __typeof__(virDomainSetMetadata) *virDomainSetMetadata;
        __typeof__(virDomainIsPersistent) *virDomainIsPersistent;
} VirtLib;

/* Opens soname (NULL: LIBVIRT_SONAME, "libvirt.so.0") with RTLD_NOW |
 * RTLD_LOCAL | RTLD_NODELETE and resolves every function above. On
 * failure, -EOPNOTSUPP and an error line: "libvirt.so.0 not found: install
 * libvirt0 (...)", or the missing symbol. Does not initialize libvirt:
 * see virt_init(). */
int virt_load(const char *soname, VirtLib *ret, char **ret_error);
void virt_unload(VirtLib *v);

/* virInitialize() and an error handler that keeps libvirt from printing
 * its errors on stderr (we print one line of our own). */
int virt_init(VirtLib *v, char **ret_error);

/* libvirt's last error message, never NULL. */
const char *virt_last_error(VirtLib *v);
