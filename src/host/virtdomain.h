/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "shared/macro.h"

/* A domain's persistent definition, read and replaced through libvirt for
 * `vfio-hook enable` and `disable`. As in nodedev.c, each call runs in a
 * deadline_run() child that dlopen()s libvirt, connects and exits.
 *
 * Errors are one line and say what to do: -ENOENT no such domain, -EACCES
 * no permission (the connection or the change), -EMEDIUMTYPE a transient
 * domain (no definition to change), -ESTALE the definition changed since
 * it was read, -ETIME libvirt did not answer. */

#define VIRTDOM_URI "qemu:///system"

typedef struct VirtDomInfo {
        char *xml;      /* virDomainGetXMLDesc(VIR_DOMAIN_XML_INACTIVE [| VIR_DOMAIN_XML_SECURE]) */
        bool active;    /* virDomainIsActive */
} VirtDomInfo;

void virtdom_info_done(VirtDomInfo *i);

/* read_only: a read-only connection, and the XML without secrets (the
 * dry run); else read-write, with them (the XML that will be defined again
 * must keep passwords). */
int virtdom_fetch(const char *uri, const char *domain, bool read_only, usec_t timeout, VirtDomInfo *ret,
                  char **ret_error);

typedef struct VirtDomChange {
        const char *expect_xml;   /* what virtdom_fetch() returned: the change is refused if it is not so anymore */
        const char *xml;          /* virDomainDefineXML() */
        bool set_policy;          /* virDomainSetMetadata(key vh): policy, or none when NULL */
        const char *policy;
        bool set_record;          /* key vhe: the record, or none when NULL */
        const char *record;
} VirtDomChange;

/* Defines c->xml, then sets the metadata asked for (VIR_DOMAIN_AFFECT_CONFIG:
 * removing the last element that way leaves an empty <metadata/> behind, so
 * disable defines the XML without them instead); when
 * a step after the definition fails, the previous definition is defined
 * again. The definition libvirt then keeps (inactive, secure) in *ret_xml. */
int virtdom_change(const char *uri, const char *domain, const VirtDomChange *c, usec_t timeout, char **ret_xml,
                   char **ret_error);
