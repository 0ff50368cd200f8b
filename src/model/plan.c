/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>

#include "model/lifetime-plan.h"
#include "model/plan.h"
#include "model/sriovplan.h"
#include "shared/json.h"
#include "shared/util.h"

static const char *const step_action_names[_STEP_ACTION_MAX] = {
        [STEP_STOP_UNIT] = "stop-unit",
        [STEP_UNBIND_VTCONSOLE] = "unbind-vtconsole",
        [STEP_UNBIND_FRAMEBUFFER] = "unbind-framebuffer",
        [STEP_UNLOAD_MODULE] = "unload-module",
        [STEP_DETACH_DEVICE] = "detach-device",
        [STEP_CREATE_VFS] = "create-vfs",
        [STEP_RESET_METHOD] = "reset-method",
        [STEP_START_INHIBITOR] = "start-inhibitor",
        [STEP_ISOLATE_CPUS] = "isolate-cpus",
        [STEP_RAISE_HUGEPAGES] = "raise-hugepages",
};

const char *step_action_to_string(StepAction a) {
        return a < _STEP_ACTION_MAX ? step_action_names[a] : NULL;
}

int step_action_from_string(const char *s, StepAction *ret) {
        for (StepAction a = 0; a < _STEP_ACTION_MAX; a++)
                if (streq(s, step_action_names[a])) {
                        *ret = a;
                        return 0;
                }
        return -EINVAL;
}

void plan_done(Plan *p) {
        free(p->domain);
        for (size_t i = 0; i < p->n_steps; i++)
                free(p->steps[i].target);
        free(p->steps);
        for (size_t i = 0; i < p->n_problems; i++) {
                free(p->problems[i].code);
                free(p->problems[i].message);
        }
        free(p->problems);
        strv_free(p->notes);
        decisions_done(&p->decisions);
        *p = (Plan) {};
}

static int add_step(Plan *p, StepAction a, const char *target) {
        Step *n = realloc(p->steps, (p->n_steps + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        p->steps = n;
        char *t = strdup(target);
        if (!t)
                return -ENOMEM;
        p->steps[p->n_steps++] = (Step) { .action = a, .target = t };
        return 0;
}

int plan_add_problem(Plan *p, const char *code, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL, *c = strdup(code);
        va_list ap;
        va_start(ap, fmt);
        msg = vstrf(fmt, ap);
        va_end(ap);
        if (!msg)
                return -ENOMEM;
        if (!c)
                return -ENOMEM;
        Problem *n = realloc(p->problems, (p->n_problems + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        p->problems = n;
        p->problems[p->n_problems++] = (Problem) { .code = TAKE_PTR(c), .message = TAKE_PTR(msg) };
        return 0;
}

int plan_add_note(Plan *p, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        va_start(ap, fmt);
        msg = vstrf(fmt, ap);
        va_end(ap);
        if (!msg)
                return -ENOMEM;
        return strv_extend(&p->notes, msg);
}

int plan_add_problem_text(Plan *p, bool bad_input, const char *code, const char *message) {
        int r = plan_add_problem(p, code, "%s", message);
        if (r >= 0)
                p->problems[p->n_problems - 1].bad_input = bad_input;
        return r;
}

int plan_add_note_text(Plan *p, const char *note) {
        return plan_add_note(p, "%s", note);
}

int plan_insert_decisions(Plan *p, Decisions *first, Decisions *last) {
        size_t n_last = last ? last->n : 0, n = first->n + p->decisions.n + n_last;
        Decision *l = calloc(n + 1, sizeof *l);
        if (!l)
                return -ENOMEM;
        if (first->n)
                memcpy(l, first->list, first->n * sizeof *l);
        if (p->decisions.n)
                memcpy(l + first->n, p->decisions.list, p->decisions.n * sizeof *l);
        if (n_last)
                memcpy(l + first->n + p->decisions.n, last->list, n_last * sizeof *l);
        free(p->decisions.list);
        p->decisions.list = l;
        p->decisions.n = n;
        free(first->list);
        first->list = NULL;
        first->n = 0;
        if (last) {
                free(last->list);
                last->list = NULL;
                last->n = 0;
        }
        return 0;
}

bool plan_bad_input(const Plan *p) {
        for (size_t i = 0; i < p->n_problems; i++)
                if (p->problems[i].bad_input)
                        return true;
        return false;
}

static bool driver_is_vfio(const char *driver) {
        return streq_ptr(driver, "vfio-pci");
}

static int check_devices(const Domain *d, const HostFacts *f, Plan *p) {
        int r;

        if (f->n_iommu_groups == 0) {
                r = plan_add_problem(p, "iommu-off",
                                "the IOMMU is off: there are no IOMMU groups (enable VT-d/AMD-Vi in the firmware and add "
                                "intel_iommu=on or amd_iommu=on to the kernel command line)");
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < d->n_hostdevs; i++) {
                const PciDevice *dev = i < f->n_hostdevs ? f->hostdevs[i] : NULL;
                char addr[PCI_ADDR_STRLEN];

                pci_addr_format(&d->hostdevs[i].addr, addr);
                if (!dev && d->policy->n_vfs > 0)
                        continue; /* a VF prepare makes, or an error sriov_plan() names */
                if (!dev) {
                        r = plan_add_problem(p, "device-not-found", "hostdev %s does not exist on this host", addr);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (dev->is_bridge) {
                        r = plan_add_problem(p, "not-endpoint",
                                        "hostdev %s is a PCI bridge, not an endpoint: it cannot be given to a guest", addr);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (f->n_iommu_groups > 0 && dev->iommu_group < 0) {
                        r = plan_add_problem(p, "no-iommu-group", "hostdev %s is in no IOMMU group", addr);
                        if (r < 0)
                                return r;
                }
        }

        for (size_t i = 0; i < f->n_others; i++) {
                const PciDevice *m = f->others[i];
                if (!pci_member_blocks_vfio(m))
                        continue;
                /* Name the hostdev that shares the group, for the message. */
                const char *with = "a hostdev";
                for (size_t j = 0; j < f->n_hostdevs; j++)
                        if (f->hostdevs[j] && f->hostdevs[j]->iommu_group == m->iommu_group) {
                                with = f->hostdevs[j]->name;
                                break;
                        }
                r = plan_add_problem(p, "group-not-viable",
                                "IOMMU group %d of %s also holds %s (driver %s), which is not in the domain: "
                                "add it as a hostdev too, or move the card to a slot with its own group",
                                m->iommu_group, with, m->name, m->driver);
                if (r < 0)
                        return r;
        }
        return 0;
}

int plan_build(const Domain *d, const HostFacts *f, Plan *ret) {
        _cleanup_(plan_done) Plan p = {};
        int r;

        p.domain = strdup(d->name ? d->name : "");
        if (!p.domain)
                return -ENOMEM;

        if (!d->policy) {
                *ret = p;
                p = (Plan) {};
                return 0;
        }

        r = check_devices(d, f, &p);
        if (r < 0)
                return r;
        if (d->n_hostdevs == 0) {
                r = plan_add_note(&p, "the domain has no PCI hostdev: there is nothing to hand over");
                if (r < 0)
                        return r;
        }

        r = decide(d, d->policy, f, &p.decisions);
        if (r < 0)
                return r;
        r = sriov_plan(d, f, &p);
        if (r < 0)
                return r;
        /* Inhibitor, isolation and huge pages come first (lifetime-steps.h),
         * then the VFs (sriovplan.h), then the hand-off. */
        r = lifetime_plan(d, &f->lifetime, &p);
        if (r < 0)
                return r;

        /* The decisions come in the order of prepare (docs/design.md, "The order of prepare"): a step
         * for each that changes something. */
        for (size_t i = 0; i < p.decisions.n; i++) {
                const Decision *x = &p.decisions.list[i];
                if (!x->take)
                        continue;
                if (x->kind == STEP_STOP_UNIT) {
                        const UnitFact *u = NULL;
                        for (size_t k = 0; k < f->n_units && !u; k++)
                                if (streq(f->units[k].name, x->resource))
                                        u = &f->units[k];
                        if (u && u->state == UNIT_UNKNOWN) {
                                r = plan_add_note(&p, "cannot ask systemd about %s: prepare stops it if it runs", u->name);
                                if (r < 0)
                                        return r;
                                continue;
                        }
                }
                r = add_step(&p, x->kind, x->resource);
                if (r < 0)
                        return r;
        }
        for (char **n = p.decisions.notes; n && *n; n++) {
                r = plan_add_note(&p, "%s", *n);
                if (r < 0)
                        return r;
        }
        for (char **m = f->builtin_modules; m && *m; m++) {
                r = plan_add_note(&p, "module %s is built into the kernel: it stays, and its devices are unbound on detach",
                             *m);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < d->n_hostdevs; i++) {
                const PciDevice *dev = i < f->n_hostdevs ? f->hostdevs[i] : NULL;
                if (dev && !dev->is_bridge && driver_is_vfio(dev->driver)) {
                        r = plan_add_note(&p, "%s is on vfio-pci already", dev->name);
                        if (r < 0)
                                return r;
                }
        }

        *ret = p;
        p = (Plan) {};
        return 0;
}

const char *plan_step_reason(const Plan *p, const Step *s) {
        const Decision *x = decisions_find(&p->decisions, s->action, s->target);
        return x ? x->reason : NULL;
}

bool plan_holder_counts(const Plan *p, const Holder *h) {
        return decisions_holder_counts(&p->decisions, h->path);
}

void plan_print_text(const Plan *p, const HostFacts *f, FILE *out) {
        bool any = false;

        fprintf(out, "Plan for domain %s: %zu step%s\n", p->domain, p->n_steps, p->n_steps == 1 ? "" : "s");
        for (size_t i = 0; i < p->n_steps; i++) {
                const char *why = plan_step_reason(p, &p->steps[i]), *action = step_action_to_string(p->steps[i].action);
                fprintf(out, "  %2zu. %-19s %s\n", i + 1, action ? action : "?", p->steps[i].target);
                if (why)
                        fprintf(out, "      %s\n", why);
        }
        for (size_t i = 0; i < p->decisions.n; i++) {
                if (p->decisions.list[i].take)
                        continue;
                if (!any)
                        fprintf(out, "Kept as it is:\n");
                any = true;
                fprintf(out, "  - %s\n", p->decisions.list[i].reason);
        }
        any = false;
        for (size_t i = 0; f && i < f->n_holders; i++) {
                _cleanup_free_ char *who = NULL;
                if (!plan_holder_counts(p, &f->holders[i]))
                        continue;
                if (!any)
                        fprintf(out, "Processes holding the domain's devices now (prepare looks again after stopping "
                                     "units, then %s what is left):\n",
                                "refuses or terminates");
                any = true;
                who = holder_describe(&f->holders[i]);
                fprintf(out, "  %s holds %s\n", who ? who : "?", f->holders[i].path);
        }
        if (p->notes) {
                fprintf(out, "Notes:\n");
                for (char **n = p->notes; *n; n++)
                        fprintf(out, "  - %s\n", *n);
        }
        if (p->n_problems > 0) {
                fprintf(out, "Problems that stop the hand-off:\n");
                for (size_t i = 0; i < p->n_problems; i++)
                        fprintf(out, "  %s: %s\n", p->problems[i].code, p->problems[i].message);
        }
}

void plan_print_json(const Plan *p, const HostFacts *f, FILE *out) {
        bool first = true;

        fputs("{\"domain\": ", out);
        json_write_string(out, p->domain);
        fputs(", \"steps\": [", out);
        for (size_t i = 0; i < p->n_steps; i++) {
                fputs(i ? ", {\"action\": " : "{\"action\": ", out);
                json_write_string(out, step_action_to_string(p->steps[i].action));
                fputs(", \"target\": ", out);
                json_write_string(out, p->steps[i].target);
                fputs(", \"reason\": ", out);
                json_write_string_or_null(out, plan_step_reason(p, &p->steps[i]));
                fputc('}', out);
        }
        fputs("], \"decisions\": [", out);
        for (size_t i = 0; i < p->decisions.n; i++) {
                const Decision *x = &p->decisions.list[i];
                fputs(i ? ", {\"resource\": " : "{\"resource\": ", out);
                json_write_string(out, x->resource);
                fputs(", \"kind\": ", out);
                json_write_string(out, decision_kind_to_string(x->kind));
                fprintf(out, ", \"action\": \"%s\", \"reason\": ", x->take ? "take" : "keep");
                json_write_string(out, x->reason);
                fputc('}', out);
        }
        fputs("], \"problems\": [", out);
        for (size_t i = 0; i < p->n_problems; i++) {
                fputs(i ? ", {\"code\": " : "{\"code\": ", out);
                json_write_string(out, p->problems[i].code);
                fputs(", \"message\": ", out);
                json_write_string(out, p->problems[i].message);
                fputc('}', out);
        }
        fputs("], \"holders\": [", out);
        for (size_t i = 0; f && i < f->n_holders; i++) {
                if (!plan_holder_counts(p, &f->holders[i]))
                        continue;
                fprintf(out, "%s{\"pid\": %d, \"command\": ", first ? "" : ", ", (int) f->holders[i].pid);
                first = false;
                json_write_string(out, f->holders[i].command);
                fputs(", \"path\": ", out);
                json_write_string(out, f->holders[i].path);
                fputs(", \"unit\": ", out);
                json_write_string_or_null(out, f->holders[i].unit);
                fputc('}', out);
        }
        fputs("], \"notes\": [", out);
        for (char **n = p->notes; n && *n; n++) {
                if (n != p->notes)
                        fputs(", ", out);
                json_write_string(out, *n);
        }
        fputs("]}\n", out);
}
