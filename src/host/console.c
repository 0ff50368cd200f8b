/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <limits.h>

#include "host/console.h"
#include "shared/util.h"

/* vtconsoles and firmware framebuffers come and go with DRM drivers (a DRM
 * driver that loads removes the firmware framebuffer; unloading it can
 * remove its vtconsole), so an entry that vanishes between listing and
 * reading is skipped, never an error. */

static int vtcon_number(const char *s, unsigned *ret) {
        unsigned v;
        if (!startswith(s, "vtcon") || strlen(s) > 10)
                return -EINVAL;
        if (parse_uint(s + strlen("vtcon"), &v) < 0)
                return -EINVAL;
        *ret = v;
        return 0;
}

static int cmp_vtcon(const void *x, const void *y) {
        unsigned a = 0, b = 0;
        (void) vtcon_number(((const VtConsole *) x)->id, &a);
        (void) vtcon_number(((const VtConsole *) y)->id, &b);
        return a < b ? -1 : a > b;
}

int vtconsoles_read(Sysroot *sr, VtConsole **ret, size_t *ret_n) {
        _cleanup_strv_free_ char **names = NULL;
        VtConsole *l = NULL;
        size_t n = 0;
        int r;

        r = sysroot_list_dirf(sr, &names, "sys/class/vtconsole");
        if (r == -ENOENT) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        if (r < 0)
                return r;

        l = calloc(strv_length(names) + 1, sizeof *l);
        if (!l)
                return -ENOMEM;

        for (char **i = names; *i; i++) {
                _cleanup_free_ char *name = NULL, *bind = NULL;
                unsigned num, b;

                if (vtcon_number(*i, &num) < 0)
                        continue;

                r = sysroot_read_linef(sr, &name, "sys/class/vtconsole/%s/name", *i);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        goto fail;
                r = sysroot_read_linef(sr, &bind, "sys/class/vtconsole/%s/bind", *i);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        goto fail;
                if (parse_uint(bind, &b) < 0 || b > 1) {
                        r = -EINVAL;
                        goto fail;
                }

                snprintf(l[n].id, sizeof l[n].id, "vtcon%u", num);
                l[n].name = TAKE_PTR(name);
                l[n].bind = (int) b;
                n++;
        }

        qsort(l, n, sizeof *l, cmp_vtcon);
        *ret = l;
        *ret_n = n;
        return 0;

fail:
        vtconsoles_free(l, n);
        return r;
}

/* The last PCI address in the device's sysfs path: the function it hangs
 * below ("../../../devices/pci0000:00/0000:00:02.0/efi-framebuffer.0"). */
static int framebuffer_parent(Sysroot *sr, const char *device, char ret[static PCI_ADDR_STRLEN]) {
        _cleanup_free_ char *target = NULL;
        char *save = NULL;

        ret[0] = 0;
        int r = sysroot_readlinkf(sr, &target, "sys/bus/platform/devices/%s", device);
        if (r == -ENOENT || r == -EINVAL) /* gone, or not a link */
                return 0;
        if (r < 0)
                return r;
        for (char *c = strtok_r(target, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                PciAddr a;
                if (pci_addr_parse(c, &a) >= 0)
                        pci_addr_format(&a, ret);
        }
        return 0;
}

int framebuffers_read(Sysroot *sr, Framebuffer **ret, size_t *ret_n) {
        _cleanup_strv_free_ char **names = NULL;
        Framebuffer *l = NULL;
        size_t n = 0;
        int r;

        r = sysroot_list_dirf(sr, &names, "sys/bus/platform/devices");
        if (r == -ENOENT) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        if (r < 0)
                return r;

        l = calloc(strv_length(names) + 1, sizeof *l);
        if (!l)
                return -ENOMEM;

        for (char **i = names; *i; i++) {
                _cleanup_free_ char *driver = NULL;

                if (!framebuffer_name_valid(*i))
                        continue;

                r = sysroot_link_basenamef(sr, &driver, "sys/bus/platform/devices/%s/driver", *i);
                if (r < 0 && r != -ENOENT)
                        goto fail;
                if (driver && !filename_is_safe(driver, 64)) {
                        r = -EINVAL;
                        goto fail;
                }

                snprintf(l[n].device, sizeof l[n].device, "%s", *i);
                l[n].driver = TAKE_PTR(driver);
                r = framebuffer_parent(sr, *i, l[n].parent);
                n++;
                if (r < 0)
                        goto fail;
        }

        /* Names came sorted from the directory listing. */
        *ret = l;
        *ret_n = n;
        return 0;

fail:
        framebuffers_free(l, n);
        return r;
}

static int fb_number(const char *s, unsigned *ret) {
        if (!startswith(s, "fb") || strlen(s) > 6)
                return -EINVAL;
        return parse_uint(s + 2, ret);
}

static int cmp_fb(const void *x, const void *y) {
        const GraphicsFb *a = x, *b = y;
        return a->index < b->index ? -1 : a->index > b->index;
}

int graphics_fbs_read(Sysroot *sr, GraphicsFb **ret, size_t *ret_n) {
        _cleanup_strv_free_ char **names = NULL;
        GraphicsFb *l = NULL;
        size_t n = 0;
        int r;

        r = sysroot_list_dirf(sr, &names, "sys/class/graphics");
        if (r < 0 && r != -ENOENT)
                return r;
        l = calloc(strv_length(names) + 1, sizeof *l);
        if (!l)
                return -ENOMEM;
        for (char **i = names; i && *i; i++) {
                _cleanup_free_ char *name = NULL, *device = NULL;
                unsigned num;
                PciAddr a;

                if (fb_number(*i, &num) < 0) /* fbcon is a class device too */
                        continue;
                r = sysroot_read_linef(sr, &name, "sys/class/graphics/%s/name", *i);
                if (r == -ENOENT)
                        continue; /* gone meanwhile */
                if (r < 0)
                        goto fail;
                r = sysroot_link_basenamef(sr, &device, "sys/class/graphics/%s/device", *i);
                if (r < 0 && r != -ENOENT)
                        goto fail;
                /* Only names that mean something to us: a PCI function or a
                 * firmware framebuffer. */
                if (device && pci_addr_parse(device, &a) < 0 && !framebuffer_name_valid(device)) {
                        free(device);
                        device = NULL;
                }
                /* Any driver names its frame buffer: keep it printable. */
                for (char *c = name; *c; c++)
                        if ((unsigned char) *c < 0x20 || (unsigned char) *c >= 0x7f)
                                *c = '?';
                l[n++] = (GraphicsFb) { .index = num, .name = TAKE_PTR(name), .device = TAKE_PTR(device) };
        }
        qsort(l, n, sizeof *l, cmp_fb);
        *ret = l;
        *ret_n = n;
        return 0;
fail:
        graphics_fbs_free(l, n);
        return r;
}
