/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sys/stat.h>

#include "host/modules.h"
#include "host/pci.h"
#include "shared/util.h"

/* PCI devices over a sysroot. sys/bus/pci/devices/<addr> are relative links
 * into sys/devices on a real host; sysroot resolves them inside the root.
 * Every name read back from sysfs (driver, module) is checked before it is
 * used in another path. */

#define PCI_DRIVER_NAME_MAX 64U
/* Header type lives at offset 0x0e of config space; bit 7 is "multi-function". */
#define PCI_CONFIG_HEADER_TYPE 0x0e
#define PCI_HEADER_TYPE_BRIDGE 1
#define PCI_HEADER_TYPE_CARDBUS 2

static bool driver_name_valid(const char *s) {
        return filename_is_safe(s, PCI_DRIVER_NAME_MAX);
}

int pci_driver_module(Sysroot *sr, const char *driver, char **ret) {
        _cleanup_free_ char *module = NULL;
        int r;

        if (!driver_name_valid(driver))
                return -EINVAL;

        r = sysroot_link_basenamef(sr, &module, "sys/bus/pci/drivers/%s/module", driver);
        if (r == -ENOENT) {
                /* Built in: the driver has no module link. */
                *ret = NULL;
                return 0;
        }
        if (r < 0)
                return r;
        if (!module_name_valid(module))
                return -EINVAL;
        *ret = TAKE_PTR(module);
        return 0;
}

/* Some bridges do not report class 0x0604 (CardBus, vendor quirks): the
 * header type in config space says what they are. Unreadable config space
 * (no permission, a tree without it) means "not known to be a bridge". */
static bool header_says_bridge(Sysroot *sr, const char *name) {
        unsigned char header[PCI_CONFIG_HEADER_TYPE + 1];

        /* Only the byte it needs: as root the file is the whole config
         * space, 4 KiB read dword by dword (each a trap to the emulator in
         * a VM), for every device read. */
        _cleanup_close_ int fd = sysroot_openf(sr, O_RDONLY, NULL, "sys/bus/pci/devices/%s/config", name);
        if (fd < 0)
                return false;
        ssize_t n;
        do
                n = pread(fd, header, sizeof header, 0);
        while (n < 0 && errno == EINTR);
        if (n < (ssize_t) sizeof header)
                return false;
        unsigned ht = header[PCI_CONFIG_HEADER_TYPE] & 0x7fU;
        return ht == PCI_HEADER_TYPE_BRIDGE || ht == PCI_HEADER_TYPE_CARDBUS;
}

/* The device's name in sys/bus/pci/devices; -ENOENT when it is not there. */
static int pci_device_name(Sysroot *sr, const PciAddr *a, char name[static PCI_ADDR_STRLEN]) {
        pci_addr_format(a, name);
        int r = sysroot_existsf(sr, "sys/bus/pci/devices/%s", name);
        return r < 0 ? r : r == 0 ? -ENOENT : 0;
}

int pci_device_read(Sysroot *sr, const PciAddr *a, PciDevice **ret) {
        _cleanup_pci_device_ PciDevice *d = NULL;
        _cleanup_free_ char *group = NULL;
        char name[PCI_ADDR_STRLEN];
        int r;

        r = pci_device_name(sr, a, name);
        if (r < 0)
                return r;

        d = calloc(1, sizeof *d);
        if (!d)
                return -ENOMEM;
        d->addr = *a;
        memcpy(d->name, name, sizeof d->name);
        d->iommu_group = -1;

        r = sysroot_read_hexf(sr, &d->vendor, "sys/bus/pci/devices/%s/vendor", name);
        if (r < 0)
                return r;
        r = sysroot_read_hexf(sr, &d->device, "sys/bus/pci/devices/%s/device", name);
        if (r < 0)
                return r;
        r = sysroot_read_hexf(sr, &d->class, "sys/bus/pci/devices/%s/class", name);
        if (r < 0)
                return r;
        if (d->vendor > 0xffff || d->device > 0xffff || d->class > 0xffffff)
                return -EINVAL;

        r = sysroot_link_basenamef(sr, &d->driver, "sys/bus/pci/devices/%s/driver", name);
        if (r < 0 && r != -ENOENT)
                return r;
        if (d->driver) {
                if (!driver_name_valid(d->driver))
                        return -EINVAL;
                r = pci_driver_module(sr, d->driver, &d->driver_module);
                /* The driver can go away between the two reads: then it has no module. */
                if (r < 0 && r != -ENOENT)
                        return r;
        }

        r = sysroot_link_basenamef(sr, &group, "sys/bus/pci/devices/%s/iommu_group", name);
        if (r < 0 && r != -ENOENT)
                return r;
        if (group) {
                unsigned g;
                if (parse_uint(group, &g) < 0 || g > INT_MAX)
                        return -EINVAL;
                d->iommu_group = (int) g;
        }

        d->boot_vga = -1;
        _cleanup_free_ char *boot_vga = NULL;
        r = sysroot_read_linef(sr, &boot_vga, "sys/bus/pci/devices/%s/boot_vga", name);
        if (r < 0 && r != -ENOENT)
                return r;
        if (boot_vga) {
                if (!streq(boot_vga, "0") && !streq(boot_vga, "1"))
                        return -EINVAL;
                d->boot_vga = boot_vga[0] - '0';
        }

        d->is_bridge = (d->class >> 8) == PCI_CLASS_BRIDGE_PCI || header_says_bridge(sr, name);

        *ret = TAKE_PTR(d);
        return 0;
}

static int cmp_addr(const void *x, const void *y) {
        const PciAddr *a = x, *b = y;
        if (a->domain != b->domain)
                return a->domain < b->domain ? -1 : 1;
        if (a->bus != b->bus)
                return a->bus < b->bus ? -1 : 1;
        if (a->slot != b->slot)
                return a->slot < b->slot ? -1 : 1;
        if (a->function != b->function)
                return a->function < b->function ? -1 : 1;
        return 0;
}

int pci_iommu_group_members(Sysroot *sr, int group, PciAddr **ret, size_t *ret_n) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ PciAddr *l = NULL;
        size_t n = 0;
        int r;

        if (group < 0)
                return -EINVAL;

        r = sysroot_list_dirf(sr, &names, "sys/kernel/iommu_groups/%d/devices", group);
        if (r < 0)
                return r;

        l = calloc(strv_length(names) + 1, sizeof *l);
        if (!l)
                return -ENOMEM;
        /* Groups may hold non-PCI devices on some platforms: those are not ours. */
        for (char **i = names; *i; i++)
                if (pci_addr_parse(*i, &l[n]) >= 0)
                        n++;
        qsort(l, n, sizeof *l, cmp_addr);

        *ret = TAKE_PTR(l);
        *ret_n = n;
        return 0;
}

int pci_iommu_group_count(Sysroot *sr) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r, n = 0;

        /* Counted as read: a host with thousands of SR-IOV functions has as
         * many groups, and nobody needs their names sorted here. */
        r = sysroot_opendirf(sr, &d, "sys/kernel/iommu_groups");
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        while ((de = readdir(d))) {
                unsigned g;
                if (parse_uint(de->d_name, &g) >= 0)
                        n++;
        }
        return n;
}

/* "card0", "renderD128": a fixed prefix and a decimal minor. */
static bool drm_node_name_valid(const char *s) {
        const char *p;
        unsigned v;

        if (startswith(s, "card"))
                p = s + strlen("card");
        else if (startswith(s, "renderD"))
                p = s + strlen("renderD");
        else
                return false;
        return strlen(p) <= 6 && parse_uint(p, &v) >= 0;
}

int pci_device_drm_nodes(Sysroot *sr, const PciAddr *a, char ***ret) {
        _cleanup_strv_free_ char **names = NULL, **l = NULL;
        char name[PCI_ADDR_STRLEN];
        int r;

        r = pci_device_name(sr, a, name);
        if (r < 0)
                return r;

        l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;

        r = sysroot_list_dirf(sr, &names, "sys/bus/pci/devices/%s/drm", name);
        if (r < 0 && r != -ENOENT)
                return r;
        if (names)
                for (char **i = names; *i; i++) {
                        if (!drm_node_name_valid(*i))
                                continue;
                        r = strv_extend(&l, *i);
                        if (r < 0)
                                return r;
                }

        *ret = TAKE_PTR(l);
        return 0;
}

/* ---- device nodes ------------------------------------------------------------ */

/* Sound nodes sit three levels down (sound/card1/controlC1), a connector's
 * DDC bus six (drm/card1/card1-DP-1/i2c-5/i2c-dev/i2c-5: its /dev/i2c-5 is
 * the card's node too); anything far deeper, or far bigger, is not a
 * device directory we should walk. */
#define DEV_WALK_DEPTH_MAX 8U
#define DEV_WALK_ENTRIES_MAX 20000U
#define DEVNAME_MAX 128U

typedef struct DevWalk {
        Sysroot *sr;
        char **nodes;
        unsigned entries;
} DevWalk;

/* "dri/card1" -> "/dev/dri/card1"; NULL in *ret for anything that is not a
 * plain relative name of safe components. */
static int devname_to_path(const char *devname, char **ret) {
        _cleanup_free_ char *copy = NULL;
        char *save = NULL;

        *ret = NULL;
        if (strlen(devname) > DEVNAME_MAX || devname[0] == '/')
                return 0;
        copy = strdup(devname);
        if (!copy)
                return -ENOMEM;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save))
                if (!filename_is_safe(c, DEVNAME_MAX))
                        return 0;
        if (strstr(devname, "//") || devname[strlen(devname) - 1] == '/')
                return 0;
        return asprintf(ret, "/dev/%s", devname) < 0 ? -ENOMEM : 0;
}

static int uevent_devname(DevWalk *w, const char *dir, char **ret) {
        _cleanup_free_ char *text = NULL, *path = NULL;

        *ret = NULL;
        if (asprintf(&path, "%s/uevent", dir) < 0)
                return -ENOMEM;
        int r = sysroot_read_file(w->sr, path, 64 * 1024, &text);
        if (r == -ENOENT || r == -EACCES)
                return 0;
        if (r < 0)
                return r;
        for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
                if (startswith(line, "DEVNAME="))
                        return devname_to_path(line + strlen("DEVNAME="), ret);
        return 0;
}

static int dev_walk(DevWalk *w, const char *dir, unsigned depth) {
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_free_ char *node = NULL;
        struct dirent *de;
        int r;

        r = uevent_devname(w, dir, &node);
        if (r < 0)
                return r;
        if (node) {
                r = strv_extend_unique(&w->nodes, node);
                if (r < 0)
                        return r;
        }
        if (depth >= DEV_WALK_DEPTH_MAX)
                return 0;

        r = sysroot_opendirf(w->sr, &d, "%s", dir);
        if (r == -ENOENT || r == -ENOTDIR || r == -EACCES)
                return 0; /* gone meanwhile */
        if (r < 0)
                return r;
        while ((errno = 0, de = readdir(d))) {
                _cleanup_free_ char *sub = NULL;
                PciAddr a;
                unsigned char type = de->d_type;

                if (++w->entries > DEV_WALK_ENTRIES_MAX)
                        return -E2BIG;
                if (!filename_is_safe(de->d_name, NAME_MAX))
                        continue;
                if (type == DT_UNKNOWN) {
                        struct stat st;
                        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                                continue;
                        type = S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
                }
                /* Links (driver, subsystem, iommu_group, ...) lead elsewhere;
                 * a function below a bridge is not this one's. */
                if (type != DT_DIR || pci_addr_parse(de->d_name, &a) >= 0)
                        continue;
                if (asprintf(&sub, "%s/%s", dir, de->d_name) < 0)
                        return -ENOMEM;
                r = dev_walk(w, sub, depth + 1);
                if (r < 0)
                        return r;
        }
        return errno != 0 ? -errno : 0;
}

int pci_device_dev_nodes(Sysroot *sr, const PciAddr *a, char ***ret) {
        _cleanup_free_ char *dir = NULL;
        char name[PCI_ADDR_STRLEN];
        DevWalk w = { .sr = sr };
        int r;

        r = pci_device_name(sr, a, name);
        if (r < 0)
                return r;
        if (asprintf(&dir, "sys/bus/pci/devices/%s", name) < 0)
                return -ENOMEM;
        w.nodes = calloc(1, sizeof(char *));
        if (!w.nodes)
                return -ENOMEM;
        r = dev_walk(&w, dir, 0);
        if (r < 0) {
                strv_free(w.nodes);
                return r;
        }
        strv_sort(w.nodes);
        *ret = w.nodes;
        return 0;
}

int pci_device_add_dev_nodes(Sysroot *sr, const PciAddr *a, char ***nodes) {
        _cleanup_strv_free_ char **l = NULL;
        int r = pci_device_dev_nodes(sr, a, &l);
        for (char **n = l; r >= 0 && *n; n++)
                r = strv_extend_unique(nodes, *n);
        return r < 0 ? r : 0;
}

/* ---- drivers and display devices --------------------------------------------- */

int pci_driver_devices(Sysroot *sr, const char *driver, PciAddr **ret, size_t *ret_n) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ PciAddr *l = NULL;
        size_t n = 0;
        int r;

        if (!driver_name_valid(driver))
                return -EINVAL;
        r = sysroot_list_dirf(sr, &names, "sys/bus/pci/drivers/%s", driver);
        if (r < 0 && r != -ENOENT)
                return r;
        l = calloc(strv_length(names) + 1, sizeof *l);
        if (!l)
                return -ENOMEM;
        for (char **i = names; i && *i; i++)
                if (pci_addr_parse(*i, &l[n]) >= 0)
                        n++;
        qsort(l, n, sizeof *l, cmp_addr);
        *ret = TAKE_PTR(l);
        *ret_n = n;
        return 0;
}

int pci_display_devices(Sysroot *sr, PciDevice ***ret, size_t *ret_n) {
        _cleanup_strv_free_ char **names = NULL;
        PciDevice **l = NULL;
        size_t n = 0;
        int r;

        r = sysroot_list_dirf(sr, &names, "sys/bus/pci/devices");
        if (r < 0 && r != -ENOENT)
                return r;
        l = calloc(strv_length(names) + 1, sizeof *l);
        if (!l)
                return -ENOMEM;
        /* Names are sorted, and so are addresses of one spelling. */
        for (char **i = names; i && *i; i++) {
                unsigned class;
                PciAddr a;

                if (pci_addr_parse(*i, &a) < 0)
                        continue;
                r = sysroot_read_hexf(sr, &class, "sys/bus/pci/devices/%s/class", *i);
                if (r == -ENOENT)
                        continue; /* removed meanwhile */
                if (r < 0)
                        goto fail;
                if ((class >> 16) != PCI_CLASS_DISPLAY)
                        continue;
                r = pci_device_read(sr, &a, &l[n]);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        goto fail;
                n++;
        }
        *ret = l;
        *ret_n = n;
        return 0;
fail:
        pci_devices_free(l, n);
        return r;
}

/* IORESOURCE_MEM in the flags column of sys/.../resource. */
#define PCI_RESOURCE_MEM 0x200U
#define PCI_RESOURCE_LINES_MAX 64U

int pci_device_mem_ranges(Sysroot *sr, const PciAddr *a, PciRange **ret, size_t *ret_n) {
        _cleanup_free_ char *text = NULL, *path = NULL;
        _cleanup_free_ PciRange *l = NULL;
        char name[PCI_ADDR_STRLEN];
        size_t n = 0;
        int r;

        pci_addr_format(a, name);
        if (asprintf(&path, "sys/bus/pci/devices/%s/resource", name) < 0)
                return -ENOMEM;
        r = sysroot_read_file(sr, path, 64 * 1024, &text);
        if (r < 0)
                return r;
        l = calloc(PCI_RESOURCE_LINES_MAX, sizeof *l);
        if (!l)
                return -ENOMEM;
        for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                uint64_t start, end, flags;
                if (sscanf(line, "%" SCNx64 " %" SCNx64 " %" SCNx64, &start, &end, &flags) != 3)
                        return -EINVAL;
                if (!(flags & PCI_RESOURCE_MEM) || end <= start)
                        continue;
                if (n == PCI_RESOURCE_LINES_MAX)
                        return -E2BIG;
                l[n++] = (PciRange) { .start = start, .end = end };
        }
        *ret = TAKE_PTR(l);
        *ret_n = n;
        return 0;
}
