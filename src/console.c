/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <limits.h>

#include "console.h"
#include "util.h"

/* vtconsoles and firmware framebuffers come and go with DRM drivers (a DRM
 * driver that loads removes the firmware framebuffer; unloading it can
 * remove its vtconsole), so an entry that vanishes between listing and
 * reading is skipped, never an error. */

bool vtconsole_is_fbcon(const VtConsole *c) {
        return c && c->name && strstr(c->name, "frame buffer device");
}

void vtconsoles_free(VtConsole *l, size_t n) {
        if (!l)
                return;
        for (size_t i = 0; i < n; i++)
                free(l[i].name);
        free(l);
}

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

void framebuffers_free(Framebuffer *l, size_t n) {
        if (!l)
                return;
        for (size_t i = 0; i < n; i++)
                free(l[i].driver);
        free(l);
}

bool framebuffer_name_valid(const char *name) {
        static const char *const prefixes[] = {
                "efi-framebuffer.",
                "simple-framebuffer.",
                "vesa-framebuffer.",
        };
        unsigned v;

        if (!name || strlen(name) >= sizeof(((Framebuffer *) NULL)->device))
                return false;
        for (size_t i = 0; i < ELEMENTSOF(prefixes); i++)
                if (startswith(name, prefixes[i]))
                        return parse_uint(name + strlen(prefixes[i]), &v) >= 0;
        return false;
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
                n++;
        }

        /* Names came sorted from the directory listing. */
        *ret = l;
        *ret_n = n;
        return 0;

fail:
        framebuffers_free(l, n);
        return r;
}
