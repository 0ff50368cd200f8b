/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the journal parser, and the release record's. The journal is written by root
 * only, but release and restore act on what it says as root, so it is
 * parsed as untrusted input: every record checked, every target validated. */
#include <stdint.h>
#include <stdlib.h>

#include "model/domxml.h"
#include "model/journal.h"
#include "shared/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The release record (<domain>.released) is parsed the same way. */
static void release_record(const uint8_t *data, size_t size) {
        _cleanup_(release_record_done) ReleaseRecord rec = {};
        _cleanup_free_ char *err = NULL;
        int r = release_record_parse((const char *) data, size, NULL, &rec, &err);
        if (r < 0) {
                if (r != -ENOMEM && r != -EINVAL)
                        abort();
                return;
        }
        if (!rec.domain || !domain_name_valid(rec.domain))
                abort();
        for (size_t i = 0; i < rec.n_missing; i++)
                if (!rec.missing[i].target)
                        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(journal_done) Journal j = {};
        _cleanup_free_ char *err = NULL;
        int r;

        release_record(data, size);
        r = journal_parse((const char *) data, size, NULL, &j, &err);
        if (r < 0) {
                if (r != -ENOMEM && r != -EINVAL)
                        abort();
                return 0;
        }
        if (!j.domain || !domain_name_valid(j.domain))
                abort();
        for (size_t i = 0; i < j.n_steps; i++) {
                if (!j.steps[i].target || j.steps[i].n == 0)
                        abort();
                if (i > 0 && j.steps[i].n <= j.steps[i - 1].n)
                        abort();
        }

        /* Read back for the domain it names: the same answer. */
        _cleanup_(journal_done) Journal j2 = {};
        _cleanup_free_ char *err2 = NULL;
        r = journal_parse((const char *) data, size, j.domain, &j2, &err2);
        if (r < 0 || j2.n_steps != j.n_steps || j2.n_devices != j.n_devices || j2.prepared != j.prepared)
                abort();
        return 0;
}
