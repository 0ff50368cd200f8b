/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "macro.h"
#include "domxml.h"
#include "pci.h"

/* libvirt node-device detach/reattach of PCI devices, and a domain's XML,
 * each in a deadline_run() child that dlopen()s libvirt (virt.h), connects,
 * makes its one call and exits: the hook process itself never holds libvirt
 * state, and a libvirt that does not answer becomes an error naming the
 * device, not a hook that hangs (libvirt waits for the hook for ever). */

#define NODEDEV_URI "qemu:///system"

/* virNodeDeviceDetachFlags(dev, "vfio", 0) on the device "pci_DDDD_BB_SS_F".
 * Errors are one line: "detaching 0000:01:00.0: <libvirt's message>",
 * "detaching 0000:01:00.0: libvirt did not answer within 30 s" (-ETIME).
 * -ENODEV when libvirt does not know the device. */
int nodedev_detach(const char *uri, const PciAddr *a, usec_t timeout, char **ret_error);

/* virNodeDeviceReAttach(dev): "reattaching 0000:01:00.0: ..." */
int nodedev_reattach(const char *uri, const PciAddr *a, usec_t timeout, char **ret_error);

/* Whether the domain runs (virDomainIsActive over a read-only connection):
 * 1 or 0 (0 too when libvirt knows no such domain). Errors read "asking
 * libvirt whether it runs domain NAME: ...". */
int nodedev_domain_active(const char *uri, const char *domain, usec_t timeout, char **ret_error);

/* virDomainGetXMLDesc(dom, 0) over a read-only connection. At most
 * DOMXML_MAX_SIZE bytes. -ENOENT when there is no such domain. Errors read
 * "fetching the XML of domain NAME: ...". */
int nodedev_fetch_domain_xml(const char *uri, const char *domain, usec_t timeout, char **ret, char **ret_error);
