/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlversion.h>

/* What the model's libxml2 users share (domxml.c, domedit.c,
 * lifetime-xml.c). */

/* libxml2 2.12 made the error a callback gets const. */
#if LIBXML_VERSION >= 21200
typedef const xmlError *ErrorPtr;
#else
typedef xmlErrorPtr ErrorPtr;
#endif

static inline const char *xs(const xmlChar *s) {
        return (const char *) s;
}

static inline void xml_doc_freep(xmlDoc **d) {
        if (*d)
                xmlFreeDoc(*d);
}

static inline void xml_freep(xmlChar **s) {
        if (*s)
                xmlFree(*s);
}
