/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>

#include "model/console.h"
#include "shared/util.h"

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

void graphics_fbs_free(GraphicsFb *l, size_t n) {
        for (size_t i = 0; l && i < n; i++) {
                free(l[i].name);
                free(l[i].device);
        }
        free(l);
}

int fbcon_map_from_cmdline(char *const *cmdline, char **ret) {
        const char *fbcon = cmdline_get(cmdline, "fbcon"), *map = NULL;
        char out[11] = "";
        size_t n = 0;

        /* fbcon=map:01,font:VGA8x16: options split by ','. */
        for (const char *p = fbcon; p && *p;) {
                size_t len = strcspn(p, ",");
                if (startswith(p, "map:") && len > strlen("map:"))
                        map = p + strlen("map:");
                p += len + (p[len] == ',');
        }
        for (const char *c = map; c && *c >= '0' && *c <= '9'; c++)
                if (!strchr(out, *c)) {
                        out[n++] = *c;
                        out[n] = 0;
                }
        if (n == 0)
                strcpy(out, "0");
        char *s = strdup(out);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* The names the kernel gives the firmware framebuffer's memory: the fbdev
 * drivers' request_mem_region() names, sysfb's resource for
 * simple-framebuffer, and simpledrm's. */
/* Nesting in /proc/iomem is two spaces per level. */
#define IOMEM_DEPTH_MAX 16U

static bool firmware_fb_resource(const char *name) {
        static const char *const names[] = { "efifb", "vesafb", "BOOTFB", "simpledrm", "simplefb" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(name, names[i]))
                        return true;
        return false;
}

int iomem_firmware_fb(const char *iomem, FirmwareFbMemory *ret) {
        /* The PCI function open at each depth, "" where none. */
        char open_fn[IOMEM_DEPTH_MAX][PCI_ADDR_STRLEN] = {};

        *ret = (FirmwareFbMemory) {};
        for (const char *p = iomem; p && *p;) {
                const char *eol = strchr(p, '\n');
                size_t len = eol ? (size_t) (eol - p) : strlen(p), indent = strspn(p, " ");
                char name[64] = "";
                uint64_t start, end;
                int off = 0;

                const char *line = p;
                p = eol ? eol + 1 : NULL;
                if (indent % 2 != 0 || indent / 2 >= IOMEM_DEPTH_MAX || len > 256)
                        continue;
                unsigned depth = (unsigned) indent / 2;
                if (sscanf(line, " %" SCNx64 "-%" SCNx64 " : %n", &start, &end, &off) != 2 || off <= 0 ||
                    (size_t) off >= len)
                        continue;
                size_t nlen = len - (size_t) off;
                if (nlen >= sizeof name)
                        continue;
                memcpy(name, line + off, nlen);
                name[nlen] = 0;
                strstrip_trailing(name);

                PciAddr a;
                for (unsigned d = depth; d < IOMEM_DEPTH_MAX; d++)
                        open_fn[d][0] = 0;
                if (pci_addr_parse(name, &a) >= 0)
                        pci_addr_format(&a, open_fn[depth]);
                if (!firmware_fb_resource(name))
                        continue;

                snprintf(ret->resource, sizeof ret->resource, "%s", name);
                ret->start = start;
                ret->end = end;
                for (unsigned d = depth; d > 0; d--)
                        if (open_fn[d - 1][0]) {
                                memcpy(ret->owner, open_fn[d - 1], PCI_ADDR_STRLEN);
                                break;
                        }
                return 1;
        }
        return 0;
}
