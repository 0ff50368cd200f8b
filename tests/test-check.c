/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <check.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "check-main.h"
#include "engine/engine.h"
#include "fakehost.h"
#include "testhost.h"
#include "testutil.h"
#include "check/preflight.h"
#include "shared/util.h"

/* `vfio-hook check` against fake hosts: the tests/data/check-*.host
 * fixtures (and others), changed line by line with extra spec directives,
 * each check once where it passes and once where it does not. */

_printf_(2, 3) static void host_rm(Host *h, const char *fmt, ...) {
        _cleanup_free_ char *rel = NULL, *path = NULL;
        va_list ap;
        va_start(ap, fmt);
        ck_assert_int_ge(vasprintf(&rel, fmt, ap), 0);
        va_end(ap);
        ck_assert_int_ge(asprintf(&path, "%s/%s", h->root, rel), 0);
        ck_assert_int_eq(fakehost_rm_rf(path), 0);
}

static void run(Host *h, const Domain *d, CheckReport *r) {
        ck_assert_int_eq(check_run(h->sr, d, r), 0);
}

static const CheckResult *expect(const CheckReport *r, const char *id, CheckStatus status) {
        const CheckResult *c = check_report_find(r, id);
        ck_assert_msg(c, "no check %s", id);
        ck_assert_msg(c->status == status, "%s is %s, not %s: %s (hint: %s)", id, check_status_to_string(c->status),
                      check_status_to_string(status), c->message, c->hint ? c->hint : "none");
        if (status == CHECK_PASS)
                ck_assert_ptr_null(c->hint);
        else
                ck_assert_msg(c->hint && c->hint[0], "%s has no hint", id);
        return c;
}

#define ck_assert_contains(s, sub) ck_assert_msg(strstr((s), (sub)), "'%s' not in '%.2000s'", (sub), (s))
#define ck_assert_not_contains(s, sub) ck_assert_msg(!strstr((s), (sub)), "'%s' in '%.2000s'", (sub), (s))

static Domain *nvidia_domain(void) {
        return test_domain_new("test", "", "0000:01:00.0", "0000:01:00.1", NULL);
}

/* ---- the whole report --------------------------------------------------------------- */

START_TEST(test_all_pass) {
        _cleanup_(check_report_done) CheckReport r = {};
        _cleanup_domain_ Domain *d = nvidia_domain();
        Host h = {};
        _cleanup_free_ char *before = NULL, *after = NULL;

        host_build(&h, "check-intel", NULL);
        ck_assert_int_eq(fakehost_snapshot(h.root, &before), 0);
        run(&h, d, &r);
        ck_assert_int_eq(fakehost_snapshot(h.root, &after), 0);
        ck_assert_msg(streq(before, after), "check changed the tree:\n%s", fakehost_snapshot_diff(before, after));

        for (size_t i = 0; i < r.n_results; i++)
                ck_assert_msg(r.results[i].status == CHECK_PASS, "%s: %s: %s (%s)", r.results[i].id,
                              check_status_to_string(r.results[i].status), r.results[i].message,
                              r.results[i].hint);
        static const char *const ids[] = {
                "iommu-hardware", "iommu-enabled", "interrupt-remapping", "kernel-cmdline", "module-vfio",
                "module-vfio-pci", "module-vfio-iommu-type1", "hook", "libvirt-daemon", "policy",
                "device:0000:01:00.0", "device:0000:01:00.1", "iommu-group:1", "driver-stack", "framebuffer",
                "vtconsole", "gpu-holders", "display-manager",
        };
        for (size_t i = 0; i < ELEMENTSOF(ids); i++)
                expect(&r, ids[i], CHECK_PASS);
        ck_assert_uint_eq(r.n_results, ELEMENTSOF(ids));
        ck_assert_uint_eq(r.n_host_results, 9);
        ck_assert_str_eq(r.domain, "test");
        ck_assert(!r.listed_groups);
        /* No reset check for a card that is not AMD. */
        ck_assert_ptr_null(check_report_find(&r, "reset:0000:01:00.0"));

        /* Names as lspci gives them, from the tree's pci.ids through libpci. */
        const CheckResult *c = expect(&r, "device:0000:01:00.0", CHECK_PASS);
        ck_assert_contains(c->message,
                           "VGA compatible controller [0300]: NVIDIA Corporation AD102 [GeForce RTX 4090] [10de:2684]");
        ck_assert_contains(c->message, "driver nvidia");
        ck_assert_contains(c->message, "IOMMU group 1");
        ck_assert_contains(expect(&r, "iommu-hardware", CHECK_PASS)->message, "dmar0, dmar1");
        ck_assert_contains(expect(&r, "kernel-cmdline", CHECK_PASS)->message, "intel_iommu=on iommu=pt");
        ck_assert_contains(expect(&r, "module-vfio-pci", CHECK_PASS)->message, "vfio-pci.ko.xz");
        ck_assert_contains(expect(&r, "hook", CHECK_PASS)->message, "-> /usr/sbin/vfio-hook");
        ck_assert_contains(expect(&r, "driver-stack", CHECK_PASS)->message,
                           "unloads nvidia_drm, nvidia_modeset, nvidia_uvm, nvidia");
        ck_assert_contains(expect(&r, "framebuffer", CHECK_PASS)->message, "efi-framebuffer.0");
        ck_assert_contains(expect(&r, "framebuffer", CHECK_PASS)->message, "boot VGA");
        ck_assert_contains(expect(&r, "display-manager", CHECK_PASS)->message, "gdm3.service");
        host_done(&h);
}
END_TEST

START_TEST(test_iommu_off_intel) {
        _cleanup_(check_report_done) CheckReport r = {};
        _cleanup_domain_ Domain *d = nvidia_domain();
        Host h = {};

        host_build(&h, "check-no-iommu", NULL);
        run(&h, d, &r);
        expect(&r, "iommu-hardware", CHECK_FAIL);
        ck_assert_contains(expect(&r, "iommu-hardware", CHECK_FAIL)->hint, "VT-d");
        const CheckResult *c = expect(&r, "iommu-enabled", CHECK_FAIL);
        ck_assert_contains(c->hint, "intel_iommu=on");
        c = expect(&r, "kernel-cmdline", CHECK_FAIL);
        ck_assert_contains(c->message, "intel_iommu=on is missing");
        ck_assert_contains(c->hint, "add intel_iommu=on");
        expect(&r, "interrupt-remapping", CHECK_WARN);
        ck_assert_contains(expect(&r, "module-vfio-pci", CHECK_FAIL)->hint, "CONFIG_VFIO_PCI");
        expect(&r, "module-vfio", CHECK_FAIL);
        expect(&r, "module-vfio-iommu-type1", CHECK_FAIL);
        ck_assert_contains(expect(&r, "hook", CHECK_FAIL)->hint, "ln -s " SBINDIR "/vfio-hook /etc/libvirt/hooks/qemu");
        expect(&r, "libvirt-daemon", CHECK_WARN);
        c = expect(&r, "device:0000:01:00.0", CHECK_FAIL);
        ck_assert_contains(c->message, "no IOMMU group");
        ck_assert_contains(c->message, "driver nouveau");
        /* No group to look at. */
        ck_assert_ptr_null(check_report_find(&r, "iommu-group:1"));
        expect(&r, "gpu-holders", CHECK_WARN);
        ck_assert_contains(expect(&r, "gpu-holders", CHECK_WARN)->message, "pid 1100 (Xorg) holds /dev/dri/card0");
        expect(&r, "display-manager", CHECK_PASS);
        ck_assert_uint_gt(check_report_count(&r, CHECK_FAIL), 0);
        host_done(&h);
}
END_TEST

START_TEST(test_iommu_off_amd) {
        _cleanup_(check_report_done) CheckReport r = {};
        Host h = {};

        /* The same machine with an AMD CPU, and then one that is a VM. */
        host_build(&h, "check-no-iommu", "file proc/cpuinfo \"vendor_id\\t: AuthenticAMD\\nflags\\t: fpu svm\\n\"");
        run(&h, NULL, &r);
        const CheckResult *c = expect(&r, "iommu-enabled", CHECK_FAIL);
        /* AMD-Vi needs no parameter: the fix is the firmware; iommu=pt is optional. */
        ck_assert_contains(c->hint, "firmware");
        ck_assert_contains(c->hint, "iommu=pt");
        ck_assert_not_contains(c->hint, "intel_iommu");
        ck_assert_contains(expect(&r, "iommu-hardware", CHECK_FAIL)->hint, "AMD-Vi");
        ck_assert_not_contains(expect(&r, "iommu-hardware", CHECK_FAIL)->hint, "virtual machine");
        expect(&r, "kernel-cmdline", CHECK_PASS);
        ck_assert(r.listed_groups);
        ck_assert_uint_eq(r.n_groups, 0);
        host_done(&h);

        check_report_done(&r);
        host_build(&h, "check-no-iommu", "file proc/cpuinfo \"vendor_id\\t: AuthenticAMD\\nflags\\t: fpu hypervisor svm\\n\"");
        run(&h, NULL, &r);
        ck_assert_contains(expect(&r, "iommu-hardware", CHECK_FAIL)->hint, "virtual machine");
        host_done(&h);
}
END_TEST

START_TEST(test_kernel_cmdline) {
        static const struct {
                const char *line, *extra;
                CheckStatus status;
                const char *in_hint;
        } cases[] = {
                { "ro intel_iommu=off", NULL, CHECK_FAIL, "remove intel_iommu=off" },
                { "ro intel_iommu=on iommu=off", NULL, CHECK_FAIL, "remove iommu=off" },
                { "ro intel-iommu=on,sm_on", NULL, CHECK_PASS, NULL },
                /* igfx_off is not off; groups exist, so VT-d is on by default. */
                { "ro intel_iommu=igfx_off", NULL, CHECK_PASS, NULL },
                /* Quotes and what follows "--" (init's arguments). */
                { "ro foo=\\\"a b\\\" -- intel_iommu=off", NULL, CHECK_PASS, NULL },
                { "ro amd_iommu=off",
                  "file proc/cpuinfo \"vendor_id\\t: AuthenticAMD\\n\"", CHECK_FAIL, "remove amd_iommu=off" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(check_report_done) CheckReport r = {};
                _cleanup_free_ char *extra = NULL;
                Host h = {};

                ck_assert_int_ge(asprintf(&extra, "file proc/cmdline \"%s\\n\"\n%s", cases[i].line,
                                          cases[i].extra ? cases[i].extra : ""),
                                 0);
                host_build(&h, "check-intel", extra);
                run(&h, NULL, &r);
                const CheckResult *c = expect(&r, "kernel-cmdline", cases[i].status);
                if (cases[i].in_hint)
                        ck_assert_contains(c->hint, cases[i].in_hint);
                host_done(&h);
        }

        /* Unreadable. */
        _cleanup_(check_report_done) CheckReport r = {};
        Host h = {};
        host_build(&h, "check-intel", NULL);
        host_rm(&h, "proc/cmdline");
        run(&h, NULL, &r);
        expect(&r, "kernel-cmdline", CHECK_WARN);
        host_done(&h);
}
END_TEST

START_TEST(test_interrupt_remapping) {
        static const char no_ir[] = "file proc/interrupts \"  0:  36  IO-APIC  2-edge  timer\\n\"\n";
        static const struct {
                const char *extra;
                CheckStatus status;
                const char *in_message, *in_hint;
        } cases[] = {
                /* IR-PCI-MSI in the fixture. */
                { "", CHECK_PASS, "IR-*", NULL },
                /* Only the kernel log says so. */
                { "file dev/kmsg \"6,339,5140900,-;DMAR-IR: Enabled IRQ remapping in x2apic mode\\n\"", CHECK_PASS,
                  "kernel log", NULL },
                /* Both units can, nothing shows it is on. */
                { "", CHECK_WARN, "2 dmar units", "DMAR-IR" },
                /* dmar1 cannot (ecap bit 3 clear): vfio_iommu_type1 refuses. */
                { "file sys/class/iommu/dmar1/intel-iommu/ecap \"f050d2\\n\"", CHECK_FAIL, "dmar1",
                  "allow_unsafe_interrupts=1" },
                { "file sys/class/iommu/dmar1/intel-iommu/ecap \"f050d2\\n\"\n"
                  "file sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts \"Y\\n\"",
                  CHECK_WARN, "allows unsafe interrupts", "allow_unsafe_interrupts=1" },
                { "file proc/cmdline \"ro intel_iommu=on intremap=off\\n\"", CHECK_FAIL, "intremap=off",
                  "remove intremap=off" },
                /* AMD: no ecap to read. */
                { "file proc/cpuinfo \"vendor_id\\t: AuthenticAMD\\n\"\ndir sys/class/iommu/ivhd0", CHECK_WARN,
                  "no sign", "remapping" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(check_report_done) CheckReport r = {};
                _cleanup_free_ char *extra = NULL;
                Host h = {};

                ck_assert_int_ge(asprintf(&extra, "%s%s", i == 0 ? "" : no_ir, cases[i].extra), 0);
                host_build(&h, "check-intel", extra);
                if (i == 6) {
                        host_rm(&h, "sys/class/iommu/dmar0");
                        host_rm(&h, "sys/class/iommu/dmar1");
                }
                run(&h, NULL, &r);
                const CheckResult *c = expect(&r, "interrupt-remapping", cases[i].status);
                ck_assert_contains(c->message, cases[i].in_message);
                if (cases[i].in_hint)
                        ck_assert_contains(c->hint, cases[i].in_hint);
                host_done(&h);
        }
}
END_TEST

START_TEST(test_modules) {
        _cleanup_(check_report_done) CheckReport r = {};
        Host h = {};

        /* Built in (check-amd lists them in modules.builtin with sysfs dirs). */
        host_build(&h, "check-amd", NULL);
        run(&h, NULL, &r);
        ck_assert_contains(expect(&r, "module-vfio", CHECK_PASS)->message, "built into the kernel");
        ck_assert_contains(expect(&r, "module-vfio-pci", CHECK_PASS)->message, "built into the kernel");
        ck_assert_contains(expect(&r, "module-vfio-iommu-type1", CHECK_PASS)->message, "built into the kernel");
        host_done(&h);

        /* Built in, known only from sys/module (vfio_pci has parameters). */
        check_report_done(&r);
        host_build(&h, "check-no-iommu", "dir sys/module/vfio_pci/parameters");
        run(&h, NULL, &r);
        expect(&r, "module-vfio-pci", CHECK_PASS);
        expect(&r, "module-vfio", CHECK_FAIL);
        host_done(&h);

        /* No modules.dep: cannot tell. */
        check_report_done(&r);
        host_build(&h, "check-no-iommu", NULL);
        host_rm(&h, "lib/modules/6.1.0-13-amd64/modules.dep");
        run(&h, NULL, &r);
        ck_assert_contains(expect(&r, "module-vfio", CHECK_WARN)->hint, "depmod 6.1.0-13-amd64");
        host_done(&h);

        /* No lib/modules/RELEASE at all (this machine): cannot be loaded. */
        check_report_done(&r);
        host_build(&h, "check-no-iommu", NULL);
        host_rm(&h, "lib/modules");
        run(&h, NULL, &r);
        ck_assert_contains(expect(&r, "module-vfio", CHECK_FAIL)->message, "no /lib/modules/6.1.0-13-amd64");
        host_done(&h);

        /* No kernel release. */
        check_report_done(&r);
        host_build(&h, "check-no-iommu", NULL);
        host_rm(&h, "proc/sys/kernel/osrelease");
        run(&h, NULL, &r);
        expect(&r, "module-vfio", CHECK_WARN);
        host_done(&h);
}
END_TEST

START_TEST(test_hook) {
        static const struct {
                const char *fixture, *extra;
                CheckStatus status;
                const char *in_message, *in_hint;
        } cases[] = {
                { "check-intel", "", CHECK_PASS, "-> /usr/sbin/vfio-hook", NULL },
                { "check-no-iommu", "", CHECK_FAIL, "no hook", "make install" },
                /* A script calling vfio-hook, not executable. */
                { "check-amd", "", CHECK_FAIL, "not executable (mode 0644)", "chmod 755 /etc/libvirt/hooks/qemu" },
                { "check-amd", "file etc/libvirt/hooks/qemu \"#!/bin/sh\\nexec /usr/sbin/vfio-hook \\\"$@\\\"\\n\" mode=0755",
                  CHECK_PASS, "runs vfio-hook", NULL },
                /* The link's target is not executable. */
                { "check-intel", "file usr/sbin/vfio-hook \"vfio-hook\" mode=0644", CHECK_FAIL, "not executable",
                  "chmod 755 /usr/sbin/vfio-hook" },
                /* Dangling. */
                { "check-intel", "link etc/libvirt/hooks/qemu /usr/local/sbin/vfio-hook", CHECK_FAIL,
                  "does not exist", "ln -sf" },
                /* Somebody else's hook. */
                { "check-no-iommu", "file etc/libvirt/hooks/qemu \"#!/bin/sh\\necho hello\\n\" mode=0755", CHECK_FAIL,
                  "another program", "qemu.d" },
                /* ... chained through qemu.d. */
                { "check-no-iommu",
                  "file etc/libvirt/hooks/qemu \"#!/bin/sh\\necho hello\\n\" mode=0755\n"
                  "file usr/sbin/vfio-hook \"vfio-hook\" mode=0755\n"
                  "link etc/libvirt/hooks/qemu.d/vfio-hook /usr/sbin/vfio-hook",
                  CHECK_PASS, "qemu.d/vfio-hook", NULL },
                /* Only qemu.d. */
                { "check-no-iommu",
                  "file usr/sbin/vfio-hook \"vfio-hook\" mode=0755\n"
                  "link etc/libvirt/hooks/qemu.d/50-vfio /usr/sbin/vfio-hook",
                  CHECK_PASS, "qemu.d/50-vfio", NULL },
                /* A link in qemu.d that is not executable does not count. */
                { "check-no-iommu",
                  "file usr/sbin/vfio-hook \"vfio-hook\" mode=0644\n"
                  "link etc/libvirt/hooks/qemu.d/50-vfio /usr/sbin/vfio-hook",
                  CHECK_FAIL, "no hook", NULL },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(check_report_done) CheckReport r = {};
                Host h = {};

                host_build(&h, cases[i].fixture, cases[i].extra);
                run(&h, NULL, &r);
                const CheckResult *c = expect(&r, "hook", cases[i].status);
                ck_assert_contains(c->message, cases[i].in_message);
                if (cases[i].in_hint)
                        ck_assert_contains(c->hint, cases[i].in_hint);
                host_done(&h);
        }
}
END_TEST

START_TEST(test_libvirt_daemon) {
        _cleanup_(check_report_done) CheckReport r = {};
        Host h = {};

        host_build(&h, "check-amd", NULL);
        run(&h, NULL, &r);
        ck_assert_contains(expect(&r, "libvirt-daemon", CHECK_PASS)->message, "virtqemud");
        host_done(&h);

        check_report_done(&r);
        host_build(&h, "check-intel", NULL);
        host_rm(&h, "run/libvirt/libvirt-sock");
        run(&h, NULL, &r);
        ck_assert_contains(expect(&r, "libvirt-daemon", CHECK_WARN)->hint, "libvirtd.socket");
        host_done(&h);
}
END_TEST

/* ---- the domain ------------------------------------------------------------------------ */

START_TEST(test_group_shared_with_nic) {
        _cleanup_(check_report_done) CheckReport r = {};
        _cleanup_domain_ Domain *d = nvidia_domain();
        Host h = {};

        host_build(&h, "nonviable-group", NULL);
        run(&h, d, &r);
        const CheckResult *c = expect(&r, "iommu-group:1", CHECK_FAIL);
        ck_assert_contains(c->message, "0000:02:00.0");
        ck_assert_contains(c->message, "on igb");
        ck_assert_contains(c->message, "[8086:1533]");
        /* The bridges of the group are no problem. */
        ck_assert_not_contains(c->message, "0000:00:01.0");
        ck_assert_contains(c->hint, "add 0000:02:00.0 to the domain");
        expect(&r, "device:0000:01:00.0", CHECK_PASS);
        /* The group and the hook (the fixture has no modules.dep: the vfio modules are a warning). */
        ck_assert_uint_eq(check_report_count(&r, CHECK_FAIL), 2);
        expect(&r, "hook", CHECK_FAIL);
        host_done(&h);

        /* The NIC given too: viable. */
        _cleanup_domain_ Domain *d2 = test_domain_new("test", "", "0000:01:00.0", "0000:01:00.1", "0000:02:00.0", NULL);
        check_report_done(&r);
        host_build(&h, "nonviable-group", NULL);
        run(&h, d2, &r);
        c = expect(&r, "iommu-group:1", CHECK_PASS);
        ck_assert_contains(c->message, "0000:01:00.0, 0000:01:00.1, 0000:02:00.0 in the domain");
        ck_assert_contains(c->message, "0000:00:01.0 (bridge), 0000:00:01.1 (bridge)");
        /* One line per group, not per device. */
        size_t n = 0;
        for (size_t i = 0; i < r.n_results; i++)
                n += startswith(r.results[i].id, "iommu-group:");
        ck_assert_uint_eq(n, 1);
        host_done(&h);

        /* The NIC on vfio-pci, or unbound: no problem either. */
        check_report_done(&r);
        host_build(&h, "nonviable-group", NULL);
        ck_assert_int_eq(fakehost_pci_unbind(h.root, "0000:02:00.0"), 0);
        run(&h, d, &r);
        ck_assert_contains(expect(&r, "iommu-group:1", CHECK_PASS)->message, "0000:02:00.0 (no driver)");
        host_done(&h);

        check_report_done(&r);
        host_build(&h, "nonviable-group", "pcidriver vfio-pci");
        ck_assert_int_eq(fakehost_pci_unbind(h.root, "0000:02:00.0"), 0);
        ck_assert_int_eq(fakehost_pci_bind(h.root, "0000:02:00.0", "vfio-pci"), 0);
        run(&h, d, &r);
        ck_assert_contains(expect(&r, "iommu-group:1", CHECK_PASS)->message, "0000:02:00.0 (vfio-pci)");
        host_done(&h);

        /* pci-stub and the vfio-pci variant drivers are what the kernel accepts too. */
        static const char *const fine[] = { "pci-stub", "mlx5_vfio_pci" };
        for (size_t i = 0; i < ELEMENTSOF(fine); i++) {
                _cleanup_free_ char *extra = NULL, *want = NULL;
                ck_assert_int_ge(asprintf(&extra, "pcidriver %s", fine[i]), 0);
                ck_assert_int_ge(asprintf(&want, "0000:02:00.0 (%s)", fine[i]), 0);
                check_report_done(&r);
                host_build(&h, "nonviable-group", extra);
                ck_assert_int_eq(fakehost_pci_unbind(h.root, "0000:02:00.0"), 0);
                ck_assert_int_eq(fakehost_pci_bind(h.root, "0000:02:00.0", fine[i]), 0);
                run(&h, d, &r);
                ck_assert_contains(expect(&r, "iommu-group:1", CHECK_PASS)->message, want);
                host_done(&h);
        }
}
END_TEST

START_TEST(test_devices) {
        _cleanup_(check_report_done) CheckReport r = {};
        _cleanup_domain_ Domain *d = test_domain_new("test", "", "0000:05:00.0", "0000:00:01.0", NULL);
        Host h = {};

        host_build(&h, "check-intel", NULL);
        run(&h, d, &r);
        const CheckResult *c = expect(&r, "device:0000:05:00.0", CHECK_FAIL);
        ck_assert_contains(c->message, "does not exist");
        ck_assert_contains(c->hint, "lspci -D");
        c = expect(&r, "device:0000:00:01.0", CHECK_FAIL);
        ck_assert_contains(c->message, "PCI bridge");
        /* No display device: no display checks. */
        ck_assert_ptr_null(check_report_find(&r, "framebuffer"));
        ck_assert_ptr_null(check_report_find(&r, "driver-stack"));
        host_done(&h);

        /* On vfio-pci already. */
        _cleanup_domain_ Domain *d2 = nvidia_domain();
        check_report_done(&r);
        host_build(&h, "check-intel", "pcidriver vfio-pci module=vfio_pci");
        ck_assert_int_eq(fakehost_pci_unbind(h.root, "0000:01:00.0"), 0);
        ck_assert_int_eq(fakehost_pci_bind(h.root, "0000:01:00.0", "vfio-pci"), 0);
        run(&h, d2, &r);
        ck_assert_contains(expect(&r, "device:0000:01:00.0", CHECK_PASS)->message, "vfio-pci (handed over already)");
        ck_assert_contains(expect(&r, "driver-stack", CHECK_PASS)->message, "no module to unload");
        ck_assert_contains(expect(&r, "module-vfio-pci", CHECK_PASS)->message, "is loaded");
        host_done(&h);

        /* A domain with nothing to give. */
        _cleanup_domain_ Domain *d3 = test_domain_new("test", "", NULL);
        check_report_done(&r);
        host_build(&h, "check-intel", NULL);
        run(&h, d3, &r);
        expect(&r, "hostdevs", CHECK_WARN);
        host_done(&h);
}
END_TEST

START_TEST(test_policy) {
        _cleanup_(check_report_done) CheckReport r = {};
        _cleanup_domain_ Domain *d = test_domain_new("test", NULL, "0000:01:00.0", NULL);
        Host h = {};

        host_build(&h, "check-intel", NULL);
        run(&h, d, &r);
        const CheckResult *c = expect(&r, "policy", CHECK_WARN);
        ck_assert_contains(c->message, "no vfio-hook policy");
        ck_assert_contains(c->hint, "virsh metadata test --uri urn:vfio-hook:policy:1");
        /* Checked with the defaults all the same. */
        expect(&r, "framebuffer", CHECK_PASS);
        host_done(&h);
}
END_TEST

START_TEST(test_simpledrm) {
        _cleanup_(check_report_done) CheckReport r = {};
        _cleanup_domain_ Domain *d = test_domain_new("test", "", "0000:03:00.0", "0000:03:00.1", NULL);
        _cleanup_domain_ Domain *keep = test_domain_new("test", "<framebuffer>keep</framebuffer>", "0000:03:00.0", NULL);
        Host h = {};

        host_build(&h, "check-amd", NULL);
        run(&h, d, &r);
        const CheckResult *c = expect(&r, "framebuffer", CHECK_PASS);
        ck_assert_contains(c->message, "simple-framebuffer.0 (simpledrm, DRM card1, held by gnome-shell pid 1500)");
        ck_assert_contains(c->message, "sits on 0000:03:00.0, the boot VGA");
        /* gnome-shell holds simpledrm's node, not the GPU's. */
        expect(&r, "gpu-holders", CHECK_PASS);
        ck_assert_contains(expect(&r, "device:0000:03:00.0", CHECK_PASS)->message, "Ellesmere");
        host_done(&h);

        check_report_done(&r);
        host_build(&h, "check-amd", NULL);
        run(&h, keep, &r);
        c = expect(&r, "framebuffer", CHECK_WARN);
        ck_assert_contains(c->hint, "<framebuffer>unbind</framebuffer>");
        host_done(&h);

        /* The card says it is not the boot VGA: the framebuffer is not its. */
        check_report_done(&r);
        host_build(&h, "check-amd", "file sys/bus/pci/devices/0000:03:00.0/boot_vga \"0\\n\"");
        run(&h, d, &r);
        c = expect(&r, "framebuffer", CHECK_PASS);
        ck_assert_contains(c->message, "sits on no device the domain takes");
        ck_assert_contains(c->message, "prepare leaves it");
        host_done(&h);

        /* No boot_vga: cannot tell; keep is then a warning. */
        check_report_done(&r);
        host_build(&h, "check-amd", NULL);
        host_rm(&h, "sys/bus/pci/devices/0000:03:00.0/boot_vga");
        run(&h, keep, &r);
        ck_assert_contains(expect(&r, "framebuffer", CHECK_WARN)->message, "no boot_vga");
        host_done(&h);

        /* efifb gone (a DRM driver took over): present but unbound. */
        _cleanup_domain_ Domain *nv = nvidia_domain();
        check_report_done(&r);
        host_build(&h, "check-intel", NULL);
        ck_assert_int_eq(fakehost_fb_unbind(h.root, "efi-framebuffer.0"), 0);
        run(&h, nv, &r);
        ck_assert_contains(expect(&r, "framebuffer", CHECK_PASS)->message, "efi-framebuffer.0 present, unbound");
        host_done(&h);
}
END_TEST

START_TEST(test_builtin_drm) {
        _cleanup_(check_report_done) CheckReport r = {};
        _cleanup_domain_ Domain *d = test_domain_new("test", "", "0000:03:00.0", "0000:03:00.1", NULL);
        Host h = {};

        host_build(&h, "builtin-drm", NULL);
        run(&h, d, &r);
        const CheckResult *c = expect(&r, "driver-stack", CHECK_WARN);
        ck_assert_contains(c->message, "stack amdgpu");
        ck_assert_contains(c->message, "amdgpu built into the kernel");
        ck_assert_contains(c->hint, "module");
        host_done(&h);

        /* Modules in use beyond their holders. */
        check_report_done(&r);
        host_build(&h, "check-amd", NULL);
        run(&h, d, &r);
        c = expect(&r, "driver-stack", CHECK_WARN);
        ck_assert_contains(c->message, "amdgpu (3)");
        host_done(&h);
}
END_TEST

START_TEST(test_amd_reset) {
        static const struct {
                const char *methods; /* NULL: no reset_method file */
                bool reset_file;
                CheckStatus status;
                const char *in_message;
        } cases[] = {
                { "bus", true, CHECK_WARN, "resets only with: bus" },
                { "device_specific bus", true, CHECK_PASS, "device-specific" },
                { "flr bus", true, CHECK_PASS, "function-level" },
                { "", true, CHECK_WARN, "no reset method enabled" },
                { NULL, true, CHECK_WARN, "Linux < 5.15" },
                { NULL, false, CHECK_WARN, "no reset method at all" },
        };
        _cleanup_domain_ Domain *d = test_domain_new("test", "", "0000:03:00.0", "0000:03:00.1", NULL);

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(check_report_done) CheckReport r = {};
                _cleanup_free_ char *extra = NULL;
                Host h = {};

                /* A Navi 21 (RX 6800), which vendor-reset does not cover (test_vendor_reset). */
                if (cases[i].methods)
                        ck_assert_int_ge(asprintf(&extra, "file sys/bus/pci/devices/0000:03:00.0/reset_method \"%s\\n\"\n"
                                                          "file sys/bus/pci/devices/0000:03:00.0/device \"0x73bf\\n\"",
                                                  cases[i].methods),
                                         0);
                else
                        extra = strdup("file sys/bus/pci/devices/0000:03:00.0/device \"0x73bf\\n\"");
                host_build(&h, "check-amd", extra);
                if (!cases[i].methods)
                        host_rm(&h, "sys/bus/pci/devices/0000:03:00.0/reset_method");
                if (!cases[i].reset_file)
                        host_rm(&h, "sys/bus/pci/devices/0000:03:00.0/reset");
                run(&h, d, &r);
                const CheckResult *c = expect(&r, "reset:0000:03:00.0", cases[i].status);
                ck_assert_contains(c->message, cases[i].in_message);
                if (c->hint)
                        ck_assert_contains(c->hint, "vendor-reset");
                /* Only the GPU, not its audio function. */
                ck_assert_ptr_null(check_report_find(&r, "reset:0000:03:00.1"));
                host_done(&h);
        }
}
END_TEST

/* The Polaris card of check-amd: the vendor-reset advice, and the policy line. */
START_TEST(test_vendor_reset) {
        static const struct {
                const char *extra, *policy;
                CheckStatus status;
                const char *in_message, *in_hint;
        } cases[] = {
                { "", "", CHECK_WARN, "AMD Polaris 10 card: its bus reset often leaves it unusable until a host reboot; "
                                      "vendor-reset is not loaded (reset_method: bus)",
                  "add to the domain's policy: <reset device='0000:03:00.0' method='device_specific'/>" },
                { "module vendor_reset", "", CHECK_WARN, "vendor-reset is loaded, but reset_method is 'bus'",
                  "add to the domain's policy: <reset device='0000:03:00.0' method='device_specific'/>" },
                { "module vendor_reset", "<reset device='0000:03:00.0' method='device_specific'/>", CHECK_PASS,
                  "resets with device_specific: vendor-reset is loaded and the policy selects it", NULL },
                { "module vendor_reset\nfile sys/bus/pci/devices/0000:03:00.0/reset_method \"device_specific bus\\n\"", "",
                  CHECK_PASS, "the kernel tries it first", NULL },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_domain_ Domain *d = test_domain_new("test", cases[i].policy, "0000:03:00.0", "0000:03:00.1", NULL);
                _cleanup_(check_report_done) CheckReport r = {};
                Host h = {};
                host_build(&h, "check-amd", cases[i].extra);
                run(&h, d, &r);
                const CheckResult *c = expect(&r, "reset:0000:03:00.0", cases[i].status);
                ck_assert_contains(c->message, cases[i].in_message);
                if (cases[i].in_hint)
                        ck_assert_contains(c->hint, cases[i].in_hint);
                host_done(&h);
        }
}
END_TEST

/* SR-IOV facts, and a VF that prepare makes. */
START_TEST(test_sriov_facts) {
        _cleanup_domain_ Domain *d = test_domain_new("test", "<vfs pf='0000:3b:00.0' count='2'/>", "0000:3b:02.1", NULL);
        _cleanup_domain_ Domain *big = test_domain_new("test", "<vfs pf='0000:3b:00.0' count='9'/>", "0000:3b:02.1", NULL);
        _cleanup_(check_report_done) CheckReport r = {}, r2 = {};
        Host h = {};

        host_build(&h, "sriov-nic", NULL);
        run(&h, d, &r);
        const CheckResult *c = expect(&r, "device:0000:3b:02.1", CHECK_PASS);
        ck_assert_contains(c->message, "does not exist yet: VF 1 of 0000:3b:00.0, created by prepare");
        c = expect(&r, "sriov:0000:3b:00.0", CHECK_PASS);
        ck_assert_contains(c->message, "0 of 8 VFs (sriov_numvfs, sriov_totalvfs), PF driver i40e");
        ck_assert_contains(c->message, "its VFs are at 0000:3b:02.0 to 0000:3b:02.7 (First VF Offset 16, VF Stride 1)");
        run(&h, big, &r2);
        c = expect(&r2, "sriov:0000:3b:00.0", CHECK_FAIL);
        ck_assert_contains(c->hint, "count='8' at most");
        host_done(&h);

        /* VFs now: their driver, and the PF of a VF hostdev. */
        _cleanup_domain_ Domain *vf = test_domain_new("test", "", "0000:3b:02.0", NULL);
        _cleanup_(check_report_done) CheckReport r3 = {};
        host_build(&h, "sriov-nic", NULL);
        ck_assert_int_eq(fakehost_sriov_set_numvfs(h.root, "0000:3b:00.0", 2), 0);
        run(&h, vf, &r3);
        c = expect(&r3, "sriov:0000:3b:00.0", CHECK_PASS);
        ck_assert_contains(c->message, "2 of 8 VFs");
        ck_assert_contains(c->message, "VF driver iavf");
        ck_assert_contains(c->message, "now: 0000:3b:02.0 (iavf), 0000:3b:02.1 (iavf)");
        host_done(&h);
}
END_TEST

START_TEST(test_console_holders_display_manager) {
        _cleanup_domain_ Domain *d = nvidia_domain();
        _cleanup_domain_ Domain *keep = test_domain_new("test", 
                "<console>keep</console><display-manager>keep</display-manager><holders>terminate</holders>",
                "0000:01:00.0", NULL);
        _cleanup_domain_ Domain *term = test_domain_new("test", "<holders>terminate</holders>", "0000:01:00.0", NULL);
        _cleanup_(check_report_done) CheckReport r = {};
        Host h = {};

        host_build(&h, "check-intel", "proc 1234 Xorg /dev/null /dev/nvidia0 /dev/dri/card0\nproc 1300 gnome-shell /dev/dri/renderD128");
        run(&h, d, &r);
        const CheckResult *c = expect(&r, "gpu-holders", CHECK_WARN);
        ck_assert_contains(c->message, "pid 1234 (Xorg) holds /dev/dri/card0, /dev/nvidia0; pid 1300 (gnome-shell) "
                                       "holds /dev/dri/renderD128");
        ck_assert_contains(c->hint, "<holders>refuse</holders>");
        host_done(&h);

        check_report_done(&r);
        host_build(&h, "check-intel", "proc 1234 Xorg /dev/nvidia0");
        run(&h, term, &r);
        ck_assert_contains(expect(&r, "gpu-holders", CHECK_WARN)->hint, "terminates what is left");
        host_done(&h);

        check_report_done(&r);
        host_build(&h, "check-intel", "proc 1234 Xorg /dev/nvidia0");
        run(&h, keep, &r);
        ck_assert_contains(expect(&r, "gpu-holders", CHECK_WARN)->hint, "<display-manager>stop</display-manager>");
        ck_assert_contains(expect(&r, "vtconsole", CHECK_WARN)->hint, "<console>unbind</console>");
        ck_assert_contains(expect(&r, "display-manager", CHECK_WARN)->message, "gdm3.service");
        host_done(&h);

        /* No fbcon bound; a stale display-manager link. */
        check_report_done(&r);
        host_build(&h, "check-intel", "link etc/systemd/system/display-manager.service /usr/lib/systemd/system/sddm.service");
        ck_assert_int_eq(fakehost_vtcon_set_bind(h.root, 1, 0), 0);
        run(&h, d, &r);
        ck_assert_contains(expect(&r, "vtconsole", CHECK_PASS)->message, "no frame buffer console");
        ck_assert_contains(expect(&r, "display-manager", CHECK_WARN)->message, "sddm.service, which does not exist");
        host_done(&h);
}
END_TEST

/* A second GPU: check says which card has the console, where the
 * framebuffer sits, which modules other devices still need. */
START_TEST(test_second_gpu) {
        _cleanup_domain_ Domain *d = nvidia_domain();
        _cleanup_domain_ Domain *srv = test_domain_new("test", "", "0000:4d:00.0", NULL);
        _cleanup_domain_ Domain *keep = test_domain_new("test", "<console>keep</console>", "0000:03:00.0", NULL);
        _cleanup_(check_report_done) CheckReport r = {};
        Host h = {};

        host_build(&h, "dual-gpu-desktop", NULL);
        run(&h, d, &r);
        const CheckResult *c = expect(&r, "vtconsole", CHECK_PASS);
        ck_assert_contains(c->message, "fbcon draws on fb0 (i915drmfb) of 0000:00:02.0, which stays with the host");
        ck_assert_contains(c->message, "prepare leaves it");
        c = expect(&r, "display-manager", CHECK_PASS);
        ck_assert_contains(c->message, "gdm.service: prepare leaves it running: no process of it or of a user session");
        /* nvidia-persistenced's nodes count; gnome-shell's (the iGPU's) do not. */
        c = expect(&r, "gpu-holders", CHECK_WARN);
        ck_assert_contains(c->message, "pid 1301 (nvidia-persiste, nvidia-persistenced.service) holds /dev/nvidia0");
        ck_assert_not_contains(c->message, "gnome-shell");
        ck_assert_contains(c->hint, "prepare first stops nvidia-persistenced.service;");
        expect(&r, "framebuffer", CHECK_PASS);
        host_done(&h);

        check_report_done(&r);
        host_build(&h, "server-bmc", NULL);
        run(&h, srv, &r);
        c = expect(&r, "driver-stack", CHECK_PASS);
        ck_assert_contains(c->message, "unloads nothing");
        ck_assert_contains(c->message, "i915 stays: it still serves 0000:4e:00.0, 0000:4f:00.0 and 0000:50:00.0");
        c = expect(&r, "framebuffer", CHECK_PASS);
        ck_assert_contains(c->message, "simple-framebuffer.0 (simpledrm, DRM card0, held by Xorg pid 1200): it sits on "
                                       "0000:03:00.0, whose BAR holds its memory (BOOTFB in /proc/iomem)");
        expect(&r, "gpu-holders", CHECK_PASS);
        host_done(&h);

        /* Kept by the policy although it draws on the domain's card: a warning. */
        check_report_done(&r);
        host_build(&h, "server-bmc", NULL);
        run(&h, keep, &r);
        c = expect(&r, "vtconsole", CHECK_WARN);
        ck_assert_contains(c->hint, "<console>unbind</console>");
        host_done(&h);
}
END_TEST

/* ---- without a domain, output ------------------------------------------------------- */

START_TEST(test_groups_listing) {
        _cleanup_(check_report_done) CheckReport r = {};
        Host h = {};

        host_build(&h, "check-intel", "pci 0000:00:1f.6 8086:15bc 020000 driver=e1000e group=10\n"
                                      "pci 0000:00:14.0 8086:a36d 0c0330 group=2");
        run(&h, NULL, &r);
        ck_assert(r.listed_groups);
        ck_assert_ptr_null(r.domain);
        ck_assert_uint_eq(r.n_results, r.n_host_results);
        ck_assert_uint_eq(r.n_groups, 4);
        /* In numeric order, not "0, 1, 10, 2". */
        ck_assert_uint_eq(r.groups[0].number, 0);
        ck_assert_uint_eq(r.groups[1].number, 1);
        ck_assert_uint_eq(r.groups[2].number, 2);
        ck_assert_uint_eq(r.groups[3].number, 10);
        ck_assert_uint_eq(r.groups[1].n_devices, 3);
        ck_assert_str_eq(r.groups[1].devices[0].addr, "0000:00:01.0");
        ck_assert_str_eq(r.groups[1].devices[0].driver, "pcieport");
        ck_assert_str_eq(r.groups[1].devices[0].name,
                         "PCI bridge [0604]: Intel Corporation 6th-10th Gen Core Processor PCIe Controller (x16) [8086:1901]");
        ck_assert_str_eq(r.groups[1].devices[1].name,
                         "VGA compatible controller [0300]: NVIDIA Corporation AD102 [GeForce RTX 4090] [10de:2684]");
        ck_assert_str_eq(r.groups[1].devices[1].driver, "nvidia");
        /* Not in the tree's pci.ids: numbers, as lspci prints them. */
        ck_assert_str_eq(r.groups[2].devices[0].name, "Class [0c03]: Intel Corporation Device [8086:a36d]");
        ck_assert_ptr_null(r.groups[2].devices[0].driver);

        _cleanup_free_ char *text = NULL, *json = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        check_print_text(&r, f, false);
        fclose(f);
        ck_assert_contains(text, "IOMMU groups:\n  group 0\n");
        ck_assert_contains(text, "    0000:01:00.0 VGA compatible controller [0300]: NVIDIA Corporation AD102 [GeForce "
                                 "RTX 4090] [10de:2684] (driver nvidia)\n");
        ck_assert_contains(text, "(no driver)");
        ck_assert_contains(text, "9 passed, 0 warnings, 0 failed\n");
        ck_assert_not_contains(text, "\033[");

        f = open_memstream(&json, &len);
        check_print_json(&r, f);
        fclose(f);
        ck_assert_contains(json, "{\"domain\": null, \"checks\": [{\"id\": \"iommu-hardware\", \"status\": \"pass\"");
        ck_assert_contains(json, "\"hint\": null");
        ck_assert_contains(json, "\"groups\": [{\"group\": 0, \"devices\": [");
        ck_assert_contains(json, "{\"address\": \"0000:01:00.0\", \"ids\": \"10de:2684\", \"class\": \"030000\", "
                                 "\"name\": \"VGA compatible controller [0300]: NVIDIA Corporation AD102 [GeForce RTX "
                                 "4090] [10de:2684]\", \"driver\": \"nvidia\"}");
        ck_assert_contains(json, "\"driver\": null");
        host_done(&h);
}
END_TEST

/* A broken pci.ids: libpci gives up on names, the report goes on with numbers. */
START_TEST(test_bad_pci_ids) {
        _cleanup_(check_report_done) CheckReport r = {};
        Host h = {};

        host_build(&h, NULL,
                   "kernel 6.1.0\n"
                   "pci 0000:00:00.0 8086:3e30 060000 group=0\n"
                   "file usr/share/misc/pci.ids \"\\t\\t\\tgarbage\\nC\\n\"");
        run(&h, NULL, &r);
        ck_assert_uint_eq(r.n_groups, 1);
        ck_assert_str_eq(r.groups[0].devices[0].name, "Class [0600]: Device [8086:3e30]");
        host_done(&h);
}
END_TEST

START_TEST(test_output) {
        _cleanup_(check_report_done) CheckReport r = {};
        _cleanup_domain_ Domain *d = nvidia_domain();
        _cleanup_free_ char *text = NULL, *color = NULL, *json = NULL;
        size_t len = 0;
        Host h = {};

        host_build(&h, "check-no-iommu", NULL);
        run(&h, d, &r);

        FILE *f = open_memstream(&text, &len);
        check_print_text(&r, f, false);
        fclose(f);
        ck_assert_contains(text, "Host:\n  FAIL  iommu-hardware ");
        ck_assert_contains(text, "Domain test:\n  PASS  policy ");
        ck_assert_contains(text, "hint: add intel_iommu=on");
        ck_assert_not_contains(text, "\033[");
        ck_assert_not_contains(text, "IOMMU groups:\n");
        ck_assert_contains(text, "failed: fix the failures");

        f = open_memstream(&color, &len);
        check_print_text(&r, f, true);
        fclose(f);
        ck_assert_contains(color, "\033[1;31mFAIL\033[0m");
        ck_assert_contains(color, "\033[32mPASS\033[0m");
        ck_assert_contains(color, "\033[33mWARN\033[0m");

        f = open_memstream(&json, &len);
        check_print_json(&r, f);
        fclose(f);
        ck_assert_contains(json, "{\"domain\": \"test\", \"checks\": [");
        ck_assert_contains(json, "{\"id\": \"kernel-cmdline\", \"status\": \"fail\", \"message\": \"intel_iommu=on is "
                                 "missing (no IOMMU parameter)\", \"hint\": \"add intel_iommu=on iommu=pt");
        ck_assert_not_contains(json, "\"groups\"");
        ck_assert(json[strlen(json) - 1] == '\n');
        host_done(&h);
}
END_TEST

START_TEST(test_command) {
        _cleanup_domain_ Domain *d = nvidia_domain();
        _cleanup_free_ char *out = NULL;
        size_t len = 0;
        Host h = {};

        /* Exit codes: 0 when nothing fails, 1 when something does, 2 without a sysroot. */
        host_build(&h, "check-intel", NULL);
        FILE *f = open_memstream(&out, &len);
        ck_assert_int_eq(check_command(h.root, d, false, f), EXIT_OK);
        ck_assert_int_eq(check_command(h.root, NULL, true, f), EXIT_OK);
        fclose(f);
        ck_assert_not_contains(out, "\033["); /* not a terminal */
        host_done(&h);

        host_build(&h, "check-no-iommu", NULL);
        f = fopen("/dev/null", "we");
        ck_assert_int_eq(check_command(h.root, d, false, f), EXIT_FAILED);
        ck_assert_int_eq(check_command(h.root, NULL, true, f), EXIT_FAILED);
        ck_assert_int_eq(check_command(TEST_BUILDDIR "/tests/no-such-tree", NULL, false, f), EXIT_BAD_INPUT);
        fclose(f);
        host_done(&h);
}
END_TEST

/* This machine's own "/": whatever it has, every check answers and nothing
 * is an error (in CI containers: no IOMMU, no /proc/modules, ...). */
START_TEST(test_real_root) {
        _cleanup_(check_report_done) CheckReport r = {};
        _cleanup_sysroot_ Sysroot *sr = NULL;

        ck_assert_int_eq(sysroot_open("/", &sr), 0);
        ck_assert_int_eq(check_run(sr, NULL, &r), 0);
        ck_assert_uint_eq(r.n_results, 9);
        for (size_t i = 0; i < r.n_results; i++) {
                ck_assert(r.results[i].message[0]);
                ck_assert(r.results[i].status == CHECK_PASS || r.results[i].hint);
        }
        const CheckResult *c = check_report_find(&r, "iommu-enabled");
        ck_assert_ptr_nonnull(c);
        if (c->status == CHECK_FAIL)
                ck_assert(r.n_groups == 0);
}
END_TEST

/* The spec directives the fixtures above need. */
START_TEST(test_spec_file_link_dir) {
        Host h = {};
        struct stat st;
        _cleanup_free_ char *path = NULL, *text = NULL;

        host_build(&h, NULL,
                   "file etc/x/y \"a\\tb\\nc\\x5cn\\x41\" mode=0750\n"
                   "link etc/x/l /etc/x/y\n"
                   "dir run/a/b run/c\n"
                   "file /proc/cmdline \"\"");
        ck_assert_int_ge(asprintf(&path, "%s/etc/x/y", h.root), 0);
        text = test_read_file(path);
        ck_assert_str_eq(text, "a\tb\nc\\nA");
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0750);
        free(text);
        ck_assert_int_eq(sysroot_read_file(h.sr, "etc/x/l", 4096, &text), 8);
        ck_assert_int_eq(sysroot_existsf(h.sr, "run/a/b"), 1);
        ck_assert_int_eq(sysroot_existsf(h.sr, "run/c"), 1);
        ck_assert_int_eq(sysroot_existsf(h.sr, "proc/cmdline"), 1);
        host_done(&h);

        static const char *const bad[] = {
                "file ../x \"\"",
                "file a/../../x \"\"",
                "file a//b \"\"",
                "file a \"\" mode=9",
                "file a \"\" owner=root",
                "file a",
                "link a",
                "link a/.. b",
                "dir",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char tmpl[] = TEST_BUILDDIR "/tests/tmp-check.XXXXXX";
                _cleanup_free_ char *root = NULL;
                ck_assert_ptr_nonnull(mkdtemp(tmpl));
                ck_assert_int_ge(asprintf(&root, "%s/host", tmpl), 0);
                ck_assert_msg(fakehost_build_string(bad[i], root) == -EINVAL, "accepted: %s", bad[i]);
                ck_assert_contains(fakehost_error(), "<string>:1:");
                ck_assert_int_eq(fakehost_rm_rf(tmpl), 0);
        }
}
END_TEST

static Suite *check_suite(void) {
        Suite *s = suite_create("check");
        TCase *tc;

        tc = test_tcase("host");
        tcase_add_test(tc, test_all_pass);
        tcase_add_test(tc, test_iommu_off_intel);
        tcase_add_test(tc, test_iommu_off_amd);
        tcase_add_test(tc, test_kernel_cmdline);
        tcase_add_test(tc, test_interrupt_remapping);
        tcase_add_test(tc, test_modules);
        tcase_add_test(tc, test_hook);
        tcase_add_test(tc, test_libvirt_daemon);
        suite_add_tcase(s, tc);

        tc = test_tcase("domain");
        tcase_add_test(tc, test_group_shared_with_nic);
        tcase_add_test(tc, test_devices);
        tcase_add_test(tc, test_policy);
        tcase_add_test(tc, test_simpledrm);
        tcase_add_test(tc, test_builtin_drm);
        tcase_add_test(tc, test_amd_reset);
        tcase_add_test(tc, test_vendor_reset);
        tcase_add_test(tc, test_sriov_facts);
        tcase_add_test(tc, test_console_holders_display_manager);
        tcase_add_test(tc, test_second_gpu);
        suite_add_tcase(s, tc);

        tc = test_tcase("output");
        tcase_add_test(tc, test_groups_listing);
        tcase_add_test(tc, test_bad_pci_ids);
        tcase_add_test(tc, test_output);
        tcase_add_test(tc, test_command);
        tcase_add_test(tc, test_real_root);
        tcase_add_test(tc, test_spec_file_link_dir);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(check_suite());
}
