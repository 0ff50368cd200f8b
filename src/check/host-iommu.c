/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "check/host.h"
#include "check/strbuf.h"
#include "model/policy.h"
#include "shared/util.h"

/* The IOMMU: is there one, is it on, does it remap interrupts, and what
 * the kernel command line says about it. */

/* Is token one of the comma-separated options of value? */
static bool value_has(const char *value, const char *token) {
        size_t n = strlen(token);
        for (const char *p = value; p && *p;) {
                size_t len = strcspn(p, ",");
                if (len == n && strncmp(p, token, n) == 0)
                        return true;
                p += len + (p[len] == ',');
        }
        return false;
}

/* The parameter on the kernel command line that turns the IOMMU off, if any. */
static const char *iommu_off_param(const CheckHost *h) {
        const char *v;
        if ((v = cmdline_get(h->cmdline, "iommu")) && value_has(v, "off"))
                return "iommu=off";
        if (h->cpu != CPU_AMD && (v = cmdline_get(h->cmdline, "intel_iommu")) && value_has(v, "off"))
                return "intel_iommu=off";
        if (h->cpu != CPU_INTEL && (v = cmdline_get(h->cmdline, "amd_iommu")) && value_has(v, "off"))
                return "amd_iommu=off";
        return NULL;
}

#define GRUB_HOW \
        "(GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub or grub2-mkconfig -o /boot/grub2/grub.cfg) and reboot"

static bool kmsg_has(const CheckHost *h, const char *s) {
        return h->kmsg && strstr(h->kmsg, s);
}

static char *units_list(const CheckHost *h) {
        _cleanup_strbuf_ StrBuf b = {};
        if (strbuf_open(&b) < 0)
                return NULL;
        for (char **u = h->units; u && *u; u++)
                fprintf(b.f, "%s%s", u == h->units ? "" : ", ", *u);
        return strbuf_take(&b);
}

static int check_iommu_hardware(CheckHost *h, CheckReport *r) {
        const char *kind = h->acpi_dmar || host_units_count(h, "dmar") ? "Intel VT-d"
                           : h->acpi_ivrs || host_units_count(h, "ivhd") ? "AMD-Vi"
                                                                    : "IOMMU";
        bool log_intel = kmsg_has(h, "DMAR: Intel(R) Virtualization Technology for Directed I/O");
        bool log_amd = kmsg_has(h, "AMD-Vi: Found IOMMU");

        if (!h->acpi_dmar && !h->acpi_ivrs && !(h->units && h->units[0]) && !log_intel && !log_amd && h->n_groups > 0)
                return check_report_pass(r, "iommu-hardware",
                                         "an IOMMU is on (IOMMU groups exist), of a kind not seen in ACPI "
                                         "tables, /sys/class/iommu or the kernel log");
        if (h->acpi_dmar || h->acpi_ivrs || (h->units && h->units[0]) || log_intel || log_amd) {
                _cleanup_free_ char *units = units_list(h);
                if (!units)
                        return -ENOMEM;
                if (!h->acpi_dmar && !h->acpi_ivrs && !(h->units && h->units[0]))
                        kind = log_intel ? "Intel VT-d" : "AMD-Vi";
                return check_report_pass(r, "iommu-hardware", "%s: %s%s%s%s%s", kind,
                                         h->acpi_dmar   ? "ACPI DMAR table"
                                         : h->acpi_ivrs ? "ACPI IVRS table"
                                                        : "no ACPI table seen",
                                         units[0] ? "; units " : "; no unit registered by the kernel", units,
                                         log_intel || log_amd ? "; kernel log: " : "",
                                         log_intel ? "DMAR initialized" : log_amd ? "AMD-Vi found" : "");
        }

        const char *where = h->cpu == CPU_INTEL ? "VT-d (Intel Virtualization Technology for Directed I/O)"
                            : h->cpu == CPU_AMD ? "the IOMMU (\"IOMMU\" or \"AMD-Vi\", often under AMD CBS/NBIO)"
                                                : "the IOMMU (VT-d on Intel, AMD-Vi on AMD)";
        return check_report_add(
                r, CHECK_FAIL, "iommu-hardware",
                strf("no IOMMU seen: no ACPI DMAR or IVRS table, nothing in /sys/class/iommu%s",
                     h->kmsg ? ", nothing in the kernel log" : ""),
                strf("enable %s in the firmware setup%s; without an IOMMU no device can be given to a guest", where,
                     h->hypervisor ? " (this is a virtual machine: give it a virtual IOMMU, e.g. QEMU's "
                                     "-device intel-iommu,intremap=on)"
                                   : ""));
}

static int check_iommu_enabled(CheckHost *h, CheckReport *r) {
        bool hardware = h->acpi_dmar || h->acpi_ivrs || (h->units && h->units[0]);
        const char *off = iommu_off_param(h);
        char *hint;

        if (h->n_groups > 0)
                return check_report_pass(r, "iommu-enabled", "%d IOMMU group%s in /sys/kernel/iommu_groups",
                                         h->n_groups, h->n_groups == 1 ? "" : "s");

        if (off)
                hint = strf("remove %s from the kernel command line%s " GRUB_HOW, off,
                            h->cpu == CPU_INTEL ? " and add intel_iommu=on" : "");
        else if (h->cpu == CPU_INTEL)
                hint = strf("add intel_iommu=on to the kernel command line " GRUB_HOW "%s",
                            hardware ? "" : "; enable VT-d in the firmware setup too");
        else if (h->cpu == CPU_AMD && hardware)
                hint = strf("the firmware describes AMD-Vi but the kernel left it off: see `dmesg | grep -i AMD-Vi` "
                            "(a kernel without CONFIG_AMD_IOMMU cannot use it)");
        else if (h->cpu == CPU_AMD)
                hint = strf("enable the IOMMU (AMD-Vi) in the firmware setup: the kernel then turns it on by itself, "
                            "no kernel parameter is needed (amd_iommu=on is not one; iommu=pt is an optional "
                            "addition)");
        else
                hint = strf("enable the IOMMU in the firmware setup; on Intel, also add intel_iommu=on to the kernel "
                            "command line " GRUB_HOW);
        return check_report_add(
                r, CHECK_FAIL, "iommu-enabled",
                strf("no IOMMU groups in /sys/kernel/iommu_groups: the kernel has not turned an IOMMU on"), hint);
}

static int check_kernel_cmdline(CheckHost *h, CheckReport *r) {
        const char *off = iommu_off_param(h), *intel, *amd, *iommu;
        _cleanup_free_ char *seen = NULL;
        char qb[VALUE_QUOTE_BUFSZ];
        _cleanup_strbuf_ StrBuf b = {};

        if (!h->cmdline)
                return check_report_add(r, CHECK_WARN, "kernel-cmdline", strf("cannot read /proc/cmdline"),
                                        strf("run on the host itself, or give --sysroot a tree with proc/cmdline"));

        intel = cmdline_get(h->cmdline, "intel_iommu");
        amd = cmdline_get(h->cmdline, "amd_iommu");
        iommu = cmdline_get(h->cmdline, "iommu");
        if (strbuf_open(&b) < 0)
                return -ENOMEM;
        if (intel)
                fprintf(b.f, " intel_iommu=%s", value_quote(intel, qb));
        if (amd)
                fprintf(b.f, " amd_iommu=%s", value_quote(amd, qb));
        if (iommu)
                fprintf(b.f, " iommu=%s", value_quote(iommu, qb));
        seen = strbuf_take(&b);
        if (!seen)
                return -ENOMEM;
        const char *has = seen[0] ? seen + 1 : "no IOMMU parameter";
        const char *pt = iommu && value_has(iommu, "pt") ? "" : "; iommu=pt is optional";

        if (off)
                return check_report_add(r, CHECK_FAIL, "kernel-cmdline", strf("%s turns the IOMMU off (%s)", off, has),
                                        strf("remove %s from the kernel command line%s " GRUB_HOW, off,
                                             h->cpu == CPU_INTEL ? " and add intel_iommu=on" : ""));

        switch (h->cpu) {
        case CPU_INTEL:
                if (intel && value_has(intel, "on"))
                        return check_report_pass(r, "kernel-cmdline", "%s", has);
                if (h->n_groups > 0)
                        return check_report_pass(r, "kernel-cmdline",
                                                 "%s: this kernel turns VT-d on without intel_iommu=on", has);
                return check_report_add(r, CHECK_FAIL, "kernel-cmdline", strf("intel_iommu=on is missing (%s)", has),
                                        strf("add intel_iommu=on%s to the kernel command line " GRUB_HOW,
                                             iommu && value_has(iommu, "pt") ? "" : " iommu=pt"));
        case CPU_AMD:
                return check_report_pass(r, "kernel-cmdline", "%s: nothing turns AMD-Vi off (it needs no parameter%s)",
                                         has, pt);
        default:
                return check_report_pass(r, "kernel-cmdline", "%s: nothing turns the IOMMU off", has);
        }
}

/* The IR bit (3) of a VT-d unit's extended capability register. */
#define VTD_ECAP_IR (UINT64_C(1) << 3)

static int dmar_ecap(Sysroot *sr, const char *unit, uint64_t *ret) {
        _cleanup_free_ char *s = NULL;
        char *end;
        int r = sysroot_read_linef(sr, &s, "sys/class/iommu/%s/intel-iommu/ecap", unit);
        if (r < 0)
                return r;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 16);
        if (errno || end == s || *end)
                return -EINVAL;
        *ret = v;
        return 0;
}

static int check_interrupt_remapping(CheckHost *h, CheckReport *r) {
        const char *intremap = cmdline_get(h->cmdline, "intremap");
        _cleanup_free_ char *unsafe = NULL;
        const char *unsafe_hint = "vfio_iommu_type1 refuses devices without it unless loaded with "
                                  "allow_unsafe_interrupts=1 (vfio_iommu_type1.allow_unsafe_interrupts=1 on the "
                                  "kernel command line), which lets a guest send interrupts it should not: only on "
                                  "a machine you trust";
        bool allowed;

        (void) sysroot_read_line(h->sr, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", &unsafe);
        allowed = unsafe && (streq(unsafe, "Y") || streq(unsafe, "1"));

        if (intremap && value_has(intremap, "off"))
                return check_report_add(r, allowed ? CHECK_WARN : CHECK_FAIL, "interrupt-remapping",
                                        strf("intremap=off turns interrupt remapping off%s",
                                             allowed ? " (vfio_iommu_type1 allows unsafe interrupts)" : ""),
                                        strf("remove intremap=off from the kernel command line: %s", unsafe_hint));

        /* With remapping on, the kernel's MSI and IO-APIC interrupt chips are
         * the remapping ones: "IR-PCI-MSI", "IR-IO-APIC" in proc/interrupts. */
        if (h->interrupts && (strstr(h->interrupts, " IR-") || strstr(h->interrupts, "\tIR-")))
                return check_report_pass(r, "interrupt-remapping",
                                         "on: interrupts go through IR-* chips in /proc/interrupts");
        if (kmsg_has(h, "DMAR-IR: Enabled IRQ remapping") || kmsg_has(h, "AMD-Vi: Interrupt remapping enabled"))
                return check_report_pass(r, "interrupt-remapping", "on: the kernel log says it enabled IRQ remapping");

        if (h->n_groups == 0 && !(h->units && h->units[0]))
                return check_report_add(r, CHECK_WARN, "interrupt-remapping",
                                        strf("cannot be on while the IOMMU is off"),
                                        strf("turn the IOMMU on first (see iommu-enabled)"));

        /* Intel says per unit whether it can remap at all. */
        size_t n_dmar = 0, n_ir = 0;
        _cleanup_free_ char *without = NULL;
        for (char **u = h->units; u && *u; u++) {
                uint64_t ecap;
                if (!startswith(*u, "dmar") || dmar_ecap(h->sr, *u, &ecap) < 0)
                        continue;
                n_dmar++;
                if (ecap & VTD_ECAP_IR)
                        n_ir++;
                else if (!without && !(without = strdup(*u)))
                        return -ENOMEM;
        }
        if (without)
                return check_report_add(r, allowed ? CHECK_WARN : CHECK_FAIL, "interrupt-remapping",
                                        strf("%s cannot remap interrupts (the IR bit of its ecap is clear)%s", without,
                                             allowed ? "; vfio_iommu_type1 allows unsafe interrupts" : ""),
                                        strf("%s", unsafe_hint));
        if (n_dmar > 0)
                return check_report_add(
                        r, CHECK_WARN, "interrupt-remapping",
                        strf("the IOMMU can remap interrupts (IR bit of %zu dmar unit%s) but there is no sign "
                             "that it does: no IR-* chip in /proc/interrupts%s",
                             n_ir, n_ir == 1 ? "" : "s", h->kmsg ? " nor in the kernel log" : ""),
                        strf("look for DMAR-IR in `dmesg`; do not boot with intremap=off or nointremap"));
        return check_report_add(r, CHECK_WARN, "interrupt-remapping",
                                strf("no sign of interrupt remapping: no IR-* chip in /proc/interrupts%s%s",
                                     h->interrupts ? "" : " (unreadable)",
                                     h->kmsg ? ", nothing in the kernel log" : ", kernel log unreadable"),
                                strf("look for \"remapping\" in `dmesg`; if it is off, %s", unsafe_hint));
}

int check_host_iommu(CheckHost *h, CheckReport *r) {
        int k;

        if ((k = check_iommu_hardware(h, r)) < 0 || (k = check_iommu_enabled(h, r)) < 0 ||
            (k = check_interrupt_remapping(h, r)) < 0 || (k = check_kernel_cmdline(h, r)) < 0)
                return k;
        return 0;
}
