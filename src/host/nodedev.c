/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "host/nodedev.h"
#include "host/virt.h"
#include "shared/deadline.h"
#include "shared/subprocess.h"
#include "shared/util.h"

/* One-shot calls about a domain, each in its own deadline_run() child. */
typedef enum NodedevAction {
        NODEDEV_FETCH_XML,
        NODEDEV_DOMAIN_ACTIVE,
} NodedevAction;

typedef struct NodedevCall {
        NodedevAction action;
        const char *uri;
        const char *name;   /* the domain */
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

        virConnectPtr conn = v.virConnectOpenReadOnly(c->uri);
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

        v.virConnectClose(conn);
        return errorf(ret_error, -EINVAL, "unknown call");
}

static int run_call(NodedevCall *c, const char *what, usec_t timeout, char **ret_payload, char **ret_error) {
        _cleanup_free_ char *e = NULL;
        char t[FORMAT_TIMEOUT_MAX];
        DeadlineAnswer answer;

        int r = deadline_run_payload(nodedev_child, c, timeout, ret_payload ? DOMXML_MAX_SIZE : 0, &answer, &e);
        if (r >= 0) {
                if (ret_payload)
                        *ret_payload = answer.payload;
                return r;
        }
        if (answer.timed_out)
                return errorf(ret_error, r, "%s: libvirt did not answer within %s", what,
                              format_timeout(timeout, t, sizeof t));
        return errorf(ret_error, r, "%s: %s", what, e ? e : strerror(-r));
}

/* ------------------------------------------------------------------ sessions */

/* One worker (deadline.h) for a hand-off's devices: libvirt loaded and
 * connected once, then one request per device ("D pci_..." to detach, "R
 * pci_..." to reattach). What the worker sets up lives in its copy of this
 * struct. */
struct NodedevSession {
        char *uri;
        char *soname;
        DeadlineWorker *worker;
        /* the worker's */
        VirtLib v;
        virConnectPtr conn;
};

static int session_init(void *userdata, char **ret_error) {
        NodedevSession *s = userdata;
        int r = virt_load(s->soname, &s->v, ret_error);
        if (r < 0)
                return r;
        r = virt_init(&s->v, ret_error);
        if (r < 0)
                return r;
        s->conn = s->v.virConnectOpen(s->uri);
        if (!s->conn)
                return errorf(ret_error, -ECONNREFUSED, "%s", virt_last_error(&s->v));
        return 0;
}

static int session_call(void *userdata, const char *req, size_t size, char **ret_error) {
        NodedevSession *s = userdata;
        int r;

        if (size < 3 || (req[0] != 'D' && req[0] != 'R') || req[1] != ' ')
                return errorf(ret_error, -EINVAL, "bad request");
        virNodeDevicePtr dev = s->v.virNodeDeviceLookupByName(s->conn, req + 2);
        if (!dev)
                return errorf(ret_error, -ENODEV, "%s", virt_last_error(&s->v));
        r = req[0] == 'D' ? s->v.virNodeDeviceDetachFlags(dev, "vfio", 0) : s->v.virNodeDeviceReAttach(dev);
        r = r < 0 ? errorf(ret_error, -EIO, "%s", virt_last_error(&s->v)) : 0;
        s->v.virNodeDeviceFree(dev);
        return r;
}

/* No virConnectClose(): the worker is killed when the session ends, and
 * libvirtd drops the connection as it does any client's that exits. */
static const DeadlineWorkerOps session_ops = {
        .init = session_init,
        .call = session_call,
};

NodedevSession *nodedev_session_new(const char *uri, const char *soname) {
        NodedevSession *s = calloc(1, sizeof *s);
        if (!s)
                return NULL;
        s->uri = strdup(uri ? uri : NODEDEV_URI);
        s->soname = soname ? strdup(soname) : NULL;
        if (!s->uri || (soname && !s->soname))
                return nodedev_session_free(s);
        return s;
}

NodedevSession *nodedev_session_free(NodedevSession *s) {
        if (!s)
                return NULL;
        deadline_worker_stop(&s->worker);
        free(s->uri);
        free(s->soname);
        free(s);
        return NULL;
}

int nodedev_session_begin(NodedevSession *s) {
        return deadline_worker_begin(&s->worker, &session_ops, s, NULL);
}

static int session_device_call(NodedevSession *s, bool detach, const PciAddr *a, usec_t timeout, char **ret_error) {
        char addr[PCI_ADDR_STRLEN], req[sizeof("D pci_0000_00_00_0")], t[FORMAT_TIMEOUT_MAX];
        const char *doing = detach ? "detaching" : "reattaching";
        _cleanup_free_ char *e = NULL;
        bool timed_out;

        if (ret_error)
                *ret_error = NULL;
        pci_addr_format(a, addr);
        req[0] = detach ? 'D' : 'R';
        req[1] = ' ';
        pci_addr_nodedev_name(a, req + 2);

        /* A device made a moment ago (a VF of this prepare) is known to
         * libvirt once its udev thread has processed the device's event:
         * until then the lookup fails (-ENODEV), so look again for as long
         * as a call may take; each call has that bound of its own. */
        PollUntil retry = POLL_UNTIL(now_usec() + timeout);
        int r;
        for (;;) {
                r = deadline_worker_call(&s->worker, &session_ops, s, req, strlen(req), timeout, &timed_out, &e);
                if (r != -ENODEV || !poll_until(&retry))
                        break;
                free(e);
                e = NULL;
        }
        if (r >= 0)
                return 0;
        /* The worker was killed: the next device gets a new one. */
        if (timed_out)
                return errorf(ret_error, r, "%s %s: libvirt did not answer within %s", doing, addr,
                              format_timeout(timeout, t, sizeof t));
        return errorf(ret_error, r, "%s %s: %s", doing, addr, e ? e : strerror(-r));
}

int nodedev_session_detach(NodedevSession *s, const PciAddr *a, usec_t timeout, char **ret_error) {
        return session_device_call(s, true, a, timeout, ret_error);
}

int nodedev_session_reattach(NodedevSession *s, const PciAddr *a, usec_t timeout, char **ret_error) {
        return session_device_call(s, false, a, timeout, ret_error);
}

static int device_call(bool detach, const char *uri, const PciAddr *a, usec_t timeout, char **ret_error) {
        NodedevSession *s = nodedev_session_new(uri, NULL);
        if (!s)
                return -ENOMEM;
        int r = session_device_call(s, detach, a, timeout, ret_error);
        nodedev_session_free(s);
        return r;
}

int nodedev_detach(const char *uri, const PciAddr *a, usec_t timeout, char **ret_error) {
        return device_call(true, uri, a, timeout, ret_error);
}

int nodedev_reattach(const char *uri, const PciAddr *a, usec_t timeout, char **ret_error) {
        return device_call(false, uri, a, timeout, ret_error);
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
