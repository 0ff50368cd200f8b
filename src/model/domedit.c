/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "model/domedit.h"
#include "model/domxml.h"
#include "model/policy.h"
#include "model/xmlutil.h"
#include "shared/subprocess.h"
#include "shared/util.h"

#define POLICY_FILE_MAX (64U * 1024U)

void domedit_state_done(DomEditState *s) {
        free(s->recorded);
        free(s->hostdevs);
        *s = (DomEditState) {};
}

/* An element of libvirt's vocabulary (no namespace). */
static bool is_elem(const xmlNode *n, const char *name) {
        return n && n->type == XML_ELEMENT_NODE && !n->ns && streq(xs(n->name), name);
}

static bool in_ns(const xmlNode *n, const char *uri) {
        return n->type == XML_ELEMENT_NODE && n->ns && n->ns->href && streq(xs(n->ns->href), uri);
}

static xmlNode *child(xmlNode *parent, const char *name) {
        for (xmlNode *c = parent ? parent->children : NULL; c; c = c->next)
                if (is_elem(c, name))
                        return c;
        return NULL;
}

static bool is_blank(const xmlNode *n) {
        if (!n || n->type != XML_TEXT_NODE)
                return false;
        for (const xmlChar *p = n->content; p && *p; p++)
                if (!strchr(" \t\r\n", *p))
                        return false;
        return true;
}

static bool has_element_child(const xmlNode *n) {
        for (const xmlNode *c = n->children; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE)
                        return true;
        return false;
}

/* The blank text in front of the first element inside parent: how its
 * children are indented ("" when the document is written on one line). */
static const char *child_indent(const xmlNode *parent) {
        for (const xmlNode *c = parent->children; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE)
                        return is_blank(c->prev) ? xs(c->prev->content) : "";
        return "";
}

/* The text after the last element inside parent when it is blank: the
 * indentation of the end tag. */
static xmlNode *trailing_blank(xmlNode *parent) {
        return is_blank(parent->last) ? parent->last : NULL;
}

static int add_text_before(xmlNode *next, xmlNode *parent, const char *text) {
        xmlNode *prev = next ? next->prev : parent->last;
        /* Next to text, libxml2 would merge ours into it, and remove_node()
         * could not take it out again: no indentation there. */
        if (!text[0] || (prev && prev->type == XML_TEXT_NODE))
                return 0;
        xmlNode *t = xmlNewDocText(parent->doc, BAD_CAST text);
        if (!t)
                return -ENOMEM;
        if (next ? !xmlAddPrevSibling(next, t) : !xmlAddChild(parent, t)) {
                xmlFreeNode(t);
                return -ENOMEM;
        }
        return 0;
}

/* Inserts node into parent before the element `before` (NULL: after its
 * last element), with the indentation its siblings have. The blank text
 * goes in after the element, in front of it: libxml2 merges text put next
 * to text. */
static int insert_child_before(xmlNode *parent, xmlNode *node, xmlNode *before) {
        _cleanup_free_ char *indent = strdup(child_indent(parent));
        xmlNode *at = before ? (is_blank(before->prev) ? before->prev : before) : trailing_blank(parent);

        if (!indent)
                return -ENOMEM;
        if (at ? !xmlAddPrevSibling(at, node) : !xmlAddChild(parent, node))
                return -ENOMEM;
        return add_text_before(node, parent, indent);
}

static int insert_child(xmlNode *parent, xmlNode *node) {
        return insert_child_before(parent, node, NULL);
}

/* Unlinks and frees node with the blank text in front of it: the inverse
 * of insert_child(). */
static void remove_node(xmlNode *node) {
        xmlNode *prev = node->prev;
        if (is_blank(prev)) {
                xmlUnlinkNode(prev);
                xmlFreeNode(prev);
        }
        xmlUnlinkNode(node);
        xmlFreeNode(node);
}

static void strip_blanks(xmlNode *n) {
        for (xmlNode *c = n->children, *next; c; c = next) {
                next = c->next;
                if (is_blank(c)) {
                        xmlUnlinkNode(c);
                        xmlFreeNode(c);
                } else if (c->type == XML_ELEMENT_NODE)
                        strip_blanks(c);
        }
}

/* Indents a subtree without text (hostdevs, policies) as libvirt writes
 * it: each child on a line of its own, two spaces deeper than n, which
 * sits at indent ("\n    "; "" writes it on one line). */
static int indent_subtree(xmlNode *n, const char *indent) {
        _cleanup_free_ char *inner = NULL;

        if (!indent[0] || !has_element_child(n))
                return 0;
        for (xmlNode *c = n->children; c; c = c->next)
                if (c->type == XML_TEXT_NODE)
                        return 0; /* mixed content: as it is */
        if (asprintf(&inner, "%s  ", indent) < 0)
                return -ENOMEM;
        for (xmlNode *c = n->children; c; c = c->next) {
                if (c->type != XML_ELEMENT_NODE)
                        continue;
                if (add_text_before(c, n, inner) < 0 || indent_subtree(c, inner) < 0)
                        return -ENOMEM;
        }
        return add_text_before(NULL, n, indent);
}

static int parse(const char *xml, size_t len, xmlDoc **ret, char **ret_error) {
        return domxml_read_document(xml, len, ret, ret_error);
}

static int serialize(xmlDoc *doc, char **ret) {
        xmlBuffer *b = xmlBufferCreate();
        int r = 0;

        if (!b)
                return -ENOMEM;
        if (xmlNodeDump(b, doc, xmlDocGetRootElement(doc), 0, 0) < 0)
                r = -ENOMEM;
        else if (asprintf(ret, "%s\n", xs(xmlBufferContent(b))) < 0)
                r = -ENOMEM;
        xmlBufferFree(b);
        return r;
}

int domedit_normalize(const char *xml, size_t len, char **ret_xml, char **ret_error) {
        _cleanup_(xml_doc_freep) xmlDoc *doc = NULL;
        int r = parse(xml, len, &doc, ret_error);
        return r < 0 ? r : serialize(doc, ret_xml);
}

static int cmp_addr(const void *x, const void *y) {
        const PciAddr *a = x, *b = y;
        unsigned ka[] = { a->domain, a->bus, a->slot, a->function }, kb[] = { b->domain, b->bus, b->slot, b->function };
        for (size_t i = 0; i < ELEMENTSOF(ka); i++)
                if (ka[i] != kb[i])
                        return ka[i] < kb[i] ? -1 : 1;
        return 0;
}

void domedit_sort_addrs(PciAddr *l, size_t n) {
        if (n > 0)
                qsort(l, n, sizeof *l, cmp_addr);
}

static bool addr_in(const PciAddr *l, size_t n, const PciAddr *a) {
        for (size_t i = 0; i < n; i++)
                if (pci_addr_equal(&l[i], a))
                        return true;
        return false;
}

int domedit_addr_add(PciAddr **l, size_t *n, const PciAddr *a) {
        if (addr_in(*l, *n, a))
                return 0;
        PciAddr *m = reallocarray(*l, *n + 1, sizeof(PciAddr));
        if (!m)
                return -ENOMEM;
        m[(*n)++] = *a;
        *l = m;
        return 0;
}

static xmlNode *metadata_child(xmlNode *root, const char *uri) {
        xmlNode *m = child(root, "metadata");
        for (xmlNode *c = m ? m->children : NULL; c; c = c->next)
                if (in_ns(c, uri))
                        return c;
        return NULL;
}

static int read_record(xmlNode *root, PciAddr **ret, size_t *ret_n, char **ret_error) {
        _cleanup_free_ PciAddr *l = NULL;
        xmlNode *rec = metadata_child(root, ENABLED_NAMESPACE);
        char q[VALUE_QUOTE_BUFSZ];
        size_t n = 0;

        for (xmlNode *c = rec ? rec->children : NULL; c; c = c->next) {
                if (c->type != XML_ELEMENT_NODE)
                        continue;
                _cleanup_(xml_freep) xmlChar *a = xmlGetNoNsProp(c, BAD_CAST "address");
                PciAddr p;
                if (!streq(xs(c->name), "hostdev") || !a || pci_addr_parse(xs(a), &p) < 0)
                        return errorf(ret_error, -EINVAL,
                                      "metadata: the record of what vfio-hook enable added (%s) has <%s address='%s'>, "
                                      "expected <hostdev address='DDDD:BB:SS.F'>",
                                      ENABLED_NAMESPACE, xs(c->name), value_quote(a ? xs(a) : "", q));
                if (domedit_addr_add(&l, &n, &p) < 0)
                        return -ENOMEM;
        }
        domedit_sort_addrs(l, n);
        *ret = TAKE_PTR(l);
        *ret_n = n;
        return 0;
}

/* Calls fn for each PCI subsystem hostdev of the domain. */
typedef int (*HostdevFn)(xmlNode *n, const HostDev *h, void *userdata);
static int for_each_hostdev(xmlNode *root, HostdevFn fn, void *userdata, char **ret_error) {
        xmlNode *devices = child(root, "devices");
        unsigned idx = 0;

        for (xmlNode *c = devices ? devices->children : NULL, *next; c; c = next) {
                next = c->next;
                if (!is_elem(c, "hostdev"))
                        continue;
                HostDev h;
                int r = domxml_parse_hostdev(c, ++idx, &h, ret_error);
                if (r > 0)
                        r = fn(c, &h, userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int collect_hostdev(xmlNode *n, const HostDev *h, void *userdata) {
        DomEditState *s = userdata;
        return domedit_addr_add(&s->hostdevs, &s->n_hostdevs, &h->addr);
}

static int read_state(xmlNode *root, DomEditState *ret, char **ret_error) {
        _cleanup_(domedit_state_done) DomEditState s = {};
        int r;

        s.has_name = child(root, "name") != NULL;
        s.has_policy = metadata_child(root, POLICY_NAMESPACE) != NULL;
        r = read_record(root, &s.recorded, &s.n_recorded, ret_error);
        if (r >= 0)
                r = for_each_hostdev(root, collect_hostdev, &s, ret_error);
        if (r < 0)
                return r;
        *ret = s;
        s = (DomEditState) {};
        return 0;
}

int domedit_read_state(const char *xml, size_t len, DomEditState *ret, char **ret_error) {
        _cleanup_(xml_doc_freep) xmlDoc *doc = NULL;
        int r = parse(xml, len, &doc, ret_error);
        return r < 0 ? r : read_state(xmlDocGetRootElement(doc), ret, ret_error);
}

/* Slots of the root bus (domain 0, bus 0) that a device's own <address
 * type='pci'> takes (not a hostdev's <source>: that is the host's). */
static void used_slots(xmlNode *root, bool used[static 32]) {
        xmlNode *devices = child(root, "devices");

        for (xmlNode *c = devices ? devices->children : NULL; c; c = c->next) {
                if (c->type != XML_ELEMENT_NODE)
                        continue;
                for (xmlNode *a = c->children; a; a = a->next) {
                        _cleanup_(xml_freep) xmlChar *type = NULL, *dom = NULL, *bus = NULL, *slot = NULL;
                        unsigned d = 0, b = 0, s;
                        if (!is_elem(a, "address"))
                                continue;
                        type = xmlGetNoNsProp(a, BAD_CAST "type");
                        dom = xmlGetNoNsProp(a, BAD_CAST "domain");
                        bus = xmlGetNoNsProp(a, BAD_CAST "bus");
                        slot = xmlGetNoNsProp(a, BAD_CAST "slot");
                        if (!type || !streq(xs(type), "pci") || !slot)
                                continue;
                        /* Omitted domain and bus are 0 to libvirt. */
                        if ((dom && domxml_parse_pci_number(xs(dom), 0xffff, &d) < 0) ||
                            (bus && domxml_parse_pci_number(xs(bus), 0xff, &b) < 0) ||
                            domxml_parse_pci_number(xs(slot), 0x1f, &s) < 0)
                                continue;
                        if (d == 0 && b == 0)
                                used[s] = true;
                }
        }
}

static xmlNode *new_elem(xmlDoc *doc, xmlNode *parent, const char *name) {
        xmlNode *n = xmlNewDocNode(doc, NULL, BAD_CAST name, NULL);
        if (n && parent && !xmlAddChild(parent, n)) {
                xmlFreeNode(n);
                return NULL;
        }
        return n;
}

/* name='0x...' with digits hex digits, as libvirt writes addresses. */
static int set_hex(xmlNode *n, const char *name, int digits, unsigned v) {
        char buf[32];
        snprintf(buf, sizeof buf, "0x%0*x", digits, v);
        return xmlNewProp(n, BAD_CAST name, BAD_CAST buf) ? 0 : -ENOMEM;
}

/* <hostdev mode='subsystem' type='pci' managed='yes'>
 *   <source><address domain= bus= slot= function=/></source>
 *   <address type='pci' domain='0x0000' bus='0x00' slot= function= [multifunction='on']/>
 * </hostdev> */
static xmlNode *new_hostdev(xmlDoc *doc, const PciAddr *host, unsigned slot, unsigned function, bool multifunction) {
        xmlNode *h = new_elem(doc, NULL, "hostdev");
        if (!h)
                return NULL;
        xmlNode *src = new_elem(doc, h, "source");
        xmlNode *sa = src ? new_elem(doc, src, "address") : NULL;
        xmlNode *ga = sa ? new_elem(doc, h, "address") : NULL;
        if (!ga || !xmlNewProp(h, BAD_CAST "mode", BAD_CAST "subsystem") || !xmlNewProp(h, BAD_CAST "type", BAD_CAST "pci") ||
            !xmlNewProp(h, BAD_CAST "managed", BAD_CAST "yes") || set_hex(sa, "domain", 4, host->domain) < 0 ||
            set_hex(sa, "bus", 2, host->bus) < 0 || set_hex(sa, "slot", 2, host->slot) < 0 ||
            set_hex(sa, "function", 1, host->function) < 0 ||
            !xmlNewProp(ga, BAD_CAST "type", BAD_CAST "pci") || set_hex(ga, "domain", 4, 0) < 0 ||
            set_hex(ga, "bus", 2, 0) < 0 || set_hex(ga, "slot", 2, slot) < 0 ||
            set_hex(ga, "function", 1, function) < 0 ||
            (multifunction && !xmlNewProp(ga, BAD_CAST "multifunction", BAD_CAST "on"))) {
                xmlFreeNode(h);
                return NULL;
        }
        return h;
}

/* Where libvirt writes hostdevs among the devices (its formatter's order,
 * src/conf/domain_conf.c): before the first of these, so that the dry
 * run's diff shows them where `virsh dumpxml` will. */
static xmlNode *hostdev_place(xmlNode *devices) {
        static const char *const after[] = {
                "redirdev", "redirfilter", "hub", "watchdog", "memballoon", "rng", "panic",
                "shmem", "memory", "iommu", "vsock", "crypto", "pstore",
        };
        for (xmlNode *c = devices->children; c; c = c->next)
                for (size_t i = 0; i < ELEMENTSOF(after); i++)
                        if (is_elem(c, after[i]))
                                return c;
        return NULL;
}

static bool same_device(const PciAddr *a, const PciAddr *b) {
        return a->domain == b->domain && a->bus == b->bus && a->slot == b->slot;
}

int domedit_add_hostdevs(const char *xml, size_t len, const PciAddr *devs, size_t n_devs, char **ret_xml,
                         PciAddr **ret_added, size_t *ret_n_added, char **ret_error) {
        _cleanup_(xml_doc_freep) xmlDoc *doc = NULL;
        _cleanup_(domedit_state_done) DomEditState s = {};
        _cleanup_free_ PciAddr *to_add = NULL;
        _cleanup_free_ char *indent = NULL;
        bool used[32] = {};
        size_t n = 0;
        xmlNode *root, *devices;
        int r;

        r = parse(xml, len, &doc, ret_error);
        if (r < 0)
                return r;
        root = xmlDocGetRootElement(doc);
        r = read_state(root, &s, ret_error);
        if (r < 0)
                return r;

        for (size_t i = 0; i < n_devs; i++)
                if (!addr_in(s.hostdevs, s.n_hostdevs, &devs[i]) && domedit_addr_add(&to_add, &n, &devs[i]) < 0)
                        return -ENOMEM;
        domedit_sort_addrs(to_add, n);

        devices = child(root, "devices");
        if (n > 0 && !devices) {
                devices = new_elem(doc, NULL, "devices");
                if (!devices || insert_child(root, devices) < 0)
                        return -ENOMEM;
        }
        used_slots(root, used);
        if (devices) {
                indent = strdup(child_indent(devices));
                if (!indent)
                        return -ENOMEM;
        }

        /* One guest slot per physical device (to_add is sorted, so its functions are together). */
        for (size_t i = 0, j; i < n; i = j) {
                unsigned slot;
                bool has_f0 = false;

                for (j = i; j < n && same_device(&to_add[i], &to_add[j]); j++)
                        has_f0 = has_f0 || to_add[j].function == 0;
                for (slot = DOMEDIT_FIRST_SLOT; slot <= DOMEDIT_LAST_SLOT && used[slot]; slot++)
                        ;
                if (slot > DOMEDIT_LAST_SLOT) {
                        char a[PCI_ADDR_STRLEN];
                        return errorf(ret_error, -ENOSPC,
                                      "no free slot on the domain's root PCI bus (0x%02x to 0x%02x are taken) for %s",
                                      DOMEDIT_FIRST_SLOT, DOMEDIT_LAST_SLOT, pci_addr_format(&to_add[i], a));
                }
                used[slot] = true;

                for (size_t k = i; k < j; k++) {
                        /* Host function numbers stay when function 0 is there; else 0, 1, ... */
                        unsigned fn = has_f0 ? to_add[k].function : (unsigned) (k - i);
                        xmlNode *h = new_hostdev(doc, &to_add[k], slot, fn, fn == 0 && j - i > 1);
                        if (!h)
                                return -ENOMEM;
                        r = indent_subtree(h, indent);
                        if (r >= 0)
                                r = insert_child_before(devices, h, hostdev_place(devices));
                        if (r < 0) {
                                if (!h->parent)
                                        xmlFreeNode(h);
                                return r;
                        }
                }
        }

        r = serialize(doc, ret_xml);
        if (r < 0)
                return r;
        *ret_added = TAKE_PTR(to_add);
        *ret_n_added = n;
        return 0;
}

typedef struct RemoveCtx {
        const PciAddr *devs;
        size_t n_devs, n_removed;
} RemoveCtx;

static int remove_hostdev(xmlNode *n, const HostDev *h, void *userdata) {
        RemoveCtx *c = userdata;
        if (addr_in(c->devs, c->n_devs, &h->addr)) {
                remove_node(n);
                c->n_removed++;
        }
        return 0;
}

int domedit_remove_hostdevs(const char *xml, size_t len, const PciAddr *devs, size_t n_devs, char **ret_xml,
                            size_t *ret_n_removed, char **ret_error) {
        _cleanup_(xml_doc_freep) xmlDoc *doc = NULL;
        RemoveCtx c = { .devs = devs, .n_devs = n_devs };
        int r;

        r = parse(xml, len, &doc, ret_error);
        if (r >= 0)
                r = for_each_hostdev(xmlDocGetRootElement(doc), remove_hostdev, &c, ret_error);
        if (r >= 0)
                r = serialize(doc, ret_xml);
        if (r < 0)
                return r;
        *ret_n_removed = c.n_removed;
        return 0;
}

int domedit_record_xml(const PciAddr *devs, size_t n_devs, char **ret) {
        _cleanup_free_ char *s = strdup("<enabled>");
        for (size_t i = 0; s && i < n_devs; i++) {
                char a[PCI_ADDR_STRLEN];
                char *t = strf("%s<hostdev address='%s'/>", s, pci_addr_format(&devs[i], a));
                free(s);
                s = t;
        }
        char *t = s ? strf("%s</enabled>", s) : NULL;
        if (!t)
                return -ENOMEM;
        *ret = t;
        return 0;
}

/* Sets n's namespace and that of its element children to ns, as libvirt's
 * virXMLInjectNamespace() does for virDomainSetMetadata(). */
static void inject_ns(xmlNode *n, xmlNs *ns) {
        xmlSetNs(n, ns);
        for (xmlNode *c = n->children; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE)
                        xmlSetNs(c, ns);
}

/* A small trusted-shape document (ours, or a policy file): no network, no
 * DTD (refused), bounded size. */
static int parse_fragment(const char *xml, size_t len, const char *what, xmlDoc **ret, char **ret_error) {
        if (len > POLICY_FILE_MAX)
                return errorf(ret_error, -EINVAL, "%s is too large (%zu bytes, at most %u)", what, len, POLICY_FILE_MAX);
        xmlDoc *doc = xmlReadMemory(xml, (int) len, NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (!doc || !xmlDocGetRootElement(doc)) {
                ErrorPtr e = xmlGetLastError();
                char m[256] = "";
                if (e && e->message)
                        snprintf(m, sizeof m, ": line %d: %s", e->line, e->message);
                xmlFreeDoc(doc);
                return errorf(ret_error, -EINVAL, "%s is not well-formed XML%s", what, strstrip_trailing(m));
        }
        if (doc->intSubset || doc->extSubset) {
                xmlFreeDoc(doc);
                return errorf(ret_error, -EINVAL, "%s has a DOCTYPE declaration, which is refused", what);
        }
        *ret = doc;
        return 0;
}

int domedit_set_metadata(const char *xml, size_t len, const char *uri, const char *key, const char *element,
                         char **ret_xml, char **ret_error) {
        _cleanup_(xml_doc_freep) xmlDoc *doc = NULL, *frag = NULL;
        _cleanup_free_ char *indent = NULL;
        xmlNode *root, *metadata, *old, *node = NULL;
        int r;

        r = parse(xml, len, &doc, ret_error);
        if (r < 0)
                return r;
        root = xmlDocGetRootElement(doc);
        metadata = child(root, "metadata");
        old = metadata_child(root, uri);

        if (element) {
                r = parse_fragment(element, strlen(element), "the metadata element", &frag, ret_error);
                if (r < 0)
                        return r;
                node = xmlDocCopyNode(xmlDocGetRootElement(frag), doc, 1);
                if (!node)
                        return -ENOMEM;
                xmlNs *ns = xmlNewNs(node, BAD_CAST uri, BAD_CAST key);
                if (!ns) {
                        xmlFreeNode(node);
                        return -ENOMEM;
                }
                inject_ns(node, ns);
                strip_blanks(node);
        }

        if (!metadata && node) {
                /* libvirt's place for it: after name, uuid, genid, title and description. */
                xmlNode *after = NULL;
                for (xmlNode *c = root->children; c; c = c->next)
                        if (is_elem(c, "name") || is_elem(c, "uuid") || is_elem(c, "genid") || is_elem(c, "title") ||
                            is_elem(c, "description"))
                                after = c;
                metadata = new_elem(doc, NULL, "metadata");
                indent = strdup(child_indent(root));
                if (!metadata || !indent) {
                        xmlFreeNode(metadata);
                        xmlFreeNode(node);
                        return -ENOMEM;
                }
                if (!after || !after->next)
                        r = insert_child(root, metadata);
                else if (!xmlAddNextSibling(after, metadata))
                        r = -ENOMEM;
                else
                        /* [after][indent][metadata][what followed after] */
                        r = add_text_before(metadata, root, indent);
                if (r < 0) {
                        xmlFreeNode(node);
                        return r;
                }
                if (indent[0]) {
                        /* The end tag at the parent's indentation. */
                        r = add_text_before(NULL, metadata, indent);
                        if (r < 0) {
                                xmlFreeNode(node);
                                return r;
                        }
                }
        }

        if (node) {
                _cleanup_free_ char *inner = NULL;
                const char *ci = child_indent(metadata);
                if (!has_element_child(metadata) && is_blank(metadata->last)) {
                        /* Only the end tag's indentation so far: one level deeper. */
                        if (asprintf(&inner, "%s  ", xs(metadata->last->content)) < 0)
                                inner = NULL;
                } else
                        inner = strdup(ci);
                if (!inner) {
                        xmlFreeNode(node);
                        return -ENOMEM;
                }
                r = indent_subtree(node, inner);
                if (r >= 0) {
                        if (old) {
                                xmlReplaceNode(old, node);
                                xmlFreeNode(old);
                        } else if (!has_element_child(metadata) && inner[0]) {
                                if (!xmlAddPrevSibling(metadata->last, node))
                                        r = -ENOMEM;
                                else
                                        r = add_text_before(node, metadata, inner);
                        } else
                                r = insert_child(metadata, node);
                }
                if (r < 0) {
                        if (!node->parent)
                                xmlFreeNode(node);
                        return r;
                }
        } else if (old) {
                remove_node(old);
                if (!has_element_child(metadata))
                        remove_node(metadata);
        }

        return serialize(doc, ret_xml);
}

/* ---- a policy from a file --------------------------------------------------------------------- */

typedef struct RngErrors {
        char message[256];
        int line;
        bool have;
} RngErrors;

static void on_rng_error(void *userdata, ErrorPtr e) {
        RngErrors *st = userdata;
        if (st->have || !e || e->level < XML_ERR_ERROR)
                return;
        st->have = true;
        st->line = e->line;
        snprintf(st->message, sizeof st->message, "%s", e->message ? e->message : "invalid");
        strstrip_trailing(st->message);
}

static void on_generic_error(void *ctx, const char *msg, ...) {
}

static int validate_rng(xmlDoc *doc, const char *rng_path, char **ret_error) {
        RngErrors st = {};
        xmlRelaxNGParserCtxt *pc = xmlRelaxNGNewParserCtxt(rng_path);
        xmlRelaxNG *schema = NULL;
        xmlRelaxNGValidCtxt *vc = NULL;
        int r;

        if (!pc)
                return -ENOMEM;
        xmlRelaxNGSetParserStructuredErrors(pc, on_rng_error, &st);
        /* A schema file that cannot be read is reported through the generic handler: ours says it. */
        xmlGenericErrorFunc old = xmlGenericError;
        void *old_ctx = xmlGenericErrorContext;
        xmlSetGenericErrorFunc(NULL, on_generic_error);
        schema = xmlRelaxNGParse(pc);
        xmlSetGenericErrorFunc(old_ctx, old);
        xmlRelaxNGFreeParserCtxt(pc);
        if (!schema)
                return errorf(ret_error, -ENOENT, "cannot read the policy's schema %s: %s", rng_path,
                              st.have ? st.message : "it does not parse");
        vc = xmlRelaxNGNewValidCtxt(schema);
        if (!vc) {
                xmlRelaxNGFree(schema);
                return -ENOMEM;
        }
        xmlRelaxNGSetValidStructuredErrors(vc, on_rng_error, &st);
        r = xmlRelaxNGValidateDoc(vc, doc);
        xmlRelaxNGFreeValidCtxt(vc);
        xmlRelaxNGFree(schema);
        if (r == 0)
                return 0;
        if (r < 0)
                return errorf(ret_error, -EIO, "validating the policy against %s failed", rng_path);
        return errorf(ret_error, -EINVAL, "the policy does not follow the schema %s: line %d: %s", rng_path, st.line,
                      st.have ? st.message : "invalid");
}

static void drop_ns(xmlNode *n) {
        n->ns = NULL;
        if (n->nsDef) {
                xmlFreeNsList(n->nsDef);
                n->nsDef = NULL;
        }
        for (xmlNode *c = n->children; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE)
                        drop_ns(c);
}

int domedit_policy_element(const char *xml, size_t len, const char *rng_path, char **ret, char **ret_error) {
        _cleanup_(xml_doc_freep) xmlDoc *doc = NULL;
        _cleanup_domain_ Domain *d = NULL;
        _cleanup_free_ char *wrapped = NULL, *plain = NULL, *err = NULL;
        xmlBuffer *b;
        xmlNode *root;
        int r;

        r = parse_fragment(xml, len, "the policy", &doc, ret_error);
        if (r < 0)
                return r;
        root = xmlDocGetRootElement(doc);
        if (!streq(xs(root->name), "policy") || (root->ns && !in_ns(root, POLICY_NAMESPACE)))
                return errorf(ret_error, -EINVAL, "the policy's root element must be <policy> (in namespace %s or none)",
                              POLICY_NAMESPACE);
        if (!root->ns) {
                /* As virsh metadata --set '<policy/>' would store it. */
                xmlNs *ns = xmlNewNs(root, BAD_CAST POLICY_NAMESPACE, BAD_CAST POLICY_KEY);
                if (!ns)
                        return -ENOMEM;
                xmlSetNs(root, ns);
        }
        r = validate_rng(doc, rng_path, ret_error);
        if (r < 0)
                return r;

        drop_ns(root);
        strip_blanks(root);
        b = xmlBufferCreate();
        if (!b)
                return -ENOMEM;
        if (xmlNodeDump(b, doc, root, 0, 0) < 0 || !(plain = strdup(xs(xmlBufferContent(b))))) {
                xmlBufferFree(b);
                return -ENOMEM;
        }
        xmlBufferFree(b);

        /* The hook's own reading of it, as it will find it in the domain. */
        wrapped = strdup("<domain><name>x</name></domain>");
        if (!wrapped)
                return -ENOMEM;
        _cleanup_free_ char *with_ns = NULL;
        r = domedit_set_metadata(wrapped, strlen(wrapped), POLICY_NAMESPACE, POLICY_KEY, plain, &with_ns, ret_error);
        if (r < 0)
                return r;
        r = domxml_parse(with_ns, strlen(with_ns), &d, &err);
        if (r < 0)
                return errorf(ret_error, r, "the policy: %s", err ? err : strerror(-r));

        *ret = TAKE_PTR(plain);
        return 0;
}
