/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The fake host's kernel model: skeleton, modules, PCI, SR-IOV, consoles
 * and framebuffers, processes, nodes and units, as the kernel lays them
 * out (tests/fakehost.h). Files and links through tests/fakefs.h; specs in
 * tests/fakespec.c, snapshots in tests/fakesnap.c. */
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "fakefs.h"
#include "fakehost.h"
#include "model/modules.h"
#include "shared/macro.h"
#include "shared/util.h"

/* ---- skeleton and kernel ------------------------------------------------------ */

int fakehost_init(const char *root) {
        static const char *const dirs[] = {
                "sys/devices/platform",
                "sys/devices/virtual/vtconsole",
                "sys/bus/pci/devices",
                "sys/bus/pci/drivers",
                "sys/bus/platform/devices",
                "sys/bus/platform/drivers",
                "sys/kernel/iommu_groups",
                "sys/class/vtconsole",
                "sys/class/drm",
                "sys/module",
                "proc/sys/kernel",
                "dev/dri",
                "etc/systemd/system",
        };
        int r = fs_mkdir_p(root);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                r = fs_mkdirf(root, "%s", dirs[i]);
                if (r < 0)
                        return r;
        }
        if (fs_existsf(root, "proc/modules") == 0) {
                r = fs_writef(root, "", "proc/modules");
                if (r < 0)
                        return r;
        }
        r = fs_writef(root, "", "sys/bus/pci/drivers_probe");
        if (r < 0)
                return r;
        return fs_writef(root, "", "sys/bus/pci/rescan");
}

int fakehost_set_kernel(const char *root, const char *release) {
        int r;
        if (!fs_name_ok(release))
                return -EINVAL;
        /* As the kernel shows it: one line. */
        _cleanup_free_ char *line = NULL;
        if (asprintf(&line, "%s\n", release) < 0)
                return -ENOMEM;
        r = fs_writef(root, line, "proc/sys/kernel/osrelease");
        if (r < 0)
                return r;
        if (fs_existsf(root, "lib/modules/%s/modules.builtin", release) == 0)
                return fs_writef(root, "", "lib/modules/%s/modules.builtin", release);
        return 0;
}

static int kernel_release(const char *root, char **ret) {
        _cleanup_free_ char *s = NULL;
        int r = fs_readf(root, &s, "proc/sys/kernel/osrelease");
        if (r < 0)
                return r;
        strstrip_trailing(s);
        if (!fs_name_ok(s))
                return -EINVAL;
        *ret = TAKE_PTR(s);
        return 0;
}

static bool builtin_listed(const char *root, const char *name) {
        _cleanup_free_ char *release = NULL, *text = NULL, *needle = NULL;
        if (kernel_release(root, &release) < 0)
                return false;
        if (fs_readf(root, &text, "lib/modules/%s/modules.builtin", release) < 0)
                return false;
        if (asprintf(&needle, "/%s.ko\n", name) < 0)
                return false;
        return strstr(text, needle);
}

int fakehost_builtin_add(const char *root, const char *name, const char *path, bool sysfs) {
        _cleanup_free_ char *release = NULL, *line = NULL, *file = NULL;
        int r;

        if (!fs_name_ok(name) || (path && (strstr(path, "\n") || !*path)))
                return -EINVAL;
        r = kernel_release(root, &release);
        if (r < 0)
                return r;
        if (path)
                r = asprintf(&line, "%s\n", path);
        else
                r = asprintf(&line, "kernel/drivers/misc/%s.ko\n", name);
        if (r < 0)
                return -ENOMEM;
        r = fs_pathf(&file, root, "lib/modules/%s/modules.builtin", release);
        if (r < 0)
                return r;
        r = fs_write_full(file, line, strlen(line), true);
        if (r < 0)
                return r;
        if (sysfs)
                return fs_mkdirf(root, "sys/module/%s/parameters", name);
        return 0;
}

/* ---- modules ------------------------------------------------------------------- */

bool fakehost_module_loaded(const char *root, const char *name) {
        return fs_existsf(root, "sys/module/%s/initstate", name) > 0;
}

static int module_refcnt(const char *root, const char *name, int *ret) {
        _cleanup_free_ char *s = NULL;
        unsigned v;
        int r = fs_readf(root, &s, "sys/module/%s/refcnt", name);
        if (r < 0)
                return r;
        strstrip_trailing(s);
        if (parse_uint(s, &v) < 0 || v > INT_MAX)
                return -EINVAL;
        *ret = (int) v;
        return 0;
}

static int module_write_refcnt(const char *root, const char *name, int refcnt) {
        char buf[32];
        snprintf(buf, sizeof buf, "%d\n", refcnt < 0 ? 0 : refcnt);
        return fs_writef(root, buf, "sys/module/%s/refcnt", name);
}

/* proc/modules follows sys/module: rewrite NAME's line from it (dropping it
 * when the module is not loaded). Lines are kept sorted by name, unlike the
 * kernel's newest-first, so that unloading and reloading a module gives the
 * same tree (and the same snapshot) as before. */
static int module_sync_proc(const char *root, const char *name) {
        _cleanup_free_ char *text = NULL, *line = NULL, *path = NULL, *out = NULL;
        _cleanup_strv_free_ char **holders = NULL, **lines = NULL;
        size_t nlen = strlen(name), len = 1;
        int r;

        r = fs_pathf(&path, root, "proc/modules");
        if (r < 0)
                return r;
        r = fs_read_full(path, &text, NULL);
        if (r == -ENOENT)
                return 0; /* a host without proc/modules stays so */
        if (r < 0)
                return r;

        lines = calloc(1, sizeof(char *));
        if (!lines)
                return -ENOMEM;
        char *save = NULL;
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                if (strncmp(l, name, nlen) == 0 && l[nlen] == ' ')
                        continue;
                r = strv_extend(&lines, l);
                if (r < 0)
                        return r;
        }

        if (fakehost_module_loaded(root, name)) {
                int refcnt = 0;
                r = module_refcnt(root, name, &refcnt);
                if (r < 0)
                        return r;
                r = fs_listf(root, &holders, "sys/module/%s/holders", name);
                if (r < 0)
                        return r;
                size_t ul = 2;
                for (char **h = holders; *h; h++)
                        ul += strlen(*h) + 1;
                _cleanup_free_ char *used = calloc(1, ul);
                if (!used)
                        return -ENOMEM;
                for (char **h = holders; *h; h++) {
                        strcat(used, *h);
                        strcat(used, ",");
                }
                if (!used[0])
                        strcpy(used, "-");
                if (asprintf(&line, "%s 16384 %d %s Live 0x0000000000000000", name, refcnt, used) < 0)
                        return -ENOMEM;
                r = strv_extend(&lines, line);
                if (r < 0)
                        return r;
        }
        strv_sort(lines);

        for (char **l = lines; *l; l++)
                len += strlen(*l) + 1;
        out = calloc(1, len);
        if (!out)
                return -ENOMEM;
        for (char **l = lines; *l; l++) {
                strcat(out, *l);
                strcat(out, "\n");
        }
        return fs_write_full(path, out, strlen(out), false);
}

bool fakehost_module_name_ok(const char *name) {
        return module_name_valid(name);
}

int fakehost_module_add(const char *root, const char *name, int refcnt, char *const *holders) {
        int r;

        if (!fakehost_module_name_ok(name))
                return -EINVAL;
        for (char *const *h = holders; h && *h; h++)
                if (!fakehost_module_name_ok(*h))
                        return -EINVAL;

        r = fs_writef(root, "live\n", "sys/module/%s/initstate", name);
        if (r < 0)
                return r;
        r = fs_writef(root, "16384\n", "sys/module/%s/coresize", name);
        if (r < 0)
                return r;
        r = module_write_refcnt(root, name, refcnt >= 0 ? refcnt : (int) strv_length(holders));
        if (r < 0)
                return r;
        r = fs_rm_rff(root, "sys/module/%s/holders", name);
        if (r < 0)
                return r;
        r = fs_mkdirf(root, "sys/module/%s/holders", name);
        if (r < 0)
                return r;
        for (char *const *h = holders; h && *h; h++) {
                _cleanup_free_ char *l = NULL, *t = NULL;
                if (asprintf(&l, "sys/module/%s/holders/%s", name, *h) < 0 || asprintf(&t, "sys/module/%s", *h) < 0)
                        return -ENOMEM;
                r = fs_make_link(root, l, t);
                if (r < 0)
                        return r;
        }
        return module_sync_proc(root, name);
}

int fakehost_module_set_refcnt(const char *root, const char *name, int refcnt) {
        if (!fakehost_module_name_ok(name) || refcnt < 0)
                return -EINVAL;
        if (!fakehost_module_loaded(root, name))
                return -ENOENT;
        int r = module_write_refcnt(root, name, refcnt);
        if (r < 0)
                return r;
        return module_sync_proc(root, name);
}

int fakehost_module_load(const char *root, const char *name, char *const *uses) {
        int r;

        if (!fakehost_module_name_ok(name))
                return -EINVAL;
        if (fs_existsf(root, "sys/module/%s", name) > 0 || builtin_listed(root, name))
                return -EEXIST;
        for (char *const *u = uses; u && *u; u++) {
                if (!fakehost_module_name_ok(*u))
                        return -EINVAL;
                if (!fakehost_module_loaded(root, *u))
                        return -ENOENT;
        }

        r = fakehost_module_add(root, name, 0, NULL);
        if (r < 0)
                return r;
        for (char *const *u = uses; u && *u; u++) {
                _cleanup_free_ char *l = NULL, *t = NULL;
                int refcnt = 0;
                if (asprintf(&l, "sys/module/%s/holders/%s", *u, name) < 0 || asprintf(&t, "sys/module/%s", name) < 0)
                        return -ENOMEM;
                r = fs_make_link(root, l, t);
                if (r < 0)
                        return r;
                r = module_refcnt(root, *u, &refcnt);
                if (r < 0)
                        return r;
                r = module_write_refcnt(root, *u, refcnt + 1);
                if (r < 0)
                        return r;
                r = module_sync_proc(root, *u);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int driver_remove(const char *root, const char *bus, const char *driver);

/* Drivers of a bus whose module link names module. */
static int remove_module_drivers(const char *root, const char *bus, const char *module) {
        _cleanup_strv_free_ char **drivers = NULL;
        int r = fs_listf(root, &drivers, "sys/bus/%s/drivers", bus);
        if (r < 0)
                return r;
        for (char **d = drivers; *d; d++) {
                _cleanup_free_ char *m = NULL;
                if (fs_link_basenamef(root, &m, "sys/bus/%s/drivers/%s/module", bus, *d) < 0)
                        continue;
                if (!streq(m, module))
                        continue;
                r = driver_remove(root, bus, *d);
                if (r < 0)
                        return r;
        }
        return 0;
}

int fakehost_module_unload(const char *root, const char *name) {
        _cleanup_strv_free_ char **holders = NULL, **modules = NULL;
        int refcnt = 0, r;

        if (!fakehost_module_name_ok(name))
                return -EINVAL;
        if (!fakehost_module_loaded(root, name))
                return -ENOENT;
        r = fs_listf(root, &holders, "sys/module/%s/holders", name);
        if (r < 0)
                return r;
        r = module_refcnt(root, name, &refcnt);
        if (r < 0)
                return r;
        if (holders[0] || refcnt > 0)
                return -EAGAIN;

        /* It no longer holds what it used. */
        r = fs_listf(root, &modules, "sys/module");
        if (r < 0)
                return r;
        for (char **m = modules; *m; m++) {
                int c = 0;
                if (fs_existsf(root, "sys/module/%s/holders/%s", *m, name) <= 0)
                        continue;
                r = fs_unlinkf(root, "sys/module/%s/holders/%s", *m, name);
                if (r < 0)
                        return r;
                if (module_refcnt(root, *m, &c) >= 0) {
                        r = module_write_refcnt(root, *m, c - 1);
                        if (r < 0)
                                return r;
                }
                r = module_sync_proc(root, *m);
                if (r < 0)
                        return r;
        }

        r = remove_module_drivers(root, "pci", name);
        if (r < 0)
                return r;
        r = remove_module_drivers(root, "platform", name);
        if (r < 0)
                return r;
        r = fs_rm_rff(root, "sys/module/%s", name);
        if (r < 0)
                return r;
        return module_sync_proc(root, name);
}

/* ---- PCI ----------------------------------------------------------------------- */

static int pci_dir(const char *root, const char *addr, char **ret) {
        if (!fs_addr_ok(addr))
                return -EINVAL;
        int r = fs_resolvef(root, ret, "sys/bus/pci/devices/%s", addr);
        return r == -ENOLINK ? -ENOENT : r;
}

int fakehost_pci_add(const char *root, const FakePci *p) {
        _cleanup_free_ char *parent = NULL, *dir = NULL, *link = NULL;
        unsigned char config[64] = {};
        char buf[64];
        int r;

        if (!p || !fs_addr_ok(p->addr) || p->vendor > 0xffff || p->device > 0xffff || p->class > 0xffffff ||
            p->header_type > 0xff)
                return -EINVAL;
        if (fs_existsf(root, "sys/bus/pci/devices/%s", p->addr) > 0)
                return -EEXIST;

        if (p->parent) {
                r = pci_dir(root, p->parent, &parent);
                if (r < 0)
                        return r;
        } else if (asprintf(&parent, "sys/devices/pci%.7s", p->addr) < 0)
                return -ENOMEM;
        if (asprintf(&dir, "%s/%s", parent, p->addr) < 0)
                return -ENOMEM;
        r = fs_mkdirf(root, "%s", dir);
        if (r < 0)
                return r;

        static const char *const hex4[] = { "vendor", "device", "subsystem_vendor", "subsystem_device" };
        const unsigned hex4_values[] = { p->vendor, p->device, p->vendor, 0 };
        for (size_t i = 0; i < ELEMENTSOF(hex4); i++) {
                snprintf(buf, sizeof buf, "0x%04x\n", hex4_values[i]);
                r = fs_writef(root, buf, "%s/%s", dir, hex4[i]);
                if (r < 0)
                        return r;
        }
        snprintf(buf, sizeof buf, "0x%06x\n", p->class);
        r = fs_writef(root, buf, "%s/class", dir);
        if (r < 0)
                return r;
        r = fs_writef(root, "0xa1\n", "%s/revision", dir);
        if (r < 0)
                return r;
        r = fs_writef(root, "0\n", "%s/enable", dir);
        if (r < 0)
                return r;
        snprintf(buf, sizeof buf, "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X\n", p->vendor, p->device, p->vendor, 0U,
                 p->class >> 16, (p->class >> 8) & 0xffU, p->class & 0xffU);
        r = fs_writef(root, buf, "%s/modalias", dir);
        if (r < 0)
                return r;
        static const char *const empty[] = { "remove", "rescan", "reset", "uevent" };
        for (size_t i = 0; i < ELEMENTSOF(empty); i++) {
                r = fs_writef(root, "", "%s/%s", dir, empty[i]);
                if (r < 0)
                        return r;
        }
        r = fs_writef(root, "(null)\n", "%s/driver_override", dir);
        if (r < 0)
                return r;

        /* The first 64 bytes of config space, as non-root may read them. */
        int ht = p->header_type >= 0 ? p->header_type : (p->class >> 8) == 0x0604 ? 1 : 0;
        config[0] = (unsigned char) (p->vendor & 0xff);
        config[1] = (unsigned char) (p->vendor >> 8);
        config[2] = (unsigned char) (p->device & 0xff);
        config[3] = (unsigned char) (p->device >> 8);
        config[8] = 0xa1;
        config[9] = (unsigned char) (p->class & 0xff);
        config[10] = (unsigned char) ((p->class >> 8) & 0xff);
        config[11] = (unsigned char) (p->class >> 16);
        config[14] = (unsigned char) ht;
        _cleanup_free_ char *cpath = NULL;
        r = fs_pathf(&cpath, root, "%s/config", dir);
        if (r < 0)
                return r;
        r = fs_write_full(cpath, config, sizeof config, false);
        if (r < 0)
                return r;

        if (asprintf(&link, "%s/subsystem", dir) < 0)
                return -ENOMEM;
        r = fs_make_link(root, link, "sys/bus/pci");
        if (r < 0)
                return r;
        free(link);
        if (asprintf(&link, "sys/bus/pci/devices/%s", p->addr) < 0)
                return -ENOMEM;
        r = fs_make_link(root, link, dir);
        if (r < 0)
                return r;

        if (p->iommu_group >= 0) {
                _cleanup_free_ char *group = NULL, *glink = NULL, *dlink = NULL;
                if (asprintf(&group, "sys/kernel/iommu_groups/%d", p->iommu_group) < 0 ||
                    asprintf(&glink, "%s/devices/%s", group, p->addr) < 0 ||
                    asprintf(&dlink, "%s/iommu_group", dir) < 0)
                        return -ENOMEM;
                if (fs_existsf(root, "%s/type", group) == 0) {
                        r = fs_writef(root, "DMA\n", "%s/type", group);
                        if (r < 0)
                                return r;
                        r = fs_writef(root, "", "%s/reserved_regions", group);
                        if (r < 0)
                                return r;
                }
                r = fs_make_link(root, glink, dir);
                if (r < 0)
                        return r;
                r = fs_make_link(root, dlink, group);
                if (r < 0)
                        return r;
        }
        return 0;
}

int fakehost_pci_driver(const char *root, const char *addr, char **ret) {
        _cleanup_free_ char *dir = NULL;
        int r = pci_dir(root, addr, &dir);
        if (r < 0)
                return r;
        r = fs_link_basenamef(root, ret, "%s/driver", dir);
        if (r == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        return r;
}

/* Bind and unbind, for any bus: the device's driver link and the driver's
 * back-link. */
static int bus_bind(const char *root, const char *bus, const char *dev_dir, const char *name, const char *driver) {
        _cleanup_free_ char *drv = NULL, *l1 = NULL, *l2 = NULL;
        int r;

        if (!fs_name_ok(driver))
                return -EINVAL;
        if (asprintf(&drv, "sys/bus/%s/drivers/%s", bus, driver) < 0)
                return -ENOMEM;
        if (fs_existsf(root, "%s", drv) <= 0)
                return -ENOENT;
        if (fs_existsf(root, "%s/driver", dev_dir) > 0)
                return -EBUSY;
        if (asprintf(&l1, "%s/driver", dev_dir) < 0 || asprintf(&l2, "%s/%s", drv, name) < 0)
                return -ENOMEM;
        r = fs_make_link(root, l1, drv);
        if (r < 0)
                return r;
        return fs_make_link(root, l2, dev_dir);
}

static int bus_unbind(const char *root, const char *dev_dir, const char *name) {
        _cleanup_free_ char *drv = NULL;
        int r = fs_resolvef(root, &drv, "%s/driver", dev_dir);
        if (r == -ENOENT || r == -ENOLINK)
                return -ENODEV;
        if (r < 0)
                return r;
        r = fs_unlinkf(root, "%s/%s", drv, name);
        if (r < 0 && r != -ENOENT)
                return r;
        return fs_unlinkf(root, "%s/driver", dev_dir);
}

int fakehost_pci_bind(const char *root, const char *addr, const char *driver) {
        _cleanup_free_ char *dir = NULL;
        int r = pci_dir(root, addr, &dir);
        if (r < 0)
                return r;
        return bus_bind(root, "pci", dir, addr, driver);
}

int fakehost_pci_unbind(const char *root, const char *addr) {
        _cleanup_free_ char *dir = NULL;
        int r = pci_dir(root, addr, &dir);
        if (r < 0)
                return r;
        return bus_unbind(root, dir, addr);
}

int fakehost_pci_set_driver_override(const char *root, const char *addr, const char *driver) {
        _cleanup_free_ char *dir = NULL, *value = NULL;
        int r = pci_dir(root, addr, &dir);
        if (r < 0)
                return r;
        if (driver && !fs_name_ok(driver))
                return -EINVAL;
        if (asprintf(&value, "%s\n", driver ? driver : "(null)") < 0)
                return -ENOMEM;
        return fs_writef(root, value, "%s/driver_override", dir);
}

int fakehost_pci_driver_add(const char *root, const char *driver, const char *module) {
        _cleanup_free_ char *drv = NULL;
        int r;

        if (!fs_name_ok(driver) || (module && !fakehost_module_name_ok(module)))
                return -EINVAL;
        if (module && !fakehost_module_loaded(root, module))
                return -ENOENT;
        if (fs_existsf(root, "sys/bus/pci/drivers/%s", driver) > 0)
                return -EEXIST;
        if (asprintf(&drv, "sys/bus/pci/drivers/%s", driver) < 0)
                return -ENOMEM;
        static const char *const files[] = { "bind", "unbind", "new_id", "remove_id", "uevent" };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                r = fs_writef(root, "", "%s/%s", drv, files[i]);
                if (r < 0)
                        return r;
        }
        if (module) {
                _cleanup_free_ char *l = NULL, *t = NULL, *back = NULL;
                if (asprintf(&l, "%s/module", drv) < 0 || asprintf(&t, "sys/module/%s", module) < 0 ||
                    asprintf(&back, "sys/module/%s/drivers/pci:%s", module, driver) < 0)
                        return -ENOMEM;
                r = fs_make_link(root, l, t);
                if (r < 0)
                        return r;
                r = fs_make_link(root, back, drv);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int driver_remove(const char *root, const char *bus, const char *driver) {
        _cleanup_strv_free_ char **entries = NULL;
        _cleanup_free_ char *module = NULL;
        int r;

        if (!fs_name_ok(driver))
                return -EINVAL;
        if (fs_existsf(root, "sys/bus/%s/drivers/%s", bus, driver) <= 0)
                return -ENOENT;
        r = fs_listf(root, &entries, "sys/bus/%s/drivers/%s", bus, driver);
        if (r < 0)
                return r;
        /* Back-links are the bound devices. */
        for (char **e = entries; *e; e++) {
                _cleanup_free_ char *dev = NULL;
                if (streq(*e, "module"))
                        continue;
                r = fs_resolvef(root, &dev, "sys/bus/%s/drivers/%s/%s", bus, driver, *e);
                if (r == -ENOLINK)
                        continue;
                if (r < 0)
                        return r;
                r = bus_unbind(root, dev, *e);
                if (r < 0 && r != -ENODEV)
                        return r;
        }
        if (fs_link_basenamef(root, &module, "sys/bus/%s/drivers/%s/module", bus, driver) >= 0) {
                r = fs_unlinkf(root, "sys/module/%s/drivers/%s:%s", module, bus, driver);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        return fs_rm_rff(root, "sys/bus/%s/drivers/%s", bus, driver);
}

int fakehost_pci_driver_remove(const char *root, const char *driver) {
        return driver_remove(root, "pci", driver);
}

static bool drm_node_ok(const char *node, unsigned *ret_minor) {
        const char *p;
        if (startswith(node, "card"))
                p = node + 4;
        else if (startswith(node, "renderD"))
                p = node + 7;
        else
                return false;
        return strlen(p) <= 6 && parse_uint(p, ret_minor) >= 0;
}

int fakehost_drm_add(const char *root, const char *addr, const char *node) {
        _cleanup_free_ char *dir = NULL, *ndir = NULL, *l = NULL, *sub = NULL;
        char buf[128];
        unsigned minor;
        int r;

        if (!drm_node_ok(node, &minor))
                return -EINVAL;
        r = pci_dir(root, addr, &dir);
        if (r < 0)
                return r;
        if (fs_existsf(root, "%s/drm/%s", dir, node) > 0)
                return -EEXIST;
        if (asprintf(&ndir, "%s/drm/%s", dir, node) < 0 || asprintf(&l, "sys/class/drm/%s", node) < 0 ||
            asprintf(&sub, "%s/subsystem", ndir) < 0)
                return -ENOMEM;
        snprintf(buf, sizeof buf, "226:%u\n", minor);
        r = fs_writef(root, buf, "%s/dev", ndir);
        if (r < 0)
                return r;
        snprintf(buf, sizeof buf, "MAJOR=226\nMINOR=%u\nDEVNAME=dri/%s\nDEVTYPE=drm_minor\n", minor, node);
        r = fs_writef(root, buf, "%s/uevent", ndir);
        if (r < 0)
                return r;
        r = fs_make_link(root, sub, "sys/class/drm");
        if (r < 0)
                return r;
        r = fs_make_link(root, l, ndir);
        if (r < 0)
                return r;
        return fs_writef(root, "", "dev/dri/%s", node);
}

int fakehost_drm_remove(const char *root, const char *addr, const char *node) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_strv_free_ char **left = NULL;
        unsigned minor;
        int r;

        if (!drm_node_ok(node, &minor))
                return -EINVAL;
        r = pci_dir(root, addr, &dir);
        if (r < 0)
                return r;
        if (fs_existsf(root, "%s/drm/%s", dir, node) <= 0)
                return -ENOENT;
        r = fs_rm_rff(root, "%s/drm/%s", dir, node);
        if (r < 0)
                return r;
        r = fs_unlinkf(root, "sys/class/drm/%s", node);
        if (r < 0 && r != -ENOENT)
                return r;
        r = fs_unlinkf(root, "dev/dri/%s", node);
        if (r < 0 && r != -ENOENT)
                return r;
        r = fs_listf(root, &left, "%s/drm", dir);
        if (r < 0)
                return r;
        return left[0] ? 0 : fs_rm_rff(root, "%s/drm", dir);
}

int fakehost_pci_remove(const char *root, const char *addr) {
        _cleanup_free_ char *dir = NULL, *group = NULL;
        _cleanup_strv_free_ char **entries = NULL, **nodes = NULL, **left = NULL;
        int r;

        r = pci_dir(root, addr, &dir);
        if (r < 0)
                return r;
        r = fs_listf(root, &entries, "%s", dir);
        if (r < 0)
                return r;
        for (char **e = entries; *e; e++)
                if (fs_addr_ok(*e))
                        return -EBUSY;

        r = fakehost_pci_unbind(root, addr);
        if (r < 0 && r != -ENODEV)
                return r;
        r = fs_listf(root, &nodes, "%s/drm", dir);
        if (r < 0)
                return r;
        for (char **n = nodes; *n; n++) {
                r = fakehost_drm_remove(root, addr, *n);
                if (r < 0 && r != -EINVAL)
                        return r;
        }
        r = fs_resolvef(root, &group, "%s/iommu_group", dir);
        if (r >= 0) {
                r = fs_unlinkf(root, "%s/devices/%s", group, addr);
                if (r < 0 && r != -ENOENT)
                        return r;
                r = fs_listf(root, &left, "%s/devices", group);
                if (r < 0)
                        return r;
                if (!left[0]) {
                        r = fs_rm_rff(root, "%s", group);
                        if (r < 0)
                                return r;
                }
        } else if (r != -ENOENT)
                return r;
        r = fs_unlinkf(root, "sys/bus/pci/devices/%s", addr);
        if (r < 0)
                return r;
        return fs_rm_rff(root, "%s", dir);
}

/* ---- SR-IOV ------------------------------------------------------------------------ */

int fakehost_sriov_add(const char *root, const char *pf, unsigned total, unsigned offset, unsigned stride,
                       unsigned vf_device, bool cap, const char *vf_driver) {
        _cleanup_free_ char *dir = NULL, *config = NULL, *cpath = NULL;
        char buf[32];
        size_t len = 0;
        int r = pci_dir(root, pf, &dir);
        if (r < 0)
                return r;
        if (total > 0xffff || offset > 0xffff || stride > 0xffff || vf_device > 0xffff || (vf_driver && !fs_name_ok(vf_driver)))
                return -EINVAL;
        const struct {
                const char *name;
                unsigned value;
        } attrs[] = {
                { "sriov_totalvfs", total }, { "sriov_numvfs", 0 },    { "sriov_offset", offset },
                { "sriov_stride", stride },  { "sriov_drivers_autoprobe", 1 },
        };
        for (size_t i = 0; i < ELEMENTSOF(attrs); i++) {
                snprintf(buf, sizeof buf, "%u\n", attrs[i].value);
                r = fs_writef(root, buf, "%s/%s", dir, attrs[i].name);
                if (r < 0)
                        return r;
        }
        snprintf(buf, sizeof buf, "%04x\n", vf_device);
        r = fs_writef(root, buf, "%s/sriov_vf_device", dir);
        if (r < 0)
                return r;
        if (cap) {
                /* The SR-IOV capability, the only extended one, at 0x100. */
                r = fs_pathf(&cpath, root, "%s/config", dir);
                if (r < 0)
                        return r;
                r = fs_read_full(cpath, &config, &len);
                if (r < 0)
                        return r;
                unsigned char *c = calloc(1, 4096);
                if (!c)
                        return -ENOMEM;
                memcpy(c, config, len < 256 ? len : 256);
                const unsigned words[][2] = { { 0x100, 0x0010 }, { 0x102, 0x0001 }, { 0x10e, total },
                                              { 0x114, offset }, { 0x116, stride }, { 0x11a, vf_device } };
                for (size_t i = 0; i < ELEMENTSOF(words); i++) {
                        c[words[i][0]] = (unsigned char) (words[i][1] & 0xff);
                        c[words[i][0] + 1] = (unsigned char) (words[i][1] >> 8);
                }
                r = fs_write_full(cpath, c, 4096, false);
                free(c);
                if (r < 0)
                        return r;
        }
        r = fs_mkdirf(root, "run/fakekernel/sriov");
        if (r < 0 && r != -EEXIST)
                return r;
        return fs_writef(root, vf_driver ? vf_driver : "", "run/fakekernel/sriov/%s", pf);
}

static int read_uint(const char *root, unsigned *ret, const char *dir, const char *attr) {
        _cleanup_free_ char *s = NULL;
        int r = fs_readf(root, &s, "%s/%s", dir, attr);
        if (r < 0)
                return r;
        return sscanf(s, "%x", ret) == 1 ? 0 : -EINVAL;
}

static int next_iommu_group(const char *root) {
        _cleanup_strv_free_ char **groups = NULL;
        int max = -1;
        if (fs_listf(root, &groups, "sys/kernel/iommu_groups") < 0)
                return 0;
        for (char **g = groups; *g; g++)
                if (atoi(*g) > max)
                        max = atoi(*g);
        return max + 1;
}

int fakehost_sriov_set_numvfs(const char *root, const char *pf, unsigned n) {
        _cleanup_free_ char *dir = NULL, *vfdrv = NULL, *num_s = NULL, *group = NULL;
        unsigned num, offset, stride, vendor, device, class, dom, bus, slot, fn;
        char buf[32];
        int r = pci_dir(root, pf, &dir);
        if (r < 0)
                return r;
        r = fs_readf(root, &num_s, "%s/sriov_numvfs", dir);
        if (r < 0)
                return r;
        num = (unsigned) atoi(num_s);
        free(num_s);
        num_s = NULL;
        if (n == 0) {
                for (unsigned i = num; i > 0; i--) {
                        _cleanup_free_ char *vf = NULL;
                        r = fs_link_basenamef(root, &vf, "%s/virtfn%u", dir, i - 1);
                        if (r == -ENOENT)
                                continue;
                        if (r < 0)
                                return r;
                        r = fakehost_pci_remove(root, vf);
                        if (r < 0 && r != -ENOENT)
                                return r;
                        r = fs_unlinkf(root, "%s/virtfn%u", dir, i - 1);
                        if (r < 0)
                                return r;
                }
                return fs_writef(root, "0\n", "%s/sriov_numvfs", dir);
        }
        if (read_uint(root, &vendor, dir, "vendor") < 0 || read_uint(root, &device, dir, "sriov_vf_device") < 0 ||
            read_uint(root, &class, dir, "class") < 0 || fs_readf(root, &num_s, "%s/sriov_offset", dir) < 0)
                return -EINVAL;
        offset = (unsigned) atoi(num_s);
        free(num_s);
        num_s = NULL;
        if (fs_readf(root, &num_s, "%s/sriov_stride", dir) < 0)
                return -EINVAL;
        stride = (unsigned) atoi(num_s);
        (void) fs_readf(root, &vfdrv, "run/fakekernel/sriov/%s", pf);
        free(num_s);
        num_s = NULL;
        bool autoprobe = fs_readf(root, &num_s, "%s/sriov_drivers_autoprobe", dir) >= 0 && atoi(num_s) != 0;
        bool grouped = fs_resolvef(root, &group, "%s/iommu_group", dir) >= 0;
        if (sscanf(pf, "%x:%x:%x.%x", &dom, &bus, &slot, &fn) != 4)
                return -EINVAL;
        /* The PF's parent: the bridge above it, or none. */
        _cleanup_free_ char *parent = strdup(dir);
        if (!parent)
                return -ENOMEM;
        *strrchr(parent, '/') = 0;
        const char *up = strrchr(parent, '/');
        bool below_bridge = up && fs_addr_ok(up + 1);

        for (unsigned i = 0; i < n; i++) {
                unsigned rid = bus * 256 + (slot << 3 | fn) + offset + stride * i;
                char vf[16];
                _cleanup_free_ char *vfdir = NULL;
                if (rid > 0xffff)
                        return -ERANGE;
                snprintf(vf, sizeof vf, "%04x:%02x:%02x.%x", dom, rid >> 8, (rid & 0xff) >> 3, rid & 7);
                FakePci p = { .addr = vf, .vendor = vendor, .device = device, .class = class,
                              .parent = below_bridge ? up + 1 : NULL, .iommu_group = grouped ? next_iommu_group(root) : -1,
                              .header_type = 0 };
                r = fakehost_pci_add(root, &p);
                if (r < 0)
                        return r;
                r = pci_dir(root, vf, &vfdir);
                if (r < 0)
                        return r;
                _cleanup_free_ char *l1 = NULL, *l2 = NULL;
                if (asprintf(&l1, "%s/virtfn%u", dir, i) < 0 || asprintf(&l2, "%s/physfn", vfdir) < 0)
                        return -ENOMEM;
                r = fs_make_link(root, l1, vfdir);
                if (r >= 0)
                        r = fs_make_link(root, l2, dir);
                if (r < 0)
                        return r;
                if (autoprobe && vfdrv && vfdrv[0] && fs_existsf(root, "sys/bus/pci/drivers/%s", vfdrv) > 0) {
                        r = fakehost_pci_bind(root, vf, vfdrv);
                        if (r < 0)
                                return r;
                }
        }
        snprintf(buf, sizeof buf, "%u\n", n);
        return fs_writef(root, buf, "%s/sriov_numvfs", dir);
}

/* ---- consoles and framebuffers --------------------------------------------------- */

int fakehost_vtcon_add(const char *root, unsigned n, const char *name, int bind) {
        _cleanup_free_ char *dir = NULL, *l = NULL, *sub = NULL, *content = NULL;
        int r;

        if (!name || strchr(name, '\n') || (bind != 0 && bind != 1))
                return -EINVAL;
        if (fs_existsf(root, "sys/class/vtconsole/vtcon%u", n) > 0)
                return -EEXIST;
        if (asprintf(&dir, "sys/devices/virtual/vtconsole/vtcon%u", n) < 0 ||
            asprintf(&l, "sys/class/vtconsole/vtcon%u", n) < 0 || asprintf(&sub, "%s/subsystem", dir) < 0 ||
            asprintf(&content, "%s\n", name) < 0)
                return -ENOMEM;
        r = fs_writef(root, content, "%s/name", dir);
        if (r < 0)
                return r;
        r = fs_writef(root, bind ? "1\n" : "0\n", "%s/bind", dir);
        if (r < 0)
                return r;
        r = fs_writef(root, "", "%s/uevent", dir);
        if (r < 0)
                return r;
        r = fs_make_link(root, sub, "sys/class/vtconsole");
        if (r < 0)
                return r;
        return fs_make_link(root, l, dir);
}

int fakehost_vtcon_set_bind(const char *root, unsigned n, int bind) {
        if (bind != 0 && bind != 1)
                return -EINVAL;
        if (fs_existsf(root, "sys/devices/virtual/vtconsole/vtcon%u/bind", n) <= 0)
                return -ENOENT;
        return fs_writef(root, bind ? "1\n" : "0\n", "sys/devices/virtual/vtconsole/vtcon%u/bind", n);
}

int fakehost_vtcon_remove(const char *root, unsigned n) {
        if (fs_existsf(root, "sys/devices/virtual/vtconsole/vtcon%u", n) <= 0)
                return -ENOENT;
        int r = fs_unlinkf(root, "sys/class/vtconsole/vtcon%u", n);
        if (r < 0 && r != -ENOENT)
                return r;
        return fs_rm_rff(root, "sys/devices/virtual/vtconsole/vtcon%u", n);
}

int fakehost_platform_driver_add(const char *root, const char *driver) {
        static const char *const files[] = { "bind", "unbind", "uevent" };
        if (!fs_name_ok(driver))
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                if (fs_existsf(root, "sys/bus/platform/drivers/%s/%s", driver, files[i]) > 0)
                        continue;
                int r = fs_writef(root, "", "sys/bus/platform/drivers/%s/%s", driver, files[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int platform_dir(const char *root, const char *device, char **ret) {
        if (!fs_name_ok(device))
                return -EINVAL;
        int r = fs_resolvef(root, ret, "sys/bus/platform/devices/%s", device);
        return r == -ENOLINK ? -ENOENT : r;
}

int fakehost_fb_add(const char *root, const char *device, const char *driver) {
        return fakehost_fb_add_below(root, device, driver, NULL);
}

int fakehost_fb_add_below(const char *root, const char *device, const char *driver, const char *parent) {
        _cleanup_free_ char *dir = NULL, *l = NULL, *sub = NULL, *alias = NULL, *pdir = NULL;
        int r;

        if (!fs_name_ok(device) || (driver && !fs_name_ok(driver)))
                return -EINVAL;
        if (fs_existsf(root, "sys/bus/platform/devices/%s", device) > 0)
                return -EEXIST;
        if (parent) {
                r = pci_dir(root, parent, &pdir);
                if (r < 0)
                        return r;
        }
        if (asprintf(&dir, "%s/%s", pdir ? pdir : "sys/devices/platform", device) < 0 ||
            asprintf(&l, "sys/bus/platform/devices/%s", device) < 0 || asprintf(&sub, "%s/subsystem", dir) < 0 ||
            asprintf(&alias, "platform:%.*s\n", (int) strcspn(device, "."), device) < 0)
                return -ENOMEM;
        r = fs_writef(root, "(null)\n", "%s/driver_override", dir);
        if (r < 0)
                return r;
        r = fs_writef(root, alias, "%s/modalias", dir);
        if (r < 0)
                return r;
        r = fs_writef(root, "", "%s/uevent", dir);
        if (r < 0)
                return r;
        r = fs_make_link(root, sub, "sys/bus/platform");
        if (r < 0)
                return r;
        r = fs_make_link(root, l, dir);
        if (r < 0)
                return r;
        return driver ? fakehost_fb_bind(root, device, driver) : 0;
}

int fakehost_fb_bind(const char *root, const char *device, const char *driver) {
        _cleanup_free_ char *dir = NULL;
        int r = platform_dir(root, device, &dir);
        if (r < 0)
                return r;
        r = fakehost_platform_driver_add(root, driver);
        if (r < 0)
                return r;
        return bus_bind(root, "platform", dir, device, driver);
}

int fakehost_fb_unbind(const char *root, const char *device) {
        _cleanup_free_ char *dir = NULL;
        int r = platform_dir(root, device, &dir);
        if (r < 0)
                return r;
        return bus_unbind(root, dir, device);
}

int fakehost_fb_remove(const char *root, const char *device) {
        _cleanup_free_ char *dir = NULL;
        int r = platform_dir(root, device, &dir);
        if (r < 0)
                return r;
        r = bus_unbind(root, dir, device);
        if (r < 0 && r != -ENODEV)
                return r;
        r = fs_unlinkf(root, "sys/bus/platform/devices/%s", device);
        if (r < 0)
                return r;
        return fs_rm_rff(root, "%s", dir);
}

/* The sysfs directory of a PCI function or platform device; NULL name: none. */
static int device_dir(const char *root, const char *name, char **ret) {
        if (!name) {
                *ret = NULL;
                return 0;
        }
        return fs_addr_ok(name) ? pci_dir(root, name, ret) : platform_dir(root, name, ret);
}

int fakehost_graphics_add(const char *root, unsigned n, const char *name, const char *device) {
        _cleanup_free_ char *ddir = NULL, *dir = NULL, *l = NULL, *sub = NULL, *dev = NULL, *uevent = NULL;
        char node[16];
        int r;

        if (!name || strchr(name, '\n') || n > 31)
                return -EINVAL;
        snprintf(node, sizeof node, "fb%u", n);
        if (fs_existsf(root, "sys/class/graphics/%s", node) > 0)
                return -EEXIST;
        r = device_dir(root, device, &ddir);
        if (r < 0)
                return r;
        if (asprintf(&dir, "%s/graphics/%s", ddir ? ddir : "sys/devices/virtual", node) < 0 ||
            asprintf(&l, "sys/class/graphics/%s", node) < 0 || asprintf(&sub, "%s/subsystem", dir) < 0 ||
            asprintf(&dev, "%s/device", dir) < 0 ||
            asprintf(&uevent, "MAJOR=29\nMINOR=%u\nDEVNAME=%s\n", n, node) < 0)
                return -ENOMEM;
        _cleanup_free_ char *line = NULL;
        if (asprintf(&line, "%s\n", name) < 0)
                return -ENOMEM;
        r = fs_writef(root, line, "%s/name", dir);
        if (r >= 0)
                r = fs_writef(root, uevent, "%s/uevent", dir);
        if (r >= 0)
                r = fs_make_link(root, sub, "sys/class/graphics");
        if (r >= 0 && ddir) {
                /* As the kernel writes it: up to the device's parent, then its name. */
                _cleanup_free_ char *path = NULL, *target = NULL;
                const char *base = strrchr(ddir, '/');
                if (fs_pathf(&path, root, "%s", dev) < 0 || asprintf(&target, "../../../%s", base ? base + 1 : ddir) < 0)
                        return -ENOMEM;
                r = symlink(target, path) < 0 ? -errno : 0;
        }
        if (r >= 0)
                r = fs_make_link(root, l, dir);
        return r < 0 ? r : fs_writef(root, "", "dev/%s", node);
}

int fakehost_devnode_add(const char *root, const char *addr, const char *subdir, const char *devname) {
        _cleanup_free_ char *ddir = NULL, *rel = NULL, *uevent = NULL;
        int r;

        if (!subdir[0] || subdir[0] == '/' || strstr(subdir, "..") || strchr(devname, '\n') || !devname[0] ||
            devname[0] == '/' || strstr(devname, ".."))
                return -EINVAL;
        r = fs_rel_normalize(subdir, &rel);
        if (r < 0)
                return r;
        r = pci_dir(root, addr, &ddir);
        if (r < 0)
                return r;
        if (asprintf(&uevent, "MAJOR=116\nMINOR=0\nDEVNAME=%s\n", devname) < 0)
                return -ENOMEM;
        r = fs_writef(root, uevent, "%s/%s/uevent", ddir, rel);
        if (r < 0)
                return r;
        return fs_writef(root, "", "dev/%s", devname);
}

/* ---- processes, nodes, units ---------------------------------------------------------- */

int fakehost_process_add(const char *root, pid_t pid, const char *comm, char *const *fds) {
        char buf[32];
        int r;

        if (pid <= 0 || !comm || !*comm || strchr(comm, '\n') || strchr(comm, '/'))
                return -EINVAL;
        if (fs_existsf(root, "proc/%d", (int) pid) > 0)
                return -EEXIST;
        /* The kernel keeps 15 characters of the command. */
        snprintf(buf, sizeof buf, "%.15s\n", comm);
        r = fs_writef(root, buf, "proc/%d/comm", (int) pid);
        if (r < 0)
                return r;
        r = fs_mkdirf(root, "proc/%d/fd", (int) pid);
        if (r < 0)
                return r;
        for (size_t i = 0; fds && fds[i]; i++) {
                _cleanup_free_ char *path = NULL;
                r = fs_pathf(&path, root, "proc/%d/fd/%zu", (int) pid, i);
                if (r < 0)
                        return r;
                if (symlink(fds[i], path) < 0)
                        return -errno;
        }
        return 0;
}

int fakehost_process_remove(const char *root, pid_t pid) {
        if (pid <= 0)
                return -EINVAL;
        if (fs_existsf(root, "proc/%d", (int) pid) <= 0)
                return -ENOENT;
        return fs_rm_rff(root, "proc/%d", (int) pid);
}

static int dev_node_rel(const char *node, char **ret) {
        if (startswith(node, "/dev/"))
                node += strlen("/dev/");
        _cleanup_free_ char *copy = strdup(node);
        char *save = NULL;
        if (!copy)
                return -ENOMEM;
        if (!*node || node[strlen(node) - 1] == '/')
                return -EINVAL;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save))
                if (!fs_name_ok(c))
                        return -EINVAL;
        if (asprintf(ret, "dev/%s", node) < 0)
                return -ENOMEM;
        return 0;
}

int fakehost_dev_add(const char *root, const char *node) {
        _cleanup_free_ char *rel = NULL;
        int r = dev_node_rel(node, &rel);
        if (r < 0)
                return r;
        return fs_writef(root, "", "%s", rel);
}

int fakehost_dev_remove(const char *root, const char *node) {
        _cleanup_free_ char *rel = NULL;
        int r = dev_node_rel(node, &rel);
        if (r < 0)
                return r;
        return fs_unlinkf(root, "%s", rel);
}

int fakehost_unit_add(const char *root, const char *unit) {
        _cleanup_free_ char *content = NULL;
        if (!fs_name_ok(unit))
                return -EINVAL;
        if (asprintf(&content, "[Unit]\nDescription=%s (fake)\n", unit) < 0)
                return -ENOMEM;
        return fs_writef(root, content, "etc/systemd/system/%s", unit);
}

int fakehost_unit_remove(const char *root, const char *unit) {
        if (!fs_name_ok(unit))
                return -EINVAL;
        return fs_unlinkf(root, "etc/systemd/system/%s", unit);
}

/* ---- any file, link or directory --------------------------------------------------- */

/* A path inside the tree: relative (a leading '/' is dropped), every
 * component a safe name, so nothing is made outside the root. */
static int tree_path(const char *root, const char *path, char **ret) {
        if (!path)
                return -EINVAL;
        path += strspn(path, "/");
        if (!*path || strlen(path) > PATH_MAX)
                return -EINVAL;
        _cleanup_free_ char *copy = strdup(path);
        char *save = NULL;
        if (!copy)
                return -ENOMEM;
        size_t n = 0;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save), n++)
                if (!fs_name_ok(c))
                        return -EINVAL;
        if (n == 0 || strstr(path, "//") || path[strlen(path) - 1] == '/')
                return -EINVAL;
        return fs_pathf(ret, root, "%s", path);
}

int fakehost_file_add(const char *root, const char *path, const void *content, size_t len, mode_t mode) {
        _cleanup_free_ char *p = NULL;
        int r = tree_path(root, path, &p);
        if (r < 0)
                return r;
        if (mode & ~(mode_t) 07777)
                return -EINVAL;
        r = fs_write_full(p, content, len, false);
        if (r < 0)
                return r;
        return chmod(p, mode) < 0 ? -errno : 0;
}

int fakehost_link_add(const char *root, const char *path, const char *target) {
        _cleanup_free_ char *p = NULL;
        int r = tree_path(root, path, &p);
        if (r < 0)
                return r;
        if (!target || !*target || strchr(target, '\n') || strlen(target) >= PATH_MAX)
                return -EINVAL;
        r = fs_mkdir_parent(p);
        if (r < 0)
                return r;
        if (unlink(p) < 0 && errno != ENOENT)
                return -errno;
        return symlink(target, p) < 0 ? -errno : 0;
}

int fakehost_dir_add(const char *root, const char *path) {
        _cleanup_free_ char *p = NULL;
        int r = tree_path(root, path, &p);
        if (r < 0)
                return r;
        return fs_mkdir_p(p);
}
