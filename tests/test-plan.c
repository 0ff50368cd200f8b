/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Plans on hosts with more than one GPU, step by step, with what stays and
 * why: the rule of `auto` (a host resource changes only when it depends on
 * a device the domain takes) on the fixtures tests/data/dual-gpu-desktop,
 * dual-gpu-desktop-shared, amd-apu-dgpu, laptop-optimus and server-bmc,
 * and on variants of them; the single-GPU answer when nothing tells; and
 * the explicit values. */
#include <check.h>
#include <limits.h>
#include <stdarg.h>

#include "host/facts.h"
#include "check-main.h"
#include "model/domxml.h"
#include "fakehost.h"
#include "model/plan.h"
#include "testhost.h"
#include "testutil.h"
#include "shared/util.h"

typedef struct Run {
        HostFacts f;
        Plan p;
} Run;

static void run_done(Run *r) {
        plan_done(&r->p);
        host_facts_done(&r->f);
}

/* The facts (units active when their file is in the tree) and the plan. */
static void plan(Host *h, const Domain *d, Run *ret) {
        *ret = (Run) {};
        ck_assert_int_eq(host_facts_gather(h->sr, d, unit_state_from_tree, h->sr, &ret->f), 0);
        ck_assert_int_eq(plan_build(d, &ret->f, &ret->p), 0);
}

#define ck_assert_contains(s, sub) ck_assert_msg(strstr((s), (sub)), "'%s' not in '%s'", (sub), (s))
#define ck_assert_not_contains(s, sub) ck_assert_msg(!strstr((s), (sub)), "'%s' in '%s'", (sub), (s))

/* The steps, exactly and in order: "action target" strings, NULL-terminated. */
static void assert_steps(const Plan *p, ...) {
        va_list ap;
        size_t i = 0;
        const char *want;

        va_start(ap, p);
        while ((want = va_arg(ap, const char *))) {
                char got[256] = "(none)";
                if (i < p->n_steps)
                        snprintf(got, sizeof got, "%s %s", step_action_to_string(p->steps[i].action),
                                 p->steps[i].target);
                ck_assert_msg(streq(got, want), "step %zu: \"%s\", expected \"%s\"", i + 1, got, want);
                ck_assert_msg(plan_step_reason(p, &p->steps[i]), "step %zu (%s) has no reason", i + 1, got);
                i++;
        }
        va_end(ap);
        ck_assert_msg(i == p->n_steps, "%zu steps, expected %zu (extra: %s %s)", p->n_steps, i,
                      step_action_to_string(p->steps[i].action), p->steps[i].target);
        ck_assert_uint_eq(p->n_problems, 0);
}

/* The decision about a resource: taken or kept, and its reason has every
 * substring that follows (NULL-terminated). */
static void assert_decision(const Plan *p, StepAction kind, const char *resource, int take, ...) {
        const Decision *x = decisions_find(&p->decisions, kind, resource);
        va_list ap;

        ck_assert_msg(x, "no decision about %s", resource);
        ck_assert_msg(x->take == (take != 0), "%s is %s, expected %s: %s", resource, x->take ? "taken" : "kept",
                      take ? "taken" : "kept", x->reason);
        va_start(ap, take);
        for (const char *sub; (sub = va_arg(ap, const char *));)
                ck_assert_contains(x->reason, sub);
        va_end(ap);
}

/* Every decision has a reason that starts with its resource. */
static void assert_all_explained(const Plan *p) {
        for (size_t i = 0; i < p->decisions.n; i++) {
                const Decision *x = &p->decisions.list[i];
                ck_assert_msg(startswith(x->reason, x->resource), "reason of %s: %s", x->resource, x->reason);
                ck_assert_msg(x->why[0], "empty reason for %s", x->resource);
        }
}

/* The pids of the holders that count, in order, -1-terminated. */
static void assert_holders(const Run *r, ...) {
        va_list ap;
        size_t k = 0;
        int want;

        va_start(ap, r);
        while ((want = va_arg(ap, int)) >= 0) {
                while (k < r->f.n_holders && !plan_holder_counts(&r->p, &r->f.holders[k]))
                        k++;
                ck_assert_msg(k < r->f.n_holders, "holder pid %d does not count", want);
                ck_assert_int_eq(r->f.holders[k].pid, want);
                k++;
        }
        va_end(ap);
        for (; k < r->f.n_holders; k++)
                ck_assert_msg(!plan_holder_counts(&r->p, &r->f.holders[k]), "pid %d (%s) counts as a holder",
                              (int) r->f.holders[k].pid, r->f.holders[k].path);
}

static bool counts(const Run *r, const char *path) {
        return decisions_holder_counts(&r->p.decisions, path);
}

/* ---- the dual-GPU desktop ----------------------------------------------------------------- */

START_TEST(test_dual_gpu_desktop) {
        _cleanup_domain_ Domain *d = test_domain_new("win11", "<stack>auto</stack>", "0000:01:00.0", "0000:01:00.1", NULL);
        _cleanup_(run_done) Run r = {};
        Host h = {};

        host_build(&h, "dual-gpu-desktop", NULL);
        plan(&h, d, &r);
        assert_steps(&r.p, "stop-unit nvidia-persistenced.service", "unload-module nvidia_drm",
                     "unload-module nvidia_modeset", "unload-module nvidia_uvm", "unload-module nvidia",
                     "detach-device 0000:01:00.0", "detach-device 0000:01:00.1", NULL);
        assert_decision(&r.p, STEP_STOP_UNIT, "display-manager.service", false,
                        "display-manager.service stays: no process of it or of a user session holds a node of "
                        "0000:01:00.0 or 0000:01:00.1",
                        "fb0 (i915drmfb) of 0000:00:02.0, which stays with the host", NULL);
        assert_decision(&r.p, STEP_UNBIND_VTCONSOLE, "vtcon1", false,
                        "vtcon1 stays: fbcon draws on fb0 (i915drmfb) of 0000:00:02.0, which stays with the host", NULL);
        assert_decision(&r.p, STEP_UNLOAD_MODULE, "nvidia", true, "every device it serves goes to the domain (0000:01:00.0)",
                        NULL);
        assert_decision(&r.p, STEP_STOP_UNIT, "nvidia-persistenced.service", true, "nvidia stack", NULL);
        assert_all_explained(&r.p);
        ck_assert_str_eq(r.p.decisions.console, "fb0 (i915drmfb)");

        /* Every node of both functions counts, the audio's included; the
         * onboard card's and the iGPU's do not. */
        ck_assert(counts(&r, "/dev/dri/card1"));
        ck_assert(counts(&r, "/dev/dri/renderD129"));
        ck_assert(counts(&r, "/dev/snd/controlC1"));
        ck_assert(counts(&r, "/dev/snd/pcmC1D3p"));
        ck_assert(counts(&r, "/dev/snd/hwC1D0"));
        ck_assert(counts(&r, "/dev/nvidia0"));
        ck_assert(counts(&r, "/dev/nvidiactl")); /* nvidia goes: its own nodes too */
        ck_assert(!counts(&r, "/dev/dri/card0"));
        ck_assert(!counts(&r, "/dev/snd/controlC0"));
        ck_assert(!counts(&r, "/dev/kfd"));
        /* nvidia-persistenced (stopped first); not gnome-shell, Xwayland, wireplumber. */
        assert_holders(&r, 1301, 1301, -1);
        ck_assert_str_eq(r.f.holders[0].unit, "nvidia-persistenced.service");
        ck_assert_str_eq(r.f.display_manager_unit, "gdm.service");
        host_done(&h);
}
END_TEST

START_TEST(test_dual_gpu_desktop_shared) {
        _cleanup_domain_ Domain *d = test_domain_new("win11", "<stack>auto</stack>", "0000:01:00.0", "0000:01:00.1", NULL);
        _cleanup_domain_ Domain *keep = test_domain_new("win11", "<display-manager>keep</display-manager>", "0000:01:00.0",
                                                   "0000:01:00.1", NULL);
        _cleanup_(run_done) Run r = {};
        Host h = {};

        host_build(&h, "dual-gpu-desktop-shared", NULL);
        plan(&h, d, &r);
        /* The compositor holds the NVIDIA card: the display manager goes. */
        assert_steps(&r.p, "stop-unit display-manager.service", "stop-unit nvidia-persistenced.service",
                     "unload-module nvidia_drm", "unload-module nvidia_modeset", "unload-module nvidia_uvm",
                     "unload-module nvidia", "detach-device 0000:01:00.0", "detach-device 0000:01:00.1", NULL);
        assert_decision(&r.p, STEP_STOP_UNIT, "display-manager.service", true,
                        "pid 1500 (gnome-shell, org.gnome.Shell@wayland.service) holds /dev/dri/card1",
                        "user session", NULL);
        assert_decision(&r.p, STEP_UNBIND_VTCONSOLE, "vtcon1", false, "which stays with the host", NULL);
        assert_holders(&r, 1301, 1301, 1500, -1);
        assert_all_explained(&r.p);
        run_done(&r);

        /* Kept by the policy: the plan keeps it, and gnome-shell is a holder
         * that prepare refuses by name (test-engine). */
        plan(&h, keep, &r);
        assert_decision(&r.p, STEP_STOP_UNIT, "display-manager.service", false, "<display-manager>keep</display-manager>",
                        NULL);
        ck_assert_str_eq(r.p.steps[0].target, "nvidia-persistenced.service");
        assert_holders(&r, 1301, 1301, 1500, -1);
        host_done(&h);
}
END_TEST

/* Two NVIDIA cards: nvidia stays for the other one, and only this card's
 * /dev/nvidiaN (its "Device Minor") is a node of it. */
START_TEST(test_two_nvidia_cards) {
        _cleanup_domain_ Domain *d = test_domain_new("win11", "<stack>auto</stack>", "0000:01:00.0", "0000:01:00.1", NULL);
        _cleanup_(run_done) Run r = {};
        Host h = {};

        host_build(&h, "dual-gpu-desktop",
                   "pci 0000:00:01.1 8086:a70d 060400 driver=pcieport group=5 secondary=02\n"
                   "pci 0000:02:00.0 10de:2204 030000 driver=nvidia group=5 drm=card2,renderD130\n"
                   "file proc/driver/nvidia/gpus/0000:02:00.0/information \"Model: \\t\\t NVIDIA GeForce RTX 3090\\n"
                   "Device Minor: \\t 1\\n\"\n"
                   "dev nvidia1\n"
                   "proc 4100 python3 /dev/nvidiactl /dev/nvidia-uvm /dev/nvidia1\n"
                   "file proc/4100/cgroup \"0::/system.slice/cuda-job.service\\n\"\n");
        plan(&h, d, &r);
        assert_steps(&r.p, "stop-unit nvidia-persistenced.service", "detach-device 0000:01:00.0",
                     "detach-device 0000:01:00.1", NULL);
        assert_decision(&r.p, STEP_UNLOAD_MODULE, "nvidia", false,
                        "nvidia stays: it still serves 0000:02:00.0, which stays with the host", NULL);
        assert_decision(&r.p, STEP_UNLOAD_MODULE, "nvidia_drm", false, "0000:02:00.0", NULL);
        assert_decision(&r.p, STEP_DETACH_DEVICE, "0000:01:00.0", true, "unbinds it from nvidia, which stays loaded",
                        NULL);
        ck_assert(counts(&r, "/dev/nvidia0"));
        ck_assert(!counts(&r, "/dev/nvidia1"));
        ck_assert(!counts(&r, "/dev/nvidiactl"));
        ck_assert(!counts(&r, "/dev/nvidia-uvm"));
        /* persistenced holds /dev/nvidia0; the CUDA job only the other card. */
        assert_holders(&r, 1301, -1);
        ck_assert_ptr_null(r.p.notes);
        run_done(&r);
        host_done(&h);

        /* Without "Device Minor", any /dev/nvidia* may be this card's. */
        host_build(&h, "dual-gpu-desktop",
                   "pci 0000:00:01.1 8086:a70d 060400 driver=pcieport group=5 secondary=02\n"
                   "pci 0000:02:00.0 10de:2204 030000 driver=nvidia group=5\n"
                   "file proc/driver/nvidia/gpus/0000:01:00.0/information \"Model: \\t\\t NVIDIA\\n\"\n"
                   "proc 4100 python3 /dev/nvidia1\n");
        plan(&h, d, &r);
        ck_assert(counts(&r, "/dev/nvidia1"));
        ck_assert_contains(r.p.notes[0], "does not say which /dev/nvidiaN is 0000:01:00.0");
        host_done(&h);
}
END_TEST

/* ---- AMD APU + AMD card ---------------------------------------------------------------------- */

START_TEST(test_amd_apu_dgpu) {
        _cleanup_domain_ Domain *d = test_domain_new("radeon", "<stack>auto</stack>", "0000:03:00.0", "0000:03:00.1", NULL);
        _cleanup_domain_ Domain *both = test_domain_new("all", "", "0000:03:00.0", "0000:03:00.1", "0000:0e:00.0",
                                                   "0000:0e:00.1", NULL);
        _cleanup_(run_done) Run r = {};
        Host h = {};

        host_build(&h, "amd-apu-dgpu", NULL);
        plan(&h, d, &r);
        assert_steps(&r.p, "detach-device 0000:03:00.0", "detach-device 0000:03:00.1", NULL);
        assert_decision(&r.p, STEP_UNLOAD_MODULE, "amdgpu", false,
                        "amdgpu stays: it still serves 0000:0e:00.0, which stays with the host", NULL);
        assert_decision(&r.p, STEP_DETACH_DEVICE, "0000:03:00.0", true, "unbinds it from amdgpu, which stays loaded",
                        NULL);
        assert_decision(&r.p, STEP_UNBIND_VTCONSOLE, "vtcon1", false, "fb0 (amdgpudrmfb) of 0000:0e:00.0", NULL);
        assert_decision(&r.p, STEP_STOP_UNIT, "display-manager.service", false, NULL);
        /* amdgpu stays: /dev/kfd is not the card's, the ROCm job no holder. */
        ck_assert(!counts(&r, "/dev/kfd"));
        assert_holders(&r, -1);
        assert_all_explained(&r.p);
        run_done(&r);

        /* Both GPUs: amdgpu goes, and with it /dev/kfd; the console too. */
        plan(&h, both, &r);
        assert_steps(&r.p, "stop-unit display-manager.service", "unbind-vtconsole vtcon1", "unload-module amdgpu",
                     "detach-device 0000:03:00.0", "detach-device 0000:03:00.1", "detach-device 0000:0e:00.0",
                     "detach-device 0000:0e:00.1", NULL);
        assert_decision(&r.p, STEP_UNLOAD_MODULE, "amdgpu", true, "0000:03:00.0 and 0000:0e:00.0", NULL);
        assert_decision(&r.p, STEP_STOP_UNIT, "display-manager.service", true, "the console goes", NULL);
        ck_assert(counts(&r, "/dev/kfd"));
        assert_holders(&r, 1500, 1500, 1700, 1700, -1);
        host_done(&h);
}
END_TEST

/* ---- a laptop: iGPU + NVIDIA 3D controller ---------------------------------------------------- */

START_TEST(test_laptop_optimus) {
        _cleanup_domain_ Domain *d = test_domain_new("lap", "", "0000:01:00.0", NULL);
        _cleanup_(run_done) Run r = {};
        Host h = {};

        host_build(&h, "laptop-optimus", NULL);
        plan(&h, d, &r);
        assert_steps(&r.p, "unload-module nvidia_drm", "unload-module nvidia_modeset", "unload-module nvidia_uvm",
                     "unload-module nvidia", "detach-device 0000:01:00.0", NULL);
        /* A 3D controller (0302) is a display controller all the same. */
        ck_assert(r.f.has_display);
        assert_decision(&r.p, STEP_STOP_UNIT, "display-manager.service", false, "0000:01:00.0",
                        "fb0 (i915drmfb) of 0000:00:02.0", NULL);
        assert_decision(&r.p, STEP_STOP_UNIT, "nvidia-persistenced.service", false, "not installed", NULL);
        assert_decision(&r.p, STEP_UNBIND_VTCONSOLE, "vtcon1", false, NULL);
        ck_assert_str_eq(r.f.display_manager_unit, "sddm.service");
        assert_holders(&r, -1);
        assert_all_explained(&r.p);
        host_done(&h);
}
END_TEST

/* ---- a server: BMC VGA + four cards on i915 ----------------------------------------------------- */

START_TEST(test_server_bmc) {
        _cleanup_domain_ Domain *a = test_domain_new("vm-a", "<stack>auto</stack>", "0000:4d:00.0", NULL);
        _cleanup_domain_ Domain *b = test_domain_new("vm-b", "<stack>auto</stack>", "0000:4e:00.0", NULL);
        _cleanup_domain_ Domain *bmc = test_domain_new("bmc", "", "0000:03:00.0", NULL);
        _cleanup_(run_done) Run r = {};
        PciAddr held;
        Host h = {};

        host_build(&h, "server-bmc", NULL);
        plan(&h, a, &r);
        assert_steps(&r.p, "detach-device 0000:4d:00.0", NULL);
        assert_decision(&r.p, STEP_UNLOAD_MODULE, "i915", false,
                        "i915 stays: it still serves 0000:4e:00.0, 0000:4f:00.0 and 0000:50:00.0, which stay with the host",
                        NULL);
        assert_decision(&r.p, STEP_UNBIND_FRAMEBUFFER, "simple-framebuffer.0", false,
                        "it sits on 0000:03:00.0, whose BAR holds its memory (BOOTFB in /proc/iomem), which stays with "
                        "the host",
                        NULL);
        assert_decision(&r.p, STEP_UNBIND_VTCONSOLE, "vtcon1", false,
                        "fbcon draws on fb0 (simpledrmdrmfb) of simple-framebuffer.0, which stays with the host", NULL);
        assert_decision(&r.p, STEP_STOP_UNIT, "display-manager.service", false, "0000:4d:00.0", NULL);
        ck_assert_str_eq(r.f.fw_fb_memory.owner, "0000:03:00.0");
        /* The transcoder works on the fourth card: not a holder of this one. */
        assert_holders(&r, -1);
        assert_all_explained(&r.p);
        run_done(&r);

        /* B while A holds its card (on vfio-pci): that card goes back to
         * i915 one day. */
        ck_assert_int_eq(fakehost_pci_driver_add(h.root, "vfio-pci", NULL), 0);
        ck_assert_int_eq(fakehost_pci_unbind(h.root, "0000:4d:00.0"), 0);
        ck_assert_int_eq(fakehost_pci_bind(h.root, "0000:4d:00.0", "vfio-pci"), 0);
        plan(&h, b, &r);
        ck_assert_int_eq(pci_addr_parse("0000:4d:00.0", &held), 0);
        ck_assert_int_eq(host_facts_add_held(&r.f, &held, "i915", "vm-a"), 0);
        plan_done(&r.p);
        ck_assert_int_eq(plan_build(b, &r.f, &r.p), 0);
        assert_steps(&r.p, "detach-device 0000:4e:00.0", NULL);
        assert_decision(&r.p, STEP_UNLOAD_MODULE, "i915", false,
                        "i915 stays: it still serves 0000:4f:00.0 and 0000:50:00.0, which stay with the host, and "
                        "0000:4d:00.0, which domain vm-a holds and gives back to i915",
                        NULL);
        run_done(&r);

        /* libvirt gave it back before vm-a's release ran: counted once. */
        ck_assert_int_eq(fakehost_pci_unbind(h.root, "0000:4d:00.0"), 0);
        ck_assert_int_eq(fakehost_pci_bind(h.root, "0000:4d:00.0", "i915"), 0);
        plan(&h, b, &r);
        ck_assert_int_eq(host_facts_add_held(&r.f, &held, "i915", "vm-a"), 0);
        plan_done(&r.p);
        ck_assert_int_eq(plan_build(b, &r.f, &r.p), 0);
        assert_decision(&r.p, STEP_UNLOAD_MODULE, "i915", false,
                        "i915 stays: it still serves 0000:4d:00.0, 0000:4f:00.0 and 0000:50:00.0, which stay with the "
                        "host",
                        NULL);
        ck_assert_not_contains(decisions_find(&r.p.decisions, STEP_UNLOAD_MODULE, "i915")->reason, "vm-a");
        run_done(&r);

        /* The BMC's VGA itself: the framebuffer on it, fbcon on that, the
         * display manager with it. */
        plan(&h, bmc, &r);
        assert_steps(&r.p, "stop-unit display-manager.service", "unbind-vtconsole vtcon1",
                     "unbind-framebuffer simple-framebuffer.0", "detach-device 0000:03:00.0", NULL);
        assert_decision(&r.p, STEP_UNBIND_VTCONSOLE, "vtcon1", true, "simple-framebuffer.0, which prepare unbinds", NULL);
        host_done(&h);
}
END_TEST

/* Every device a module serves goes, but a module that uses it serves
 * another: both stay. */
START_TEST(test_module_held_by_a_staying_module) {
        _cleanup_domain_ Domain *d = test_domain_new("x", "", "0000:00:05.0", NULL);
        _cleanup_(run_done) Run r = {};
        Host h = {};

        host_build(&h, "intel-igpu",
                   "pci 0000:00:05.0 1234:0001 030000 driver=xdrv module=xmod group=9\n"
                   "pcidriver ydrv module=ymod\n"
                   "pci 0000:00:06.0 1234:0002 048000 driver=ydrv group=10\n"
                   "module xmod holders=ymod\n");
        plan(&h, d, &r);
        assert_decision(&r.p, STEP_UNLOAD_MODULE, "ymod", false, "it still serves 0000:00:06.0", NULL);
        assert_decision(&r.p, STEP_UNLOAD_MODULE, "xmod", false, "xmod stays: ymod uses it and stays", NULL);
        host_done(&h);
}
END_TEST

/* <module> is held to the same rule: snd_hda_intel also drives the
 * onboard audio on the dual-GPU desktop, and only the card's audio on the
 * single-GPU AMD desktop. */
START_TEST(test_listed_module) {
        _cleanup_domain_ Domain *nv = test_domain_new("x", "<module>snd_hda_intel</module>", "0000:01:00.0", "0000:01:00.1",
                                                 NULL);
        _cleanup_domain_ Domain *amd = test_domain_new("x", "<module>snd_hda_intel</module>", "0000:03:00.0", "0000:03:00.1",
                                                  NULL);
        _cleanup_(run_done) Run r = {};
        Host h = {};

        host_build(&h, "dual-gpu-desktop", NULL);
        plan(&h, nv, &r);
        assert_decision(&r.p, STEP_UNLOAD_MODULE, "snd_hda_intel", false,
                        "snd_hda_intel stays: it still serves 0000:00:1f.3, which stays with the host", NULL);
        assert_decision(&r.p, STEP_DETACH_DEVICE, "0000:01:00.1", true,
                        "unbinds it from snd_hda_intel, which stays loaded", NULL);
        run_done(&r);
        host_done(&h);

        host_build(&h, "amd-desktop", NULL);
        plan(&h, amd, &r);
        assert_steps(&r.p, "stop-unit display-manager.service", "unbind-vtconsole vtcon1",
                     "unbind-framebuffer simple-framebuffer.0", "unload-module amdgpu", "unload-module snd_hda_intel",
                     "detach-device 0000:03:00.0", "detach-device 0000:03:00.1", NULL);
        assert_decision(&r.p, STEP_UNLOAD_MODULE, "snd_hda_intel", true, "(0000:03:00.1)", NULL);
        host_done(&h);
}
END_TEST

/* ---- where the firmware framebuffer is, where fbcon draws ------------------------------------------ */

START_TEST(test_framebuffer_evidence) {
        _cleanup_domain_ Domain *d = test_domain_new("win11", "", "0000:01:00.0", "0000:01:00.1", NULL);
        _cleanup_(run_done) Run r = {};
        Host h = {};

        /* Newer kernels hang the firmware framebuffer below its card. */
        host_build(&h, "dual-gpu-desktop", "fb efi-framebuffer.0 driver=efi-framebuffer parent=0000:01:00.0");
        plan(&h, d, &r);
        assert_decision(&r.p, STEP_UNBIND_FRAMEBUFFER, "efi-framebuffer.0", true,
                        "it sits on 0000:01:00.0, its parent in sysfs, which the domain takes", NULL);
        run_done(&r);
        host_done(&h);

        host_build(&h, "dual-gpu-desktop", "fb efi-framebuffer.0 driver=efi-framebuffer parent=0000:00:02.0");
        plan(&h, d, &r);
        assert_decision(&r.p, STEP_UNBIND_FRAMEBUFFER, "efi-framebuffer.0", false, "0000:00:02.0, its parent in sysfs",
                        NULL);
        run_done(&r);
        host_done(&h);

        /* efifb in /proc/iomem, nested in the NVIDIA card's BAR: it goes,
         * even though the iGPU says it is the boot VGA. */
        host_build(&h, "dual-gpu-desktop",
                   "fb efi-framebuffer.0 driver=efi-framebuffer\n"
                   "file proc/iomem \"6000000000-601fffffff : PCI Bus 0000:01\\n  6000000000-600fffffff : "
                   "0000:01:00.0\\n    6000000000-60007fffff : efifb\\n\"\n");
        plan(&h, d, &r);
        assert_decision(&r.p, STEP_UNBIND_FRAMEBUFFER, "efi-framebuffer.0", true,
                        "0000:01:00.0, whose BAR holds its memory (efifb in /proc/iomem), which the domain takes", NULL);
        run_done(&r);
        host_done(&h);

        /* Not nested (read as an old kernel lists it): the BAR that holds
         * the range, from the card's resource file. */
        host_build(&h, "dual-gpu-desktop",
                   "fb efi-framebuffer.0 driver=efi-framebuffer\n"
                   "file proc/iomem \"4000000000-400fffffff : 0000:00:02.0\\n4000000000-40007fffff : efifb\\n\"\n"
                   "file sys/bus/pci/devices/0000:00:02.0/resource \"0x0000004000000000 0x000000400fffffff "
                   "0x000000000014220c\\n0x0000000000000000 0x0000000000000000 0x0000000000000000\\n\"\n"
                   "file sys/bus/pci/devices/0000:01:00.0/resource \"0x0000006000000000 0x000000600fffffff "
                   "0x000000000014220c\\n\"\n");
        plan(&h, d, &r);
        ck_assert_str_eq(r.f.fw_fb_memory.owner, "0000:00:02.0");
        assert_decision(&r.p, STEP_UNBIND_FRAMEBUFFER, "efi-framebuffer.0", false, "which stays with the host", NULL);
        run_done(&r);
        host_done(&h);

        /* Only boot_vga tells: the iGPU is the boot VGA. */
        host_build(&h, "dual-gpu-desktop", "fb efi-framebuffer.0 driver=efi-framebuffer\nfile proc/iomem \"\"\n");
        plan(&h, d, &r);
        assert_decision(&r.p, STEP_UNBIND_FRAMEBUFFER, "efi-framebuffer.0", false,
                        "it sits on 0000:00:02.0, the boot VGA (boot_vga 1), which stays with the host", NULL);
        run_done(&r);
        host_done(&h);
}
END_TEST

START_TEST(test_fbcon_map) {
        _cleanup_domain_ Domain *d = test_domain_new("win11", "", "0000:01:00.0", "0000:01:00.1", NULL);
        _cleanup_(run_done) Run r = {};
        Host h = {};

        /* fbcon=map:1 puts the consoles on the NVIDIA card's frame buffer. */
        host_build(&h, "dual-gpu-desktop",
                   "graphics 1 nvidia-drmdrmfb device=0000:01:00.0\n"
                   "file proc/cmdline \"root=UUID=0f1e ro quiet fbcon=map:1\\n\"\n");
        plan(&h, d, &r);
        assert_decision(&r.p, STEP_UNBIND_VTCONSOLE, "vtcon1", true,
                        "vtcon1 unbinds: fbcon draws on fb1 (nvidia-drmdrmfb) of 0000:01:00.0, which the domain takes",
                        NULL);
        assert_decision(&r.p, STEP_STOP_UNIT, "display-manager.service", true, "the console goes", NULL);
        run_done(&r);
        host_done(&h);

        /* Without it, fb0 (the iGPU's) has the consoles; fb1 does not matter. */
        host_build(&h, "dual-gpu-desktop", "graphics 1 nvidia-drmdrmfb device=0000:01:00.0");
        plan(&h, d, &r);
        assert_decision(&r.p, STEP_UNBIND_VTCONSOLE, "vtcon1", false, "fb0 (i915drmfb)", NULL);
        ck_assert(counts(&r, "/dev/fb1")); /* the card's frame buffer is one of its nodes */
        run_done(&r);
        host_done(&h);

        /* map:01 spreads them over both: one on the domain's card is enough. */
        host_build(&h, "dual-gpu-desktop",
                   "graphics 1 nvidia-drmdrmfb device=0000:01:00.0\n"
                   "file proc/cmdline \"fbcon=font:VGA8x16,map:01\\n\"\n");
        plan(&h, d, &r);
        assert_decision(&r.p, STEP_UNBIND_VTCONSOLE, "vtcon1", true, "fb0 (i915drmfb) of 0000:00:02.0",
                        "fb1 (nvidia-drmdrmfb) of 0000:01:00.0, which the domain takes", NULL);
        host_done(&h);
}
END_TEST

/* No frame buffer listed, but a boot VGA: the console is that card's. */
START_TEST(test_console_on_boot_vga) {
        _cleanup_domain_ Domain *d = test_domain_new("win11", "", "0000:01:00.0", "0000:01:00.1", NULL);
        _cleanup_domain_ Domain *igpu = test_domain_new("x", "", "0000:00:02.0", NULL);
        _cleanup_(run_done) Run r = {};
        _cleanup_free_ char *graphics = NULL, *fb0 = NULL;
        Host h = {};

        host_build(&h, "dual-gpu-desktop", NULL);
        ck_assert_int_ge(asprintf(&graphics, "%s/sys/class/graphics", h.root), 0);
        ck_assert_int_ge(asprintf(&fb0, "%s/sys/devices/pci0000:00/0000:00:02.0/graphics", h.root), 0);
        ck_assert_int_eq(fakehost_rm_rf(graphics), 0);
        ck_assert_int_eq(fakehost_rm_rf(fb0), 0);
        plan(&h, d, &r);
        assert_decision(&r.p, STEP_UNBIND_VTCONSOLE, "vtcon1", false,
                        "no frame buffer in /sys/class/graphics: the console is the boot VGA's, 0000:00:02.0, which "
                        "stays with the host",
                        NULL);
        assert_decision(&r.p, STEP_STOP_UNIT, "display-manager.service", false, NULL);
        run_done(&r);
        plan(&h, igpu, &r);
        assert_decision(&r.p, STEP_UNBIND_VTCONSOLE, "vtcon1", true, "0000:00:02.0, which the domain takes", NULL);
        assert_decision(&r.p, STEP_STOP_UNIT, "display-manager.service", true, "the console goes", NULL);
        host_done(&h);
}
END_TEST

/* ---- nothing tells: the single-GPU answer --------------------------------------------------------- */

START_TEST(test_single_gpu_fallback) {
        _cleanup_domain_ Domain *d = test_domain_new("win10", "", "0000:01:00.0", "0000:01:00.1", NULL);
        _cleanup_(run_done) Run r = {};
        Host h = {};

        host_build(&h, "nvidia-desktop", NULL);
        plan(&h, d, &r);
        assert_steps(&r.p, "stop-unit display-manager.service", "stop-unit nvidia-persistenced.service",
                     "unbind-vtconsole vtcon1", "unbind-framebuffer efi-framebuffer.0", "unload-module nvidia_drm",
                     "unload-module nvidia_modeset", "unload-module nvidia_uvm", "unload-module nvidia",
                     "detach-device 0000:01:00.0", "detach-device 0000:01:00.1", NULL);
        assert_decision(&r.p, STEP_UNBIND_VTCONSOLE, "vtcon1", true, "nothing tells", "as on a single-GPU host", NULL);
        assert_decision(&r.p, STEP_UNBIND_FRAMEBUFFER, "efi-framebuffer.0", true, "no boot_vga, nothing in /proc/iomem",
                        "as on a single-GPU host", NULL);
        assert_decision(&r.p, STEP_STOP_UNIT, "display-manager.service", true, "the console goes", NULL);
        /* Xorg's cgroup is unknown here: it counts all the same. */
        assert_holders(&r, 1234, 1234, 1234, 1234, 1301, -1);
        assert_all_explained(&r.p);
        host_done(&h);
}
END_TEST

/* ---- explicit values mean what they say ------------------------------------------------------------ */

START_TEST(test_explicit_values) {
        _cleanup_domain_ Domain *change = test_domain_new(
                "x", "<console>unbind</console><framebuffer>unbind</framebuffer><display-manager>stop</display-manager>",
                "0000:01:00.0", "0000:01:00.1", NULL);
        _cleanup_domain_ Domain *keep = test_domain_new(
                "x", "<console>keep</console><framebuffer>keep</framebuffer><display-manager>keep</display-manager>",
                "0000:01:00.0", "0000:01:00.1", NULL);
        _cleanup_domain_ Domain *nic = test_domain_new("x", "<console>unbind</console>", "0000:00:14.0", NULL);
        _cleanup_(run_done) Run r = {};
        Host h = {};

        /* On the dual-GPU desktop, where auto keeps all three. */
        host_build(&h, "dual-gpu-desktop", "fb efi-framebuffer.0 driver=efi-framebuffer");
        plan(&h, change, &r);
        assert_steps(&r.p, "stop-unit display-manager.service", "stop-unit nvidia-persistenced.service",
                     "unbind-vtconsole vtcon1", "unbind-framebuffer efi-framebuffer.0", "unload-module nvidia_drm",
                     "unload-module nvidia_modeset", "unload-module nvidia_uvm", "unload-module nvidia",
                     "detach-device 0000:01:00.0", "detach-device 0000:01:00.1", NULL);
        assert_decision(&r.p, STEP_UNBIND_VTCONSOLE, "vtcon1", true, "<console>unbind</console>", NULL);
        assert_decision(&r.p, STEP_UNBIND_FRAMEBUFFER, "efi-framebuffer.0", true, "<framebuffer>unbind</framebuffer>",
                        NULL);
        assert_decision(&r.p, STEP_STOP_UNIT, "display-manager.service", true, "<display-manager>stop</display-manager>",
                        NULL);
        run_done(&r);
        host_done(&h);

        /* On the single-GPU desktop, where auto changes all three. */
        host_build(&h, "nvidia-desktop", NULL);
        plan(&h, keep, &r);
        assert_decision(&r.p, STEP_UNBIND_VTCONSOLE, "vtcon1", false, "<console>keep</console>", NULL);
        assert_decision(&r.p, STEP_UNBIND_FRAMEBUFFER, "efi-framebuffer.0", false, "<framebuffer>keep</framebuffer>", NULL);
        assert_decision(&r.p, STEP_STOP_UNIT, "display-manager.service", false, "<display-manager>keep</display-manager>",
                        NULL);
        ck_assert_str_eq(r.p.steps[0].target, "nvidia-persistenced.service");
        run_done(&r);

        /* The display manager named as a <service> is stopped as named. */
        _cleanup_domain_ Domain *svc = test_domain_new("x", "<service>display-manager.service</service>", "0000:01:00.0",
                                                  "0000:01:00.1", NULL);
        host_done(&h);
        host_build(&h, "dual-gpu-desktop", NULL);
        run_done(&r);
        plan(&h, svc, &r);
        assert_decision(&r.p, STEP_STOP_UNIT, "display-manager.service", true,
                        "<service>display-manager.service</service>", NULL);
        run_done(&r);
        host_done(&h);
        host_build(&h, "nvidia-desktop", NULL);

        /* No display controller taken: nothing of the screen moves. */
        plan(&h, nic, &r);
        assert_steps(&r.p, "detach-device 0000:00:14.0", NULL);
        assert_decision(&r.p, STEP_UNBIND_VTCONSOLE, "vtcon1", false, "takes no display controller", NULL);
        host_done(&h);
}
END_TEST

/* ---- the text and JSON ----------------------------------------------------------------------------- */

static char *print(const Run *r, bool json) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        ck_assert_ptr_nonnull(f);
        if (json)
                plan_print_json(&r->p, &r->f, f);
        else
                plan_print_text(&r->p, &r->f, f);
        ck_assert_int_eq(fclose(f), 0);
        return buf;
}

START_TEST(test_output) {
        _cleanup_domain_ Domain *d = test_domain_new("win11", "", "0000:01:00.0", "0000:01:00.1", NULL);
        _cleanup_(run_done) Run r = {};
        Host h = {};

        host_build(&h, "dual-gpu-desktop-shared", NULL);
        plan(&h, d, &r);
        _cleanup_free_ char *text = print(&r, false), *json = print(&r, true);
        ck_assert_contains(text, "Plan for domain win11: 8 steps\n"
                                 "   1. stop-unit           display-manager.service\n"
                                 "      display-manager.service stops: pid 1500 (gnome-shell, "
                                 "org.gnome.Shell@wayland.service) holds /dev/dri/card1;");
        ck_assert_contains(text, "Kept as it is:\n  - vtcon1 stays: fbcon draws on fb0 (i915drmfb) of 0000:00:02.0");
        ck_assert_contains(text, "  pid 1500 (gnome-shell, org.gnome.Shell@wayland.service) holds /dev/dri/card1\n");
        ck_assert_not_contains(text, "wireplumber");
        /* The fields JSON had, and the decisions. */
        ck_assert(startswith(json, "{\"domain\": \"win11\", \"steps\": [{\"action\": \"stop-unit\", \"target\": "
                                   "\"display-manager.service\", \"reason\": \"display-manager.service stops: "));
        ck_assert_contains(json, "\"decisions\": [{\"resource\": \"display-manager.service\", \"kind\": \"unit\", "
                                 "\"action\": \"take\", \"reason\": ");
        ck_assert_contains(json, "{\"resource\": \"vtcon1\", \"kind\": \"vtconsole\", \"action\": \"keep\", "
                                 "\"reason\": \"vtcon1 stays: ");
        ck_assert_contains(json, "{\"pid\": 1500, \"command\": \"gnome-shell\", \"path\": \"/dev/dri/card1\", "
                                 "\"unit\": \"org.gnome.Shell@wayland.service\"}");
        ck_assert_contains(json, "\"problems\": [], \"holders\": [");
        ck_assert_contains(json, "], \"notes\": []}\n");
        host_done(&h);
}
END_TEST

/* <vfs> and <reset> (sriovplan.h): the VF addresses from the PF's capability
 * (or the kernel's sriov_offset/sriov_stride without it), first steps. */
START_TEST(test_sriov_plan) {
        _cleanup_domain_ Domain *d = test_domain_new("vm-a",
                                                "<vfs pf='0000:3b:00.0' count='4'/><reset device='0000:3d:00.0' method='bus'/>",
                                                "0000:3b:02.3", "0000:3d:00.0", NULL);
        _cleanup_(run_done) Run r = {};
        Host h = {};

        host_build(&h, "sriov-nic", NULL);
        plan(&h, d, &r);
        assert_steps(&r.p, "create-vfs 0000:3b:00.0", "reset-method 0000:3d:00.0", "detach-device 0000:3d:00.0",
                     "detach-device 0000:3b:02.3", NULL);
        assert_decision(&r.p, STEP_CREATE_VFS, "0000:3b:00.0", 1, "4 VFs made (0000:3b:02.0 to 0000:3b:02.3)", NULL);
        assert_decision(&r.p, STEP_RESET_METHOD, "0000:3d:00.0", 1, "reset_method becomes bus (now: flr bus)", NULL);
        assert_decision(&r.p, STEP_DETACH_DEVICE, "0000:3b:02.3", 1, "a VF created by prepare", NULL);
        assert_all_explained(&r.p);
        run_done(&r);
        host_done(&h);

        /* Non-root reads 64 bytes of config: the kernel's sriov_offset and
         * sriov_stride say the same. Here the VFs start 0x80 further: bus 3c. */
        host_build(&h, "sriov-nic",
                   "pci 0000:00:1b.0 8086:a197 060400 driver=pcieport group=20 secondary=40\n"
                   "pci 0000:40:00.0 15b3:101b 020000 driver=mlx5_core module=mlx5_core group=21\n"
                   "sriov 0000:40:00.0 total=16 offset=254 stride=2 cap=no vfdriver=mlx5_core\n");
        _cleanup_domain_ Domain *d2 = test_domain_new("vm-b", "<vfs pf='0000:40:00.0' count='3'/>", "0000:41:00.0", NULL);
        plan(&h, d2, &r);
        assert_steps(&r.p, "create-vfs 0000:40:00.0", "detach-device 0000:41:00.0", NULL);
        assert_decision(&r.p, STEP_CREATE_VFS, "0000:40:00.0", 1, "(0000:40:1f.6 to 0000:41:00.2)", NULL);
        run_done(&r);
        host_done(&h);

        /* Neither: where the VFs go is unknown, and plan says so. */
        host_build(&h, "sriov-nic", "pci 0000:00:1b.0 8086:a197 060400 driver=pcieport group=20 secondary=40\n"
                                    "pci 0000:40:00.0 15b3:101b 020000 driver=mlx5_core module=mlx5_core group=21\n"
                                    "sriov 0000:40:00.0 total=16 cap=no\n");
        _cleanup_free_ char *offset = strf("%s/sys/bus/pci/devices/0000:40:00.0/sriov_offset", h.root);
        ck_assert_int_eq(unlink(offset), 0);
        plan(&h, d2, &r);
        ck_assert_uint_eq(r.p.n_problems, 1);
        ck_assert_str_eq(r.p.problems[0].code, "vfs-layout-unknown");
        ck_assert(!r.p.problems[0].bad_input);
        run_done(&r);
        host_done(&h);
}
END_TEST

/* Two domains, one PF: the second shares the VFs the first one's prepare made. */
START_TEST(test_sriov_plan_shared) {
        _cleanup_domain_ Domain *d = test_domain_new("vm-b", "<vfs pf='0000:3b:00.0' count='4'/>", "0000:3b:02.2", NULL);
        _cleanup_(run_done) Run r = {};
        Host h = {};
        PciAddr pf;

        host_build(&h, "sriov-nic", NULL);
        ck_assert_int_eq(fakehost_sriov_set_numvfs(h.root, "0000:3b:00.0", 4), 0);
        ck_assert_int_eq(pci_addr_parse("0000:3b:00.0", &pf), 0);
        plan(&h, d, &r);
        /* Made by hand: nothing to do. */
        assert_steps(&r.p, "detach-device 0000:3b:02.2", NULL);
        ck_assert_contains(r.p.notes[0], "0000:3b:00.0 has 4 VFs already, made outside vfio-hook");
        plan_done(&r.p);
        ck_assert_int_eq(host_facts_add_vfs_made(&r.f, &pf, "vm-a"), 0);
        ck_assert_int_eq(plan_build(d, &r.f, &r.p), 0);
        assert_steps(&r.p, "create-vfs 0000:3b:00.0", "detach-device 0000:3b:02.2", NULL);
        assert_decision(&r.p, STEP_CREATE_VFS, "0000:3b:00.0", 1, "made by vfio-hook for domain vm-a", NULL);
        run_done(&r);

        /* A second <vfs> whose PF has no VFs yet: its VF is no stranger to the first. */
        _cleanup_domain_ Domain *two = test_domain_new("vm-c", "<vfs pf='0000:3b:00.0' count='4'/><vfs pf='0000:40:00.0' count='2'/>",
                                                  "0000:3b:02.2", "0000:40:00.2", NULL);
        host_done(&h);
        host_build(&h, "sriov-nic", "pci 0000:00:1b.0 8086:a197 060400 driver=pcieport group=20 secondary=40\n"
                                    "pci 0000:40:00.0 15b3:101b 020000 driver=mlx5_core module=mlx5_core group=21\n"
                                    "sriov 0000:40:00.0 total=16 offset=1 stride=1\n");
        ck_assert_int_eq(fakehost_sriov_set_numvfs(h.root, "0000:3b:00.0", 4), 0);
        plan(&h, two, &r);
        assert_steps(&r.p, "create-vfs 0000:40:00.0", "detach-device 0000:3b:02.2", "detach-device 0000:40:00.2", NULL);
        run_done(&r);
        host_done(&h);
}
END_TEST

static Suite *plan_suite(void) {
        Suite *s = suite_create("plan");
        TCase *tc = test_tcase("hosts");
        tcase_add_test(tc, test_dual_gpu_desktop);
        tcase_add_test(tc, test_dual_gpu_desktop_shared);
        tcase_add_test(tc, test_two_nvidia_cards);
        tcase_add_test(tc, test_amd_apu_dgpu);
        tcase_add_test(tc, test_laptop_optimus);
        tcase_add_test(tc, test_server_bmc);
        tcase_add_test(tc, test_module_held_by_a_staying_module);
        tcase_add_test(tc, test_listed_module);
        tcase_add_test(tc, test_framebuffer_evidence);
        tcase_add_test(tc, test_fbcon_map);
        tcase_add_test(tc, test_console_on_boot_vga);
        tcase_add_test(tc, test_single_gpu_fallback);
        tcase_add_test(tc, test_explicit_values);
        tcase_add_test(tc, test_output);
        tcase_add_test(tc, test_sriov_plan);
        tcase_add_test(tc, test_sriov_plan_shared);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(plan_suite());
}
