/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "host/console.h"
#include "host/facts.h"
#include "host/holders.h"
#include "host/lifetime.h"
#include "host/modules.h"
#include "host/pci.h"
#include "host/sriov.h"
#include "shared/util.h"

/* Gathers, changing nothing, what a plan needs. A domain without a policy
 * is gathered with the defaults of an empty <vh:policy/>, so that `check`
 * and `plan` can show what a policy would do for it. */

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

/* Every device node of the functions the domain takes, and which
 * /dev/nvidiaN is each NVIDIA GPU's. */
static int gather_device_nodes(Sysroot *sr, HostFacts *f) {
        int r;

        f->device_nodes = calloc(1, sizeof(char *));
        f->nvidia_minors = calloc(f->n_hostdevs + 1, sizeof(int));
        if (!f->device_nodes || !f->nvidia_minors)
                return -ENOMEM;
        for (size_t i = 0; i < f->n_hostdevs; i++) {
                _cleanup_free_ char *info = NULL, *path = NULL;
                const PciDevice *dev = f->hostdevs[i];

                f->nvidia_minors[i] = -1;
                if (!dev)
                        continue;
                r = pci_device_add_dev_nodes(sr, &dev->addr, &f->device_nodes);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;

                if (!streq_ptr(dev->driver, "nvidia"))
                        continue;
                /* "Device Minor: 0": the N of /dev/nvidiaN. */
                if (asprintf(&path, "proc/driver/nvidia/gpus/%s/information", dev->name) < 0)
                        return -ENOMEM;
                r = sysroot_read_file(sr, path, 64 * 1024, &info);
                if (r == -ENOENT || r == -EACCES)
                        continue;
                if (r < 0)
                        return r;
                for (char *save = NULL, *l = strtok_r(info, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                        unsigned minor;
                        if (!startswith(l, "Device Minor:"))
                                continue;
                        l += strlen("Device Minor:");
                        l += strspn(l, " \t");
                        if (parse_uint(strstrip_trailing(l), &minor) >= 0 && minor < 256)
                                f->nvidia_minors[i] = (int) minor;
                }
        }
        return 0;
}

/* Holders of anything a decision could make matter: the domain's nodes,
 * /dev/kfd (amdgpu's, when it may go) and, for the nvidia stack, every
 * /dev/nvidia* (the module's own nodes and each GPU's). The plan picks the
 * ones that count (decide.h). */
static int gather_holders(Sysroot *sr, HostFacts *f) {
        _cleanup_strv_free_ char **paths = NULL;
        char *nvidia[] = { (char *) "/dev/nvidia", NULL };
        int r;

        paths = calloc(1, sizeof(char *));
        if (!paths)
                return -ENOMEM;
        for (char **n = f->device_nodes; n && *n; n++) {
                r = strv_extend(&paths, *n);
                if (r < 0)
                        return r;
        }
        if (strv_contains(f->unload_order, "amdgpu")) {
                r = strv_extend(&paths, "/dev/kfd");
                if (r < 0)
                        return r;
        }
        return holders_find(sr, paths, f->stack == STACK_NVIDIA ? nvidia : NULL, &f->holders, &f->n_holders);
}

/* Each module the stack may unload, with its holders, PCI drivers and the
 * functions bound to them. */
static int gather_modules(Sysroot *sr, HostFacts *f) {
        size_t n = strv_length(f->unload_order);
        int r;

        f->modules = calloc(n + 1, sizeof(ModuleFact));
        if (!f->modules)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                _cleanup_(module_info_done) ModuleInfo mi = { .refcnt = -1 };
                _cleanup_strv_free_ char **entries = NULL;
                ModuleFact *m = &f->modules[i];

                f->n_modules = i + 1;
                m->name = strdup(f->unload_order[i]);
                m->drivers = calloc(1, sizeof(char *));
                if (!m->name || !m->drivers)
                        return -ENOMEM;
                r = module_info_read(sr, m->name, &mi);
                if (r < 0)
                        return r;
                m->holders = TAKE_PTR(mi.holders);

                r = sysroot_list_dirf(sr, &entries, "sys/module/%s/drivers", m->name);
                if (r < 0 && r != -ENOENT)
                        return r;
                for (char **e = entries; e && *e; e++) {
                        _cleanup_free_ PciAddr *bound = NULL;
                        size_t nb = 0;
                        const char *driver = *e + strlen("pci:");

                        if (!startswith(*e, "pci:"))
                                continue;
                        r = pci_driver_devices(sr, driver, &bound, &nb);
                        if (r == -EINVAL)
                                continue; /* not a name we would use in a path */
                        if (r < 0)
                                return r;
                        r = strv_extend_unique(&m->drivers, driver);
                        if (r < 0)
                                return r;
                        PciAddr *nl = realloc(m->bound, (m->n_bound + nb + 1) * sizeof *nl);
                        if (!nl)
                                return -ENOMEM;
                        m->bound = nl;
                        memcpy(m->bound + m->n_bound, bound, nb * sizeof *nl);
                        m->n_bound += nb;
                }
        }
        return 0;
}

/* What display-manager.service is: the unit its link names (gdm.service),
 * or itself when it is a unit file of its own. */
static int gather_display_manager(Sysroot *sr, HostFacts *f) {
        for (size_t i = 0; i < n_unit_dirs; i++) {
                _cleanup_free_ char *target = NULL;
                if (!unit_dirs[i].in_tree)
                        continue;
                int r = sysroot_link_basenamef(sr, &target, "%s/" DISPLAY_MANAGER_UNIT, unit_dirs[i].path);
                if (r == -ENOENT)
                        continue;
                if (r == -EINVAL) /* a file, not a link */
                        f->display_manager_unit = strdup(DISPLAY_MANAGER_UNIT);
                else if (r < 0)
                        return r;
                else if (unit_name_valid(target))
                        f->display_manager_unit = TAKE_PTR(target);
                else
                        continue;
                return f->display_manager_unit ? 0 : -ENOMEM;
        }
        return 0;
}

/* Who drives what on screen: the display devices, the frame buffers and
 * fbcon's map, and where the firmware framebuffer's memory lies. */
static int gather_screen(Sysroot *sr, HostFacts *f) {
        _cleanup_free_ char *cmdline = NULL, *iomem = NULL;
        _cleanup_strv_free_ char **words = NULL;
        int r;

        r = pci_display_devices(sr, &f->displays, &f->n_displays);
        if (r < 0)
                return r;
        r = graphics_fbs_read(sr, &f->fbs, &f->n_fbs);
        if (r < 0)
                return r;

        r = sysroot_read_file(sr, "proc/cmdline", 64 * 1024, &cmdline);
        if (r < 0 && r != -ENOENT)
                return r;
        r = cmdline_split(cmdline ? cmdline : "", &words);
        if (r < 0)
                return r;
        r = fbcon_map_from_cmdline(words, &f->fbcon_map);
        if (r < 0)
                return r;

        /* Without root the addresses read as zeros, the nesting still tells. */
        r = sysroot_read_file(sr, "proc/iomem", 16 * 1024 * 1024, &iomem);
        if (r < 0 && r != -ENOENT && r != -EACCES)
                return r;
        if (!iomem || iomem_firmware_fb(iomem, &f->fw_fb_memory) == 0 || f->fw_fb_memory.owner[0])
                return 0;
        /* Not nested under a function: whose BAR holds it? */
        if (f->fw_fb_memory.end <= f->fw_fb_memory.start)
                return 0;
        for (size_t i = 0; i < f->n_displays; i++) {
                _cleanup_free_ PciRange *ranges = NULL;
                size_t n = 0;
                r = pci_device_mem_ranges(sr, &f->displays[i]->addr, &ranges, &n);
                if (r == -ENOENT || r == -EACCES)
                        continue;
                if (r < 0)
                        return r;
                for (size_t k = 0; k < n; k++)
                        if (ranges[k].start <= f->fw_fb_memory.start && f->fw_fb_memory.end <= ranges[k].end) {
                                memcpy(f->fw_fb_memory.owner, f->displays[i]->name, PCI_ADDR_STRLEN);
                                return 0;
                        }
        }
        return 0;
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

        if (f->has_display) {
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

        r = gather_modules(sr, &f);
        if (r < 0)
                return r;
        r = gather_device_nodes(sr, &f);
        if (r < 0)
                return r;
        r = gather_holders(sr, &f);
        if (r < 0)
                return r;
        r = gather_units(p, &f, unit_state, userdata);
        if (r < 0)
                return r;
        r = gather_display_manager(sr, &f);
        if (r < 0)
                return r;
        r = gather_screen(sr, &f);
        if (r < 0)
                return r;
        r = sriov_facts_gather(sr, p, &f.sriov, &f.n_sriov, &f.reset_methods, &f.n_reset_methods, &f.vendor_reset);
        if (r < 0)
                return r;
        r = lifetime_facts_gather(sr, d, &f.lifetime);
        if (r < 0)
                return r;

        *ret = f;
        f = (HostFacts) {};
        return 0;
}

const UnitDir unit_dirs[] = {
        { "etc/systemd/system", true },
        { "run/systemd/system", true },
        { "usr/lib/systemd/system", true },
        { "lib/systemd/system", true },
        { "run/systemd/transient", false },
        { "run/systemd/generator", false },
        { "run/systemd/generator.early", false },
        { "run/systemd/generator.late", false },
        { "usr/local/lib/systemd/system", false },
};
const size_t n_unit_dirs = ELEMENTSOF(unit_dirs);

int unit_state_from_tree(const char *unit, UnitState *ret, void *userdata) {
        Sysroot *sr = userdata;

        if (!sr || !filename_is_safe(unit, 255))
                return -EINVAL;
        for (size_t i = 0; i < n_unit_dirs; i++) {
                if (!unit_dirs[i].in_tree)
                        continue;
                int r = sysroot_existsf(sr, "%s/%s", unit_dirs[i].path, unit);
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
