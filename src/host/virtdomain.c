/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "host/virt.h"
#include "host/virtdomain.h"
#include "model/domedit.h"
#include "model/domxml.h"
#include "model/policy.h"
#include "shared/deadline.h"
#include "shared/subprocess.h"
#include "shared/util.h"

typedef struct Call {
        const char *uri, *domain;
        bool read_only;
        const VirtDomChange *change;
} Call;

void virtdom_info_done(VirtDomInfo *i) {
        free(i->xml);
        *i = (VirtDomInfo) {};
}

static bool denied(VirtLib *v) {
        int code = v->virGetLastErrorCode();
        const char *m = virt_last_error(v);
        return code == VIR_ERR_AUTH_FAILED || code == VIR_ERR_AUTH_CANCELLED || code == VIR_ERR_AUTH_UNAVAILABLE ||
               code == VIR_ERR_ACCESS_DENIED || code == VIR_ERR_OPERATION_DENIED || strstr(m, "ermission denied");
}

/* The libvirt error of the call that just failed, as an errno and a line. */
static int fail(VirtLib *v, char **ret_error, const char *doing) {
        if (denied(v))
                return errorf(ret_error, -EACCES, "%s: %s (run it as root, or as a user libvirt lets manage domains)",
                              doing, virt_last_error(v));
        return errorf(ret_error, -EIO, "%s: %s", doing, virt_last_error(v));
}

static int open_domain(VirtLib *v, const Call *c, virConnectPtr *ret_conn, virDomainPtr *ret_dom, char **ret_error) {
        int r = virt_load(NULL, v, ret_error);
        if (r < 0)
                return r;
        r = virt_init(v, ret_error);
        if (r < 0)
                return r;

        virConnectPtr conn = c->read_only ? v->virConnectOpenReadOnly(c->uri) : v->virConnectOpen(c->uri);
        if (!conn) {
                _cleanup_free_ char *doing = strf("connecting to %s", c->uri);
                return fail(v, ret_error, doing ? doing : "connecting");
        }
        virDomainPtr dom = v->virDomainLookupByName(conn, c->domain);
        if (!dom) {
                r = v->virGetLastErrorCode() == VIR_ERR_NO_DOMAIN
                            ? errorf(ret_error, -ENOENT, "%s has no domain of that name (virsh list --all)", c->uri)
                            : fail(v, ret_error, "looking the domain up");
                v->virConnectClose(conn);
                return r;
        }
        r = v->virDomainIsPersistent(dom);
        if (r <= 0) {
                r = r < 0 ? fail(v, ret_error, "asking whether it is persistent")
                          : errorf(ret_error, -EMEDIUMTYPE,
                                   "it is a transient domain: it has no definition to change (virsh dumpxml it to "
                                   "a file, and virsh define that)");
                v->virDomainFree(dom);
                v->virConnectClose(conn);
                return r;
        }
        *ret_conn = conn;
        *ret_dom = dom;
        return 0;
}

static unsigned xml_flags(bool read_only) {
        return VIR_DOMAIN_XML_INACTIVE | (read_only ? 0 : VIR_DOMAIN_XML_SECURE);
}

static int fetch_child(void *userdata, char **ret_payload, size_t *ret_size, char **ret_error) {
        const Call *c = userdata;
        virConnectPtr conn;
        virDomainPtr dom;
        VirtLib v;

        int r = open_domain(&v, c, &conn, &dom, ret_error);
        if (r < 0)
                return r;
        int active = v.virDomainIsActive(dom);
        char *xml = active < 0 ? NULL : v.virDomainGetXMLDesc(dom, xml_flags(c->read_only));
        if (!xml)
                r = fail(&v, ret_error, "reading its definition");
        /* One byte for whether it runs, then the XML. */
        else if (asprintf(ret_payload, "%c%s", active > 0 ? '1' : '0', xml) < 0)
                r = -ENOMEM;
        else
                *ret_size = strlen(*ret_payload);
        free(xml);
        v.virDomainFree(dom);
        v.virConnectClose(conn);
        return r;
}

static int set_metadata(VirtLib *v, virDomainPtr dom, const char *element, const char *key, const char *uri,
                        char **ret_error) {
        if (v->virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, element, element ? key : NULL, uri,
                                    VIR_DOMAIN_AFFECT_CONFIG) < 0) {
                _cleanup_free_ char *doing = strf("%s the metadata %s", element ? "setting" : "removing", uri);
                return fail(v, ret_error, doing ? doing : "setting the metadata");
        }
        return 0;
}

static int change_child(void *userdata, char **ret_payload, size_t *ret_size, char **ret_error) {
        const Call *c = userdata;
        const VirtDomChange *ch = c->change;
        virConnectPtr conn;
        virDomainPtr dom, defined = NULL;
        char *now = NULL;
        VirtLib v;

        int r = open_domain(&v, c, &conn, &dom, ret_error);
        if (r < 0)
                return r;
        now = v.virDomainGetXMLDesc(dom, xml_flags(false));
        if (!now)
                r = fail(&v, ret_error, "reading its definition");
        else if (!streq(now, ch->expect_xml))
                r = errorf(ret_error, -ESTALE, "its definition changed while vfio-hook looked at it: run the command again");
        else if (!(defined = v.virDomainDefineXML(conn, ch->xml)))
                r = fail(&v, ret_error, "defining it");
        else if ((!ch->set_policy || (r = set_metadata(&v, defined, ch->policy, POLICY_KEY, POLICY_NAMESPACE, ret_error)) >= 0) &&
                 (!ch->set_record || (r = set_metadata(&v, defined, ch->record, ENABLED_KEY, ENABLED_NAMESPACE, ret_error)) >= 0)) {
                *ret_payload = v.virDomainGetXMLDesc(defined, xml_flags(false));
                r = *ret_payload ? 0 : fail(&v, ret_error, "reading its new definition");
                if (r >= 0)
                        *ret_size = strlen(*ret_payload);
        } else {
                /* Half done: the definition as it was. */
                virDomainPtr back = v.virDomainDefineXML(conn, now);
                if (back)
                        v.virDomainFree(back);
                else if (ret_error && *ret_error) {
                        char *e = strf("%s; putting the previous definition back failed too: %s", *ret_error,
                                       virt_last_error(&v));
                        if (e) {
                                free(*ret_error);
                                *ret_error = e;
                        }
                }
        }
        free(now);
        if (defined)
                v.virDomainFree(defined);
        v.virDomainFree(dom);
        v.virConnectClose(conn);
        return r;
}

static int run(DeadlinePayloadFn fn, Call *c, usec_t timeout, char **ret_payload, char **ret_error) {
        _cleanup_free_ char *e = NULL;
        char t[FORMAT_TIMEOUT_MAX], q[VALUE_QUOTE_BUFSZ];
        DeadlineAnswer answer;

        if (ret_error)
                *ret_error = NULL;
        int r = deadline_run_payload(fn, c, timeout, ret_payload ? DOMXML_MAX_SIZE + 1 : 0, &answer, &e);
        if (r >= 0) {
                if (ret_payload)
                        *ret_payload = answer.payload;
                return r;
        }
        if (answer.timed_out)
                return errorf(ret_error, -ETIME, "domain %s: libvirt did not answer within %s", value_quote(c->domain, q),
                              format_timeout(timeout, t, sizeof t));
        return errorf(ret_error, r, "domain %s: %s", value_quote(c->domain, q), e ? e : strerror(-r));
}

int virtdom_fetch(const char *uri, const char *domain, bool read_only, usec_t timeout, VirtDomInfo *ret,
                  char **ret_error) {
        Call c = { .uri = uri ? uri : VIRTDOM_URI, .domain = domain, .read_only = read_only };
        _cleanup_free_ char *p = NULL;

        int r = run(fetch_child, &c, timeout, &p, ret_error);
        if (r < 0)
                return r;
        if (!p || !p[0])
                return errorf(ret_error, -EIO, "libvirt returned no definition");
        ret->active = p[0] == '1';
        ret->xml = strdup(p + 1);
        return ret->xml ? 0 : -ENOMEM;
}

int virtdom_change(const char *uri, const char *domain, const VirtDomChange *change, usec_t timeout, char **ret_xml,
                   char **ret_error) {
        Call c = { .uri = uri ? uri : VIRTDOM_URI, .domain = domain, .change = change };
        return run(change_child, &c, timeout, ret_xml, ret_error);
}
