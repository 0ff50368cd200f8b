/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "check/host.h"
#include "host/kmsg.h"
#include "shared/util.h"

/* What the host checks share, read once. Every read goes through the
 * Sysroot, and every read that fails makes a check say "cannot tell"
 * rather than abort the report: a preflight is most useful on the
 * machines where something is odd. */

#define SMALL_FILE_MAX (64U * 1024U)
#define INTERRUPTS_MAX (8U * 1024U * 1024U)
#define KMSG_MAX (16U * 1024U * 1024U)

void host_checks_done(CheckHost *h) {
        strv_free(h->cmdline);
        free(h->kmsg);
        free(h->interrupts);
        strv_free(h->units);
        *h = (CheckHost) {};
}

size_t host_units_count(const CheckHost *h, const char *prefix) {
        size_t n = 0;
        for (char **u = h->units; u && *u; u++)
                n += startswith(*u, prefix);
        return n;
}

int host_checks_init(Sysroot *sr, CheckHost *h) {
        _cleanup_free_ char *cmdline = NULL;
        int r;

        *h = (CheckHost) { .sr = sr };
        host_read_cpuinfo(h);

        if (sysroot_read_file(sr, "proc/cmdline", SMALL_FILE_MAX, &cmdline) >= 0) {
                r = cmdline_split(cmdline, &h->cmdline);
                if (r < 0)
                        return r;
        }
        /* Unreadable is fine: it is only evidence. */
        r = kmsg_read(sr, KMSG_MAX, &h->kmsg, NULL);
        if (r == -ENOMEM)
                return r;
        r = sysroot_read_file(sr, "proc/interrupts", INTERRUPTS_MAX, &h->interrupts);
        if (r == -ENOMEM)
                return r;

        r = pci_iommu_group_count(sr);
        h->n_groups = r < 0 ? 0 : r;
        r = sysroot_list_dirf(sr, &h->units, "sys/class/iommu");
        if (r == -ENOMEM)
                return r;
        h->acpi_dmar = sysroot_existsf(sr, "sys/firmware/acpi/tables/DMAR") > 0;
        h->acpi_ivrs = sysroot_existsf(sr, "sys/firmware/acpi/tables/IVRS") > 0;

        host_guess_cpu(h);
        return 0;
}

int host_checks_run(CheckHost *h, CheckReport *r) {
        int k;

        if ((k = check_host_iommu(h, r)) < 0 || (k = check_host_modules(h, r)) < 0 ||
            (k = check_host_libvirt(h, r)) < 0)
                return k;
        return 0;
}
