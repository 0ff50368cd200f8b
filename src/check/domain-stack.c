/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "check/domain.h"
#include "check/strbuf.h"
#include "host/modules.h"
#include "shared/util.h"

/* The driver stack the policy resolves to: what prepare unloads (holders
 * first), what is in use beyond its holders, what is built in, and what
 * stays because other devices need it. */

/* The reasons of the decisions of one kind the plan keeps, "; "-joined. */
static char *kept_reasons(const Decisions *ds, StepAction kind) {
        _cleanup_strbuf_ StrBuf b = {};
        if (strbuf_open(&b) < 0)
                return NULL;
        for (size_t i = 0; i < ds->n; i++)
                if (ds->list[i].kind == kind && !ds->list[i].take)
                        fprintf(b.f, "%s%s", ftell(b.f) ? "; " : "", ds->list[i].reason);
        return strbuf_take(&b);
}

int check_driver_stack(DomainCtx *c, CheckReport *r) {
        const HostFacts *f = &c->f;
        _cleanup_free_ char *order = NULL, *busy = NULL, *builtin = NULL, *roots = NULL, *kept = NULL, *stays = NULL;
        _cleanup_strbuf_ StrBuf b_order = {}, b_busy = {}, b_builtin = {}, b_roots = {};
        const char *stack = stack_to_string(f->stack);
        int k = 0;

        if (strbuf_open(&b_order) < 0 || strbuf_open(&b_busy) < 0 || strbuf_open(&b_builtin) < 0 ||
            strbuf_open(&b_roots) < 0)
                return -ENOMEM;
        for (char **m = f->stack_roots; m && *m; m++)
                fprintf(b_roots.f, "%s%s", m == f->stack_roots ? "" : ", ", *m);
        for (char **m = f->builtin_modules; m && *m; m++)
                fprintf(b_builtin.f, "%s%s", m == f->builtin_modules ? "" : ", ", *m);
        for (char **m = f->unload_order; m && *m; m++) {
                _cleanup_(module_info_done) ModuleInfo mi = { .refcnt = -1 };
                if (!decided_take(&c->ds, STEP_UNLOAD_MODULE, *m))
                        continue; /* other devices still need it: below */
                fprintf(b_order.f, "%s%s", ftell(b_order.f) ? ", " : "", *m);
                k = module_info_read(c->sr, *m, &mi);
                if (k == -ENOMEM)
                        return k;
                if (k < 0 || mi.refcnt < 0)
                        continue;
                /* Each holding module takes one reference; the rest are open
                 * files and other kernel users. */
                int extra = mi.refcnt - (int) strv_length(mi.holders);
                if (extra > 0)
                        fprintf(b_busy.f, "%s%s (%d)", ftell(b_busy.f) ? ", " : "", *m, extra);
        }
        k = 0;
        order = strbuf_take(&b_order);
        busy = strbuf_take(&b_busy);
        builtin = strbuf_take(&b_builtin);
        roots = strbuf_take(&b_roots);
        kept = kept_reasons(&c->ds, STEP_UNLOAD_MODULE);
        if (!order || !busy || !builtin || !roots || !kept)
                return -ENOMEM;
        stays = strf("%s%s", kept[0] ? "; other devices still need what stays: " : "", kept);
        if (!stays)
                return -ENOMEM;

        if (!roots[0])
                k = check_report_pass(
                        r, "driver-stack", "stack %s: no module to unload%s", stack,
                        c->policy->stack == STACK_AUTO ? " (no host driver is bound to the display device)" : "");
        else if (builtin[0])
                k = check_report_add(
                        r, CHECK_WARN, "driver-stack",
                        strf("stack %s: %s built into the kernel and cannot be unloaded%s%s%s%s%s", stack, builtin,
                             order[0] ? "; unloads " : "", order, busy[0] ? "; in use now: " : "", busy, stays),
                        strf("detaching still unbinds the device from it, which is usually enough; if the host "
                             "hangs or the console does not come back, use a kernel that builds %s as a module",
                             builtin));
        else if (!order[0] && kept[0])
                k = check_report_pass(r, "driver-stack",
                                      "stack %s (%s): unloads nothing, the detach unbinds the devices%s", stack, roots,
                                      stays);
        else if (!order[0])
                k = check_report_pass(r, "driver-stack", "stack %s (%s): not loaded, nothing to unload", stack, roots);
        else if (busy[0])
                k = check_report_add(
                        r, CHECK_WARN, "driver-stack",
                        strf("stack %s: unloads %s (holders first); in use now beyond their holders: %s%s", stack,
                             order, busy, stays),
                        strf("expected while the desktop runs: prepare first stops what holds the devices "
                             "(see gpu-holders, vtconsole, display-manager); a module still in use then stops "
                             "the hand-off (`lsof /dev/dri/* /dev/nvidia*` shows who)"));
        else
                k = check_report_pass(r, "driver-stack", "stack %s: unloads %s (holders first); none in use%s", stack,
                                      order, stays);

        return k;
}
