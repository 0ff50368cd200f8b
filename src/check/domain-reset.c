/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "check/domain.h"
#include "host/sriov.h"
#include "shared/util.h"

/* How the domain's devices are reset between guest starts: reset_method,
 * the AMD cards vendor-reset covers, and the policy's <reset>s. */

/* A card of a family vendor-reset covers: is it loaded, does the kernel
 * offer its device_specific reset, does the policy select it. */
static int check_vendor_reset(DomainCtx *c, const PciDevice *dev, const char *family, const char *methods,
                              CheckReport *r) {
        _cleanup_free_ char *id = strf("reset:%s", dev->name),
                            *line = strf("<reset device='%s' method='device_specific'/>", dev->name);
        bool loaded = vendor_reset_loaded(c->sr), selected = false;
        char qb[VALUE_QUOTE_BUFSZ];

        if (!id || !line)
                return -ENOMEM;
        for (size_t i = 0; i < c->policy->n_resets; i++)
                selected = selected || (pci_addr_equal(&c->policy->resets[i].device, &dev->addr) &&
                                        streq(c->policy->resets[i].method, "device_specific"));
        if (!loaded)
                return check_report_add(
                        r, CHECK_WARN, id,
                        strf("%s is an AMD %s card: its bus reset often leaves it unusable until a host reboot; "
                             "vendor-reset is not loaded (reset_method: %s)",
                             dev->name, family, methods ? value_quote(methods, qb) : "none, Linux < 5.15"),
                        strf("install vendor-reset (github.com/gnif/vendor-reset), load it at boot "
                             "(/etc/modules-load.d), and add to the domain's policy: %s",
                             line));
        if (!methods)
                return check_report_add(r, CHECK_WARN, id,
                                        strf("%s is an AMD %s card and vendor-reset is loaded, but this kernel has no "
                                             "reset_method (Linux < 5.15) to select its reset with",
                                             dev->name, family),
                                        strf("use Linux 5.15 or later, then add to the domain's policy: %s", line));
        if (selected || startswith(methods, "device_specific"))
                return check_report_pass(r, id,
                                         "%s (AMD %s) resets with device_specific: vendor-reset is loaded and %s "
                                         "(reset_method now: %s)",
                                         dev->name, family,
                                         selected ? "the policy selects it" : "the kernel tries it first",
                                         value_quote(methods, qb));
        return check_report_add(
                r, CHECK_WARN, id,
                strf("%s is an AMD %s card and vendor-reset is loaded, but reset_method is '%s'%s: the "
                     "kernel does not use its device_specific reset",
                     dev->name, family, value_quote(methods, qb),
                     word_list_contains(methods, "device_specific") ? " (device_specific is offered)" : ""),
                strf("add to the domain's policy: %s", line));
}

/* reset_method lists the resets the kernel will try, best first (Linux >= 5.15). */
int check_reset(DomainCtx *c, const PciDevice *dev, CheckReport *r) {
        _cleanup_free_ char *id = strf("reset:%s", dev->name), *methods = NULL;
        char qb[VALUE_QUOTE_BUFSZ];
        _cleanup_free_ char *vendor_reset = strf(
                "if the guest cannot start a second time without a host reboot, install the vendor-reset module (it "
                "adds a device_specific reset for Polaris, Vega and Navi 10/12/14 cards) and, on Linux >= 5.15, "
                "select it: echo device_specific > /sys/bus/pci/devices/%s/reset_method",
                dev->name);
        int k;

        if (!id || !vendor_reset)
                return -ENOMEM;
        k = sysroot_read_linef(c->sr, &methods, "sys/bus/pci/devices/%s/reset_method", dev->name);
        if (k == -ENOMEM)
                return k;
        const char *family = vendor_reset_family(dev->vendor, dev->device);
        if (family)
                return check_vendor_reset(c, dev, family, k >= 0 ? methods : NULL, r);
        if (k < 0) {
                if (sysroot_existsf(c->sr, "sys/bus/pci/devices/%s/reset", dev->name) > 0)
                        return check_report_add(
                                r, CHECK_WARN, id,
                                strf("%s can be reset, but this kernel does not say how (no reset_method, "
                                     "Linux < 5.15): many AMD GPUs do not come back from a bus reset",
                                     dev->name),
                                strf("%s", vendor_reset));
                return check_report_add(r, CHECK_WARN, id,
                                        strf("%s has no reset method at all: it cannot be reset between guest starts",
                                             dev->name),
                                        strf("%s", vendor_reset));
        }
        _cleanup_free_ char *padded = strf(" %s ", methods);
        if (!padded)
                return -ENOMEM;
        if (strstr(padded, " device_specific "))
                return check_report_pass(r, id, "%s resets with: %s (a device-specific reset is registered)", dev->name,
                                         value_quote(methods, qb));
        if (strstr(padded, " flr ") || strstr(padded, " af_flr "))
                return check_report_pass(r, id, "%s resets with: %s (function-level reset)", dev->name,
                                         value_quote(methods, qb));
        if (!methods[0])
                return check_report_add(r, CHECK_WARN, id,
                                        strf("%s has no reset method enabled (reset_method is empty)", dev->name),
                                        strf("re-enable one (echo default > /sys/bus/pci/devices/%s/reset_method); %s",
                                             dev->name, vendor_reset));
        return check_report_add(
                r, CHECK_WARN, id,
                strf("%s resets only with: %s; no function-level or device-specific reset. Many AMD GPUs "
                     "(Polaris, Vega, Navi 10/12/14) do not come back from such a reset; this check cannot "
                     "tell whether this card is one of them",
                     dev->name, value_quote(methods, qb)),
                strf("%s", vendor_reset));
}

/* The policy's <reset>s (AMD cards have theirs from check_reset()). */
int check_policy_resets(DomainCtx *c, CheckReport *r) {
        int k = 0;

        for (size_t i = 0; k >= 0 && i < c->policy->n_resets; i++) {
                const ResetRequest *x = &c->policy->resets[i];
                const char *now = i < c->f.n_reset_methods ? c->f.reset_methods[i] : NULL;
                char a[PCI_ADDR_STRLEN], qb[VALUE_QUOTE_BUFSZ];
                _cleanup_free_ char *id = strf("reset:%s", pci_addr_format(&x->device, a));
                if (!id)
                        return -ENOMEM;
                if (check_report_find(r, id))
                        continue;
                if (!now)
                        k = check_report_add(
                                r, CHECK_FAIL, id, strf("<reset device='%s'>: %s has no reset_method", a, a),
                                strf("Linux >= 5.15 selects reset methods; remove the <reset> element otherwise"));
                else if (!word_list_contains(now, x->method) &&
                         !(c->f.vendor_reset && streq(x->method, "device_specific")))
                        k = check_report_add(r, CHECK_FAIL, id,
                                             strf("<reset device='%s' method='%s'>: %s offers %s", a, x->method, a,
                                                  now[0] ? value_quote(now, qb) : "no method"),
                                             strf("choose one of them"));
                else
                        k = check_report_pass(r, id, "%s resets with: %s; prepare selects %s, release puts it back", a,
                                              now[0] ? value_quote(now, qb) : "none", x->method);
        }
        return k;
}
