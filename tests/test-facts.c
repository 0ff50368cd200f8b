/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "host/pci.h"
#include "host/modules.h"
#include "host/holders.h"
#include "host/console.h"
#include "host/facts.h"
#include "check-main.h"
#include "fakehost.h"
#include "testhost.h"
#include "testutil.h"
#include "shared/util.h"

/* Host facts over fake hosts built from the tests/data fixtures, over trees
 * changed by hand, and over this machine's own "/". */

#define DATA TEST_SRCDIR "/tests/data/"
/* A NULL-terminated list of literals, for the char *const * arguments. */
#define STRV(...) ((char *const *) (const char *const[]) { __VA_ARGS__, NULL })

/* The fixtures, built once before the tests run, for the tests that only
 * read (which is also checked: main() compares them before and after). */
static const char *const fixtures[] = {
        "nvidia-desktop", "amd-desktop", "intel-igpu", "nonviable-group",
        "builtin-drm", "no-iommu", "qemu-bochs",
};
static char shared_dir[PATH_MAX];

static void host_shared(Host *h, const char *name) {
        ck_assert(shared_dir[0]);
        h->tmp = NULL;
        ck_assert_int_ge(asprintf(&h->root, "%s/%s", shared_dir, name), 0);
        host_open_sysroot(h);
}

static void host_empty(Host *h) {
        host_new(h);
        ck_assert_int_eq(fakehost_init(h->root), 0);
        host_open_sysroot(h);
}

_printf_(3, 4) static void host_write(Host *h, const char *content, const char *fmt, ...) {
        _cleanup_free_ char *rel = NULL, *path = NULL;
        va_list ap;
        va_start(ap, fmt);
        ck_assert_int_ge(vasprintf(&rel, fmt, ap), 0);
        va_end(ap);
        ck_assert_int_ge(asprintf(&path, "%s/%s", h->root, rel), 0);
        FILE *f = fopen(path, "we");
        ck_assert_ptr_nonnull(f);
        fputs(content, f);
        ck_assert_int_eq(fclose(f), 0);
}

_printf_(3, 4) static void host_symlink(Host *h, const char *target, const char *fmt, ...) {
        _cleanup_free_ char *rel = NULL, *path = NULL;
        va_list ap;
        va_start(ap, fmt);
        ck_assert_int_ge(vasprintf(&rel, fmt, ap), 0);
        va_end(ap);
        ck_assert_int_ge(asprintf(&path, "%s/%s", h->root, rel), 0);
        (void) unlink(path);
        ck_assert_int_eq(symlink(target, path), 0);
}

_printf_(2, 3) static void host_unlink(Host *h, const char *fmt, ...) {
        _cleanup_free_ char *rel = NULL, *path = NULL;
        va_list ap;
        va_start(ap, fmt);
        ck_assert_int_ge(vasprintf(&rel, fmt, ap), 0);
        va_end(ap);
        ck_assert_int_ge(asprintf(&path, "%s/%s", h->root, rel), 0);
        ck_assert_int_eq(fakehost_rm_rf(path), 0);
}

_printf_(2, 3) static void host_mkdir(Host *h, const char *fmt, ...) {
        _cleanup_free_ char *rel = NULL, *path = NULL;
        va_list ap;
        va_start(ap, fmt);
        ck_assert_int_ge(vasprintf(&rel, fmt, ap), 0);
        va_end(ap);
        ck_assert_int_ge(asprintf(&path, "%s/%s", h->root, rel), 0);
        ck_assert_int_eq(test_mkdir_p(path), 0);
}

static PciAddr addr(const char *s) {
        PciAddr a;
        ck_assert_int_eq(pci_addr_parse(s, &a), 0);
        return a;
}

static PciDevice *read_dev(Host *h, const char *a) {
        PciAddr pa = addr(a);
        PciDevice *d = NULL;
        int r = pci_device_read(h->sr, &pa, &d);
        ck_assert_msg(r == 0, "pci_device_read(%s) = %d", a, r);
        ck_assert_str_eq(d->name, a);
        return d;
}

/* l equals the NULL-terminated list of strings that follows. */
static void assert_strv(char **l, ...) {
        va_list ap;
        size_t i = 0;
        const char *s;

        ck_assert_ptr_nonnull(l);
        va_start(ap, l);
        while ((s = va_arg(ap, const char *))) {
                ck_assert_msg(l[i], "list too short at %zu: expected \"%s\"", i, s);
                ck_assert_msg(streq(l[i], s), "at %zu: \"%s\" != expected \"%s\"", i, l[i], s);
                i++;
        }
        va_end(ap);
        ck_assert_msg(!l[i], "list too long: extra \"%s\"", l[i]);
}

/* ---- pci ------------------------------------------------------------------ */

START_TEST(test_pci_nvidia) {
        _cleanup_(host_done) Host h = {};
        _cleanup_pci_device_ PciDevice *gpu = NULL, *audio = NULL, *port = NULL, *hb = NULL, *nic = NULL;

        host_shared(&h, "nvidia-desktop");

        gpu = read_dev(&h, "0000:01:00.0");
        ck_assert_uint_eq(gpu->vendor, 0x10de);
        ck_assert_uint_eq(gpu->device, 0x2484);
        ck_assert_uint_eq(gpu->class, 0x030000);
        ck_assert_str_eq(gpu->driver, "nvidia");
        ck_assert_str_eq(gpu->driver_module, "nvidia");
        ck_assert_int_eq(gpu->iommu_group, 1);
        ck_assert(!gpu->is_bridge);
        ck_assert(pci_device_is_display(gpu));

        audio = read_dev(&h, "0000:01:00.1");
        ck_assert_uint_eq(audio->class, 0x040300);
        ck_assert_str_eq(audio->driver, "snd_hda_intel");
        ck_assert_str_eq(audio->driver_module, "snd_hda_intel");
        ck_assert(!pci_device_is_display(audio));

        port = read_dev(&h, "0000:00:01.0");
        ck_assert(port->is_bridge);
        ck_assert_str_eq(port->driver, "pcieport");
        ck_assert_ptr_null(port->driver_module); /* built in */
        ck_assert_int_eq(port->iommu_group, 1);

        hb = read_dev(&h, "0000:00:00.0");
        ck_assert_ptr_null(hb->driver);
        ck_assert_ptr_null(hb->driver_module);
        ck_assert(!hb->is_bridge); /* a host bridge is 0600, not 0604 */
        ck_assert_int_eq(hb->iommu_group, 0);

        /* Driver and module differ in name. */
        nic = read_dev(&h, "0000:00:14.0");
        ck_assert_str_eq(nic->driver, "xhci_hcd");
        ck_assert_str_eq(nic->driver_module, "xhci_pci");
}
END_TEST

START_TEST(test_pci_nested_switch) {
        _cleanup_(host_done) Host h = {};
        _cleanup_pci_device_ PciDevice *gpu = NULL, *up = NULL, *usb = NULL;

        host_shared(&h, "amd-desktop");
        gpu = read_dev(&h, "0000:03:00.0");
        ck_assert_str_eq(gpu->driver, "amdgpu");
        ck_assert_str_eq(gpu->driver_module, "amdgpu");
        ck_assert_int_eq(gpu->iommu_group, 15);
        up = read_dev(&h, "0000:01:00.0");
        ck_assert(up->is_bridge);
        usb = read_dev(&h, "0000:0a:00.3");
        ck_assert_int_eq(usb->iommu_group, 4);
}
END_TEST

START_TEST(test_pci_absent) {
        _cleanup_(host_done) Host h = {};
        PciDevice *sentinel = (PciDevice *) 0x1, *d = sentinel;
        PciAddr a = addr("0000:05:00.0");
        char **nodes = (char **) 0x1;

        host_shared(&h, "nvidia-desktop");
        ck_assert_int_eq(pci_device_read(h.sr, &a, &d), -ENOENT);
        ck_assert_ptr_eq(d, sentinel);
        ck_assert_int_eq(pci_device_drm_nodes(h.sr, &a, &nodes), -ENOENT);
        ck_assert_ptr_eq(nodes, (char **) 0x1);
}
END_TEST

START_TEST(test_pci_malformed) {
        _cleanup_(host_done) Host h = {};
        const char *dir = "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0";
        PciAddr a = addr("0000:01:00.0");
        PciDevice *d = NULL;

        host_build(&h, "nvidia-desktop", NULL);

        host_write(&h, "nonsense\n", "%s/vendor", dir);
        ck_assert_int_eq(pci_device_read(h.sr, &a, &d), -EINVAL);
        host_write(&h, "0x10de\n", "%s/vendor", dir);

        host_write(&h, "0x1030000\n", "%s/class", dir);
        ck_assert_int_eq(pci_device_read(h.sr, &a, &d), -EINVAL);
        host_write(&h, "0x030000\n", "%s/class", dir);

        host_symlink(&h, "../../../../kernel/iommu_groups/one", "%s/iommu_group", dir);
        ck_assert_int_eq(pci_device_read(h.sr, &a, &d), -EINVAL);
        host_symlink(&h, "../../../../kernel/iommu_groups/1", "%s/iommu_group", dir);

        /* A driver name that must never reach a path. */
        host_symlink(&h, "../../../../bus/pci/drivers/bad name", "%s/driver", dir);
        ck_assert_int_eq(pci_device_read(h.sr, &a, &d), -EINVAL);
        host_symlink(&h, "../../../../bus/pci/drivers/nvidia", "%s/driver", dir);

        /* A module link to something that is no module name. */
        host_symlink(&h, "../../../../module/nv.idia", "sys/bus/pci/drivers/nvidia/module");
        ck_assert_int_eq(pci_device_read(h.sr, &a, &d), -EINVAL);
        host_symlink(&h, "../../../../module/nvidia", "sys/bus/pci/drivers/nvidia/module");

        ck_assert_ptr_null(d);
        d = read_dev(&h, "0000:01:00.0");
        pci_device_free(d);
}
END_TEST

START_TEST(test_pci_header_type) {
        _cleanup_(host_done) Host h = {};
        _cleanup_pci_device_ PciDevice *cardbus = NULL, *odd = NULL, *plain = NULL;

        host_empty(&h);
        /* CardBus bridge (class 0607, header 2), and a bridge whose class lies. */
        ck_assert_int_eq(fakehost_pci_add(h.root, &(FakePci) { "0000:00:1e.0", 0x8086, 0x244e, 0x060700, NULL, -1, 2 }), 0);
        ck_assert_int_eq(fakehost_pci_add(h.root, &(FakePci) { "0000:00:1c.0", 0x1234, 0x0001, 0xff0000, NULL, -1, 0x81 }), 0);
        ck_assert_int_eq(fakehost_pci_add(h.root, &(FakePci) { "0000:00:02.0", 0x1234, 0x1111, 0x030000, NULL, -1, -1 }), 0);
        cardbus = read_dev(&h, "0000:00:1e.0");
        ck_assert(cardbus->is_bridge);
        odd = read_dev(&h, "0000:00:1c.0");
        ck_assert(odd->is_bridge);
        plain = read_dev(&h, "0000:00:02.0");
        ck_assert(!plain->is_bridge);
        ck_assert_int_eq(plain->iommu_group, -1);

        /* Without config space (a dump of a real /sys by a user), class decides. */
        host_unlink(&h, "sys/devices/pci0000:00/0000:00:1c.0/config");
        pci_device_free(odd);
        odd = read_dev(&h, "0000:00:1c.0");
        ck_assert(!odd->is_bridge);
}
END_TEST

/* The kernel's rule for the members of a group that stay on the host. */
START_TEST(test_pci_member_blocks_vfio) {
        static const struct {
                bool bridge;
                const char *driver;
                bool blocks;
        } cases[] = {
                { false, NULL, false },           { false, "vfio-pci", false },
                { false, "pci-stub", false },     { false, "mlx5_vfio_pci", false },
                { false, "pds-vfio-pci", false }, { true, "pcieport", false },
                { true, NULL, false },            { false, "igb", true },
                { false, "snd_hda_intel", true }, { false, "vfio_pci_core", true },
                { false, "_vfio_pci", true },     { false, "vfio", true },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                PciDevice m = { .is_bridge = cases[i].bridge, .driver = (char *) cases[i].driver };
                ck_assert_msg(pci_member_blocks_vfio(&m) == cases[i].blocks, "%s%s: expected %s",
                              cases[i].bridge ? "bridge on " : "", cases[i].driver ? cases[i].driver : "no driver",
                              cases[i].blocks ? "blocks" : "fine");
        }
}
END_TEST

START_TEST(test_pci_groups) {
        _cleanup_(host_done) Host h = {};
        _cleanup_free_ PciAddr *m = NULL;
        PciAddr *sentinel = (PciAddr *) 0x1, *none = sentinel;
        char name[PCI_ADDR_STRLEN];
        size_t n = 0;

        host_build(&h, "nvidia-desktop", NULL);
        ck_assert_int_eq(pci_iommu_group_count(h.sr), 4);

        ck_assert_int_eq(pci_iommu_group_members(h.sr, 1, &m, &n), 0);
        ck_assert_uint_eq(n, 3);
        ck_assert_str_eq(pci_addr_format(&m[0], name), "0000:00:01.0");
        ck_assert_str_eq(pci_addr_format(&m[1], name), "0000:01:00.0");
        ck_assert_str_eq(pci_addr_format(&m[2], name), "0000:01:00.1");

        ck_assert_int_eq(pci_iommu_group_members(h.sr, 99, &none, &n), -ENOENT);
        ck_assert_int_eq(pci_iommu_group_members(h.sr, -1, &none, &n), -EINVAL);
        ck_assert_ptr_eq(none, sentinel);

        /* Non-PCI members are not ours; a stray entry is not a group. */
        host_symlink(&h, "../../../../devices/platform/fd880000.usb", "sys/kernel/iommu_groups/1/devices/fd880000.usb");
        host_mkdir(&h, "sys/kernel/iommu_groups/README.d");
        free(m);
        m = NULL;
        ck_assert_int_eq(pci_iommu_group_members(h.sr, 1, &m, &n), 0);
        ck_assert_uint_eq(n, 3);
        ck_assert_int_eq(pci_iommu_group_count(h.sr), 4);
}
END_TEST

START_TEST(test_pci_no_iommu) {
        _cleanup_(host_done) Host h = {};
        _cleanup_pci_device_ PciDevice *gpu = NULL;

        host_build(&h, "no-iommu", NULL);
        ck_assert_int_eq(pci_iommu_group_count(h.sr), 0);
        gpu = read_dev(&h, "0000:01:00.0");
        ck_assert_int_eq(gpu->iommu_group, -1);
        ck_assert_str_eq(gpu->driver, "nouveau");

        host_unlink(&h, "sys/kernel/iommu_groups");
        ck_assert_int_eq(pci_iommu_group_count(h.sr), 0);
        host_write(&h, "", "sys/kernel/iommu_groups");
        ck_assert_int_eq(pci_iommu_group_count(h.sr), -ENOTDIR);
}
END_TEST

START_TEST(test_pci_drm_nodes) {
        _cleanup_(host_done) Host h = {};
        _cleanup_strv_free_ char **gpu = NULL, **audio = NULL;
        PciAddr a = addr("0000:01:00.0"), b = addr("0000:01:00.1");
        const char *drm = "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/drm";

        host_build(&h, "nvidia-desktop", NULL);
        /* What else a drm directory holds, and names that are no minors. */
        host_mkdir(&h, "%s/controlD64", drm);
        host_mkdir(&h, "%s/card0-DP-1", drm);
        host_mkdir(&h, "%s/cardX", drm);
        host_write(&h, "", "%s/version", drm);

        ck_assert_int_eq(pci_device_drm_nodes(h.sr, &a, &gpu), 0);
        assert_strv(gpu, "card0", "renderD128", NULL);
        ck_assert_int_eq(pci_device_drm_nodes(h.sr, &b, &audio), 0);
        assert_strv(audio, NULL);
}
END_TEST

START_TEST(test_pci_dev_nodes) {
        _cleanup_(host_done) Host h = {};
        _cleanup_strv_free_ char **gpu = NULL, **audio = NULL, **bridge = NULL;
        PciAddr a = addr("0000:01:00.0"), b = addr("0000:01:00.1"), br = addr("0000:00:01.0");
        const char *dev = "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0";
        char **none = (char **) 0x1;

        host_build(&h, "nvidia-desktop", NULL);
        ck_assert_int_eq(fakehost_devnode_add(h.root, "0000:01:00.1", "sound/card1/controlC1", "snd/controlC1"), 0);
        ck_assert_int_eq(fakehost_devnode_add(h.root, "0000:01:00.1", "sound/card1/pcmC1D3p", "snd/pcmC1D3p"), 0);
        ck_assert_int_eq(fakehost_graphics_add(h.root, 1, "nvidia-drmdrmfb", "0000:01:00.0"), 0);
        /* A connector's DDC bus, six levels down. */
        ck_assert_int_eq(fakehost_devnode_add(h.root, "0000:01:00.0", "drm/card0/card0-DP-1/i2c-5/i2c-dev/i2c-5",
                                              "i2c-5"),
                         0);
        /* A uevent without DEVNAME, a connector, odd names, a link out. */
        host_mkdir(&h, "%s/drm/card0/card0-DP-1", dev);
        host_write(&h, "DEVTYPE=drm_connector\n", "%s/drm/card0/card0-DP-1/uevent", dev);
        host_mkdir(&h, "%s/evil", dev);
        host_write(&h, "DEVNAME=../etc/shadow\n", "%s/evil/uevent", dev);
        host_mkdir(&h, "%s/abs", dev);
        host_write(&h, "DEVNAME=/dev/sda\n", "%s/abs/uevent", dev);
        host_symlink(&h, "../../../../devices/pci0000:00/0000:00:14.0", "%s/elsewhere", dev);

        ck_assert_int_eq(pci_device_dev_nodes(h.sr, &a, &gpu), 0);
        assert_strv(gpu, "/dev/dri/card0", "/dev/dri/renderD128", "/dev/fb1", "/dev/i2c-5", NULL);
        ck_assert_int_eq(pci_device_dev_nodes(h.sr, &b, &audio), 0);
        assert_strv(audio, "/dev/snd/controlC1", "/dev/snd/pcmC1D3p", NULL);
        /* A bridge: the functions below it are not its nodes. */
        ck_assert_int_eq(pci_device_dev_nodes(h.sr, &br, &bridge), 0);
        assert_strv(bridge, NULL);
        PciAddr gone = addr("0000:09:00.0");
        ck_assert_int_eq(pci_device_dev_nodes(h.sr, &gone, &none), -ENOENT);
        ck_assert_ptr_eq(none, (char **) 0x1);
}
END_TEST

START_TEST(test_pci_drivers_displays_ranges) {
        _cleanup_(host_done) Host h = {};
        _cleanup_free_ PciAddr *bound = NULL;
        _cleanup_free_ PciRange *ranges = NULL;
        PciDevice **displays = NULL;
        size_t n = 0;

        host_build(&h, "server-bmc", NULL);
        ck_assert_int_eq(pci_driver_devices(h.sr, "i915", &bound, &n), 0);
        ck_assert_uint_eq(n, 4);
        ck_assert(pci_addr_equal(&bound[0], &(PciAddr) { 0, 0x4d, 0, 0 }));
        ck_assert(pci_addr_equal(&bound[3], &(PciAddr) { 0, 0x50, 0, 0 }));
        free(bound);
        bound = NULL;
        ck_assert_int_eq(pci_driver_devices(h.sr, "nouveau", &bound, &n), 0);
        ck_assert_uint_eq(n, 0);
        ck_assert_int_eq(pci_driver_devices(h.sr, "../x", &bound, &n), -EINVAL);

        ck_assert_int_eq(pci_display_devices(h.sr, &displays, &n), 0);
        ck_assert_uint_eq(n, 5);
        ck_assert_str_eq(displays[0]->name, "0000:03:00.0");
        ck_assert_int_eq(displays[0]->boot_vga, 1);
        ck_assert_ptr_null(displays[0]->driver);
        ck_assert_str_eq(displays[1]->name, "0000:4d:00.0");
        ck_assert_int_eq(displays[1]->boot_vga, -1); /* not a VGA device: no attribute */
        pci_devices_free(displays, n);

        host_write(&h, "0x0000000091000000 0x0000000091ffffff 0x0000000000040200\n"
                       "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
                       "0x0000000000002000 0x000000000000207f 0x0000000000040101\n"
                       "0x0000000092000000 0x000000009203ffff 0x0000000000040200\n",
                   "sys/bus/pci/devices/0000:03:00.0/resource");
        PciAddr a = addr("0000:03:00.0");
        ck_assert_int_eq(pci_device_mem_ranges(h.sr, &a, &ranges, &n), 0);
        ck_assert_uint_eq(n, 2); /* the I/O port range is not memory */
        ck_assert(ranges[0].start == 0x91000000ULL && ranges[0].end == 0x91ffffffULL);
        ck_assert(ranges[1].start == 0x92000000ULL);
        host_write(&h, "junk\n", "sys/bus/pci/devices/0000:03:00.0/resource");
        free(ranges);
        ranges = NULL;
        ck_assert_int_eq(pci_device_mem_ranges(h.sr, &a, &ranges, &n), -EINVAL);

        /* boot_vga is 0 or 1. */
        PciDevice *d = NULL;
        host_write(&h, "2\n", "sys/bus/pci/devices/0000:03:00.0/boot_vga");
        ck_assert_int_eq(pci_device_read(h.sr, &a, &d), -EINVAL);
}
END_TEST

START_TEST(test_pci_driver_module) {
        _cleanup_(host_done) Host h = {};
        char *m = (char *) 0x1;

        host_shared(&h, "qemu-bochs");
        ck_assert_int_eq(pci_driver_module(h.sr, "bochs-drm", &m), 0);
        ck_assert_str_eq(m, "bochs");
        free(m);
        ck_assert_int_eq(pci_driver_module(h.sr, "../../module", &m), -EINVAL);
        ck_assert_int_eq(pci_driver_module(h.sr, "", &m), -EINVAL);
        /* A driver that is not there has no module link either. */
        ck_assert_int_eq(pci_driver_module(h.sr, "amdgpu", &m), 0);
        ck_assert_ptr_null(m);
}
END_TEST

START_TEST(test_pci_builtin_driver) {
        _cleanup_(host_done) Host h = {};
        _cleanup_pci_device_ PciDevice *gpu = NULL;

        host_shared(&h, "builtin-drm");
        gpu = read_dev(&h, "0000:03:00.0");
        ck_assert_str_eq(gpu->driver, "amdgpu");
        ck_assert_ptr_null(gpu->driver_module);
}
END_TEST

/* ---- consoles and framebuffers ---------------------------------------------- */

START_TEST(test_vtconsoles) {
        _cleanup_(host_done) Host h = {};
        VtConsole *l = NULL;
        size_t n = 0;

        host_build(&h, "nvidia-desktop", NULL);
        ck_assert_int_eq(fakehost_vtcon_add(h.root, 10, "(S) dummy device", 0), 0);
        ck_assert_int_eq(fakehost_vtcon_add(h.root, 2, "(M) frame buffer device", 0), 0);

        ck_assert_int_eq(vtconsoles_read(h.sr, &l, &n), 0);
        ck_assert_uint_eq(n, 4);
        ck_assert_str_eq(l[0].id, "vtcon0");
        ck_assert_str_eq(l[0].name, "(S) dummy device");
        ck_assert_int_eq(l[0].bind, 0);
        ck_assert(!vtconsole_is_fbcon(&l[0]));
        ck_assert_str_eq(l[1].id, "vtcon1");
        ck_assert_int_eq(l[1].bind, 1);
        ck_assert(vtconsole_is_fbcon(&l[1]));
        /* Sorted by number, not by name. */
        ck_assert_str_eq(l[2].id, "vtcon2");
        ck_assert_str_eq(l[3].id, "vtcon10");
        vtconsoles_free(l, n);
}
END_TEST

START_TEST(test_vtconsoles_malformed) {
        _cleanup_(host_done) Host h = {};
        VtConsole *l = (VtConsole *) 0x1;
        size_t n = 77;

        host_build(&h, "nvidia-desktop", NULL);
        host_write(&h, "2\n", "sys/devices/virtual/vtconsole/vtcon1/bind");
        ck_assert_int_eq(vtconsoles_read(h.sr, &l, &n), -EINVAL);
        host_write(&h, "yes\n", "sys/devices/virtual/vtconsole/vtcon1/bind");
        ck_assert_int_eq(vtconsoles_read(h.sr, &l, &n), -EINVAL);
        ck_assert_ptr_eq(l, (VtConsole *) 0x1);
        ck_assert_uint_eq(n, 77);
}
END_TEST

START_TEST(test_vtconsoles_gone) {
        _cleanup_(host_done) Host h = {};
        VtConsole *l = NULL;
        size_t n = 77;

        host_build(&h, "nvidia-desktop", NULL);
        /* A class link left dangling by a console that went away. */
        host_unlink(&h, "sys/devices/virtual/vtconsole/vtcon1");
        ck_assert_int_eq(vtconsoles_read(h.sr, &l, &n), 0);
        ck_assert_uint_eq(n, 1);
        vtconsoles_free(l, n);

        host_unlink(&h, "sys/class/vtconsole");
        ck_assert_int_eq(vtconsoles_read(h.sr, &l, &n), 0);
        ck_assert_uint_eq(n, 0);
        vtconsoles_free(l, n);
}
END_TEST

START_TEST(test_framebuffers) {
        _cleanup_(host_done) Host h = {};
        Framebuffer *l = NULL;
        size_t n = 0;

        host_build(&h, "nvidia-desktop", NULL);
        ck_assert_int_eq(framebuffers_read(h.sr, &l, &n), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(l[0].device, "efi-framebuffer.0");
        ck_assert_str_eq(l[0].driver, "efi-framebuffer");
        framebuffers_free(l, n);

        /* Other platform devices are not framebuffers; an unbound one has no driver. */
        ck_assert_int_eq(fakehost_fb_add(h.root, "serial8250", "serial8250"), 0);
        ck_assert_int_eq(fakehost_fb_add(h.root, "vesa-framebuffer.0", NULL), 0);
        ck_assert_int_eq(fakehost_fb_unbind(h.root, "efi-framebuffer.0"), 0);
        ck_assert_int_eq(framebuffers_read(h.sr, &l, &n), 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_str_eq(l[0].device, "efi-framebuffer.0");
        ck_assert_ptr_null(l[0].driver);
        ck_assert_str_eq(l[1].device, "vesa-framebuffer.0");
        ck_assert_ptr_null(l[1].driver);
        framebuffers_free(l, n);
}
END_TEST

START_TEST(test_framebuffers_fixtures) {
        Framebuffer *l = NULL;
        size_t n = 0;
        {
                _cleanup_(host_done) Host h = {};
                host_shared(&h, "amd-desktop");
                ck_assert_int_eq(framebuffers_read(h.sr, &l, &n), 0);
                ck_assert_uint_eq(n, 1);
                ck_assert_str_eq(l[0].device, "simple-framebuffer.0");
                ck_assert_str_eq(l[0].driver, "simple-framebuffer");
                framebuffers_free(l, n);
        }
        {
                /* The driver is there, the device is gone. */
                _cleanup_(host_done) Host h = {};
                host_shared(&h, "qemu-bochs");
                ck_assert_int_eq(framebuffers_read(h.sr, &l, &n), 0);
                ck_assert_uint_eq(n, 0);
                framebuffers_free(l, n);
        }
}
END_TEST

START_TEST(test_framebuffers_malformed) {
        _cleanup_(host_done) Host h = {};
        Framebuffer *l = (Framebuffer *) 0x1;
        size_t n = 0;

        host_build(&h, "nvidia-desktop", NULL);
        host_symlink(&h, "../../../bus/platform/drivers/efi framebuffer",
                     "sys/devices/platform/efi-framebuffer.0/driver");
        ck_assert_int_eq(framebuffers_read(h.sr, &l, &n), -EINVAL);
        ck_assert_ptr_eq(l, (Framebuffer *) 0x1);
}
END_TEST

START_TEST(test_graphics_fbs) {
        _cleanup_(host_done) Host h = {};
        GraphicsFb *l = NULL;
        size_t n = 0;

        host_build(&h, "server-bmc", NULL);
        ck_assert_int_eq(fakehost_graphics_add(h.root, 10, "i915drmfb", "0000:4e:00.0"), 0);
        ck_assert_int_eq(fakehost_graphics_add(h.root, 2, "virtual\001fb", NULL), 0);
        ck_assert_int_eq(graphics_fbs_read(h.sr, &l, &n), 0);
        ck_assert_uint_eq(n, 3);
        ck_assert_uint_eq(l[0].index, 0);
        ck_assert_str_eq(l[0].name, "simpledrmdrmfb");
        ck_assert_str_eq(l[0].device, "simple-framebuffer.0");
        ck_assert_uint_eq(l[1].index, 2);
        ck_assert_str_eq(l[1].name, "virtual?fb");
        ck_assert_ptr_null(l[1].device);
        ck_assert_uint_eq(l[2].index, 10);
        ck_assert_str_eq(l[2].device, "0000:4e:00.0");
        graphics_fbs_free(l, n);

        host_unlink(&h, "sys/class/graphics");
        ck_assert_int_eq(graphics_fbs_read(h.sr, &l, &n), 0);
        ck_assert_uint_eq(n, 0);
        graphics_fbs_free(l, n);
}
END_TEST

START_TEST(test_framebuffer_parent) {
        _cleanup_(host_done) Host h = {};
        Framebuffer *l = NULL;
        size_t n = 0;

        host_build(&h, "intel-igpu", NULL);
        ck_assert_int_eq(fakehost_fb_remove(h.root, "efi-framebuffer.0"), 0);
        ck_assert_int_eq(fakehost_fb_add_below(h.root, "efi-framebuffer.0", "efi-framebuffer", "0000:00:02.0"), 0);
        ck_assert_int_eq(fakehost_fb_add(h.root, "vesa-framebuffer.0", NULL), 0);
        ck_assert_int_eq(framebuffers_read(h.sr, &l, &n), 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_str_eq(l[0].parent, "0000:00:02.0");
        ck_assert_str_eq(l[1].parent, "");
        framebuffers_free(l, n);
}
END_TEST

static char *fbcon_map(const char *cmdline) {
        _cleanup_strv_free_ char **words = NULL;
        char *map = NULL;
        ck_assert_int_eq(cmdline_split(cmdline, &words), 0);
        ck_assert_int_eq(fbcon_map_from_cmdline(words, &map), 0);
        return map;
}

START_TEST(test_fbcon_map_parse) {
        static const struct {
                const char *cmdline, *map;
        } cases[] = {
                { "root=/dev/sda1 quiet", "0" },
                { "fbcon=map:1", "1" },
                { "fbcon=map:0101", "01" },
                { "fbcon=font:VGA8x16,map:21,rotate:1", "21" },
                { "fbcon=map:1 fbcon=map:2", "2" },   /* the last one counts */
                { "fbcon=map:", "0" },
                { "fbcon=map:x1", "0" },
                { "fbcon=nodefer", "0" },
                { "fbcon=map:3 -- fbcon=map:1", "3" }, /* after --: init's */
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *m = fbcon_map(cases[i].cmdline);
                ck_assert_msg(streq(m, cases[i].map), "%s: %s, expected %s", cases[i].cmdline, m, cases[i].map);
        }
}
END_TEST

START_TEST(test_iomem_firmware_fb) {
        FirmwareFbMemory m;

        /* simpledrm under BOOTFB under the ASPEED's BAR, as a server lists it. */
        ck_assert_int_eq(iomem_firmware_fb("90000000-9fffffff : PCI Bus 0000:00\n"
                                           "  91000000-920fffff : PCI Bus 0000:02\n"
                                           "    91000000-91ffffff : 0000:03:00.0\n"
                                           "      91000000-912fffff : BOOTFB\n"
                                           "        91000000-912fffff : simpledrm\n",
                                           &m),
                         1);
        ck_assert_str_eq(m.resource, "BOOTFB");
        ck_assert_str_eq(m.owner, "0000:03:00.0");
        ck_assert(m.start == 0x91000000ULL && m.end == 0x912fffffULL);

        /* As a user reads it (addresses zeroed): the nesting still tells. */
        ck_assert_int_eq(iomem_firmware_fb("00000000-00000000 : PCI Bus 0000:00\n"
                                           "  00000000-00000000 : 0000:00:02.0\n"
                                           "  00000000-00000000 : 0000:01:00.0\n"
                                           "    00000000-00000000 : efifb\n",
                                           &m),
                         1);
        ck_assert_str_eq(m.owner, "0000:01:00.0");
        ck_assert(m.start == 0 && m.end == 0);

        /* Not nested: found, owner unknown; a sibling's address is no parent. */
        ck_assert_int_eq(iomem_firmware_fb("c0000000-c0ffffff : 0000:00:02.0\n"
                                           "c0000000-c03fffff : vesafb\n",
                                           &m),
                         1);
        ck_assert_str_eq(m.resource, "vesafb");
        ck_assert_str_eq(m.owner, "");

        /* A deeper sibling subtree before it does not count either. */
        ck_assert_int_eq(iomem_firmware_fb("80000000-8fffffff : PCI Bus 0000:00\n"
                                           "  80000000-80ffffff : 0000:00:02.0\n"
                                           "    80000000-80ffffff : i915\n"
                                           "  81000000-81ffffff : Reserved\n"
                                           "    81000000-813fffff : efifb\n",
                                           &m),
                         1);
        ck_assert_str_eq(m.owner, "");

        /* Nothing of the kind, junk, odd indentation. */
        ck_assert_int_eq(iomem_firmware_fb("00000000-00000fff : Reserved\n  c0000000-c0ffffff : bochs-drm\n", &m), 0);
        ck_assert_int_eq(iomem_firmware_fb("efifb\n : efifb\nzz-yy : efifb\n   c0-c1 : efifb\n", &m), 0);
        ck_assert_int_eq(iomem_firmware_fb("", &m), 0);
        ck_assert_str_eq(m.resource, "");
}
END_TEST

START_TEST(test_framebuffer_name_valid) {
        ck_assert(framebuffer_name_valid("efi-framebuffer.0"));
        ck_assert(framebuffer_name_valid("simple-framebuffer.0"));
        ck_assert(framebuffer_name_valid("vesa-framebuffer.12"));
        ck_assert(!framebuffer_name_valid("efi-framebuffer."));
        ck_assert(!framebuffer_name_valid("efi-framebuffer.0/../x"));
        ck_assert(!framebuffer_name_valid("efi-framebuffer.x"));
        ck_assert(!framebuffer_name_valid("efi-framebuffer"));
        ck_assert(!framebuffer_name_valid("serial8250"));
        ck_assert(!framebuffer_name_valid("bd000000.framebuffer"));
        ck_assert(!framebuffer_name_valid(""));
        ck_assert(!framebuffer_name_valid(NULL));
        ck_assert(!framebuffer_name_valid("efi-framebuffer.000000000000000000000000000000000000000000000000000000"));
}
END_TEST

/* ---- modules ------------------------------------------------------------------ */

START_TEST(test_module_names) {
        char s[] = "snd-hda-intel";

        ck_assert(module_name_valid("nvidia_drm"));
        ck_assert(module_name_valid("snd-hda-intel"));
        ck_assert(module_name_valid("BusLogic"));
        ck_assert(module_name_valid("8021q"));
        ck_assert(!module_name_valid(""));
        ck_assert(!module_name_valid(NULL));
        ck_assert(!module_name_valid("../nvidia"));
        ck_assert(!module_name_valid("nv.idia"));
        ck_assert(!module_name_valid("nvidia drm"));
        ck_assert(!module_name_valid("n\xc3\xa9"));
        ck_assert(module_name_valid("a234567890123456789012345678901234567890123456789012345"));
        ck_assert(!module_name_valid("a2345678901234567890123456789012345678901234567890123456"));
        module_name_normalize(s);
        ck_assert_str_eq(s, "snd_hda_intel");
}
END_TEST

START_TEST(test_module_info) {
        _cleanup_(host_done) Host h = {};
        ModuleInfo m = {};

        host_shared(&h, "nvidia-desktop");

        ck_assert_int_eq(module_info_read(h.sr, "nvidia", &m), 0);
        ck_assert_str_eq(m.name, "nvidia");
        ck_assert_int_eq(m.state, MODULE_LOADED);
        ck_assert_int_eq(m.refcnt, 34);
        assert_strv(m.holders, "nvidia_modeset", "nvidia_uvm", NULL);
        module_info_done(&m);

        ck_assert_int_eq(module_info_read(h.sr, "nvidia-drm", &m), 0);
        ck_assert_str_eq(m.name, "nvidia_drm");
        ck_assert_int_eq(m.state, MODULE_LOADED);
        ck_assert_int_eq(m.refcnt, 2);
        assert_strv(m.holders, NULL);
        module_info_done(&m);

        ck_assert_int_eq(module_info_read(h.sr, "radeon", &m), 0);
        ck_assert_int_eq(m.state, MODULE_ABSENT);
        ck_assert_int_eq(m.refcnt, -1);
        assert_strv(m.holders, NULL);
        module_info_done(&m);

        ck_assert_int_eq(module_info_read(h.sr, "efifb", &m), 0);
        ck_assert_int_eq(m.state, MODULE_BUILTIN);
        ck_assert_int_eq(m.refcnt, -1);
        module_info_done(&m);
}
END_TEST

START_TEST(test_module_info_sources) {
        _cleanup_(host_done) Host h = {};
        ModuleInfo m = {};

        host_build(&h, "builtin-drm", NULL);

        /* In modules.builtin and in sys/module without initstate. */
        ck_assert_int_eq(module_info_read(h.sr, "amdgpu", &m), 0);
        ck_assert_int_eq(m.state, MODULE_BUILTIN);
        module_info_done(&m);
        /* modules.builtin says snd-hda-intel.ko: '-' and '_' are one. */
        ck_assert_int_eq(module_info_read(h.sr, "snd_hda_intel", &m), 0);
        ck_assert_int_eq(m.state, MODULE_BUILTIN);
        module_info_done(&m);

        /* Only in sys/module, without initstate: built in too. */
        host_mkdir(&h, "sys/module/vt/parameters");
        ck_assert_int_eq(module_info_read(h.sr, "vt", &m), 0);
        ck_assert_int_eq(m.state, MODULE_BUILTIN);
        module_info_done(&m);

        /* Loaded, known only from proc/modules. */
        host_write(&h, "ghost 16384 5 a,b-c, Live 0x0\n", "proc/modules");
        ck_assert_int_eq(module_info_read(h.sr, "ghost", &m), 0);
        ck_assert_int_eq(m.state, MODULE_LOADED);
        ck_assert_int_eq(m.refcnt, 5);
        assert_strv(m.holders, "a", "b_c", NULL);
        module_info_done(&m);

        /* Loaded, known only from sys/module (no proc/modules, as in a container). */
        host_unlink(&h, "proc/modules");
        ck_assert_int_eq(fakehost_module_add(h.root, "kvm", 3, STRV("kvm_amd")), 0);
        ck_assert_int_eq(module_info_read(h.sr, "kvm", &m), 0);
        ck_assert_int_eq(m.state, MODULE_LOADED);
        ck_assert_int_eq(m.refcnt, 3);
        assert_strv(m.holders, "kvm_amd", NULL);
        module_info_done(&m);

        /* Without osrelease there is no modules.builtin to look in. */
        host_unlink(&h, "proc/sys/kernel/osrelease");
        ck_assert_int_eq(module_info_read(h.sr, "snd_hda_intel", &m), 0);
        ck_assert_int_eq(m.state, MODULE_ABSENT);
        module_info_done(&m);
}
END_TEST

START_TEST(test_module_info_malformed) {
        _cleanup_(host_done) Host h = {};
        ModuleInfo m = { .name = (char *) 0x1 };

        host_build(&h, "nvidia-desktop", NULL);
        ck_assert_int_eq(module_info_read(h.sr, "../etc", &m), -EINVAL);
        ck_assert_int_eq(module_info_read(h.sr, "", &m), -EINVAL);

        host_write(&h, "lots\n", "sys/module/nvidia/refcnt");
        ck_assert_int_eq(module_info_read(h.sr, "nvidia", &m), -EINVAL);
        host_write(&h, "34\n", "sys/module/nvidia/refcnt");

        host_write(&h, "nvidia 1 x - Live 0x0\n", "proc/modules");
        ck_assert_int_eq(module_info_read(h.sr, "nvidia", &m), -EINVAL);
        host_write(&h, "nvidia 1\n", "proc/modules");
        ck_assert_int_eq(module_info_read(h.sr, "nvidia", &m), -EINVAL);
        host_write(&h, "nvidia 1 2 ../x, Live 0x0\n", "proc/modules");
        ck_assert_int_eq(module_info_read(h.sr, "nvidia", &m), -EINVAL);
        host_write(&h, "", "proc/modules");

        host_symlink(&h, "../../x", "sys/module/nvidia/holders/bad.name");
        ck_assert_int_eq(module_info_read(h.sr, "nvidia", &m), -EINVAL);
        host_unlink(&h, "sys/module/nvidia/holders/bad.name");

        host_write(&h, "../../etc\n", "proc/sys/kernel/osrelease");
        ck_assert_int_eq(module_info_read(h.sr, "radeon", &m), -EINVAL);

        ck_assert_ptr_eq(m.name, (char *) 0x1);
}
END_TEST

START_TEST(test_unload_order_nvidia) {
        _cleanup_(host_done) Host h = {};
        _cleanup_strv_free_ char **order = NULL, **builtin = NULL, **order2 = NULL, **order3 = NULL;

        host_shared(&h, "nvidia-desktop");

        ck_assert_int_eq(modules_unload_order(h.sr, STRV("nvidia"), &order, &builtin), 0);
        assert_strv(order, "nvidia_drm", "nvidia_modeset", "nvidia_uvm", "nvidia", NULL);
        assert_strv(builtin, NULL);

        /* However the caller lists them. */
        ck_assert_int_eq(modules_unload_order(h.sr, (char **) stack_modules(STACK_NVIDIA), &order2, NULL), 0);
        assert_strv(order2, "nvidia_drm", "nvidia_modeset", "nvidia_uvm", "nvidia", NULL);
        ck_assert_int_eq(modules_unload_order(h.sr,
                                              STRV("nvidia_uvm", "nvidia-drm", "nvidia", "nvidia_modeset",
                                                           "nvidia"),
                                              &order3, NULL),
                         0);
        assert_strv(order3, "nvidia_drm", "nvidia_modeset", "nvidia_uvm", "nvidia", NULL);
}
END_TEST

START_TEST(test_unload_order_shared) {
        _cleanup_(host_done) Host h = {};
        _cleanup_strv_free_ char **order = NULL, **one = NULL, **none = NULL;

        /* ttm is held by drm_ttm_helper and drm_vram_helper, both held by bochs. */
        host_shared(&h, "qemu-bochs");
        ck_assert_int_eq(modules_unload_order(h.sr, STRV("ttm"), &order, NULL), 0);
        assert_strv(order, "bochs", "drm_vram_helper", "drm_ttm_helper", "ttm", NULL);
        ck_assert_int_eq(modules_unload_order(h.sr, STRV("bochs"), &one, NULL), 0);
        assert_strv(one, "bochs", NULL);
        ck_assert_int_eq(modules_unload_order(h.sr, NULL, &none, NULL), 0);
        assert_strv(none, NULL);
}
END_TEST

START_TEST(test_unload_order_builtin) {
        _cleanup_(host_done) Host h = {};
        _cleanup_strv_free_ char **order = NULL, **builtin = NULL;

        host_shared(&h, "builtin-drm");
        ck_assert_int_eq(modules_unload_order(h.sr, STRV("amdgpu", "radeon", "snd-hda-intel"), &order,
                                              &builtin),
                         0);
        assert_strv(order, NULL);
        assert_strv(builtin, "amdgpu", "snd_hda_intel", NULL);
}
END_TEST

START_TEST(test_unload_order_bad_trees) {
        _cleanup_(host_done) Host h = {};
        char **order = (char **) 0x1, **builtin = (char **) 0x1;
        char name[32], holder[32];

        host_empty(&h);
        ck_assert_int_eq(fakehost_module_add(h.root, "a", 1, STRV("b")), 0);
        ck_assert_int_eq(fakehost_module_add(h.root, "b", 1, STRV("a")), 0);
        ck_assert_int_eq(modules_unload_order(h.sr, STRV("a"), &order, &builtin), -ELOOP);

        /* A chain far deeper than any real stack. */
        for (int i = 0; i < 40; i++) {
                snprintf(name, sizeof name, "m%d", i);
                snprintf(holder, sizeof holder, "m%d", i + 1);
                ck_assert_int_eq(fakehost_module_add(h.root, name, 1, STRV(holder)), 0);
        }
        ck_assert_int_eq(fakehost_module_add(h.root, "m40", 0, NULL), 0);
        ck_assert_int_eq(modules_unload_order(h.sr, STRV("m0"), &order, &builtin), -ELOOP);
        ck_assert_int_eq(modules_unload_order(h.sr, STRV("bad.name"), &order, &builtin), -EINVAL);
        ck_assert_ptr_eq(order, (char **) 0x1);
        ck_assert_ptr_eq(builtin, (char **) 0x1);

        /* A shallow chain is fine. */
        ck_assert_int_eq(modules_unload_order(h.sr, STRV("m37"), &order, NULL), 0);
        assert_strv(order, "m40", "m39", "m38", "m37", NULL);
        strv_free(order);
}
END_TEST

/* ---- holders ---------------------------------------------------------------------- */

static void assert_holder(const Holder *x, pid_t pid, const char *command, const char *path) {
        ck_assert_int_eq(x->pid, pid);
        ck_assert_str_eq(x->command, command);
        ck_assert_str_eq(x->path, path);
}

START_TEST(test_holders) {
        _cleanup_(host_done) Host h = {};
        Holder *l = NULL;
        size_t n = 0;

        host_shared(&h, "nvidia-desktop");
        ck_assert_int_eq(holders_find(h.sr, STRV("/dev/dri/card0", "/dev/dri/renderD128"), STRV("/dev/nvidia"), &l, &n), 0);
        ck_assert_uint_eq(n, 5);
        assert_holder(&l[0], 1234, "Xorg", "/dev/dri/card0");
        assert_holder(&l[1], 1234, "Xorg", "/dev/nvidia-modeset");
        assert_holder(&l[2], 1234, "Xorg", "/dev/nvidia0");
        assert_holder(&l[3], 1234, "Xorg", "/dev/nvidiactl");
        assert_holder(&l[4], 1301, "nvidia-persiste", "/dev/nvidiactl");
        holders_free(l, n);

        ck_assert_int_eq(holders_find(h.sr, STRV("/dev/dri/card0"), NULL, &l, &n), 0);
        ck_assert_uint_eq(n, 1);
        assert_holder(&l[0], 1234, "Xorg", "/dev/dri/card0");
        holders_free(l, n);

        ck_assert_int_eq(holders_find(h.sr, NULL, NULL, &l, &n), 0);
        ck_assert_uint_eq(n, 0);
        holders_free(l, n);
}
END_TEST

START_TEST(test_holders_edge_cases) {
        _cleanup_(host_done) Host h = {};
        Holder *l = NULL;
        size_t n = 0;

        host_build(&h, "amd-desktop", NULL);
        /* The same node twice is one holder; a process gone mid-scan (no
         * comm left) and entries that are no processes are skipped. */
        ck_assert_int_eq(fakehost_process_add(h.root, 42, "twice", STRV("/dev/dri/card0", "/dev/dri/card0")), 0);
        host_mkdir(&h, "proc/777/fd");
        host_symlink(&h, "/dev/dri/card0", "proc/777/fd/4");
        host_symlink(&h, "1", "proc/self");
        host_mkdir(&h, "proc/0042x/fd");
        host_symlink(&h, "/dev/dri/card0", "proc/0042x/fd/1");
        host_write(&h, "", "proc/1/fd/not-a-number");
        /* A deleted node is not the node. */
        ck_assert_int_eq(fakehost_process_add(h.root, 43, "stale", STRV("/dev/dri/card0 (deleted)")), 0);

        ck_assert_int_eq(holders_find(h.sr, STRV("/dev/dri/card0"), NULL, &l, &n), 0);
        ck_assert_uint_eq(n, 2);
        assert_holder(&l[0], 42, "twice", "/dev/dri/card0");
        assert_holder(&l[1], 1500, "gnome-shell", "/dev/dri/card0");
        holders_free(l, n);
}
END_TEST

START_TEST(test_holders_errors) {
        _cleanup_(host_done) Host h = {};
        Holder *l = (Holder *) 0x1;
        size_t n = 77;

        host_empty(&h);
        host_unlink(&h, "proc");
        ck_assert_int_eq(holders_find(h.sr, NULL, STRV("/dev/nvidia"), &l, &n), 0);
        ck_assert_uint_eq(n, 0);
        holders_free(l, n);

        l = (Holder *) 0x1;
        n = 77;
        host_write(&h, "not a directory", "proc");
        ck_assert_int_eq(holders_find(h.sr, NULL, STRV("/dev/nvidia"), &l, &n), -ENOTDIR);
        ck_assert_ptr_eq(l, (Holder *) 0x1);
        ck_assert_uint_eq(n, 77);
}
END_TEST

START_TEST(test_cgroups) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *u = NULL, *v = NULL, *w = NULL;

        ck_assert_int_eq(cgroup_from_proc("0::/user.slice/user-1000.slice/session-2.scope\n", &a), 0);
        ck_assert_str_eq(a, "/user.slice/user-1000.slice/session-2.scope");
        /* Hybrid: the unified line says "/", systemd's hierarchy knows. */
        ck_assert_int_eq(cgroup_from_proc("12:cpu,cpuacct:/\n1:name=systemd:/system.slice/gdm.service\n0::/\n", &b), 0);
        ck_assert_str_eq(b, "/system.slice/gdm.service");
        ck_assert_int_eq(cgroup_from_proc("5:memory:/x\n", &c), 0);
        ck_assert_ptr_null(c);
        ck_assert_int_eq(cgroup_from_proc("0::relative\n", &d), 0);
        ck_assert_ptr_null(d);

        ck_assert_int_eq(cgroup_unit(a, &u), 0);
        ck_assert_str_eq(u, "session-2.scope");
        ck_assert_int_eq(cgroup_unit("/user.slice/user-1000.slice/user@1000.service/app.slice/app-x.scope/sub", &v), 0);
        ck_assert_str_eq(v, "app-x.scope");
        ck_assert_int_eq(cgroup_unit("/init.slice", &w), 0);
        ck_assert_ptr_null(w);

        ck_assert(cgroup_in_unit("/system.slice/gdm.service/payload", "gdm.service"));
        ck_assert(!cgroup_in_unit("/system.slice/gdm.service2", "gdm.service"));
        ck_assert(!cgroup_in_unit("/system.slice/xgdm.service", "gdm.service"));
        ck_assert(cgroup_in_user_session("/user.slice/user-1000.slice/session-2.scope"));
        ck_assert(!cgroup_in_user_session("/user.slicer/x"));
        ck_assert(!cgroup_in_user_session(NULL));

        ck_assert(cgroup_path_valid("/system.slice/gdm.service"));
        ck_assert(cgroup_path_valid("/system.slice/getty@tty1.service"));
        ck_assert(!cgroup_path_valid(NULL));
        ck_assert(!cgroup_path_valid(""));
        ck_assert(!cgroup_path_valid("/"));
        ck_assert(!cgroup_path_valid("system.slice/gdm.service"));
        ck_assert(!cgroup_path_valid("/system.slice//gdm.service"));
        ck_assert(!cgroup_path_valid("/system.slice/gdm.service/"));
        ck_assert(!cgroup_path_valid("/system.slice/../../etc"));
        ck_assert(!cgroup_path_valid("/system.slice/./x"));
        ck_assert(!cgroup_path_valid("/system.slice/a b"));
        ck_assert(!cgroup_path_valid("/system.slice/a\nb"));
}
END_TEST

/* A started display manager is drawing once a process of its own cgroup
 * holds a card node: only the cgroup's processes are looked at. */
START_TEST(test_holders_in_cgroup) {
        _cleanup_(host_done) Host h = {};
        char *const card[] = { (char *) "/dev/dri/card", NULL };

        host_empty(&h);
        ck_assert_int_eq(fakehost_process_add(h.root, 700, "Xorg", STRV("/dev/null", "/dev/dri/card1")), 0);
        ck_assert_int_eq(fakehost_process_add(h.root, 701, "sddm", STRV("/dev/null")), 0);
        ck_assert_int_eq(fakehost_process_add(h.root, 900, "other", STRV("/dev/dri/card0")), 0);
        host_mkdir(&h, "sys/fs/cgroup/system.slice/sddm.service");
        host_write(&h, "701\n", "sys/fs/cgroup/system.slice/sddm.service/cgroup.procs");
        ck_assert_int_eq(holders_in_cgroup(h.sr, "/system.slice/sddm.service", card), 0);
        /* Xorg joins it (and a pid that is gone is skipped). */
        host_write(&h, "701\n4242\n700\n", "sys/fs/cgroup/system.slice/sddm.service/cgroup.procs");
        ck_assert_int_eq(holders_in_cgroup(h.sr, "/system.slice/sddm.service", card), 1);
        ck_assert_int_eq(holders_in_cgroup(h.sr, "/system.slice/sddm.service", STRV("/dev/nvidia")), 0);
        /* A cgroup that is gone holds nothing; a bad path is refused. */
        ck_assert_int_eq(holders_in_cgroup(h.sr, "/system.slice/gone.service", card), 0);
        ck_assert_int_eq(holders_in_cgroup(h.sr, "/system.slice/../../proc", card), -EINVAL);
}
END_TEST

START_TEST(test_holders_units) {
        _cleanup_(host_done) Host h = {};
        Holder *l = NULL;
        size_t n = 0;

        host_build(&h, "dual-gpu-desktop", NULL);
        ck_assert_int_eq(holders_find(h.sr, STRV("/dev/dri/card0"), STRV("/dev/nvidia"), &l, &n), 0);
        ck_assert_uint_eq(n, 3);
        assert_holder(&l[0], 1301, "nvidia-persiste", "/dev/nvidia0");
        ck_assert_str_eq(l[0].cgroup, "/system.slice/nvidia-persistenced.service");
        ck_assert_str_eq(l[0].unit, "nvidia-persistenced.service");
        assert_holder(&l[2], 1500, "gnome-shell", "/dev/dri/card0");
        ck_assert_str_eq(l[2].unit, "org.gnome.Shell@wayland.service");
        _cleanup_free_ char *who = holder_describe(&l[2]);
        ck_assert_str_eq(who, "pid 1500 (gnome-shell, org.gnome.Shell@wayland.service)");
        holders_free(l, n);

        /* No cgroup file: unknown, described by command alone. */
        host_unlink(&h, "proc/1500/cgroup");
        ck_assert_int_eq(holders_find(h.sr, STRV("/dev/dri/card0"), NULL, &l, &n), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_ptr_null(l[0].cgroup);
        ck_assert_ptr_null(l[0].unit);
        _cleanup_free_ char *who2 = holder_describe(&l[0]);
        ck_assert_str_eq(who2, "pid 1500 (gnome-shell)");
        holders_free(l, n);
}
END_TEST

/* ---- facts ------------------------------------------------------------------------- */

typedef struct TestDomain {
        Domain d;
        HostDev devs[4];
        Policy p;
} TestDomain;

static void test_domain(TestDomain *t, const char *const *addrs) {
        *t = (TestDomain) {};
        policy_init(&t->p);
        t->d.name = (char *) "win10";
        t->d.hostdevs = t->devs;
        t->d.policy = &t->p;
        for (size_t i = 0; addrs[i]; i++) {
                ck_assert_uint_lt(i, ELEMENTSOF(t->devs));
                t->devs[i] = (HostDev) { .addr = addr(addrs[i]), .managed = true };
                t->d.n_hostdevs++;
        }
}

static void test_domain_done(TestDomain *t) {
        policy_done(&t->p);
}

static HostFacts gather(Host *h, const Domain *d, bool units) {
        HostFacts f = {};
        int r = host_facts_gather(h->sr, d, units ? unit_state_from_tree : NULL, h->sr, &f);
        ck_assert_msg(r == 0, "host_facts_gather: %d", r);
        return f;
}

static const char *const NVIDIA[] = { "0000:01:00.0", "0000:01:00.1", NULL };
static const char *const AMD[] = { "0000:03:00.0", "0000:03:00.1", NULL };
static const char *const INTEL[] = { "0000:00:02.0", NULL };

START_TEST(test_facts_nvidia) {
        _cleanup_(host_done) Host h = {};
        _cleanup_(test_domain_done) TestDomain t = {};
        _cleanup_(host_facts_done) HostFacts f = {};

        host_shared(&h, "nvidia-desktop");
        test_domain(&t, NVIDIA);
        ck_assert_int_eq(strv_extend(&t.p.services, "nvidia-persistenced.service"), 0);
        f = gather(&h, &t.d, true);

        ck_assert_uint_eq(f.n_hostdevs, 2);
        ck_assert_str_eq(f.hostdevs[0]->driver, "nvidia");
        ck_assert_str_eq(f.hostdevs[1]->driver, "snd_hda_intel");
        ck_assert_uint_eq(f.n_others, 1);
        ck_assert_str_eq(f.others[0]->name, "0000:00:01.0");
        ck_assert(f.others[0]->is_bridge);
        ck_assert_int_eq(f.n_iommu_groups, 4);
        ck_assert(f.has_display);
        ck_assert_uint_eq(f.n_vtconsoles, 2);
        ck_assert_uint_eq(f.n_framebuffers, 1);
        ck_assert_int_eq(f.stack, STACK_NVIDIA);
        assert_strv(f.stack_roots, "nvidia_drm", "nvidia_modeset", "nvidia_uvm", "nvidia", NULL);
        assert_strv(f.unload_order, "nvidia_drm", "nvidia_modeset", "nvidia_uvm", "nvidia", NULL);
        assert_strv(f.builtin_modules, NULL);
        ck_assert_uint_eq(f.n_holders, 5);
        assert_holder(&f.holders[0], 1234, "Xorg", "/dev/dri/card0");
        assert_holder(&f.holders[4], 1301, "nvidia-persiste", "/dev/nvidiactl");
        ck_assert_uint_eq(f.n_units, 2);
        ck_assert_str_eq(f.units[0].name, "display-manager.service");
        ck_assert_int_eq(f.units[0].state, UNIT_ACTIVE);
        ck_assert_str_eq(f.units[1].name, "nvidia-persistenced.service");
        ck_assert_int_eq(f.units[1].state, UNIT_ACTIVE);
}
END_TEST

START_TEST(test_facts_nvidia_defaults) {
        _cleanup_(host_done) Host h = {};
        _cleanup_(test_domain_done) TestDomain t = {};
        _cleanup_(host_facts_done) HostFacts f = {};

        host_shared(&h, "nvidia-desktop");
        test_domain(&t, NVIDIA);
        t.d.policy = NULL; /* no policy: the defaults */
        f = gather(&h, &t.d, false);
        ck_assert_int_eq(f.stack, STACK_NVIDIA);
        assert_strv(f.unload_order, "nvidia_drm", "nvidia_modeset", "nvidia_uvm", "nvidia", NULL);
        /* The stack's own service comes along; without a state function all are absent. */
        ck_assert_uint_eq(f.n_units, 2);
        ck_assert_str_eq(f.units[0].name, "display-manager.service");
        ck_assert_int_eq(f.units[0].state, UNIT_ABSENT);
        ck_assert_str_eq(f.units[1].name, "nvidia-persistenced.service");
        ck_assert_int_eq(f.units[1].state, UNIT_ABSENT);
}
END_TEST

START_TEST(test_facts_amd) {
        _cleanup_(host_done) Host h = {};
        _cleanup_(test_domain_done) TestDomain t = {};
        _cleanup_(host_facts_done) HostFacts f = {};

        host_shared(&h, "amd-desktop");
        test_domain(&t, AMD);
        ck_assert_int_eq(strv_extend(&t.p.modules, "snd_hda_intel"), 0);
        f = gather(&h, &t.d, true);

        ck_assert_uint_eq(f.n_others, 0);
        ck_assert_int_eq(f.stack, STACK_AMDGPU);
        assert_strv(f.stack_roots, "amdgpu", "snd_hda_intel", NULL);
        assert_strv(f.unload_order, "amdgpu", "snd_hda_intel", NULL);
        ck_assert_uint_eq(f.n_framebuffers, 1);
        ck_assert_str_eq(f.framebuffers[0].device, "simple-framebuffer.0");
        ck_assert_uint_eq(f.n_holders, 3);
        assert_holder(&f.holders[0], 1500, "gnome-shell", "/dev/dri/card0");
        assert_holder(&f.holders[1], 1500, "gnome-shell", "/dev/dri/renderD128");
        assert_holder(&f.holders[2], 1620, "Xwayland", "/dev/dri/renderD128");
        ck_assert_uint_eq(f.n_units, 1);
        ck_assert_int_eq(f.units[0].state, UNIT_ACTIVE);
}
END_TEST

START_TEST(test_facts_intel) {
        _cleanup_(host_done) Host h = {};
        _cleanup_(test_domain_done) TestDomain t = {};
        _cleanup_(host_facts_done) HostFacts f = {};

        host_shared(&h, "intel-igpu");
        test_domain(&t, INTEL);
        f = gather(&h, &t.d, true);
        ck_assert_uint_eq(f.n_others, 0);
        ck_assert_int_eq(f.stack, STACK_I915);
        assert_strv(f.unload_order, "i915", NULL);
        ck_assert_uint_eq(f.n_holders, 1);
        assert_holder(&f.holders[0], 1400, "Xorg", "/dev/dri/card0");
}
END_TEST

START_TEST(test_facts_nonviable) {
        _cleanup_(host_done) Host h = {};
        _cleanup_(test_domain_done) TestDomain t = {};
        _cleanup_(host_facts_done) HostFacts f = {};

        host_shared(&h, "nonviable-group");
        test_domain(&t, NVIDIA);
        f = gather(&h, &t.d, true);
        ck_assert_uint_eq(f.n_others, 3);
        ck_assert_str_eq(f.others[0]->name, "0000:00:01.0");
        ck_assert_str_eq(f.others[1]->name, "0000:00:01.1");
        ck_assert_str_eq(f.others[2]->name, "0000:02:00.0");
        ck_assert(!f.others[2]->is_bridge);
        ck_assert_str_eq(f.others[2]->driver, "igb");
}
END_TEST

START_TEST(test_facts_builtin) {
        _cleanup_(host_done) Host h = {};
        _cleanup_(test_domain_done) TestDomain t = {};
        _cleanup_(host_facts_done) HostFacts f = {};

        host_shared(&h, "builtin-drm");
        test_domain(&t, AMD);
        f = gather(&h, &t.d, true);
        ck_assert_int_eq(f.stack, STACK_AMDGPU);
        assert_strv(f.unload_order, NULL);
        assert_strv(f.builtin_modules, "amdgpu", NULL);
        ck_assert_uint_eq(f.n_framebuffers, 0);
}
END_TEST

START_TEST(test_facts_no_iommu) {
        _cleanup_(host_done) Host h = {};
        _cleanup_(test_domain_done) TestDomain t = {};
        _cleanup_(host_facts_done) HostFacts f = {};

        host_shared(&h, "no-iommu");
        test_domain(&t, NVIDIA);
        f = gather(&h, &t.d, true);
        ck_assert_int_eq(f.n_iommu_groups, 0);
        ck_assert_int_eq(f.hostdevs[0]->iommu_group, -1);
        ck_assert_uint_eq(f.n_others, 0);
        ck_assert_int_eq(f.stack, STACK_NOUVEAU);
        assert_strv(f.unload_order, "nouveau", NULL);
        /* No unit file for the display manager in this tree. */
        ck_assert_uint_eq(f.n_units, 1);
        ck_assert_int_eq(f.units[0].state, UNIT_ABSENT);
        ck_assert_uint_eq(f.n_holders, 1);
}
END_TEST

START_TEST(test_facts_other_driver) {
        _cleanup_(host_done) Host h = {};
        _cleanup_(test_domain_done) TestDomain t = {};
        _cleanup_(host_facts_done) HostFacts f = {};

        /* bochs-drm is no built-in stack: its module is the root. */
        host_shared(&h, "qemu-bochs");
        test_domain(&t, (const char *const[]) { "0000:00:01.0", NULL });
        f = gather(&h, &t.d, true);
        ck_assert_int_eq(f.stack, STACK_AUTO);
        assert_strv(f.stack_roots, "bochs", NULL);
        assert_strv(f.unload_order, "bochs", NULL);
        ck_assert_uint_eq(f.n_framebuffers, 0);
        ck_assert_uint_eq(f.n_vtconsoles, 2);
}
END_TEST

START_TEST(test_facts_stack_choices) {
        _cleanup_(host_done) Host h = {};
        _cleanup_(test_domain_done) TestDomain t = {};
        HostFacts f = {};

        host_shared(&h, "nvidia-desktop");
        test_domain(&t, NVIDIA);

        /* none: no stack, but the listed modules still count. */
        t.p.stack = STACK_NONE;
        ck_assert_int_eq(strv_extend(&t.p.modules, "snd_hda_intel"), 0);
        f = gather(&h, &t.d, true);
        ck_assert_int_eq(f.stack, STACK_NONE);
        assert_strv(f.stack_roots, "snd_hda_intel", NULL);
        assert_strv(f.unload_order, "snd_hda_intel", NULL);
        /* Without the nvidia stack, /dev/nvidia* are not looked for. */
        ck_assert_uint_eq(f.n_holders, 1);
        ck_assert_uint_eq(f.n_units, 1);
        host_facts_done(&f);

        /* A named stack is taken as said, loaded or not. */
        t.p.stack = STACK_AMDGPU;
        t.p.display_manager = CHOICE_KEEP;
        f = gather(&h, &t.d, true);
        ck_assert_int_eq(f.stack, STACK_AMDGPU);
        assert_strv(f.stack_roots, "amdgpu", "snd_hda_intel", NULL);
        assert_strv(f.unload_order, "snd_hda_intel", NULL);
        /* The display manager is looked at all the same: the plan says it stays. */
        ck_assert_uint_eq(f.n_units, 1);
        ck_assert_str_eq(f.units[0].name, "display-manager.service");
        host_facts_done(&f);
        host_facts_done(&f); /* twice is fine */
}
END_TEST

START_TEST(test_facts_on_vfio) {
        _cleanup_(host_done) Host h = {};
        _cleanup_(test_domain_done) TestDomain t = {};
        _cleanup_(host_facts_done) HostFacts f = {};

        /* Already handed over: vfio-pci is never a stack to unload. */
        host_build(&h, "nvidia-desktop", NULL);
        ck_assert_int_eq(fakehost_module_load(h.root, "vfio_pci", NULL), 0);
        ck_assert_int_eq(fakehost_pci_driver_add(h.root, "vfio-pci", "vfio_pci"), 0);
        ck_assert_int_eq(fakehost_pci_unbind(h.root, "0000:01:00.0"), 0);
        ck_assert_int_eq(fakehost_pci_bind(h.root, "0000:01:00.0", "vfio-pci"), 0);
        test_domain(&t, NVIDIA);
        f = gather(&h, &t.d, true);
        ck_assert_str_eq(f.hostdevs[0]->driver, "vfio-pci");
        ck_assert_str_eq(f.hostdevs[0]->driver_module, "vfio_pci");
        ck_assert_int_eq(f.stack, STACK_AUTO);
        assert_strv(f.stack_roots, NULL);
        assert_strv(f.unload_order, NULL);
}
END_TEST

START_TEST(test_facts_absent_device) {
        _cleanup_(host_done) Host h = {};
        _cleanup_(test_domain_done) TestDomain t = {};
        _cleanup_(host_facts_done) HostFacts f = {};

        host_shared(&h, "intel-igpu");
        test_domain(&t, (const char *const[]) { "0000:09:00.0", "0000:00:02.0", NULL });
        f = gather(&h, &t.d, true);
        ck_assert_uint_eq(f.n_hostdevs, 2);
        ck_assert_ptr_null(f.hostdevs[0]);
        ck_assert_ptr_nonnull(f.hostdevs[1]);
        ck_assert_int_eq(f.stack, STACK_I915);
}
END_TEST

static int failing_units(const char *unit, UnitState *ret, void *userdata) {
        return -EIO;
}

START_TEST(test_facts_errors) {
        _cleanup_(host_done) Host h = {};
        _cleanup_(test_domain_done) TestDomain t = {};
        HostFacts f = { .n_iommu_groups = 12345 };

        host_build(&h, "nvidia-desktop", NULL);
        test_domain(&t, NVIDIA);
        ck_assert_int_eq(host_facts_gather(h.sr, &t.d, failing_units, NULL, &f), -EIO);
        ck_assert_int_eq(f.n_iommu_groups, 12345);

        host_write(&h, "0xzz\n", "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/device");
        ck_assert_int_eq(host_facts_gather(h.sr, &t.d, NULL, NULL, &f), -EINVAL);
        ck_assert_int_eq(f.n_iommu_groups, 12345);
}
END_TEST

START_TEST(test_unit_state_from_tree) {
        _cleanup_(host_done) Host h = {};
        UnitState s = UNIT_INACTIVE;

        host_build(&h, "nvidia-desktop", NULL);
        ck_assert_int_eq(unit_state_from_tree("display-manager.service", &s, h.sr), 0);
        ck_assert_int_eq(s, UNIT_ACTIVE);
        ck_assert_int_eq(unit_state_from_tree("gdm.service", &s, h.sr), 0);
        ck_assert_int_eq(s, UNIT_ABSENT);
        host_mkdir(&h, "usr/lib/systemd/system");
        host_write(&h, "", "usr/lib/systemd/system/gdm.service");
        ck_assert_int_eq(unit_state_from_tree("gdm.service", &s, h.sr), 0);
        ck_assert_int_eq(s, UNIT_ACTIVE);
        s = UNIT_INACTIVE;
        ck_assert_int_eq(unit_state_from_tree("../../../etc/passwd", &s, h.sr), -EINVAL);
        ck_assert_int_eq(unit_state_from_tree("gdm.service", &s, NULL), -EINVAL);
        ck_assert_int_eq(s, UNIT_INACTIVE);
}
END_TEST

/* ---- the real host -------------------------------------------------------------------- */

START_TEST(test_real_root) {
        _cleanup_sysroot_ Sysroot *sr = NULL;
        _cleanup_strv_free_ char **names = NULL, **order = NULL, **builtin = NULL;
        VtConsole *v = NULL;
        Framebuffer *fb = NULL;
        Holder *hl = NULL;
        ModuleInfo m = {};
        size_t n = 0;
        int r;

        ck_assert_int_eq(sysroot_open("/", &sr), 0);
        r = sysroot_list_dirf(sr, &names, "sys/bus/pci/devices");
        if (r == -ENOENT)
                return; /* no PCI here at all */
        ck_assert_int_eq(r, 0);

        for (char **i = names; *i; i++) {
                _cleanup_pci_device_ PciDevice *d = NULL;
                _cleanup_strv_free_ char **nodes = NULL;
                PciAddr a;
                ck_assert_int_eq(pci_addr_parse(*i, &a), 0);
                r = pci_device_read(sr, &a, &d);
                ck_assert_msg(r == 0, "reading %s: %d", *i, r);
                ck_assert_int_eq(pci_device_drm_nodes(sr, &a, &nodes), 0);
                if (d->iommu_group >= 0) {
                        _cleanup_free_ PciAddr *members = NULL;
                        ck_assert_int_eq(pci_iommu_group_members(sr, d->iommu_group, &members, &n), 0);
                        ck_assert_uint_ge(n, 1);
                }
        }
        ck_assert_int_ge(pci_iommu_group_count(sr), 0);

        ck_assert_int_eq(vtconsoles_read(sr, &v, &n), 0);
        vtconsoles_free(v, n);
        ck_assert_int_eq(framebuffers_read(sr, &fb, &n), 0);
        framebuffers_free(fb, n);
        ck_assert_int_eq(module_info_read(sr, "vfio_pci", &m), 0);
        module_info_done(&m);
        ck_assert_int_eq(modules_unload_order(sr, (char **) stack_modules(STACK_NVIDIA), &order, &builtin), 0);
        ck_assert_int_eq(holders_find(sr, STRV("/dev/dri/card0", "/dev/null"), STRV("/dev/nvidia"), &hl, &n), 0);
        holders_free(hl, n);

        if (names[0]) {
                _cleanup_(test_domain_done) TestDomain t = {};
                _cleanup_(host_facts_done) HostFacts f = {};
                test_domain(&t, (const char *const[]) { names[0], NULL });
                ck_assert_int_eq(host_facts_gather(sr, &t.d, NULL, NULL, &f), 0);
                ck_assert_ptr_nonnull(f.hostdevs[0]);
        }
}
END_TEST

/* ---- the fake host itself ---------------------------------------------------------------- */

static char *snapshot(Host *h) {
        return test_snapshot(h->root);
}

static void assert_same(const char *before, const char *after) {
        _cleanup_free_ char *diff = fakehost_snapshot_diff(before, after);
        ck_assert_msg(!diff, "trees differ:\n%s", diff);
}

START_TEST(test_snapshot_equal) {
        _cleanup_(host_done) Host a = {}, b = {};
        _cleanup_free_ char *sa = NULL, *sb = NULL;

        host_shared(&a, "nvidia-desktop");
        host_build(&b, "nvidia-desktop", NULL);
        sa = snapshot(&a);
        sb = snapshot(&b);
        ck_assert_str_eq(sa, sb);
        ck_assert_ptr_null(fakehost_snapshot_diff(sa, sb));
        ck_assert(strstr(sa, "l sys/bus/pci/devices/0000:01:00.0 -> ../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0\n"));
        ck_assert(strstr(sa, "f sys/devices/virtual/vtconsole/vtcon1/name (M) frame buffer device\\n\n"));
        ck_assert(strstr(sa, "d sys/module/nvidia/holders\n"));
}
END_TEST

START_TEST(test_snapshot_roundtrips) {
        _cleanup_(host_done) Host h = {};
        _cleanup_free_ char *before = NULL, *s = NULL, *diff = NULL;

        host_build(&h, "nvidia-desktop", NULL);
        before = snapshot(&h);

        /* Each change shows, and undoing it gives the same tree back. */
        ck_assert_int_eq(fakehost_vtcon_set_bind(h.root, 1, 0), 0);
        s = snapshot(&h);
        diff = fakehost_snapshot_diff(before, s);
        ck_assert_ptr_nonnull(diff);
        ck_assert_str_eq(diff, "+ f sys/devices/virtual/vtconsole/vtcon1/bind 0\\n\n"
                               "- f sys/devices/virtual/vtconsole/vtcon1/bind 1\\n\n");
        ck_assert_int_eq(fakehost_vtcon_set_bind(h.root, 1, 1), 0);
        free(s);
        s = snapshot(&h);
        assert_same(before, s);

        ck_assert_int_eq(fakehost_fb_unbind(h.root, "efi-framebuffer.0"), 0);
        ck_assert_int_eq(fakehost_fb_unbind(h.root, "efi-framebuffer.0"), -ENODEV);
        ck_assert_int_eq(fakehost_fb_bind(h.root, "efi-framebuffer.0", "efi-framebuffer"), 0);
        ck_assert_int_eq(fakehost_fb_bind(h.root, "efi-framebuffer.0", "efi-framebuffer"), -EBUSY);
        free(s);
        s = snapshot(&h);
        assert_same(before, s);

        ck_assert_int_eq(fakehost_pci_unbind(h.root, "0000:01:00.0"), 0);
        free(s);
        s = snapshot(&h);
        ck_assert_str_ne(before, s);
        ck_assert_int_eq(fakehost_pci_unbind(h.root, "0000:01:00.0"), -ENODEV);
        ck_assert_int_eq(fakehost_pci_bind(h.root, "0000:01:00.0", "nvidia"), 0);
        ck_assert_int_eq(fakehost_pci_bind(h.root, "0000:01:00.0", "nvidia"), -EBUSY);
        ck_assert_int_eq(fakehost_pci_bind(h.root, "0000:01:00.0", "nosuch"), -ENOENT);
        ck_assert_int_eq(fakehost_pci_bind(h.root, "0000:09:00.0", "nvidia"), -ENOENT);
        free(s);
        s = snapshot(&h);
        assert_same(before, s);

        ck_assert_int_eq(fakehost_drm_remove(h.root, "0000:01:00.0", "renderD128"), 0);
        ck_assert_int_eq(fakehost_drm_add(h.root, "0000:01:00.0", "renderD128"), 0);
        ck_assert_int_eq(fakehost_process_remove(h.root, 1234), 0);
        ck_assert_int_eq(fakehost_process_add(h.root, 1234, "Xorg",
                                              STRV("/dev/null", "/dev/tty2", "/dev/nvidiactl", "/dev/nvidia0",
                                                           "/dev/nvidia-modeset", "/dev/dri/card0", "socket:[40712]")),
                         0);
        ck_assert_int_eq(fakehost_unit_remove(h.root, "display-manager.service"), 0);
        ck_assert_int_eq(fakehost_unit_add(h.root, "display-manager.service"), 0);
        free(s);
        s = snapshot(&h);
        assert_same(before, s);
}
END_TEST

START_TEST(test_fake_modules) {
        _cleanup_(host_done) Host h = {};
        _cleanup_free_ char *before = NULL, *s = NULL, *drv = NULL;
        _cleanup_strv_free_ char **order = NULL;
        ModuleInfo m = {};

        host_build(&h, "nvidia-desktop", NULL);
        before = snapshot(&h);

        /* In use: refused, as the kernel does. */
        ck_assert_int_eq(fakehost_module_unload(h.root, "nvidia"), -EAGAIN);
        ck_assert_int_eq(fakehost_module_unload(h.root, "nvidia_drm"), -EAGAIN);
        ck_assert_int_eq(fakehost_module_unload(h.root, "radeon"), -ENOENT);

        ck_assert_int_eq(fakehost_module_set_refcnt(h.root, "nvidia_drm", 0), 0);
        ck_assert_int_eq(fakehost_module_unload(h.root, "nvidia_drm"), 0);
        ck_assert_int_eq(module_info_read(h.sr, "nvidia_modeset", &m), 0);
        assert_strv(m.holders, NULL);
        ck_assert_int_eq(m.refcnt, 2);
        module_info_done(&m);
        ck_assert_int_eq(module_info_read(h.sr, "nvidia_drm", &m), 0);
        ck_assert_int_eq(m.state, MODULE_ABSENT);
        module_info_done(&m);

        /* Back as modprobe would load it, then its users come back. */
        ck_assert_int_eq(fakehost_module_load(h.root, "nvidia_drm", STRV("nvidia_modeset", "drm_kms_helper", "drm")), 0);
        ck_assert_int_eq(fakehost_module_load(h.root, "nvidia_drm", NULL), -EEXIST);
        ck_assert_int_eq(fakehost_module_load(h.root, "efifb", NULL), -EEXIST);
        ck_assert_int_eq(fakehost_module_load(h.root, "x", STRV("absent")), -ENOENT);
        ck_assert_int_eq(fakehost_module_set_refcnt(h.root, "nvidia_drm", 2), 0);
        s = snapshot(&h);
        assert_same(before, s);

        /* Unloading a driver's module takes the driver and its bindings along. */
        ck_assert_int_eq(fakehost_module_set_refcnt(h.root, "snd_hda_intel", 0), 0);
        ck_assert_int_eq(fakehost_module_set_refcnt(h.root, "snd_hda_codec", 0), 0);
        ck_assert_int_eq(fakehost_module_add(h.root, "snd_hda_codec", 0, NULL), 0);
        ck_assert_int_eq(fakehost_module_unload(h.root, "snd_hda_intel"), 0);
        ck_assert_int_eq(fakehost_pci_driver(h.root, "0000:01:00.1", &drv), 0);
        ck_assert_ptr_null(drv);
        ck_assert_int_eq(fakehost_pci_driver(h.root, "0000:00:1f.3", &drv), 0);
        ck_assert_ptr_null(drv);
        ck_assert_int_eq(modules_unload_order(h.sr, STRV("snd_hda_intel"), &order, NULL), 0);
        assert_strv(order, NULL);
}
END_TEST

START_TEST(test_fake_pci) {
        _cleanup_(host_done) Host h = {};
        _cleanup_free_ char *before = NULL, *s = NULL;
        PciAddr a = addr("0000:01:00.0");
        PciDevice *d = NULL;

        host_build(&h, "nvidia-desktop", NULL);
        before = snapshot(&h);
        ck_assert_int_eq(fakehost_pci_remove(h.root, "0000:00:01.0"), -EBUSY);
        ck_assert_int_eq(fakehost_pci_remove(h.root, "0000:01:00.0"), 0);
        ck_assert_int_eq(pci_device_read(h.sr, &a, &d), -ENOENT);
        ck_assert_int_eq(fakehost_pci_add(h.root, &(FakePci) { "0000:01:00.0", 0x10de, 0x2484, 0x030000, "0000:00:01.0", 1, -1 }), 0);
        ck_assert_int_eq(fakehost_pci_add(h.root, &(FakePci) { "0000:01:00.0", 0x10de, 0x2484, 0x030000, NULL, 1, -1 }), -EEXIST);
        ck_assert_int_eq(fakehost_pci_add(h.root, &(FakePci) { "0000:05:00.0", 0x10de, 0x2484, 0x030000, "0000:04:00.0", -1, -1 }), -ENOENT);
        ck_assert_int_eq(fakehost_pci_add(h.root, &(FakePci) { "0000:05:00.0/..", 0, 0, 0, NULL, -1, -1 }), -EINVAL);
        ck_assert_int_eq(fakehost_pci_bind(h.root, "0000:01:00.0", "nvidia"), 0);
        ck_assert_int_eq(fakehost_drm_add(h.root, "0000:01:00.0", "card0"), 0);
        ck_assert_int_eq(fakehost_drm_add(h.root, "0000:01:00.0", "renderD128"), 0);
        ck_assert_int_eq(fakehost_drm_add(h.root, "0000:01:00.0", "../card0"), -EINVAL);
        s = snapshot(&h);
        assert_same(before, s);

        ck_assert_int_eq(fakehost_pci_set_driver_override(h.root, "0000:01:00.0", "vfio-pci"), 0);
        free(s);
        s = snapshot(&h);
        ck_assert(strstr(s, "/0000:01:00.0/driver_override vfio-pci\\n\n"));
        ck_assert_int_eq(fakehost_pci_set_driver_override(h.root, "0000:01:00.0", NULL), 0);
        free(s);
        s = snapshot(&h);
        assert_same(before, s);

        ck_assert_int_eq(fakehost_pci_driver_remove(h.root, "nvidia"), 0);
        ck_assert_int_eq(fakehost_pci_driver_add(h.root, "nvidia", "absent_module"), -ENOENT);
        ck_assert_int_eq(fakehost_pci_driver_add(h.root, "nvidia", "nvidia"), 0);
        ck_assert_int_eq(fakehost_pci_driver_add(h.root, "nvidia", "nvidia"), -EEXIST);
        ck_assert_int_eq(fakehost_pci_bind(h.root, "0000:01:00.0", "nvidia"), 0);
        free(s);
        s = snapshot(&h);
        assert_same(before, s);

        ck_assert_int_eq(fakehost_vtcon_remove(h.root, 1), 0);
        ck_assert_int_eq(fakehost_vtcon_remove(h.root, 1), -ENOENT);
        ck_assert_int_eq(fakehost_vtcon_set_bind(h.root, 1, 1), -ENOENT);
        ck_assert_int_eq(fakehost_vtcon_add(h.root, 1, "(M) frame buffer device", 1), 0);
        ck_assert_int_eq(fakehost_fb_remove(h.root, "efi-framebuffer.0"), 0);
        ck_assert_int_eq(fakehost_fb_add(h.root, "efi-framebuffer.0", "efi-framebuffer"), 0);
        free(s);
        s = snapshot(&h);
        assert_same(before, s);
}
END_TEST

START_TEST(test_spec_errors) {
        static const struct {
                const char *spec;
                const char *error;
        } bad[] = {
                { "pci 0000:01:00.0 10de:2484 030000\n", "<string>:1: pci: no bridge leads to bus 01" },
                { "kernel 6.1\n\nfrobnicate\n", "<string>:3: unknown directive \"frobnicate\"" },
                { "vtcon 1 \"(M) frame buffer device 1\n", "<string>:1: unterminated quote" },
                { "vtcon 1 \"x\" 2\n", "<string>:1: vtcon: expected" },
                { "pci 0000:00:02.0 1234:1111 030000 colour=blue\n", "unknown option \"colour\"" },
                { "pci 0000:00:02.0 1234:1111 030000 group=x\n", "bad group" },
                { "pci 0000:00:02.0 1234:1111 0300000000\n", "bad class" },
                { "pci 0000:00:2.0 1234:1111 030000\n", "bad address" },
                { "pci 0000:00:02.0 1234:1111 030000 module=x\n", "module= needs driver=" },
                { "pci 0000:00:02.0 1234:1111 030000 drm=card0,vga\n", "bad DRM node" },
                { "builtin foo\n", "needs a kernel line" },
                { "module a/b\n", "module: bad name" },
                { "proc 0 x\n", "proc: expected" },
                { "dev ../etc/passwd\n", "dev: bad value" },
                { "pci 0000:00:02.0 1234:1111 030000\npci 0000:00:02.0 1234:1111 030000\n", "<string>:2: pci: File exists" },
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(host_done) Host h = {};
                host_new(&h);
                int r = fakehost_build_string(bad[i].spec, h.root);
                ck_assert_msg(r < 0, "spec %zu built", i);
                ck_assert_msg(strstr(fakehost_error(), bad[i].error), "spec %zu: error \"%s\" lacks \"%s\"", i,
                              fakehost_error(), bad[i].error);
        }

        {
                /* Only into an empty directory. */
                _cleanup_(host_done) Host h = {};
                host_build(&h, "intel-igpu", NULL);
                ck_assert_int_eq(fakehost_build(DATA "intel-igpu.host", h.root), -EEXIST);
                ck_assert_int_eq(fakehost_build(DATA "no-such.host", h.tmp), -ENOENT);
        }
}
END_TEST

static Suite *facts_suite(void) {
        Suite *s = suite_create("facts");
        TCase *tc;

        tc = test_tcase("pci");
        tcase_add_test(tc, test_pci_nvidia);
        tcase_add_test(tc, test_pci_nested_switch);
        tcase_add_test(tc, test_pci_absent);
        tcase_add_test(tc, test_pci_malformed);
        tcase_add_test(tc, test_pci_header_type);
        tcase_add_test(tc, test_pci_member_blocks_vfio);
        tcase_add_test(tc, test_pci_groups);
        tcase_add_test(tc, test_pci_no_iommu);
        tcase_add_test(tc, test_pci_drm_nodes);
        tcase_add_test(tc, test_pci_dev_nodes);
        tcase_add_test(tc, test_pci_drivers_displays_ranges);
        tcase_add_test(tc, test_pci_driver_module);
        tcase_add_test(tc, test_pci_builtin_driver);
        suite_add_tcase(s, tc);

        tc = test_tcase("console");
        tcase_add_test(tc, test_vtconsoles);
        tcase_add_test(tc, test_vtconsoles_malformed);
        tcase_add_test(tc, test_vtconsoles_gone);
        tcase_add_test(tc, test_framebuffers);
        tcase_add_test(tc, test_framebuffers_fixtures);
        tcase_add_test(tc, test_framebuffers_malformed);
        tcase_add_test(tc, test_framebuffer_name_valid);
        tcase_add_test(tc, test_graphics_fbs);
        tcase_add_test(tc, test_framebuffer_parent);
        tcase_add_test(tc, test_fbcon_map_parse);
        tcase_add_test(tc, test_iomem_firmware_fb);
        suite_add_tcase(s, tc);

        tc = test_tcase("modules");
        tcase_add_test(tc, test_module_names);
        tcase_add_test(tc, test_module_info);
        tcase_add_test(tc, test_module_info_sources);
        tcase_add_test(tc, test_module_info_malformed);
        tcase_add_test(tc, test_unload_order_nvidia);
        tcase_add_test(tc, test_unload_order_shared);
        tcase_add_test(tc, test_unload_order_builtin);
        tcase_add_test(tc, test_unload_order_bad_trees);
        suite_add_tcase(s, tc);

        tc = test_tcase("holders");
        tcase_add_test(tc, test_holders);
        tcase_add_test(tc, test_holders_edge_cases);
        tcase_add_test(tc, test_holders_errors);
        tcase_add_test(tc, test_cgroups);
        tcase_add_test(tc, test_holders_in_cgroup);
        tcase_add_test(tc, test_holders_units);
        suite_add_tcase(s, tc);

        tc = test_tcase("gather");
        tcase_add_test(tc, test_facts_nvidia);
        tcase_add_test(tc, test_facts_nvidia_defaults);
        tcase_add_test(tc, test_facts_amd);
        tcase_add_test(tc, test_facts_intel);
        tcase_add_test(tc, test_facts_nonviable);
        tcase_add_test(tc, test_facts_builtin);
        tcase_add_test(tc, test_facts_no_iommu);
        tcase_add_test(tc, test_facts_other_driver);
        tcase_add_test(tc, test_facts_stack_choices);
        tcase_add_test(tc, test_facts_on_vfio);
        tcase_add_test(tc, test_facts_absent_device);
        tcase_add_test(tc, test_facts_errors);
        tcase_add_test(tc, test_unit_state_from_tree);
        suite_add_tcase(s, tc);

        tc = test_tcase("real");
        tcase_add_test(tc, test_real_root);
        suite_add_tcase(s, tc);

        tc = test_tcase("fakehost");
        tcase_add_test(tc, test_snapshot_equal);
        tcase_add_test(tc, test_snapshot_roundtrips);
        tcase_add_test(tc, test_fake_modules);
        tcase_add_test(tc, test_fake_pci);
        tcase_add_test(tc, test_spec_errors);
        suite_add_tcase(s, tc);

        return s;
}

static char *snapshot_shared(size_t i) {
        _cleanup_free_ char *root = NULL;
        char *s = NULL;
        if (asprintf(&root, "%s/%s", shared_dir, fixtures[i]) < 0 || fakehost_snapshot(root, &s) < 0)
                return NULL;
        return s;
}

int main(void) {
        char *before[ELEMENTSOF(fixtures)] = {};
        char tmpl[] = TEST_BUILDDIR "/tests/tmp-facts-shared.XXXXXX";
        SRunner *sr;
        int failed = 0;

        if (test_mkdir_p(TEST_BUILDDIR "/tests") < 0 || !mkdtemp(tmpl)) {
                fprintf(stderr, "%s: %m\n", tmpl);
                return EXIT_FAILURE;
        }
        snprintf(shared_dir, sizeof shared_dir, "%s", tmpl);
        for (size_t i = 0; i < ELEMENTSOF(fixtures); i++) {
                _cleanup_free_ char *spec = NULL, *root = NULL;
                if (asprintf(&spec, DATA "%s.host", fixtures[i]) < 0 ||
                    asprintf(&root, "%s/%s", shared_dir, fixtures[i]) < 0)
                        return EXIT_FAILURE;
                if (fakehost_build(spec, root) < 0) {
                        fprintf(stderr, "%s\n", fakehost_error());
                        return EXIT_FAILURE;
                }
                before[i] = snapshot_shared(i);
                if (!before[i])
                        return EXIT_FAILURE;
        }

        sr = srunner_create(facts_suite());
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);

        /* Reading facts must leave a host exactly as it was. */
        for (size_t i = 0; i < ELEMENTSOF(fixtures); i++) {
                _cleanup_free_ char *after = snapshot_shared(i), *diff = NULL;
                diff = after ? fakehost_snapshot_diff(before[i], after) : NULL;
                if (!after || diff) {
                        fprintf(stderr, "shared fixture %s changed:\n%s", fixtures[i], diff ? diff : "(unreadable)\n");
                        failed++;
                }
                free(before[i]);
        }
        if (fakehost_rm_rf(shared_dir) < 0)
                failed++;
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
