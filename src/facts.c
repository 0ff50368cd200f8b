/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "facts.h"
#include "util.h"

/* Gathers, changing nothing, what a plan needs. A domain without a policy
 * is gathered with the defaults of an empty <vh:policy/>, so that `check`
 * and `plan` can show what a policy would do for it. */

void host_facts_done(HostFacts *f) {
        if (!f)
                return;
        for (size_t i = 0; i < f->n_hostdevs; i++)
                pci_device_free(f->hostdevs[i]);
        free(f->hostdevs);
        for (size_t i = 0; i < f->n_others; i++)
                pci_device_free(f->others[i]);
        free(f->others);
        vtconsoles_free(f->vtconsoles, f->n_vtconsoles);
        framebuffers_free(f->framebuffers, f->n_framebuffers);
        strv_free(f->stack_roots);
        strv_free(f->unload_order);
        strv_free(f->builtin_modules);
        holders_free(f->holders, f->n_holders);
        for (size_t i = 0; i < f->n_units; i++)
                free(f->units[i].name);
        free(f->units);
        *f = (HostFacts) {};
}

/* Drivers of the built-in stacks. Anything else bound to a display device
 * is unloaded through its own module (bochs-drm -> bochs). */
static Stack stack_from_driver(const char *driver) {
        static const struct {
                const char *driver;
                Stack stack;
        } map[] = {
                { "nvidia", STACK_NVIDIA },   { "amdgpu", STACK_AMDGPU },   { "i915", STACK_I915 },
                { "xe", STACK_XE },           { "nouveau", STACK_NOUVEAU }, { "radeon", STACK_RADEON },
        };
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(driver, map[i].driver))
                        return map[i].stack;
        return STACK_AUTO;
}

/* Drivers that already hand the device to a VM: never a stack to unload. */
static bool driver_is_passthrough(const char *driver) {
        return streq(driver, "vfio-pci") || streq(driver, "pci-stub");
}

static int strv_extend_constv_unique(char ***l, const char *const *add) {
        for (; add && *add; add++) {
                int r = strv_extend_unique(l, *add);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int gather_hostdevs(Sysroot *sr, const Domain *d, HostFacts *f) {
        f->hostdevs = calloc(d->n_hostdevs + 1, sizeof(PciDevice *));
        if (!f->hostdevs)
                return -ENOMEM;
        for (size_t i = 0; i < d->n_hostdevs; i++) {
                /* An absent device stays NULL: the plan reports it. */
                int r = pci_device_read(sr, &d->hostdevs[i].addr, &f->hostdevs[i]);
                if (r < 0 && r != -ENOENT)
                        return r;
                f->n_hostdevs = i + 1;
                if (f->hostdevs[i] && pci_device_is_display(f->hostdevs[i]))
                        f->has_display = true;
        }
        return 0;
}

static bool addr_is_hostdev(const Domain *d, const PciAddr *a) {
        for (size_t i = 0; i < d->n_hostdevs; i++)
                if (pci_addr_equal(&d->hostdevs[i].addr, a))
                        return true;
        return false;
}

static bool addr_is_other(const HostFacts *f, const PciAddr *a) {
        for (size_t i = 0; i < f->n_others; i++)
                if (pci_addr_equal(&f->others[i]->addr, a))
                        return true;
        return false;
}

static bool group_seen(const HostFacts *f, size_t upto, int group) {
        for (size_t i = 0; i < upto; i++)
                if (f->hostdevs[i] && f->hostdevs[i]->iommu_group == group)
                        return true;
        return false;
}

static int gather_others(Sysroot *sr, const Domain *d, HostFacts *f) {
        for (size_t i = 0; i < f->n_hostdevs; i++) {
                _cleanup_free_ PciAddr *members = NULL;
                size_t n = 0;
                int r;

                if (!f->hostdevs[i] || f->hostdevs[i]->iommu_group < 0)
                        continue;
                if (group_seen(f, i, f->hostdevs[i]->iommu_group))
                        continue;

                r = pci_iommu_group_members(sr, f->hostdevs[i]->iommu_group, &members, &n);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;

                for (size_t j = 0; j < n; j++) {
                        _cleanup_pci_device_ PciDevice *dev = NULL;

                        if (addr_is_hostdev(d, &members[j]) || addr_is_other(f, &members[j]))
                                continue;
                        r = pci_device_read(sr, &members[j], &dev);
                        if (r == -ENOENT) /* removed meanwhile */
                                continue;
                        if (r < 0)
                                return r;
                        PciDevice **nl = realloc(f->others, (f->n_others + 1) * sizeof *nl);
                        if (!nl)
                                return -ENOMEM;
                        f->others = nl;
                        f->others[f->n_others++] = TAKE_PTR(dev);
                }
        }
        return 0;
}

static int resolve_stack(const Policy *p, HostFacts *f) {
        int r;

        f->stack = p->stack;
        f->stack_roots = calloc(1, sizeof(char *));
        if (!f->stack_roots)
                return -ENOMEM;

        if (p->stack == STACK_AUTO) {
                bool named = false;

                for (size_t i = 0; i < f->n_hostdevs; i++) {
                        const PciDevice *dev = f->hostdevs[i];

                        if (!dev || !pci_device_is_display(dev) || !dev->driver ||
                            driver_is_passthrough(dev->driver))
                                continue;

                        Stack s = stack_from_driver(dev->driver);
                        if (s != STACK_AUTO) {
                                if (!named)
                                        f->stack = s;
                                named = true;
                                r = strv_extend_constv_unique(&f->stack_roots, stack_modules(s));
                        } else if (dev->driver_module)
                                r = strv_extend_unique(&f->stack_roots, dev->driver_module);
                        else if (module_name_valid(dev->driver)) {
                                /* Built in: its name may still be listed as a built-in
                                 * module, which is then reported. */
                                _cleanup_free_ char *m = strdup(dev->driver);
                                if (!m)
                                        return -ENOMEM;
                                module_name_normalize(m);
                                r = strv_extend_unique(&f->stack_roots, m);
                        } else
                                r = 0;
                        if (r < 0)
                                return r;
                }
        } else if (p->stack != STACK_NONE) {
                r = strv_extend_constv_unique(&f->stack_roots, stack_modules(p->stack));
                if (r < 0)
                        return r;
        }

        /* <module> is explicit: it applies with every stack, "none" included. */
        for (char **m = p->modules; m && *m; m++) {
                r = strv_extend_unique(&f->stack_roots, *m);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int gather_holders(Sysroot *sr, HostFacts *f) {
        _cleanup_strv_free_ char **paths = calloc(1, sizeof(char *));
        int r;

        if (!paths)
                return -ENOMEM;
        for (size_t i = 0; i < f->n_hostdevs; i++) {
                _cleanup_strv_free_ char **nodes = NULL;

                if (!f->hostdevs[i])
                        continue;
                r = pci_device_drm_nodes(sr, &f->hostdevs[i]->addr, &nodes);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                for (char **n = nodes; *n; n++) {
                        _cleanup_free_ char *path = NULL;
                        if (asprintf(&path, "/dev/dri/%s", *n) < 0)
                                return -ENOMEM;
                        r = strv_extend_unique(&paths, path);
                        if (r < 0)
                                return r;
                }
        }

        return holders_find(sr, paths, f->stack == STACK_NVIDIA, &f->holders, &f->n_holders);
}

static int unit_add(HostFacts *f, const char *name, UnitStateFn fn, void *userdata) {
        UnitState state = UNIT_ABSENT;
        int r;

        for (size_t i = 0; i < f->n_units; i++)
                if (streq(f->units[i].name, name))
                        return 0;
        if (fn) {
                r = fn(name, &state, userdata);
                if (r < 0)
                        return r;
        }
        UnitFact *nl = realloc(f->units, (f->n_units + 1) * sizeof *nl);
        if (!nl)
                return -ENOMEM;
        f->units = nl;
        f->units[f->n_units].name = strdup(name);
        if (!f->units[f->n_units].name)
                return -ENOMEM;
        f->units[f->n_units++].state = state;
        return 0;
}

static int gather_units(const Policy *p, HostFacts *f, UnitStateFn fn, void *userdata) {
        int r;

        if (p->stop_display_manager && f->has_display) {
                r = unit_add(f, DISPLAY_MANAGER_UNIT, fn, userdata);
                if (r < 0)
                        return r;
        }
        for (char **s = p->services; s && *s; s++) {
                r = unit_add(f, *s, fn, userdata);
                if (r < 0)
                        return r;
        }
        /* Services that hold the stack's devices (nvidia-persistenced) go
         * with it, listed or not. */
        if (f->stack != STACK_NONE)
                for (const char *const *s = stack_services(f->stack); s && *s; s++) {
                        r = unit_add(f, *s, fn, userdata);
                        if (r < 0)
                                return r;
                }
        return 0;
}

int host_facts_gather(Sysroot *sr, const Domain *d, UnitStateFn unit_state, void *userdata, HostFacts *ret) {
        _cleanup_(host_facts_done) HostFacts f = {};
        _cleanup_(policy_done) Policy defaults = {};
        const Policy *p = d->policy;
        int r;

        if (!p) {
                policy_init(&defaults);
                p = &defaults;
        }

        r = gather_hostdevs(sr, d, &f);
        if (r < 0)
                return r;
        r = gather_others(sr, d, &f);
        if (r < 0)
                return r;

        r = pci_iommu_group_count(sr);
        if (r < 0)
                return r;
        f.n_iommu_groups = r;

        r = vtconsoles_read(sr, &f.vtconsoles, &f.n_vtconsoles);
        if (r < 0)
                return r;
        r = framebuffers_read(sr, &f.framebuffers, &f.n_framebuffers);
        if (r < 0)
                return r;

        r = resolve_stack(p, &f);
        if (r < 0)
                return r;
        r = modules_unload_order(sr, f.stack_roots, &f.unload_order, &f.builtin_modules);
        if (r < 0)
                return r;

        r = gather_holders(sr, &f);
        if (r < 0)
                return r;
        r = gather_units(p, &f, unit_state, userdata);
        if (r < 0)
                return r;

        *ret = f;
        f = (HostFacts) {};
        return 0;
}

int unit_state_from_tree(const char *unit, UnitState *ret, void *userdata) {
        static const char *const dirs[] = {
                "etc/systemd/system",
                "run/systemd/system",
                "lib/systemd/system",
                "usr/lib/systemd/system",
        };
        Sysroot *sr = userdata;

        if (!sr || !filename_is_safe(unit, 255))
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                int r = sysroot_existsf(sr, "%s/%s", dirs[i], unit);
                if (r < 0)
                        return r;
                if (r > 0) {
                        *ret = UNIT_ACTIVE;
                        return 0;
                }
        }
        *ret = UNIT_ABSENT;
        return 0;
}
