/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "check/domain.h"
#include "check/groups.h"
#include "check/host.h"
#include "check/pcinames.h"
#include "check/preflight.h"
#include "shared/exitcode.h"
#include "shared/log.h"
#include "shared/util.h"

/* `vfio-hook check`: the host checks, then the domain's or the IOMMU group
 * listing, printed. The checks are in src/check/: the report and its
 * printers (report.c, print.c), the names (pcinames.c), the host by
 * subject (host*.c), the domain by subject (domain*.c), the groups
 * (groups.c). Every read goes through the Sysroot, and every read that
 * fails makes a check say "cannot tell" rather than abort the report: a
 * preflight is most useful on the machines where something is odd. */

int check_run(Sysroot *sr, const Domain *d, CheckReport *ret) {
        _cleanup_(check_report_done) CheckReport r = {};
        _cleanup_(host_checks_done) CheckHost h = {};
        PciNames names;
        int k;

        if (d && !(r.domain = strdup(d->name ? d->name : "")))
                return -ENOMEM;

        k = host_checks_init(sr, &h);
        if (k < 0)
                return k;
        k = host_checks_run(&h, &r);
        if (k < 0)
                return k;
        r.n_host_results = r.n_results;

        pci_names_init(sr, &names);
        k = d ? domain_checks_run(sr, &names, d, h.n_groups, &r) : check_list_groups(sr, &names, &r);
        pci_names_done(&names);
        if (k < 0)
                return k;

        *ret = r;
        r = (CheckReport) {};
        return 0;
}

static bool want_color(FILE *out) {
        const char *term = getenv("TERM");
        /* https://no-color.org: any NO_COLOR turns colour off. */
        if (getenv("NO_COLOR") || (term && streq(term, "dumb")))
                return false;
        return isatty(fileno(out));
}

int check_command(const char *sysroot, const Domain *d, bool json, FILE *out) {
        _cleanup_(check_report_done) CheckReport r = {};
        _cleanup_sysroot_ Sysroot *sr = NULL;
        int k;

        k = sysroot_open(sysroot, &sr);
        if (k < 0) {
                log_error("cannot open the sysroot %s: %s%s", sysroot, strerror(-k), sysroot_open_hint(k));
                return EXIT_BAD_INPUT;
        }
        k = check_run(sr, d, &r);
        if (k < 0) {
                log_error("checking: %s", strerror(-k));
                return EXIT_FAILED;
        }
        if (json)
                check_print_json(&r, out);
        else
                check_print_text(&r, out, want_color(out));
        fflush(out);
        return check_report_count(&r, CHECK_FAIL) > 0 ? EXIT_FAILED : EXIT_OK;
}
