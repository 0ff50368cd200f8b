/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "model/pci.h"
#include "model/policy.h"

/* The domain XML libvirt hands the hook, parsed with libxml2 (no network,
 * no entity expansion, bounded size and depth). Pure: no host access. */

#define DOMXML_MAX_SIZE (16U * 1024U * 1024U)
#define DOMAIN_NAME_MAX 200U
/* PCI hostdevs in one domain: the journal holds at most this many devices,
 * so more would be a hand-off that release cannot read back. */
#define DOMXML_MAX_HOSTDEVS 256U

typedef struct HostDev {
        PciAddr addr;
        bool managed;
} HostDev;

typedef struct Domain {
        char *name;
        HostDev *hostdevs;     /* <hostdev mode='subsystem' type='pci'>, in order */
        size_t n_hostdevs;
        Policy *policy;        /* NULL: the domain has no policy ("no policy") */
        DomainMemory memory;   /* <memory>, <memoryBacking>, <numatune>, raw (lifetime.h) */
} Domain;

Domain *domain_free(Domain *d);
static inline void domain_freep(Domain **d) {
        domain_free(*d);
}
#define _cleanup_domain_ _cleanup_(domain_freep)

/* How long one parse may take: a 16 MiB document of libvirt's kind takes
 * well under a second. */
#define DOMXML_PARSE_TIMEOUT (5 * USEC_PER_SEC)

/* Returns 0 and the domain, or -EINVAL (bad input) / -ENOMEM with one line
 * in *ret_error naming the element and value that are wrong. Bounded work
 * on any input: at most DOMXML_MAX_SIZE bytes, DOMXML_PARSE_TIMEOUT, 64
 * levels deep, 256 attributes per element. */
int domxml_parse(const char *xml, size_t len, Domain **ret, char **ret_error);
/* The same with another time limit (tests). */
int domxml_parse_timeout(const char *xml, size_t len, usec_t timeout, Domain **ret, char **ret_error);

/* The same safe parse (no DTD, no entities, bounded size, time and depth)
 * of a document whose root is <domain>, for code that edits it (domedit.c).
 * The caller frees it with xmlFreeDoc(). */
struct _xmlDoc;
int domxml_read_document(const char *xml, size_t len, struct _xmlDoc **ret, char **ret_error);

/* A PCI address attribute as libvirt reads it (strtoul base 0, no blanks
 * or signs), at most max. */
int domxml_parse_pci_number(const char *s, unsigned max, unsigned *ret);
/* A <hostdev> element: 1 and its source for a PCI subsystem hostdev, 0 for
 * another kind, -EINVAL with a message naming hostdev idx. */
struct _xmlNode;
int domxml_parse_hostdev(const struct _xmlNode *n, unsigned idx, HostDev *ret, char **ret_error);

/* Domain names used in file names (the journal): see filename_is_safe(). */
bool domain_name_valid(const char *name);
