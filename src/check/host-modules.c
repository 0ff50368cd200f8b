/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "check/host.h"
#include "host/modules.h"
#include "model/policy.h"
#include "shared/util.h"

/* The VFIO modules: loaded, built in, or installed for the running kernel
 * (lib/modules/RELEASE/modules.dep). */

#define MODULES_DEP_MAX (32U * 1024U * 1024U)

/* Finds the module file of NAME in lib/modules/RELEASE/modules.dep:
 * 1 with its path, 0 when not listed; -ENOENT without modules.dep. */
static int modules_dep_find(Sysroot *sr, const char *release, const char *name, char **ret_path) {
        _cleanup_free_ char *text = NULL, *path = NULL;
        char *save = NULL;
        int r;

        if (asprintf(&path, "lib/modules/%s/modules.dep", release) < 0)
                return -ENOMEM;
        r = sysroot_read_file(sr, path, MODULES_DEP_MAX, &text);
        if (r < 0)
                return r;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *colon = strchr(line, ':');
                if (!colon)
                        continue;
                *colon = 0;
                const char *base = strrchr(line, '/');
                base = base ? base + 1 : line;
                _cleanup_free_ char *m = strdup(base);
                if (!m)
                        return -ENOMEM;
                char *ko = strstr(m, ".ko");
                if (!ko || !(ko[3] == 0 || streq(ko + 3, ".xz") || streq(ko + 3, ".zst") || streq(ko + 3, ".gz")))
                        continue;
                *ko = 0;
                module_name_normalize(m);
                if (streq(m, name)) {
                        *ret_path = strdup(line);
                        return *ret_path ? 1 : -ENOMEM;
                }
        }
        return 0;
}

static int check_module(CheckHost *h, const char *name, const char *id, const char *config, CheckReport *r) {
        _cleanup_(module_info_done) ModuleInfo m = { .refcnt = -1 };
        _cleanup_free_ char *release = NULL, *file = NULL;
        char qb[VALUE_QUOTE_BUFSZ];
        int k;

        k = module_info_read(h->sr, name, &m);
        if (k == -ENOMEM)
                return k;
        if (k >= 0 && m.state == MODULE_LOADED)
                return check_report_pass(r, id, "%s is loaded", name);
        if (k >= 0 && m.state == MODULE_BUILTIN)
                return check_report_pass(r, id, "%s is built into the kernel", name);

        k = sysroot_read_line(h->sr, "proc/sys/kernel/osrelease", &release);
        if (k == -ENOMEM)
                return k;
        if (k < 0 || !filename_is_safe(release, 128))
                return check_report_add(r, CHECK_WARN, id,
                                        strf("%s is not loaded, and the kernel release is unknown (no "
                                             "/proc/sys/kernel/osrelease): cannot tell whether it is installed",
                                             name),
                                        strf("check with `modinfo %s`", name));

        k = modules_dep_find(h->sr, release, name, &file);
        if (k == -ENOMEM)
                return k;
        if (k > 0)
                return check_report_pass(
                        r, id,
                        "%s is not loaded; it is installed (lib/modules/%s/%s) and is loaded when a device "
                        "is detached",
                        name, release, value_quote(file, qb));
        if (k == 0)
                return check_report_add(
                        r, CHECK_FAIL, id,
                        strf("%s is not loaded, not built in, and not among the modules of kernel %s", name, release),
                        strf("install the modules package of kernel %s, or use a kernel built with %s", release,
                             config));
        if (sysroot_existsf(h->sr, "lib/modules/%s", release) > 0)
                return check_report_add(
                        r, CHECK_WARN, id,
                        strf("%s is not loaded, and lib/modules/%s has no modules.dep: cannot tell whether it "
                             "is installed",
                             name, release),
                        strf("run `depmod %s`, then check again", release));
        return check_report_add(
                r, CHECK_FAIL, id,
                strf("%s is not loaded, not built in, and kernel %s has no /lib/modules/%s: it cannot be "
                     "loaded",
                     name, release, release),
                strf("install the modules of kernel %s, or use a kernel built with %s", release, config));
}

int check_host_modules(CheckHost *h, CheckReport *r) {
        static const struct {
                const char *name, *id, *config;
        } modules[] = {
                { "vfio", "module-vfio", "CONFIG_VFIO" },
                { "vfio_pci", "module-vfio-pci", "CONFIG_VFIO_PCI" },
                { "vfio_iommu_type1", "module-vfio-iommu-type1", "CONFIG_VFIO_IOMMU_TYPE1" },
        };
        int k;

        for (size_t i = 0; i < ELEMENTSOF(modules); i++)
                if ((k = check_module(h, modules[i].name, modules[i].id, modules[i].config, r)) < 0)
                        return k;
        return 0;
}
