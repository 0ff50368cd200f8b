/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "check/host.h"
#include "shared/util.h"

/* The CPU: its vendor says which IOMMU and which kernel parameters apply,
 * and the "hypervisor" flag that this host is a virtual machine. */

#define CPUINFO_MAX (8U * 1024U * 1024U)

void host_read_cpuinfo(CheckHost *h) {
        _cleanup_free_ char *text = NULL;
        char *save = NULL;

        if (sysroot_read_file(h->sr, "proc/cpuinfo", CPUINFO_MAX, &text) < 0)
                return;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *colon = strchr(line, ':');
                if (!colon)
                        continue;
                *colon = 0;
                strstrip_trailing(line);
                const char *value = colon + 1 + strspn(colon + 1, " \t");
                if (streq(line, "vendor_id") && h->cpu == CPU_UNKNOWN) {
                        if (startswith(value, "GenuineIntel"))
                                h->cpu = CPU_INTEL;
                        else if (startswith(value, "AuthenticAMD") || startswith(value, "HygonGenuine"))
                                h->cpu = CPU_AMD;
                } else if (streq(line, "flags")) {
                        _cleanup_free_ char *padded = strf(" %s ", value);
                        if (padded && strstr(padded, " hypervisor "))
                                h->hypervisor = true;
                }
        }
}

/* No cpuinfo (a partial dump): the IOMMU's own kind says. */
void host_guess_cpu(CheckHost *h) {
        if (h->cpu != CPU_UNKNOWN)
                return;
        if (h->acpi_dmar || host_units_count(h, "dmar") > 0)
                h->cpu = CPU_INTEL;
        else if (h->acpi_ivrs || host_units_count(h, "ivhd") > 0)
                h->cpu = CPU_AMD;
}
