/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "check/domain.h"
#include "check/strbuf.h"
#include "host/console.h"
#include "host/holders.h"
#include "shared/util.h"

/* What keeps the domain's display device in use on the host: the firmware
 * framebuffer, the frame buffer console, processes holding its nodes, and
 * the display manager; and what prepare does about each. */

#define DM_LINK "etc/systemd/system/" DISPLAY_MANAGER_UNIT

/* "efi-framebuffer.0 (efi-framebuffer)", "simple-framebuffer.0 (simpledrm, DRM card0, held by ...)". */
static char *framebuffer_describe(DomainCtx *c, const Framebuffer *fb) {
        _cleanup_strv_free_ char **drm = NULL, **paths = NULL;
        _cleanup_free_ char *module = NULL;
        Holder *holders = NULL;
        size_t n_holders = 0;
        char qb[VALUE_QUOTE_BUFSZ];
        _cleanup_strbuf_ StrBuf b = {};

        if (strbuf_open(&b) < 0)
                return NULL;
        (void) sysroot_list_dirf(c->sr, &drm, "sys/bus/platform/devices/%s/drm", fb->device);
        if (drm && drm[0]) {
                /* A DRM driver on the firmware framebuffer: simpledrm (or ofdrm, ...). */
                (void) sysroot_link_basenamef(c->sr, &module, "sys/bus/platform/drivers/%s/module", fb->driver);
                fprintf(b.f, "%s (%s, DRM", fb->device,
                        module                                      ? module
                        : streq(fb->driver, "simple-framebuffer") ? "simpledrm"
                                                                   : fb->driver);
                for (char **n = drm; *n; n++) {
                        _cleanup_free_ char *path = strf("/dev/dri/%s", *n);
                        if (!path || strv_extend(&paths, path) < 0)
                                return NULL;
                        fprintf(b.f, " %s", *n);
                }
                if (holders_find(c->sr, paths, NULL, &holders, &n_holders) >= 0)
                        for (size_t i = 0; i < n_holders; i++)
                                fprintf(b.f, "%s %s pid %d", i ? "," : ", held by", value_quote(holders[i].command, qb),
                                        (int) holders[i].pid);
                holders_free(holders, n_holders);
                fputc(')', b.f);
        } else
                fprintf(b.f, "%s (%s)", fb->device, fb->driver);
        return strbuf_take(&b);
}

/* Console, framebuffer and display manager: a kept resource is worth a
 * warning when the policy keeps it explicitly and `auto` would change it
 * (it depends on a device the domain takes). */
static bool kept_against_auto(const DomainCtx *c, Choice choice, StepAction kind, const char *resource) {
        return choice == CHOICE_KEEP && decided_take(&c->auto_ds, kind, resource);
}

static int check_framebuffer(DomainCtx *c, CheckReport *r) {
        _cleanup_free_ char *bound = NULL, *present = NULL;
        _cleanup_strbuf_ StrBuf b_bound = {}, b_present = {};
        bool warn = false;
        int k = 0;

        if (strbuf_open(&b_bound) < 0 || strbuf_open(&b_present) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < c->f.n_framebuffers; i++) {
                const Framebuffer *fb = &c->f.framebuffers[i];
                const Decision *x = decisions_find(&c->ds, STEP_UNBIND_FRAMEBUFFER, fb->device),
                               *a = decisions_find(&c->auto_ds, STEP_UNBIND_FRAMEBUFFER, fb->device);
                if (!fb->driver) {
                        fprintf(b_present.f, "%s%s", ftell(b_present.f) ? ", " : "", fb->device);
                        continue;
                }
                _cleanup_free_ char *desc = framebuffer_describe(c, fb);
                if (!desc || !x || !a)
                        return -ENOMEM;
                bool w = kept_against_auto(c, c->policy->framebuffer, STEP_UNBIND_FRAMEBUFFER, fb->device);
                /* "simple-framebuffer.0 (simpledrm, ...): it sits on ...: prepare unbinds it" */
                fprintf(b_bound.f, "%s%s: %s: prepare %s", ftell(b_bound.f) ? "; " : "", desc, x->why,
                        x->take ? "unbinds it" : "leaves it");
                if (w)
                        fprintf(b_bound.f, " (with auto it would go: %s)", a->why);
                warn = warn || w;
        }
        bound = strbuf_take(&b_bound);
        present = strbuf_take(&b_present);
        if (!bound || !present)
                return -ENOMEM;

        if (!bound[0])
                k = check_report_pass(r, "framebuffer", "no firmware framebuffer is bound%s%s%s",
                                      present[0] ? " (" : "", present, present[0] ? " present, unbound)" : "");
        else if (warn)
                k = check_report_add(
                        r, CHECK_WARN, "framebuffer", strf("%s", bound),
                        strf("set <framebuffer>unbind</framebuffer> or auto: a firmware framebuffer left on the "
                             "card keeps part of its memory, which vfio-pci then cannot map for the guest"));
        else
                k = check_report_pass(r, "framebuffer", "%s", bound);
        return k;
}

static int check_vtconsole(DomainCtx *c, CheckReport *r) {
        _cleanup_free_ char *bound = NULL;
        const Decision *x = NULL;
        bool warn = false;
        _cleanup_strbuf_ StrBuf b = {};

        if (strbuf_open(&b) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < c->f.n_vtconsoles; i++) {
                const VtConsole *v = &c->f.vtconsoles[i];
                if (!vtconsole_is_fbcon(v) || v->bind != 1)
                        continue;
                fprintf(b.f, "%s%s", ftell(b.f) ? ", " : "", v->id);
                x = x ? x : decisions_find(&c->ds, STEP_UNBIND_VTCONSOLE, v->id);
                warn = warn || kept_against_auto(c, c->policy->console, STEP_UNBIND_VTCONSOLE, v->id);
        }
        bound = strbuf_take(&b);
        if (!bound)
                return -ENOMEM;
        if (!bound[0])
                return check_report_pass(r, "vtconsole", "no frame buffer console is bound%s%s",
                                         c->ds.console ? "; the frame buffers: " : "",
                                         c->ds.console ? c->ds.console : "");
        if (!x)
                return -ENOMEM;
        if (warn)
                return check_report_add(
                        r, CHECK_WARN, "vtconsole",
                        strf("the frame buffer console is bound to %s, and the policy keeps it, but it draws "
                             "on what the domain takes: it keeps the GPU's driver in use",
                             bound),
                        strf("set <console>unbind</console> or auto"));
        return check_report_pass(r, "vtconsole", "the frame buffer console is bound to %s: %s: prepare %s", bound,
                                 x->why, x->take ? "unbinds it" : "leaves it");
}

static int check_gpu_holders(DomainCtx *c, CheckReport *r) {
        _cleanup_free_ char *list = NULL;
        const Holder *prev = NULL;
        char qb[VALUE_QUOTE_BUFSZ];
        _cleanup_strbuf_ StrBuf b = {};

        if (strbuf_open(&b) < 0)
                return -ENOMEM;
        /* Sorted by pid: one entry per process. */
        for (size_t i = 0; i < c->f.n_holders; i++) {
                const Holder *hd = &c->f.holders[i];
                if (!decisions_holder_counts(&c->ds, hd->path))
                        continue;
                if (prev && hd->pid == prev->pid)
                        fprintf(b.f, ", %s", hd->path);
                else
                        fprintf(b.f, "%spid %d (%s%s%s) holds %s", prev ? "; " : "", (int) hd->pid,
                                value_quote(hd->command, qb), hd->unit ? ", " : "", hd->unit ? hd->unit : "", hd->path);
                prev = hd;
        }
        list = strbuf_take(&b);
        if (!list)
                return -ENOMEM;
        if (!list[0])
                return check_report_pass(r, "gpu-holders", "no process holds the devices' nodes%s",
                                         c->f.stack == STACK_NVIDIA ? " (theirs and /dev/nvidia*)" : "");
        bool terminate = c->policy->holders == HOLDERS_TERMINATE;
        _cleanup_strbuf_ StrBuf b_units = {};
        if (strbuf_open(&b_units) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < c->ds.n; i++)
                if (c->ds.list[i].kind == STEP_STOP_UNIT && c->ds.list[i].take)
                        fprintf(b_units.f, "%s%s", ftell(b_units.f) ? ", " : "", c->ds.list[i].resource);
        _cleanup_free_ char *units = strbuf_take(&b_units);
        if (!units)
                return -ENOMEM;
        if (units[0])
                return check_report_add(
                        r, CHECK_WARN, "gpu-holders", strf("%s", list),
                        strf("prepare first stops %s; it then looks again and %s (<holders>%s</holders>)", units,
                             terminate ? "terminates what is left" : "refuses to go on if any is left",
                             terminate ? "terminate" : "refuse"));
        return check_report_add(r, CHECK_WARN, "gpu-holders", strf("%s", list),
                                strf("prepare stops no unit that holds them: close these programs before starting the "
                                     "guest%s",
                                     c->policy->display_manager == CHOICE_KEEP
                                             ? ", or set <display-manager>stop</display-manager>"
                                             : terminate ? " (prepare terminates them: <holders>terminate</holders>)"
                                                         : ", or set <holders>terminate</holders>"));
}

static int check_display_manager(DomainCtx *c, CheckReport *r) {
        _cleanup_free_ char *target = NULL;
        char qb[VALUE_QUOTE_BUFSZ];
        int k;

        k = sysroot_readlinkf(c->sr, &target, DM_LINK);
        if (k == -ENOMEM)
                return k;
        if (k == -ENOENT)
                return check_report_pass(r, "display-manager",
                                         "no " DISPLAY_MANAGER_UNIT ": no display manager to stop");
        if (k < 0 && k != -EINVAL) /* -EINVAL: a unit file, not a link */
                return check_report_add(r, CHECK_WARN, "display-manager",
                                        strf("cannot read /" DM_LINK ": %s", strerror(-k)), strf("run as root"));
        if (k >= 0 && sysroot_existsf(c->sr, DM_LINK) <= 0)
                return check_report_add(
                        r, CHECK_WARN, "display-manager",
                        strf(DISPLAY_MANAGER_UNIT " points to %s, which does not exist", value_quote(target, qb)),
                        strf("enable the display manager you use (e.g. systemctl enable --force gdm) or "
                             "remove the stale link"));
        const char *base = target ? strrchr(target, '/') : NULL;
        base = base ? base + 1 : target;
        _cleanup_free_ char *what =
                base ? strf(DISPLAY_MANAGER_UNIT " -> %s", value_quote(base, qb)) : strdup(DISPLAY_MANAGER_UNIT);
        if (!what)
                return -ENOMEM;
        if (kept_against_auto(c, c->policy->display_manager, STEP_STOP_UNIT, DISPLAY_MANAGER_UNIT))
                return check_report_add(r, CHECK_WARN, "display-manager",
                                        strf("%s runs on the GPU, and the policy keeps it", what),
                                        strf("set <display-manager>stop</display-manager> or auto, or stop it yourself "
                                             "before starting the guest"));
        const Decision *x = decisions_find(&c->ds, STEP_STOP_UNIT, DISPLAY_MANAGER_UNIT);
        if (!x)
                return check_report_pass(r, "display-manager", "%s: %s", what,
                                         c->policy->display_manager == CHOICE_KEEP
                                                 ? "the policy keeps it"
                                                 : "the domain takes no display controller");
        if (x->take)
                return check_report_pass(r, "display-manager", "%s: prepare stops it, release starts it again: %s",
                                         what, x->why);
        return check_report_pass(r, "display-manager", "%s: prepare leaves it running: %s", what, x->why);
}

int check_domain_display(DomainCtx *c, CheckReport *r) {
        int k;

        if ((k = check_framebuffer(c, r)) < 0 || (k = check_vtconsole(c, r)) < 0 ||
            (k = check_gpu_holders(c, r)) < 0 || (k = check_display_manager(c, r)) < 0)
                return k;
        return 0;
}
