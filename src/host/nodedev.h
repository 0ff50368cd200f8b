/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "host/pci.h"
#include "model/domxml.h"
#include "shared/macro.h"

/* libvirt node-device detach/reattach of PCI devices, and a domain's XML,
 * in child processes that dlopen() libvirt (virt.h) and connect: the hook
 * process itself never holds libvirt state, and a libvirt that does not answer becomes an error naming the
 * device, not a hook that hangs (libvirt waits for the hook for ever). */

#define NODEDEV_URI "qemu:///system"

/* A session: one worker process that loads libvirt and connects once, for
 * all the devices of a hand-off, each call under its own deadline (the
 * first one's covers loading libvirt and connecting). When a call's
 * deadline passes the worker is killed (the error names the device), and
 * the next call starts a new one. soname: NULL for libvirt, or a stand-in
 * for tests. nodedev_session_free() ends the worker (SIGKILL: no call is
 * in flight then, and libvirtd drops a client that exits). */
typedef struct NodedevSession NodedevSession;
NodedevSession *nodedev_session_new(const char *uri, const char *soname);
NodedevSession *nodedev_session_free(NodedevSession *s);
/* Starts the worker now: libvirt loads and connects while the caller does
 * the steps before the first device (a hand-off's units and consoles). */
int nodedev_session_begin(NodedevSession *s);
int nodedev_session_detach(NodedevSession *s, const PciAddr *a, usec_t timeout, char **ret_error);
int nodedev_session_reattach(NodedevSession *s, const PciAddr *a, usec_t timeout, char **ret_error);

/* One device in a session of its own; the errors of both forms:
 * virNodeDeviceDetachFlags(dev, "vfio", 0) on the device "pci_DDDD_BB_SS_F".
 * Errors are one line: "detaching 0000:01:00.0: <libvirt's message>",
 * "detaching 0000:01:00.0: libvirt did not answer within 30 s" (-ETIME).
 * -ENODEV when libvirt does not know the device, asked again until the
 * deadline (libvirt learns of a device made a moment ago, a VF, from its
 * udev event). */
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
