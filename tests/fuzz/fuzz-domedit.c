/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the editing of `vfio-hook enable` and `disable`
 * (src/model/domedit.c) on a domain XML that whoever may define domains wrote.
 * Besides the sanitizers: an error is one line; what enable writes parses
 * again and holds the devices; and on a domain without <metadata> or
 * hostdevs, disable after enable gives back the document as it was. */
#include <libxml/parser.h>
#include <stdint.h>
#include <stdlib.h>

#include "model/domedit.h"
#include "model/domxml.h"
#include "model/policy.h"
#include "shared/util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        xmlInitParser();
        return 0;
}

static void check_error(const char *e) {
        if (e && strchr(e, '\n'))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const PciAddr devs[] = { { 0, 1, 0, 0 }, { 0, 1, 0, 1 }, { 0, 2, 0, 3 } };
        char *xml = strndup((const char *) data, size);
        char *err = NULL, *a = NULL, *b = NULL, *c = NULL, *rec = NULL, *norm = NULL;
        char *d1 = NULL, *d2 = NULL, *d3 = NULL;
        PciAddr *added = NULL;
        size_t n_added = 0, n_removed = 0;
        DomEditState st = {}, st2 = {};

        if (!xml)
                return 0;
        size = strlen(xml);
        if (size == 0 || domedit_read_state(xml, size, &st, &err) < 0)
                goto out;
        if (domedit_add_hostdevs(xml, size, devs, ELEMENTSOF(devs), &a, &added, &n_added, &err) < 0)
                goto out;
        if (domedit_record_xml(added, n_added, &rec) < 0 ||
            domedit_set_metadata(a, strlen(a), POLICY_NAMESPACE, POLICY_KEY, "<policy/>", &b, &err) < 0 ||
            domedit_set_metadata(b, strlen(b), ENABLED_NAMESPACE, ENABLED_KEY, rec, &c, &err) < 0)
                goto out;
        /* What enable wrote reads back: every device is a hostdev, the record lists the new ones. */
        if (domedit_read_state(c, strlen(c), &st2, &err) < 0 || !st2.has_policy || st2.n_recorded != n_added)
                abort();
        for (size_t i = 0; i < ELEMENTSOF(devs); i++) {
                bool found = false;
                for (size_t k = 0; k < st2.n_hostdevs; k++)
                        found = found || pci_addr_equal(&st2.hostdevs[k], &devs[i]);
                if (!found)
                        abort();
        }
        if (domedit_remove_hostdevs(c, strlen(c), st2.recorded, st2.n_recorded, &d1, &n_removed, &err) < 0 ||
            n_removed != n_added ||
            domedit_set_metadata(d1, strlen(d1), POLICY_NAMESPACE, POLICY_KEY, NULL, &d2, &err) < 0 ||
            domedit_set_metadata(d2, strlen(d2), ENABLED_NAMESPACE, ENABLED_KEY, NULL, &d3, &err) < 0)
                abort();
        if (!strstr(xml, "<metadata") && !strstr(xml, ":metadata") && st.n_hostdevs == 0 && strstr(xml, "<devices") &&
            domedit_normalize(xml, size, &norm, &err) >= 0 && !streq(norm, d3))
                abort();
out:
        check_error(err);
        domedit_state_done(&st);
        domedit_state_done(&st2);
        free(xml);
        free(err);
        free(a);
        free(b);
        free(c);
        free(rec);
        free(norm);
        free(d1);
        free(d2);
        free(d3);
        free(added);
        return 0;
}
