/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdarg.h>

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "model/domxml.h"
#include "model/lifetime-xml.h"
#include "model/xmlutil.h"
#include "shared/util.h"

/* The domain XML comes from whoever may define domains, and the hook runs as
 * root: the parser gets no network, no DTD, no entities, and bounded size
 * and depth. libvirt itself never writes a DOCTYPE, so any is refused. */

#define DOMXML_MAX_DEPTH 64U
/* libxml2 2.9 checks the attributes of an element for duplicates pair by
 * pair: 40,000 on one element took 25 s. libvirt writes a handful. */
#define DOMXML_MAX_ATTRIBUTES 256U
#define DOMXML_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOCDATA)

typedef struct ParseState {
        bool doctype;
        bool have_error;
        bool too_slow;
        int line;
        usec_t deadline;
        startElementNsSAX2Func start_element;   /* libxml2's own, which builds the tree */
        charactersSAXFunc characters;
        char message[200];
} ParseState;

Domain *domain_free(Domain *d) {
        if (!d)
                return NULL;
        free(d->name);
        free(d->hostdevs);
        if (d->policy) {
                policy_done(d->policy);
                free(d->policy);
        }
        domain_memory_done(&d->memory);
        free(d);
        return NULL;
}

bool domain_name_valid(const char *name) {
        return filename_is_safe(name, DOMAIN_NAME_MAX);
}

/* libxml2 reports through global handlers; during our parse they only
 * record the first error, so nothing reaches stderr. */
static void on_structured_error(void *userdata, ErrorPtr e) {
        ParseState *st = userdata;
        size_t o = 0;

        if (!st || !e || st->have_error || e->level < XML_ERR_ERROR)
                return;
        st->have_error = true;
        st->line = e->line;
        for (const char *m = e->message ? e->message : "unknown error"; *m && o < sizeof(st->message) - 1; m++) {
                unsigned char c = (unsigned char) *m;
                /* The message may quote input: keep it one printable line. */
                st->message[o++] = (c < 0x20 || c >= 0x7f) ? ' ' : (char) c;
        }
        while (o > 0 && st->message[o - 1] == ' ')
                o--;
        st->message[o] = 0;
}

static void on_generic_error(void *ctx, const char *msg, ...) {
}

/* Called as soon as "<!DOCTYPE name ..." is read, before any internal
 * subset: stopping here means no entity is ever declared. */
static void on_doctype(void *ctx, const xmlChar *name, const xmlChar *external_id, const xmlChar *system_id) {
        xmlParserCtxtPtr ctxt = ctx;
        ParseState *st = ctxt->_private;

        st->doctype = true;
        xmlStopParser(ctxt);
}

static void on_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
                           const xmlChar *system_id, xmlChar *content) {
        xmlParserCtxtPtr ctxt = ctx;
        ParseState *st = ctxt->_private;

        st->doctype = true;
        xmlStopParser(ctxt);
}

/* The deadline of the whole parse, looked at for each element and each
 * piece of text (with the attribute bound, nothing else takes long). */
static bool past_deadline(xmlParserCtxtPtr ctxt) {
        ParseState *st = ctxt->_private;
        if (now_usec() < st->deadline)
                return false;
        st->too_slow = true;
        st->line = xmlSAX2GetLineNumber(ctxt);
        xmlStopParser(ctxt);
        return true;
}

static void on_start_element(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
                             int nb_namespaces, const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
                             const xmlChar **attributes) {
        xmlParserCtxtPtr ctxt = ctx;
        ParseState *st = ctxt->_private;
        if (!past_deadline(ctxt))
                st->start_element(ctx, localname, prefix, uri, nb_namespaces, namespaces, nb_attributes,
                                  nb_defaulted, attributes);
}

static void on_characters(void *ctx, const xmlChar *ch, int len) {
        xmlParserCtxtPtr ctxt = ctx;
        ParseState *st = ctxt->_private;
        if (!past_deadline(ctxt))
                st->characters(ctx, ch, len);
}

/* Before libxml2 sees the document: no element may have more than
 * DOMXML_MAX_ATTRIBUTES attributes. One linear pass; it counts the '='
 * outside quoted values in each tag (comments, CDATA, processing
 * instructions, declarations and end tags are skipped), which is the
 * number of attributes and namespace declarations of a well-formed tag.
 * Returns 0, or the 1-based line of the first element with too many. */
static unsigned element_with_too_many_attributes(const char *xml, size_t len) {
        static const struct {
                const char *open, *close;
        } skipped[] = {
                { "<!--", "-->" }, { "<![CDATA[", "]]>" }, { "<?", "?>" }, { "<!", ">" }, { "</", ">" },
        };
        const char *p = xml, *end = xml + len;

        while ((p = memchr(p, '<', (size_t) (end - p)))) {
                size_t left = (size_t) (end - p), i;
                for (i = 0; i < ELEMENTSOF(skipped); i++)
                        if (left >= strlen(skipped[i].open) && memcmp(p, skipped[i].open, strlen(skipped[i].open)) == 0)
                                break;
                if (i < ELEMENTSOF(skipped)) {
                        const char *o = p + strlen(skipped[i].open);
                        const char *c = memmem(o, (size_t) (end - o), skipped[i].close, strlen(skipped[i].close));
                        if (!c)
                                return 0; /* not closed: libxml2 reports it */
                        p = c + strlen(skipped[i].close);
                        continue;
                }

                const char *tag = p;
                unsigned n = 0;
                char quote = 0;
                for (p++; p < end; p++) {
                        if (quote) {
                                if (*p == quote)
                                        quote = 0;
                        } else if (*p == '"' || *p == '\'')
                                quote = *p;
                        else if (*p == '=')
                                n++;
                        else if (*p == '>' || *p == '<')
                                break;
                }
                if (n > DOMXML_MAX_ATTRIBUTES) {
                        unsigned line = 1;
                        for (const char *q = xml; (q = memchr(q, '\n', (size_t) (tag - q))); q++)
                                line++;
                        return line;
                }
        }
        return 0;
}

static int read_document(const char *xml, size_t len, usec_t timeout, xmlDoc **ret, char **ret_error) {
        xmlGenericErrorFunc old_generic = xmlGenericError;
        void *old_generic_ctx = xmlGenericErrorContext;
        xmlStructuredErrorFunc old_structured = xmlStructuredError;
        void *old_structured_ctx = xmlStructuredErrorContext;
        ParseState st = { .deadline = now_usec() + timeout };
        xmlParserCtxtPtr ctxt;
        xmlDoc *doc = NULL;
        bool well_formed = false;

        unsigned line = element_with_too_many_attributes(xml, len);
        if (line > 0)
                return errorf(ret_error, -EINVAL,
                              "domain XML: an element at line %u has more than %u attributes (refused: "
                              "libvirt writes a few, and many take long to parse)",
                              line, DOMXML_MAX_ATTRIBUTES);

        xmlSetGenericErrorFunc(NULL, on_generic_error);
        xmlSetStructuredErrorFunc(&st, on_structured_error);

        ctxt = xmlNewParserCtxt();
        if (ctxt) {
                ctxt->_private = &st;
                ctxt->sax->internalSubset = on_doctype;
                ctxt->sax->externalSubset = on_doctype;
                ctxt->sax->entityDecl = on_entity_decl;
                st.start_element = ctxt->sax->startElementNs;
                st.characters = ctxt->sax->characters;
                ctxt->sax->startElementNs = on_start_element;
                ctxt->sax->characters = on_characters;
                doc = xmlCtxtReadMemory(ctxt, xml, (int) len, NULL, NULL, DOMXML_OPTIONS);
                well_formed = ctxt->wellFormed;
                xmlFreeParserCtxt(ctxt);
        }

        xmlSetGenericErrorFunc(old_generic_ctx, old_generic);
        xmlSetStructuredErrorFunc(old_structured_ctx, old_structured);

        if (!ctxt)
                return -ENOMEM;
        if (st.doctype) {
                xmlFreeDoc(doc);
                return errorf(ret_error, -EINVAL,
                              "domain XML has a DOCTYPE declaration, which is refused "
                              "(libvirt never writes one; DTDs and entities are not accepted)");
        }
        if (st.too_slow) {
                xmlFreeDoc(doc);
                return errorf(ret_error, -EINVAL, "domain XML: parsing took longer than %g s (stopped at line %d): refused",
                              (double) timeout / (double) USEC_PER_SEC, st.line);
        }
        if (!doc || !well_formed) {
                xmlFreeDoc(doc);
                if (st.have_error)
                        return errorf(ret_error, -EINVAL, "domain XML is not well-formed: line %d: %s",
                                      st.line, st.message);
                return errorf(ret_error, -EINVAL, "domain XML is not well-formed");
        }

        *ret = doc;
        return 0;
}

static bool too_deep(const xmlNode *n, unsigned depth) {
        if (depth > DOMXML_MAX_DEPTH)
                return true;
        for (const xmlNode *c = n->children; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE && too_deep(c, depth + 1))
                        return true;
        return false;
}

/* An element of libvirt's own vocabulary (no namespace). */
static bool node_is(const xmlNode *n, const char *name) {
        return n->type == XML_ELEMENT_NODE && !n->ns && streq(xs(n->name), name);
}

static bool node_in_policy_ns(const xmlNode *n) {
        return n->ns && n->ns->href && streq(xs(n->ns->href), POLICY_NAMESPACE);
}

static const xmlNode *first_child(const xmlNode *n, const char *name) {
        for (const xmlNode *c = n->children; c; c = c->next)
                if (node_is(c, name))
                        return c;
        return NULL;
}

/* Nodes that may sit inside a value element: text, and what carries none. */
static bool is_text_like(xmlElementType t) {
        return t == XML_TEXT_NODE || t == XML_CDATA_SECTION_NODE || t == XML_COMMENT_NODE || t == XML_PI_NODE;
}

static bool is_xml_space(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The text of an element that must hold nothing but text (comments are
 * fine), optionally with blanks trimmed. -EBADMSG when it has elements. */
static int element_text(const xmlNode *n, bool trim, char **ret) {
        _cleanup_(xml_freep) xmlChar *content = NULL;
        const char *s, *e;
        char *copy;

        for (const xmlNode *c = n->children; c; c = c->next)
                if (!is_text_like(c->type))
                        return -EBADMSG;

        content = xmlNodeGetContent(n);
        if (!content && n->children)
                return -ENOMEM;
        s = content ? xs(content) : "";
        e = s + strlen(s);
        if (trim) {
                while (is_xml_space(*s))
                        s++;
                while (e > s && is_xml_space(e[-1]))
                        e--;
        }
        copy = strndup(s, (size_t) (e - s));
        if (!copy)
                return -ENOMEM;
        *ret = copy;
        return 0;
}

static bool is_blank_text(const char *s) {
        for (; s && *s; s++)
                if (!is_xml_space(*s))
                        return false;
        return true;
}

/* As libvirt reads PCI address attributes (strtoul with base 0): "0x" hex,
 * a leading 0 octal, else decimal, so both pick the same device. Unlike
 * strtoul, no blanks or signs. */
int domxml_parse_pci_number(const char *s, unsigned max, unsigned *ret) {
        char *end;
        unsigned long v;

        if (!s || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 0);
        if (errno != 0 || end == s || *end != 0 || v > max)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

/* Returns 1 and the device for a PCI subsystem hostdev, 0 for any other kind.
 * idx counts every <hostdev> from 1, as a user reading the XML would. */
int domxml_parse_hostdev(const xmlNode *n, unsigned idx, HostDev *ret, char **ret_error) {
        _cleanup_(xml_freep) xmlChar *mode = xmlGetNoNsProp(n, BAD_CAST "mode");
        _cleanup_(xml_freep) xmlChar *type = xmlGetNoNsProp(n, BAD_CAST "type");
        _cleanup_(xml_freep) xmlChar *managed = xmlGetNoNsProp(n, BAD_CAST "managed");
        char q[VALUE_QUOTE_BUFSZ];
        const xmlNode *source, *address;
        HostDev h = {};
        const struct {
                const char *name;
                unsigned max;
                unsigned *value;
        } parts[] = {
                { "domain", 0xffff, &h.addr.domain },
                { "bus", 0xff, &h.addr.bus },
                { "slot", 0x1f, &h.addr.slot },
                { "function", 7, &h.addr.function },
        };

        /* libvirt's default mode is "subsystem"; "capabilities" is not PCI. */
        if (mode && !streq(xs(mode), "subsystem"))
                return 0;
        if (!type || !streq(xs(type), "pci"))
                return 0;

        if (managed) {
                if (streq(xs(managed), "yes"))
                        h.managed = true;
                else if (!streq(xs(managed), "no"))
                        return errorf(ret_error, -EINVAL, "hostdev %u: managed='%s' is not 'yes' or 'no'",
                                      idx, value_quote(xs(managed), q));
        }

        source = first_child(n, "source");
        if (!source)
                return errorf(ret_error, -EINVAL, "hostdev %u: <source> is missing", idx);
        address = first_child(source, "address");
        if (!address)
                return errorf(ret_error, -EINVAL, "hostdev %u: <source> has no <address>", idx);

        for (size_t i = 0; i < ELEMENTSOF(parts); i++) {
                _cleanup_(xml_freep) xmlChar *v = xmlGetNoNsProp(address, BAD_CAST parts[i].name);

                if (!v)
                        return errorf(ret_error, -EINVAL, "hostdev %u: <address> has no %s attribute",
                                      idx, parts[i].name);
                if (domxml_parse_pci_number(xs(v), parts[i].max, parts[i].value) < 0)
                        return errorf(ret_error, -EINVAL, "hostdev %u: <address %s='%s'> is not a valid PCI %s",
                                      idx, parts[i].name, value_quote(xs(v), q), parts[i].name);
        }

        *ret = h;
        return 1;
}

typedef enum PolicyElement {
        PE_STACK,
        PE_CONSOLE,
        PE_FRAMEBUFFER,
        PE_DISPLAY_MANAGER,
        PE_HOLDERS,
        PE_SERVICE,
        PE_MODULE,
        PE_TIMEOUT,
        _PE_MAX,
} PolicyElement;

static const char *const policy_elements[_PE_MAX] = {
        [PE_STACK] = "stack",
        [PE_CONSOLE] = "console",
        [PE_FRAMEBUFFER] = "framebuffer",
        [PE_DISPLAY_MANAGER] = "display-manager",
        [PE_HOLDERS] = "holders",
        [PE_SERVICE] = "service",
        [PE_MODULE] = "module",
        [PE_TIMEOUT] = "timeout",
};

static Policy *policy_free(Policy *p) {
        if (p) {
                policy_done(p);
                free(p);
        }
        return NULL;
}

static void policy_freep(Policy **p) {
        policy_free(*p);
}

/* A two-valued element: sets *ret to whether the value is `yes`. */
static int parse_choice(const char *elem, const char *v, const char *yes, const char *no, bool *ret, char **ret_error) {
        char q[VALUE_QUOTE_BUFSZ];

        if (streq(v, yes))
                *ret = true;
        else if (streq(v, no))
                *ret = false;
        else
                return errorf(ret_error, -EINVAL, "policy: <%s> has unknown value '%s' (expected %s or %s)",
                              elem, value_quote(v, q), yes, no);
        return 0;
}

/* auto, keep, or the element's word for a change (unbind, stop). */
static int parse_auto_choice(const char *elem, const char *v, const char *change_word, Choice *ret, char **ret_error) {
        char q[VALUE_QUOTE_BUFSZ];

        if (choice_from_string(v, change_word, ret) < 0)
                return errorf(ret_error, -EINVAL, "policy: <%s> has unknown value '%s' (expected auto, keep or %s)",
                              elem, value_quote(v, q), change_word);
        return 0;
}

static int policy_set(Policy *p, PolicyElement e, const char *v, char **ret_error) {
        const char *elem = policy_elements[e];
        char q[VALUE_QUOTE_BUFSZ];
        bool b = false;
        int r;

        switch (e) {
        case PE_STACK:
                if (stack_from_string(v, &p->stack) < 0)
                        return errorf(ret_error, -EINVAL,
                                      "policy: <stack> has unknown value '%s' "
                                      "(expected auto, nvidia, amdgpu, i915, xe, nouveau, radeon or none)",
                                      value_quote(v, q));
                return 0;
        case PE_CONSOLE:
                return parse_auto_choice(elem, v, "unbind", &p->console, ret_error);
        case PE_FRAMEBUFFER:
                return parse_auto_choice(elem, v, "unbind", &p->framebuffer, ret_error);
        case PE_DISPLAY_MANAGER:
                return parse_auto_choice(elem, v, "stop", &p->display_manager, ret_error);
        case PE_HOLDERS:
                r = parse_choice(elem, v, "terminate", "refuse", &b, ret_error);
                if (r < 0)
                        return r;
                p->holders = b ? HOLDERS_TERMINATE : HOLDERS_REFUSE;
                return 0;
        case PE_SERVICE:
                if (!unit_name_valid(v))
                        return errorf(ret_error, -EINVAL,
                                      "policy: <service> has invalid unit name '%s' (expected a systemd .service unit)",
                                      value_quote(v, q));
                if (strv_length(p->services) >= POLICY_NAMES_MAX && !strv_contains(p->services, v))
                        return errorf(ret_error, -EINVAL, "policy: more than %u different <service> elements",
                                      POLICY_NAMES_MAX);
                r = strv_extend_unique(&p->services, v);
                return r < 0 ? r : 0;
        case PE_MODULE: {
                _cleanup_free_ char *m = NULL;

                r = policy_module_name_parse(v, &m);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return errorf(ret_error, -EINVAL,
                                      "policy: <module> has invalid module name '%s' "
                                      "(expected 1 to %u characters of a-z, 0-9, _ and -)",
                                      value_quote(v, q), MODULE_NAME_MAX);
                if (strv_length(p->modules) >= POLICY_NAMES_MAX && !strv_contains(p->modules, m))
                        return errorf(ret_error, -EINVAL, "policy: more than %u different <module> elements",
                                      POLICY_NAMES_MAX);
                r = strv_extend_unique(&p->modules, m);
                return r < 0 ? r : 0;
        }
        case PE_TIMEOUT: {
                unsigned t;

                if (parse_uint(v, &t) < 0 || t < 1 || t > POLICY_TIMEOUT_MAX)
                        return errorf(ret_error, -EINVAL,
                                      "policy: <timeout> has invalid value '%s' (expected whole seconds from 1 to %u)",
                                      value_quote(v, q), POLICY_TIMEOUT_MAX);
                p->timeout_sec = t;
                return 0;
        }
        default:
                return -EINVAL;
        }
}

/* "<prefix:name>" of an element, quoted for a message. */
static char *element_label(const xmlNode *n, char buf[static VALUE_QUOTE_BUFSZ]) {
        char tmp[VALUE_QUOTE_CHARS * 2];

        if (n->ns && n->ns->prefix)
                snprintf(tmp, sizeof(tmp), "%s:%s", xs(n->ns->prefix), xs(n->name));
        else
                snprintf(tmp, sizeof(tmp), "%s", xs(n->name));
        return value_quote(tmp, buf);
}

/* <vfs pf= count= [autoprobe=]/> and <reset device= method=/>: attributes
 * only, each device once. */
static int parse_device_element(Policy *p, const xmlNode *n, char **ret_error) {
        bool vfs = streq(xs(n->name), "vfs");
        const char *elem = vfs ? "vfs" : "reset", *addr_attr = vfs ? "pf" : "device";
        _cleanup_(xml_freep) xmlChar *addr = NULL, *value = NULL, *autoprobe = NULL;
        char q[VALUE_QUOTE_BUFSZ], a[PCI_ADDR_STRLEN];
        PciAddr dev;

        for (const xmlNode *c = n->children; c; c = c->next)
                if (c->type != XML_COMMENT_NODE && !(c->type == XML_TEXT_NODE && is_blank_text(xs(c->content))))
                        return errorf(ret_error, -EINVAL, "policy: <%s> takes no content, only attributes", elem);
        for (const xmlAttr *at = n->properties; at; at = at->next) {
                const char *name = xs(at->name);
                if (at->ns || !(streq(name, addr_attr) || streq(name, vfs ? "count" : "method") ||
                                (vfs && streq(name, "autoprobe"))))
                        return errorf(ret_error, -EINVAL, "policy: <%s> has unknown attribute '%s' (expected %s)", elem,
                                      value_quote(name, q),
                                      vfs ? "pf, count and autoprobe" : "device and method");
        }
        addr = xmlGetNoNsProp(n, BAD_CAST addr_attr);
        value = xmlGetNoNsProp(n, BAD_CAST(vfs ? "count" : "method"));
        if (!addr || !value)
                return errorf(ret_error, -EINVAL, "policy: <%s> needs %s= and %s=", elem, addr_attr,
                              vfs ? "count" : "method");
        if (pci_addr_parse(xs(addr), &dev) < 0)
                return errorf(ret_error, -EINVAL, "policy: <%s %s='%s'> is not a PCI address (expected DDDD:BB:SS.F)",
                              elem, addr_attr, value_quote(xs(addr), q));
        pci_addr_format(&dev, a);

        if (vfs) {
                VfsRequest v = { .pf = dev };
                autoprobe = xmlGetNoNsProp(n, BAD_CAST "autoprobe");
                if (parse_uint(xs(value), &v.count) < 0 || v.count < 1 || v.count > POLICY_VF_COUNT_MAX)
                        return errorf(ret_error, -EINVAL, "policy: <vfs pf='%s' count='%s'>: invalid count (expected 1 to %u)",
                                      a, value_quote(xs(value), q), POLICY_VF_COUNT_MAX);
                if (autoprobe) {
                        bool on = true;
                        int r = parse_choice("vfs autoprobe", xs(autoprobe), "yes", "no", &on, ret_error);
                        if (r < 0)
                                return r;
                        v.autoprobe_off = !on;
                }
                for (size_t i = 0; i < p->n_vfs; i++)
                        if (pci_addr_equal(&p->vfs[i].pf, &dev))
                                return errorf(ret_error, -EINVAL, "policy: <vfs pf='%s'> appears more than once", a);
                if (p->n_vfs >= POLICY_VFS_MAX)
                        return errorf(ret_error, -EINVAL, "policy: more than %u <vfs> elements", POLICY_VFS_MAX);
                VfsRequest *nl = reallocarray(p->vfs, p->n_vfs + 1, sizeof *nl);
                if (!nl)
                        return -ENOMEM;
                p->vfs = nl;
                p->vfs[p->n_vfs++] = v;
                return 0;
        }

        if (!reset_method_name_valid(xs(value)))
                return errorf(ret_error, -EINVAL,
                              "policy: <reset device='%s' method='%s'>: unknown reset method (expected "
                              "device_specific, acpi, flr, af_flr, pm, bus or cxl_bus)",
                              a, value_quote(xs(value), q));
        for (size_t i = 0; i < p->n_resets; i++)
                if (pci_addr_equal(&p->resets[i].device, &dev))
                        return errorf(ret_error, -EINVAL, "policy: <reset device='%s'> appears more than once", a);
        if (p->n_resets >= POLICY_RESETS_MAX)
                return errorf(ret_error, -EINVAL, "policy: more than %u <reset> elements", POLICY_RESETS_MAX);
        ResetRequest *nl = reallocarray(p->resets, p->n_resets + 1, sizeof *nl);
        if (!nl)
                return -ENOMEM;
        p->resets = nl;
        p->resets[p->n_resets] = (ResetRequest) { .device = dev, .method = strdup(xs(value)) };
        if (!p->resets[p->n_resets].method)
                return -ENOMEM;
        p->n_resets++;
        return 0;
}

static int parse_policy(const xmlNode *n, Policy **ret, char **ret_error) {
        _cleanup_(policy_freep) Policy *p = NULL;
        char q[VALUE_QUOTE_BUFSZ], q2[VALUE_QUOTE_BUFSZ];
        bool seen[_PE_MAX] = {};
        int r;

        if (n->properties)
                return errorf(ret_error, -EINVAL, "policy: <policy> takes no attributes (found '%s')",
                              value_quote(xs(n->properties->name), q));

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        policy_init(p);

        for (const xmlNode *c = n->children; c; c = c->next) {
                _cleanup_free_ char *v = NULL;
                PolicyElement e;

                switch (c->type) {
                case XML_ELEMENT_NODE:
                        break;
                case XML_TEXT_NODE:
                case XML_CDATA_SECTION_NODE:
                        if (!is_blank_text(xs(c->content)))
                                return errorf(ret_error, -EINVAL, "policy: unexpected text '%s' in <policy>",
                                              value_quote(xs(c->content), q));
                        continue;
                case XML_COMMENT_NODE:
                case XML_PI_NODE:
                        continue;
                default:
                        return errorf(ret_error, -EINVAL, "policy: unexpected content in <policy>");
                }

                /* virsh metadata --set puts every element in the policy's
                 * namespace; a hand-written policy leaves the children in none. */
                if (c->ns && !node_in_policy_ns(c))
                        return errorf(ret_error, -EINVAL,
                                      "policy: <%s> is in namespace '%s' (policy elements are in no namespace or in %s)",
                                      element_label(c, q), value_quote(xs(c->ns->href), q2), POLICY_NAMESPACE);

                if (streq(xs(c->name), "vfs") || streq(xs(c->name), "reset")) {
                        r = parse_device_element(p, c, ret_error);
                        if (r < 0)
                                return r;
                        continue;
                }
                r = lifetime_policy_element(c, &p->lifetime, ret_error);
                if (r != 0) {
                        if (r < 0)
                                return r;
                        continue;
                }
                for (e = 0; e < _PE_MAX; e++)
                        if (streq(xs(c->name), policy_elements[e]))
                                break;
                if (e >= _PE_MAX)
                        return errorf(ret_error, -EINVAL,
                                      "policy: unknown element <%s> (expected stack, console, framebuffer, "
                                      "display-manager, holders, service, module, timeout, vfs, reset, inhibit, "
                                      "isolate or hugepages)",
                                      element_label(c, q));

                if (c->properties)
                        return errorf(ret_error, -EINVAL, "policy: <%s> takes no attributes (found '%s')",
                                      policy_elements[e], value_quote(xs(c->properties->name), q));

                if (seen[e] && e != PE_SERVICE && e != PE_MODULE)
                        return errorf(ret_error, -EINVAL, "policy: <%s> appears more than once", policy_elements[e]);
                seen[e] = true;

                r = element_text(c, true, &v);
                if (r == -EBADMSG)
                        return errorf(ret_error, -EINVAL, "policy: <%s> must contain only text", policy_elements[e]);
                if (r < 0)
                        return r;

                r = policy_set(p, e, v, ret_error);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(p);
        return 0;
}

static int parse_devices(const xmlNode *devices, Domain *d, unsigned *idx, char **ret_error) {
        char a[PCI_ADDR_STRLEN];
        int r;

        for (const xmlNode *c = devices->children; c; c = c->next) {
                HostDev h;

                if (!node_is(c, "hostdev"))
                        continue;
                (*idx)++;
                r = domxml_parse_hostdev(c, *idx, &h, ret_error);
                if (r <= 0) {
                        if (r < 0)
                                return r;
                        continue;
                }

                for (size_t i = 0; i < d->n_hostdevs; i++)
                        if (pci_addr_equal(&d->hostdevs[i].addr, &h.addr))
                                return errorf(ret_error, -EINVAL, "hostdev %u: PCI device %s is listed twice",
                                              *idx, pci_addr_format(&h.addr, a));

                if (d->n_hostdevs >= DOMXML_MAX_HOSTDEVS)
                        return errorf(ret_error, -EINVAL, "hostdev %u: more than %u PCI hostdevs",
                                      *idx, DOMXML_MAX_HOSTDEVS);

                HostDev *n = reallocarray(d->hostdevs, d->n_hostdevs + 1, sizeof(HostDev));
                if (!n)
                        return -ENOMEM;
                d->hostdevs = n;
                d->hostdevs[d->n_hostdevs++] = h;
        }
        return 0;
}

static int parse_metadata(const xmlNode *metadata, Domain *d, char **ret_error) {
        char q[VALUE_QUOTE_BUFSZ];
        int r;

        for (const xmlNode *c = metadata->children; c; c = c->next) {
                if (c->type != XML_ELEMENT_NODE || !node_in_policy_ns(c))
                        continue;
                if (!streq(xs(c->name), "policy"))
                        return errorf(ret_error, -EINVAL,
                                      "metadata: unknown element <%s> in namespace %s (expected <policy>)",
                                      element_label(c, q), POLICY_NAMESPACE);
                if (d->policy)
                        return errorf(ret_error, -EINVAL, "metadata: more than one <policy> in namespace %s",
                                      POLICY_NAMESPACE);
                r = parse_policy(c, &d->policy, ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

int domxml_parse(const char *xml, size_t len, Domain **ret, char **ret_error) {
        return domxml_parse_timeout(xml, len, DOMXML_PARSE_TIMEOUT, ret, ret_error);
}

/* The limits every reader of a domain XML keeps, then libxml2's parse. */
static int read_bounded(const char *xml, size_t len, usec_t timeout, xmlDoc **ret, char **ret_error) {
        if (!xml || len == 0)
                return errorf(ret_error, -EINVAL, "domain XML is empty");
        /* Also keeps the length inside libxml2's int. */
        if (len > DOMXML_MAX_SIZE)
                return errorf(ret_error, -EINVAL, "domain XML is too large (%zu bytes, at most %u)",
                              len, DOMXML_MAX_SIZE);
        return read_document(xml, len, timeout, ret, ret_error);
}

int domxml_parse_timeout(const char *xml, size_t len, usec_t timeout, Domain **ret, char **ret_error) {
        _cleanup_(xml_doc_freep) xmlDoc *doc = NULL;
        _cleanup_domain_ Domain *d = NULL;
        char q[VALUE_QUOTE_BUFSZ];
        const xmlNode *root;
        unsigned idx = 0;
        int r;

        r = read_bounded(xml, len, timeout, &doc, ret_error);
        if (r < 0)
                return r;

        root = xmlDocGetRootElement(doc);
        if (!root)
                return errorf(ret_error, -EINVAL, "domain XML has no root element");
        if (too_deep(root, 1))
                return errorf(ret_error, -EINVAL, "domain XML is nested more than %u levels deep",
                              DOMXML_MAX_DEPTH);
        if (!node_is(root, "domain")) {
                if (root->ns) {
                        char q2[VALUE_QUOTE_BUFSZ];
                        return errorf(ret_error, -EINVAL,
                                      "domain XML: root element <%s> is in namespace '%s', expected <domain> in "
                                      "none (libvirt's)",
                                      element_label(root, q), value_quote(root->ns->href ? xs(root->ns->href) : "", q2));
                }
                return errorf(ret_error, -EINVAL, "domain XML: root element is <%s>, expected <domain>",
                              element_label(root, q));
        }

        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;

        for (const xmlNode *c = root->children; c; c = c->next) {
                if (node_is(c, "name")) {
                        if (d->name)
                                return errorf(ret_error, -EINVAL, "domain XML has more than one <name>");
                        /* Not trimmed: libvirt does not trim it either. */
                        r = element_text(c, false, &d->name);
                        if (r == -EBADMSG)
                                return errorf(ret_error, -EINVAL, "domain XML: <name> must contain only text");
                } else if (node_is(c, "devices"))
                        r = parse_devices(c, d, &idx, ret_error);
                else if (node_is(c, "metadata"))
                        r = parse_metadata(c, d, ret_error);
                else
                        r = lifetime_domain_element(c, &d->memory);
                if (r < 0)
                        return r;
        }

        if (!d->name)
                return errorf(ret_error, -EINVAL, "domain XML has no <name>");
        /* Only a domain we act on gets its name into a path (the journal). */
        if (d->policy && !domain_name_valid(d->name))
                return errorf(ret_error, -EINVAL,
                              "domain name '%s' cannot be used by vfio-hook (allowed: 1 to %u characters "
                              "of A-Z, a-z, 0-9 and _.@:+-, not '.' or '..')",
                              value_quote(d->name, q), DOMAIN_NAME_MAX);

        /* The pages <hugepages> sizes the pool for: refused here, before anything runs. */
        if (d->policy && d->policy->lifetime.hugepage_kib) {
                HugepageNeed need;
                r = hugepage_need(&d->policy->lifetime, &d->memory, &need, ret_error);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(d);
        return 0;
}

int domxml_read_document(const char *xml, size_t len, struct _xmlDoc **ret, char **ret_error) {
        _cleanup_(xml_doc_freep) xmlDoc *doc = NULL;
        int r;

        r = read_bounded(xml, len, DOMXML_PARSE_TIMEOUT, &doc, ret_error);
        if (r < 0)
                return r;
        const xmlNode *root = xmlDocGetRootElement(doc);
        if (!root || !node_is(root, "domain"))
                return errorf(ret_error, -EINVAL, "domain XML: the root element is not <domain>");
        if (too_deep(root, 1))
                return errorf(ret_error, -EINVAL, "domain XML is nested more than %u levels deep",
                              DOMXML_MAX_DEPTH);
        *ret = TAKE_PTR(doc);
        return 0;
}
