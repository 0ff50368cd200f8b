/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the domain XML and its policy, as the hook reads them
 * from whoever may define domains. domxml_parse(), then, for a policy,
 * policy_check_allowed() with an empty config (only the built-in allowlist).
 * Besides the sanitizers, it checks what the hook relies on: an error is one
 * printable line, and what is accepted is within the documented limits. */
#include <libxml/parser.h>
#include <stdint.h>
#include <stdlib.h>

#include "model/domxml.h"
#include "model/policy.h"
#include "shared/util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        xmlInitParser();
        return 0;
}

/* One line, printable ASCII: libvirt shows it in the `virsh start` error. */
static void check_message(const char *m) {
        if (!m || !*m)
                abort();
        for (const char *p = m; *p; p++)
                if ((unsigned char) *p < 0x20 || (unsigned char) *p >= 0x7f)
                        abort();
}

static void check_domain(const Domain *d) {
        if (!d->name || d->n_hostdevs > DOMXML_MAX_HOSTDEVS)
                abort();
        for (size_t i = 0; i < d->n_hostdevs; i++) {
                const PciAddr *a = &d->hostdevs[i].addr;
                if (a->domain > 0xffff || a->bus > 0xff || a->slot > 0x1f || a->function > 7)
                        abort();
                for (size_t k = 0; k < i; k++)
                        if (pci_addr_equal(a, &d->hostdevs[k].addr))
                                abort();
        }
        if (!d->policy)
                return;
        /* A domain we act on has a name fit for a path. */
        if (!domain_name_valid(d->name))
                abort();
        const Policy *p = d->policy;
        if ((unsigned) p->stack >= _STACK_MAX || p->timeout_sec < 1 || p->timeout_sec > POLICY_TIMEOUT_MAX)
                abort();
        if ((unsigned) p->console >= _CHOICE_MAX || (unsigned) p->framebuffer >= _CHOICE_MAX ||
            (unsigned) p->display_manager >= _CHOICE_MAX)
                abort();
        if (strv_length(p->services) > POLICY_NAMES_MAX || strv_length(p->modules) > POLICY_NAMES_MAX)
                abort();
        if (p->services)
                for (char **s = p->services; *s; s++)
                        if (!unit_name_valid(*s))
                                abort();
        if (p->modules)
                for (char **m = p->modules; *m; m++) {
                        _cleanup_free_ char *n = NULL;
                        if (policy_module_name_parse(*m, &n) < 0 || !streq(n, *m))
                                abort();
                }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_domain_ Domain *d = NULL;
        _cleanup_free_ char *err = NULL;
        int r;

        r = domxml_parse((const char *) data, size, &d, &err);
        if (r < 0) {
                if (r != -ENOMEM)
                        check_message(err);
                if (d)
                        abort();
                return 0;
        }
        if (!d || err)
                abort();
        check_domain(d);

        if (d->policy) {
                _cleanup_free_ char *err2 = NULL;
                Config empty = {};

                r = policy_check_allowed(d->policy, &empty, NULL, &err2);
                if (r < 0) {
                        if (r != -EPERM)
                                abort();
                        check_message(err2);
                } else if (err2)
                        abort();
        }
        return 0;
}
