/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "deadline.h"
#include "nodedev.h"
#include "subprocess.h"
#include "virt.h"

typedef enum NodedevAction {
        NODEDEV_DETACH,
        NODEDEV_REATTACH,
        NODEDEV_FETCH_XML,
        NODEDEV_DOMAIN_ACTIVE,
} NodedevAction;

typedef struct NodedevCall {
        NodedevAction action;
        const char *uri;
        const char *name;   /* node device or domain */
} NodedevCall;

/* In the child: it exits right after, so nothing is unloaded or freed
 * beyond what tells libvirtd we are done. */
static int nodedev_child(void *userdata, char **ret_payload, size_t *ret_size, char **ret_error) {
        NodedevCall *c = userdata;
        VirtLib v;
        int r;

        r = virt_load(NULL, &v, ret_error);
        if (r < 0)
                return r;
        r = virt_init(&v, ret_error);
        if (r < 0)
                return r;

        bool read_only = c->action == NODEDEV_FETCH_XML || c->action == NODEDEV_DOMAIN_ACTIVE;
        virConnectPtr conn = read_only ? v.virConnectOpenReadOnly(c->uri) : v.virConnectOpen(c->uri);
        if (!conn)
                return errorf(ret_error, -ECONNREFUSED, "%s", virt_last_error(&v));

        if (c->action == NODEDEV_DOMAIN_ACTIVE) {
                virDomainPtr dom = v.virDomainLookupByName(conn, c->name);
                if (!dom) {
                        /* No such domain (a transient one that is gone): not running. */
                        r = v.virGetLastErrorCode() == VIR_ERR_NO_DOMAIN ? 0
                                                                         : errorf(ret_error, -EIO, "%s", virt_last_error(&v));
                        v.virConnectClose(conn);
                        return r;
                }
                r = v.virDomainIsActive(dom);
                if (r < 0)
                        r = errorf(ret_error, -EIO, "%s", virt_last_error(&v));
                v.virDomainFree(dom);
                v.virConnectClose(conn);
                return r > 0 ? 1 : r;
        }

        if (c->action == NODEDEV_FETCH_XML) {
                virDomainPtr dom = v.virDomainLookupByName(conn, c->name);
                if (!dom) {
                        r = errorf(ret_error, -ENOENT, "%s", virt_last_error(&v));
                        v.virConnectClose(conn);
                        return r;
                }
                char *xml = v.virDomainGetXMLDesc(dom, 0);
                if (!xml)
                        r = errorf(ret_error, -EIO, "%s", virt_last_error(&v));
                else {
                        *ret_payload = xml;
                        *ret_size = strlen(xml);
                        r = 0;
                }
                v.virDomainFree(dom);
                v.virConnectClose(conn);
                return r;
        }

        virNodeDevicePtr dev = v.virNodeDeviceLookupByName(conn, c->name);
        if (!dev) {
                r = errorf(ret_error, -ENODEV, "%s", virt_last_error(&v));
                v.virConnectClose(conn);
                return r;
        }

        if (c->action == NODEDEV_DETACH)
                r = v.virNodeDeviceDetachFlags(dev, "vfio", 0);
        else
                r = v.virNodeDeviceReAttach(dev);
        if (r < 0)
                r = errorf(ret_error, -EIO, "%s", virt_last_error(&v));
        else
                r = 0;

        v.virNodeDeviceFree(dev);
        v.virConnectClose(conn);
        return r;
}

static int run_call(NodedevCall *c, const char *what, usec_t timeout, char **ret_payload, char **ret_error) {
        _cleanup_free_ char *e = NULL;
        char t[FORMAT_TIMEOUT_MAX];
        bool timed_out;
        int r;

        r = deadline_run_payload(nodedev_child, c, timeout, ret_payload ? DOMXML_MAX_SIZE : 0, ret_payload,
                                 NULL, &timed_out, &e);
        if (r >= 0)
                return r;
        if (timed_out)
                return errorf(ret_error, r, "%s: libvirt did not answer within %s", what,
                              format_timeout(timeout, t, sizeof t));
        return errorf(ret_error, r, "%s: %s", what, e ? e : strerror(-r));
}

static int device_call(NodedevAction action, const char *uri, const PciAddr *a, usec_t timeout,
                       char **ret_error) {
        char addr[PCI_ADDR_STRLEN], name[sizeof("pci_0000_00_00_0")], what[64];

        if (ret_error)
                *ret_error = NULL;

        pci_addr_format(a, addr);
        pci_addr_nodedev_name(a, name);
        snprintf(what, sizeof what, "%s %s", action == NODEDEV_DETACH ? "detaching" : "reattaching", addr);

        NodedevCall c = {
                .action = action,
                .uri = uri ? uri : NODEDEV_URI,
                .name = name,
        };
        return run_call(&c, what, timeout, NULL, ret_error);
}

int nodedev_detach(const char *uri, const PciAddr *a, usec_t timeout, char **ret_error) {
        return device_call(NODEDEV_DETACH, uri, a, timeout, ret_error);
}

int nodedev_reattach(const char *uri, const PciAddr *a, usec_t timeout, char **ret_error) {
        return device_call(NODEDEV_REATTACH, uri, a, timeout, ret_error);
}

/* A call about a domain; errors read "DOING domain NAME: ...". */
static int domain_call(NodedevAction action, const char *uri, const char *domain, const char *doing, usec_t timeout,
                       char **ret_payload, char **ret_error) {
        _cleanup_free_ char *what = NULL;

        if (ret_error)
                *ret_error = NULL;
        if (!domain || !domain[0] || strlen(domain) > 1024)
                return errorf(ret_error, -EINVAL, "invalid domain name");
        if (asprintf(&what, "%s domain %s", doing, domain) < 0)
                return -ENOMEM;

        NodedevCall c = {
                .action = action,
                .uri = uri ? uri : NODEDEV_URI,
                .name = domain,
        };
        return run_call(&c, what, timeout, ret_payload, ret_error);
}

int nodedev_domain_active(const char *uri, const char *domain, usec_t timeout, char **ret_error) {
        return domain_call(NODEDEV_DOMAIN_ACTIVE, uri, domain, "asking libvirt whether it runs", timeout, NULL,
                           ret_error);
}

int nodedev_fetch_domain_xml(const char *uri, const char *domain, usec_t timeout, char **ret, char **ret_error) {
        return domain_call(NODEDEV_FETCH_XML, uri, domain, "fetching the XML of", timeout, ret, ret_error);
}
