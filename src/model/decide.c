/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "model/decide.h"
#include "shared/util.h"

/* How the rule reads the host (decide.h):
 *   framebuffer  it sits on the device that hangs above it in sysfs, else
 *                on the one whose BAR holds its memory (/proc/iomem), else
 *                on the boot VGA (boot_vga 1);
 *   console      fbcon draws on the frame buffers fbcon=map: names (fb0 by
 *                default); each belongs to the device fbN/device leads to,
 *                or to the firmware framebuffer, which goes or stays;
 *   display      it stops when the console goes, or when one of its
 *   manager      processes or a user session's holds a node the domain takes;
 *   modules      one goes when every device it serves goes: those bound to
 *                its PCI drivers, those another domain holds and gives back
 *                to them, and those of the modules it uses.
 * When nothing tells (a tree without boot_vga, /proc/iomem or frame
 * buffers), the single-GPU answer is taken and the reason says so. */

static const char *const kind_names[_STEP_ACTION_MAX] = {
        [STEP_STOP_UNIT] = "unit",
        [STEP_UNBIND_VTCONSOLE] = "vtconsole",
        [STEP_UNBIND_FRAMEBUFFER] = "framebuffer",
        [STEP_UNLOAD_MODULE] = "module",
        [STEP_DETACH_DEVICE] = "device",
        [STEP_CREATE_VFS] = "vfs",
        [STEP_RESET_METHOD] = "reset",
        [STEP_START_INHIBITOR] = "inhibitor",
        [STEP_ISOLATE_CPUS] = "cpus",
        [STEP_RAISE_HUGEPAGES] = "hugepages",
};

const char *decision_kind_to_string(StepAction kind) {
        return kind < _STEP_ACTION_MAX ? kind_names[kind] : NULL;
}

void decisions_done(Decisions *ds) {
        if (!ds)
                return;
        for (size_t i = 0; i < ds->n; i++) {
                free(ds->list[i].resource);
                free(ds->list[i].reason);
        }
        free(ds->list);
        strv_free(ds->holder_paths);
        strv_free(ds->holder_prefixes);
        free(ds->console);
        strv_free(ds->notes);
        *ds = (Decisions) {};
}

const Decision *decisions_find(const Decisions *ds, StepAction kind, const char *resource) {
        for (size_t i = 0; i < ds->n; i++)
                if (ds->list[i].kind == kind && streq(ds->list[i].resource, resource))
                        return &ds->list[i];
        return NULL;
}

bool decisions_holder_counts(const Decisions *ds, const char *path) {
        if (strv_contains(ds->holder_paths, path))
                return true;
        for (char **p = ds->holder_prefixes; p && *p; p++)
                if (startswith(path, *p))
                        return true;
        return false;
}

typedef struct Ctx {
        const Domain *d;
        const Policy *p;
        const HostFacts *f;
        Decisions *out;
        char *devices;          /* "0000:01:00.0 or 0000:01:00.1" */
        bool *fb_take;          /* aligned with f->framebuffers */
        bool console_taken;     /* the console draws on something the domain takes */
        char *console_says;     /* "fbcon draws on fb0 (...) of 0000:00:02.0, which stays with the host" */
        bool *unload;           /* aligned with f->modules */
} Ctx;

/* Takes reason (NULL: -ENOMEM). */
static int add(Ctx *c, StepAction kind, const char *resource, bool take, char *reason) {
        return decisions_add(c->out, kind, resource, take, reason);
}

int decisions_add(Decisions *ds, StepAction kind, const char *resource, bool take, char *reason) {
        _cleanup_free_ char *r = reason, *res = strdup(resource);
        if (!r || !res)
                return -ENOMEM;
        Decision *nl = realloc(ds->list, (ds->n + 1) * sizeof *nl);
        if (!nl)
                return -ENOMEM;
        ds->list = nl;
        const char *colon = strstr(r + (startswith(r, resource) ? strlen(resource) : 0), ": ");
        nl[ds->n++] = (Decision) {
                .kind = kind,
                .resource = TAKE_PTR(res),
                .take = take,
                .why = colon ? colon + 2 : r,
                .reason = TAKE_PTR(r),
        };
        return 0;
}

/* "a", "a or b", "a, b or c". */
static char *join(char *const *l, const char *last_sep) {
        char *s = NULL;
        size_t len = 0, n = strv_length(l);
        FILE *f = open_memstream(&s, &len);
        if (!f)
                return NULL;
        for (size_t i = 0; i < n; i++)
                fprintf(f, "%s%s", i == 0 ? "" : i + 1 == n ? last_sep : ", ", l[i]);
        if (fclose(f) != 0) {
                free(s);
                return NULL;
        }
        return s;
}

static bool taken(const Ctx *c, const PciAddr *a) {
        for (size_t i = 0; i < c->d->n_hostdevs; i++)
                if (pci_addr_equal(&c->d->hostdevs[i].addr, a))
                        return true;
        return false;
}

static bool taken_name(const Ctx *c, const char *name) {
        PciAddr a;
        return name && pci_addr_parse(name, &a) >= 0 && taken(c, &a);
}

static const char *fate(const Ctx *c, const char *device) {
        return taken_name(c, device) ? "which the domain takes" : "which stays with the host";
}

/* ---- firmware framebuffers -------------------------------------------------------------- */

/* Where the framebuffer sits: the device in owner ("" when nothing says),
 * and how that is known, as an apposition ("the boot VGA (boot_vga 1)");
 * "" when nothing tells at all. */
static char *framebuffer_place(const Ctx *c, const Framebuffer *fb, char owner[static PCI_ADDR_STRLEN]) {
        const HostFacts *f = c->f;
        bool boot_vga_known = false;

        owner[0] = 0;
        if (fb->parent[0]) {
                memcpy(owner, fb->parent, PCI_ADDR_STRLEN);
                return strdup("its parent in sysfs");
        }
        if (f->fw_fb_memory.owner[0]) {
                memcpy(owner, f->fw_fb_memory.owner, PCI_ADDR_STRLEN);
                return strf("whose BAR holds its memory (%s in /proc/iomem)", f->fw_fb_memory.resource);
        }
        for (size_t i = 0; i < f->n_displays; i++) {
                if (f->displays[i]->boot_vga < 0)
                        continue;
                boot_vga_known = true;
                if (f->displays[i]->boot_vga == 1) {
                        memcpy(owner, f->displays[i]->name, PCI_ADDR_STRLEN);
                        return strdup("the boot VGA (boot_vga 1)");
                }
        }
        if (boot_vga_known)
                return strdup("no display device is the boot VGA (all say boot_vga 0) and /proc/iomem does not place it");
        return strdup("");
}

static int decide_framebuffer(Ctx *c, size_t i) {
        const Framebuffer *fb = &c->f->framebuffers[i];
        char owner[PCI_ADDR_STRLEN];

        if (!c->f->has_display)
                return add(c, STEP_UNBIND_FRAMEBUFFER, fb->device, false,
                           strf("%s stays: the domain takes no display controller", fb->device));
        if (c->p->framebuffer == CHOICE_KEEP)
                return add(c, STEP_UNBIND_FRAMEBUFFER, fb->device, false,
                           strf("%s stays: <framebuffer>keep</framebuffer>", fb->device));
        if (c->p->framebuffer == CHOICE_CHANGE) {
                c->fb_take[i] = true;
                return add(c, STEP_UNBIND_FRAMEBUFFER, fb->device, true,
                           strf("%s unbinds: <framebuffer>unbind</framebuffer>", fb->device));
        }

        _cleanup_free_ char *how = framebuffer_place(c, fb, owner);
        if (!how)
                return -ENOMEM;
        if (!how[0]) {
                c->fb_take[i] = true;
                return add(c, STEP_UNBIND_FRAMEBUFFER, fb->device, true,
                           strf("%s unbinds: nothing tells which card it sits on (no boot_vga, nothing in "
                                "/proc/iomem): taken to be the domain's, as on a single-GPU host",
                                fb->device));
        }
        if (!owner[0])
                return add(c, STEP_UNBIND_FRAMEBUFFER, fb->device, false,
                           strf("%s stays: it sits on no device the domain takes (%s)", fb->device, how));
        c->fb_take[i] = taken_name(c, owner);
        return add(c, STEP_UNBIND_FRAMEBUFFER, fb->device, c->fb_take[i],
                   strf("%s %s: it sits on %s, %s, %s", fb->device, c->fb_take[i] ? "unbinds" : "stays", owner, how,
                        fate(c, owner)));
}

/* ---- the console -------------------------------------------------------------------------- */

/* "fb0 (i915drmfb) of 0000:00:02.0, which stays with the host"; sets *ret_taken. */
static char *fb_phrase(const Ctx *c, const GraphicsFb *g, bool *ret_taken) {
        const HostFacts *f = c->f;

        *ret_taken = false;
        if (!g->device)
                return strf("fb%u (%s), which belongs to no device", g->index, g->name);
        for (size_t i = 0; i < f->n_framebuffers; i++)
                if (streq(f->framebuffers[i].device, g->device)) {
                        *ret_taken = c->fb_take[i];
                        return strf("fb%u (%s) of %s, which %s", g->index, g->name, g->device,
                                    c->fb_take[i] ? "prepare unbinds" : "stays with the host");
                }
        *ret_taken = taken_name(c, g->device);
        return strf("fb%u (%s) of %s, %s", g->index, g->name, g->device, fate(c, g->device));
}

static const GraphicsFb *fb_find(const HostFacts *f, unsigned index) {
        for (size_t i = 0; i < f->n_fbs; i++)
                if (f->fbs[i].index == index)
                        return &f->fbs[i];
        return NULL;
}

/* What fbcon draws on: the frame buffers of its map that exist; when none
 * does, the first one there is (fbcon moves its consoles to it). */
static int console_place(Ctx *c) {
        const HostFacts *f = c->f;
        _cleanup_strv_free_ char **phrases = NULL, **where = NULL;

        if (f->n_fbs == 0) {
                /* No frame buffer: a text console is the boot VGA's, if any. */
                for (size_t i = 0; i < f->n_displays; i++)
                        if (f->displays[i]->boot_vga == 1) {
                                const char *vga = f->displays[i]->name;
                                c->console_taken = taken_name(c, vga);
                                c->console_says = strf("no frame buffer in /sys/class/graphics: the console is the "
                                                       "boot VGA's, %s, %s",
                                                       vga, fate(c, vga));
                                return c->console_says ? 0 : -ENOMEM;
                        }
                c->console_taken = true;
                c->console_says = strdup("nothing tells which card draws the console (no frame buffer in "
                                         "/sys/class/graphics, no boot VGA): taken to be the domain's, as on a "
                                         "single-GPU host");
                return c->console_says ? 0 : -ENOMEM;
        }
        for (const char *m = f->fbcon_map; m && *m; m++) {
                const GraphicsFb *g = fb_find(f, (unsigned) (*m - '0'));
                bool t;
                if (!g)
                        continue;
                _cleanup_free_ char *ph = fb_phrase(c, g, &t), *w = strf("fb%u (%s)", g->index, g->name);
                if (!ph || !w || strv_extend(&phrases, ph) < 0 || strv_extend(&where, w) < 0)
                        return -ENOMEM;
                c->console_taken = c->console_taken || t;
        }
        if (!phrases) {
                bool t;
                _cleanup_free_ char *ph = fb_phrase(c, &f->fbs[0], &t),
                                    *w = strf("fb%u (%s)", f->fbs[0].index, f->fbs[0].name);
                if (!ph || !w || strv_extend(&phrases, ph) < 0 || strv_extend(&where, w) < 0)
                        return -ENOMEM;
                c->console_taken = t;
        }
        _cleanup_free_ char *all = join(phrases, " and ");
        if (!all)
                return -ENOMEM;
        c->console_says = strf("fbcon draws on %s", all);
        c->out->console = join(where, " and ");
        return c->console_says && c->out->console ? 0 : -ENOMEM;
}

static int decide_vtconsole(Ctx *c, const VtConsole *v) {
        if (!c->f->has_display)
                return add(c, STEP_UNBIND_VTCONSOLE, v->id, false,
                           strf("%s stays: the domain takes no display controller", v->id));
        if (c->p->console != CHOICE_AUTO)
                return add(c, STEP_UNBIND_VTCONSOLE, v->id, c->p->console == CHOICE_CHANGE,
                           strf("%s %s: <console>%s</console>", v->id,
                                c->p->console == CHOICE_CHANGE ? "unbinds" : "stays",
                                choice_to_string(c->p->console, "unbind")));
        return add(c, STEP_UNBIND_VTCONSOLE, v->id, c->console_taken,
                   strf("%s %s: %s", v->id, c->console_taken ? "unbinds" : "stays", c->console_says));
}

/* ---- modules -------------------------------------------------------------------------------- */

static int strv_merge_unique(char ***l, char *const *add) {
        for (; add && *add; add++) {
                int r = strv_extend_unique(l, *add);
                if (r < 0)
                        return r;
        }
        return 0;
}

static ssize_t module_index(const HostFacts *f, const char *name) {
        for (size_t i = 0; i < f->n_modules; i++)
                if (streq(f->modules[i].name, name))
                        return (ssize_t) i;
        return -1;
}

/* For each module, what it serves: functions that stay with the host,
 * those another domain gives back to it (phrases), those that go. */
typedef struct Served {
        char **host;
        char **held;
        char **goes;
} Served;

static int module_own(const Ctx *c, const ModuleFact *m, Served *s) {
        const HostFacts *f = c->f;
        char a[PCI_ADDR_STRLEN];
        int r;

        for (size_t k = 0; k < m->n_bound; k++) {
                pci_addr_format(&m->bound[k], a);
                r = strv_extend_unique(taken(c, &m->bound[k]) ? &s->goes : &s->host, a);
                if (r < 0)
                        return r;
        }
        for (size_t k = 0; k < f->n_held; k++) {
                bool bound = false;
                for (size_t b = 0; b < m->n_bound && !bound; b++)
                        bound = pci_addr_equal(&m->bound[b], &f->held[k].addr);
                /* Bound already (libvirt gave it back before that domain's
                 * release ran): counted above. */
                if (bound || !strv_contains(m->drivers, f->held[k].driver) || taken(c, &f->held[k].addr))
                        continue;
                _cleanup_free_ char *ph = strf("%s, which domain %s holds and gives back to %s",
                                               pci_addr_format(&f->held[k].addr, a), f->held[k].domain,
                                               f->held[k].driver);
                r = ph ? strv_extend_unique(&s->held, ph) : -ENOMEM;
                if (r < 0)
                        return r;
        }
        return 0;
}

/* "0000:4e:00.0 and 0000:4f:00.0, which stay with the host, and 0000:4d:00.0, which domain a holds ..." */
static char *served_staying(const Served *s) {
        _cleanup_free_ char *host = s->host ? join(s->host, " and ") : strdup(""),
                            *held = s->held ? join(s->held, " and ") : strdup("");
        if (!host || !held)
                return NULL;
        return strf("%s%s%s%s", host, !host[0] ? "" : strv_length(s->host) == 1 ? ", which stays with the host" : ", which stay with the host",
                    host[0] && held[0] ? ", and " : "", held);
}

static int decide_modules(Ctx *c) {
        const HostFacts *f = c->f;
        size_t n = f->n_modules;
        Served *s = calloc(n + 1, sizeof *s);
        int r = 0;

        if (!s)
                return -ENOMEM;
        /* Holders come first in the order: walk it backwards so that a
         * module's bases are done before it, and it serves theirs too. */
        for (size_t i = n; r >= 0 && i > 0; i--) {
                const ModuleFact *m = &f->modules[i - 1];
                r = module_own(c, m, &s[i - 1]);
                for (size_t u = i; r >= 0 && u < n; u++)
                        if (strv_contains(f->modules[u].holders, m->name)) {
                                r = strv_merge_unique(&s[i - 1].host, s[u].host);
                                if (r >= 0)
                                        r = strv_merge_unique(&s[i - 1].held, s[u].held);
                                if (r >= 0)
                                        r = strv_merge_unique(&s[i - 1].goes, s[u].goes);
                        }
        }
        for (size_t i = 0; r >= 0 && i < n; i++) {
                const ModuleFact *m = &f->modules[i];
                const char *staying_holder = NULL;
                char *reason;

                for (char **h = m->holders; h && *h && !staying_holder; h++) {
                        ssize_t k = module_index(f, *h);
                        if (k >= 0 && !c->unload[k])
                                staying_holder = *h;
                }
                c->unload[i] = !s[i].host && !s[i].held && !staying_holder;
                if (s[i].host || s[i].held) {
                        _cleanup_free_ char *what = served_staying(&s[i]);
                        reason = what ? strf("%s stays: it still serves %s", m->name, what) : NULL;
                } else if (staying_holder)
                        reason = strf("%s stays: %s uses it and stays", m->name, staying_holder);
                else if (s[i].goes) {
                        _cleanup_free_ char *what = join(s[i].goes, " and ");
                        reason = what ? strf("%s unloads: every device it serves goes to the domain (%s)", m->name, what)
                                      : NULL;
                } else
                        reason = strf("%s unloads: no device is bound to it", m->name);
                r = add(c, STEP_UNLOAD_MODULE, m->name, c->unload[i], reason);
        }
        for (size_t i = 0; i < n; i++) {
                strv_free(s[i].host);
                strv_free(s[i].held);
                strv_free(s[i].goes);
        }
        free(s);
        return r;
}

static bool module_unloads(const Ctx *c, const char *name) {
        ssize_t i = module_index(c->f, name);
        return i >= 0 && c->unload[i];
}

/* ---- holders ---------------------------------------------------------------------------------- */

static int holder_paths(Ctx *c) {
        const HostFacts *f = c->f;
        Decisions *o = c->out;
        bool nvidia_all = module_unloads(c, "nvidia");
        int r;

        o->holder_paths = calloc(1, sizeof(char *));
        o->holder_prefixes = calloc(1, sizeof(char *));
        if (!o->holder_paths || !o->holder_prefixes)
                return -ENOMEM;
        r = strv_merge_unique(&o->holder_paths, f->device_nodes);
        if (r < 0)
                return r;
        if (module_unloads(c, "amdgpu")) {
                r = strv_extend(&o->holder_paths, "/dev/kfd");
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < f->n_hostdevs && !nvidia_all; i++) {
                const PciDevice *dev = f->hostdevs[i];
                _cleanup_free_ char *node = NULL;

                if (!dev || !streq_ptr(dev->driver, "nvidia"))
                        continue;
                if (f->nvidia_minors && f->nvidia_minors[i] >= 0) {
                        node = strf("/dev/nvidia%d", f->nvidia_minors[i]);
                        r = node ? strv_extend_unique(&o->holder_paths, node) : -ENOMEM;
                } else {
                        _cleanup_free_ char *note = strf(
                                "the NVIDIA driver does not say which /dev/nvidiaN is %s (no Device Minor in "
                                "/proc/driver/nvidia/gpus/%s/information): every /dev/nvidia* counts as its node",
                                dev->name, dev->name);
                        r = note ? strv_extend(&o->notes, note) : -ENOMEM;
                        nvidia_all = true;
                }
                if (r < 0)
                        return r;
        }
        /* The module's own nodes (nvidiactl, nvidia-uvm, ...) go with it. */
        if (nvidia_all && f->stack == STACK_NVIDIA) {
                r = strv_extend(&o->holder_prefixes, "/dev/nvidia");
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- units -------------------------------------------------------------------------------------- */

/* Why the display manager has to go, NULL when nothing says it must. */
static char *display_manager_must_stop(const Ctx *c) {
        const HostFacts *f = c->f;

        if (c->console_taken)
                return strf("the console goes with the domain's devices: %s", c->console_says);
        for (size_t i = 0; i < f->n_holders; i++) {
                const Holder *h = &f->holders[i];
                const char *whose;

                if (!decisions_holder_counts(c->out, h->path))
                        continue;
                if (!h->cgroup)
                        whose = "its cgroup is unknown, so it may be the desktop's";
                else if (f->display_manager_unit && cgroup_in_unit(h->cgroup, f->display_manager_unit))
                        whose = "it runs in the display manager";
                else if (cgroup_in_user_session(h->cgroup))
                        whose = "it runs in a user session, which ends with the display manager";
                else
                        continue;
                _cleanup_free_ char *who = holder_describe(h);
                return who ? strf("%s holds %s; %s", who, h->path, whose) : NULL;
        }
        return strdup("");
}

static int decide_display_manager(Ctx *c, const UnitFact *u) {
        const char *name = u->name;

        if (c->p->display_manager != CHOICE_AUTO)
                return add(c, STEP_STOP_UNIT, name, c->p->display_manager == CHOICE_CHANGE,
                           strf("%s %s: <display-manager>%s</display-manager>", name,
                                c->p->display_manager == CHOICE_CHANGE ? "stops" : "stays",
                                choice_to_string(c->p->display_manager, "stop")));
        _cleanup_free_ char *why = display_manager_must_stop(c);
        if (!why)
                return -ENOMEM;
        if (why[0])
                return add(c, STEP_STOP_UNIT, name, true, strf("%s stops: %s", name, why));
        return add(c, STEP_STOP_UNIT, name, false,
                   strf("%s stays: no process of it or of a user session holds a node of %s, and %s", name,
                        c->devices, c->console_says));
}

static int decide_unit(Ctx *c, const UnitFact *u) {
        bool dm = streq(u->name, DISPLAY_MANAGER_UNIT);

        if (u->state == UNIT_ABSENT || u->state == UNIT_INACTIVE)
                return add(c, STEP_STOP_UNIT, u->name, false,
                           strf("%s stays: %s", u->name, u->state == UNIT_ABSENT ? "not installed" : "not running"));
        if (strv_contains(c->p->services, u->name))
                return add(c, STEP_STOP_UNIT, u->name, true, strf("%s stops: <service>%s</service>", u->name, u->name));
        if (dm)
                return decide_display_manager(c, u);
        return add(c, STEP_STOP_UNIT, u->name, true,
                   strf("%s stops: it comes with the %s stack and holds its devices' nodes", u->name,
                        stack_to_string(c->f->stack)));
}

/* ---- devices ------------------------------------------------------------------------------------ */

static int decide_device(Ctx *c, const PciDevice *dev) {
        const HostFacts *f = c->f;
        const char *module = NULL;

        for (size_t i = 0; dev->driver && i < f->n_modules && !module; i++)
                if (!c->unload[i] && strv_contains(f->modules[i].drivers, dev->driver))
                        module = f->modules[i].name;
        if (module && streq(module, dev->driver))
                return add(c, STEP_DETACH_DEVICE, dev->name, true,
                           strf("%s goes to vfio-pci: a <hostdev> of the domain; the detach unbinds it from %s, "
                                "which stays loaded",
                                dev->name, dev->driver));
        if (module)
                return add(c, STEP_DETACH_DEVICE, dev->name, true,
                           strf("%s goes to vfio-pci: a <hostdev> of the domain; the detach unbinds it from %s, "
                                "whose module %s stays loaded",
                                dev->name, dev->driver, module));
        return add(c, STEP_DETACH_DEVICE, dev->name, true, strf("%s goes to vfio-pci: a <hostdev> of the domain", dev->name));
}

/* ---- all ------------------------------------------------------------------------------------------ */

static int taken_list(Ctx *c) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        char a[PCI_ADDR_STRLEN];

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < c->d->n_hostdevs; i++)
                if (strv_extend_unique(&l, pci_addr_format(&c->d->hostdevs[i].addr, a)) < 0)
                        return -ENOMEM;
        c->devices = l[0] ? join(l, " or ") : strdup("the domain's devices");
        return c->devices ? 0 : -ENOMEM;
}

int decide(const Domain *d, const Policy *p, const HostFacts *f, Decisions *ret) {
        _cleanup_(decisions_done) Decisions out = {};
        Ctx c = { .d = d, .p = p, .f = f, .out = &out };
        int r;

        c.fb_take = calloc(f->n_framebuffers + 1, sizeof(bool));
        c.unload = calloc(f->n_modules + 1, sizeof(bool));
        out.notes = calloc(1, sizeof(char *));
        if (!c.fb_take || !c.unload || !out.notes) {
                r = -ENOMEM;
                goto finish;
        }
        r = taken_list(&c);
        /* What each later rule leans on: framebuffers before the console,
         * modules before the holders that count, both before the units. */
        for (size_t i = 0; r >= 0 && i < f->n_framebuffers; i++)
                if (f->framebuffers[i].driver)
                        r = decide_framebuffer(&c, i);
        if (r >= 0)
                r = console_place(&c);
        for (size_t i = 0; r >= 0 && i < f->n_vtconsoles; i++)
                if (vtconsole_is_fbcon(&f->vtconsoles[i]) && f->vtconsoles[i].bind == 1)
                        r = decide_vtconsole(&c, &f->vtconsoles[i]);
        if (r >= 0)
                r = decide_modules(&c);
        if (r >= 0)
                r = holder_paths(&c);
        for (size_t i = 0; r >= 0 && i < f->n_units; i++)
                r = decide_unit(&c, &f->units[i]);
        for (size_t i = 0; r >= 0 && i < d->n_hostdevs; i++) {
                const PciDevice *dev = i < f->n_hostdevs ? f->hostdevs[i] : NULL;
                if (dev && !dev->is_bridge && !streq_ptr(dev->driver, "vfio-pci"))
                        r = decide_device(&c, dev);
        }
        if (r < 0)
                goto finish;

        /* In the order of prepare's steps. */
        for (size_t i = 1; i < out.n; i++)
                for (size_t k = i; k > 0 && out.list[k - 1].kind > out.list[k].kind; k--) {
                        Decision t = out.list[k - 1];
                        out.list[k - 1] = out.list[k];
                        out.list[k] = t;
                }
        *ret = out;
        out = (Decisions) {};
finish:
        free(c.devices);
        free(c.fb_take);
        free(c.console_says);
        free(c.unload);
        return r;
}
