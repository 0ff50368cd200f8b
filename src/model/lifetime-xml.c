/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <libxml/tree.h>

#include "model/lifetime-xml.h"
#include "model/policy.h"
#include "model/xmlutil.h"
#include "shared/subprocess.h"
#include "shared/util.h"

/* The lifetime elements of the policy, and the parts of libvirt's domain
 * XML they depend on, for src/model/domxml.c. */

/* The element's only attribute must be attr (NULL: none), and it holds no
 * element. Text is for <inhibit> only (text_ok). */
static int check_shape(const xmlNode *n, const char *attr, bool text_ok, char **ret_error) {
        char q[VALUE_QUOTE_BUFSZ];

        for (const xmlAttr *a = n->properties; a; a = a->next)
                if (!attr || a->ns || !streq(xs(a->name), attr))
                        return errorf(ret_error, -EINVAL, "policy: <%s> takes %s%s (found '%s')", xs(n->name),
                                         attr ? "only the attribute " : "no attributes", attr ? attr : "",
                                         value_quote(xs(a->name), q));
        for (const xmlNode *c = n->children; c; c = c->next) {
                if (c->type == XML_COMMENT_NODE || c->type == XML_PI_NODE)
                        continue;
                if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) &&
                    (text_ok || strspn(xs(c->content), " \t\r\n") == strlen(xs(c->content))))
                        continue;
                return errorf(ret_error, -EINVAL, "policy: <%s> must %s", xs(n->name),
                                 text_ok ? "contain only text" : "be empty");
        }
        return 0;
}

static char *trimmed(const char *s) {
        s += strspn(s, " \t\r\n");
        size_t n = strlen(s);
        while (n > 0 && strchr(" \t\r\n", s[n - 1]))
                n--;
        return strndup(s, n);
}

int lifetime_policy_element(const xmlNode *n, LifetimePolicy *p, char **ret_error) {
        char q[VALUE_QUOTE_BUFSZ];
        const char *name = xs(n->name);
        int r;

        if (streq(name, "inhibit")) {
                _cleanup_(xml_freep) xmlChar *content = NULL;
                _cleanup_free_ char *v = NULL;
                if (p->inhibit)
                        return errorf(ret_error, -EINVAL, "policy: <inhibit> appears more than once");
                r = check_shape(n, NULL, true, ret_error);
                if (r < 0)
                        return r;
                content = xmlNodeGetContent(n);
                v = trimmed(content ? xs(content) : "");
                if (!v)
                        return -ENOMEM;
                r = inhibit_parse(v, &p->inhibit);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return errorf(ret_error, -EINVAL,
                                         "policy: <inhibit> has invalid value '%s' (expected logind What= words "
                                         "separated by ':', such as sleep or sleep:idle)",
                                         value_quote(v, q));
                return 1;
        }
        if (streq(name, "isolate")) {
                _cleanup_(xml_freep) xmlChar *cpus = xmlGetNoNsProp(n, BAD_CAST "cpus");
                if (p->isolate)
                        return errorf(ret_error, -EINVAL, "policy: <isolate> appears more than once");
                r = check_shape(n, "cpus", false, ret_error);
                if (r < 0)
                        return r;
                if (!cpus)
                        return errorf(ret_error, -EINVAL, "policy: <isolate> needs cpus='...' (such as 2-7,10-15)");
                p->isolate = calloc(1, sizeof(CpuSet));
                if (!p->isolate)
                        return -ENOMEM;
                r = cpuset_parse(xs(cpus), false, p->isolate);
                if (r < 0 || cpuset_count(p->isolate) == 0)
                        return errorf(ret_error, -EINVAL,
                                         "policy: <isolate cpus='%s'/> is not a CPU list (numbers and ranges "
                                         "separated by ',', such as 2-7,10-15, below %u)",
                                         value_quote(xs(cpus), q), CPUSET_MAX);
                return 1;
        }
        if (streq(name, "hugepages")) {
                _cleanup_(xml_freep) xmlChar *size = xmlGetNoNsProp(n, BAD_CAST "size");
                if (p->hugepage_kib)
                        return errorf(ret_error, -EINVAL, "policy: <hugepages> appears more than once");
                r = check_shape(n, "size", false, ret_error);
                if (r < 0)
                        return r;
                if (!size || hugepage_size_parse(xs(size), &p->hugepage_kib) < 0)
                        return errorf(ret_error, -EINVAL, "policy: <hugepages size='%s'/> (expected size='2M' or '1G')",
                                         value_quote(size ? xs(size) : "", q));
                return 1;
        }
        return 0;
}

static bool is(const xmlNode *n, const char *name) {
        return n->type == XML_ELEMENT_NODE && !n->ns && streq(xs(n->name), name);
}

/* Sets *dst to a copy of the attribute (or the text) once: libvirt writes
 * one of each, and the first is what it reads. */
static int keep_first(char **dst, xmlChar *v) {
        if (!v || *dst)
                return 0;
        *dst = strdup(xs(v));
        return *dst ? 0 : -ENOMEM;
}

int lifetime_domain_element(const xmlNode *n, DomainMemory *m) {
        int r = 0;

        if (is(n, "memory")) {
                _cleanup_(xml_freep) xmlChar *unit = xmlGetNoNsProp(n, BAD_CAST "unit"), *content = xmlNodeGetContent(n);
                _cleanup_free_ char *v = content ? trimmed(xs(content)) : NULL;
                if (m->memory)
                        return 0;
                r = keep_first(&m->memory, BAD_CAST v);
                if (r >= 0)
                        r = keep_first(&m->memory_unit, unit);
                return r;
        }
        if (is(n, "memoryBacking")) {
                for (const xmlNode *c = n->children; c && r >= 0; c = c->next) {
                        if (!is(c, "hugepages"))
                                continue;
                        m->hugepages = true;
                        for (const xmlNode *pg = c->children; pg && r >= 0; pg = pg->next) {
                                if (!is(pg, "page") || m->page_size)
                                        continue;
                                _cleanup_(xml_freep) xmlChar *size = xmlGetNoNsProp(pg, BAD_CAST "size"),
                                                             *unit = xmlGetNoNsProp(pg, BAD_CAST "unit");
                                r = keep_first(&m->page_size, size);
                                if (r >= 0)
                                        r = keep_first(&m->page_unit, unit);
                        }
                }
                return r;
        }
        if (is(n, "numatune")) {
                for (const xmlNode *c = n->children; c && r >= 0; c = c->next) {
                        if (!is(c, "memory") || m->numa_mode || m->numa_nodeset)
                                continue;
                        _cleanup_(xml_freep) xmlChar *mode = xmlGetNoNsProp(c, BAD_CAST "mode"),
                                                     *nodeset = xmlGetNoNsProp(c, BAD_CAST "nodeset");
                        r = keep_first(&m->numa_mode, mode ? mode : BAD_CAST "strict");
                        if (r >= 0)
                                r = keep_first(&m->numa_nodeset, nodeset);
                }
                return r;
        }
        return 0;
}
