/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "model/pci.h"

/* Virtual consoles (sys/class/vtconsole), firmware framebuffers
 * (efi-/simple-/vesa-framebuffer platform devices) and frame buffers, as
 * the hook models them (host/console.h reads them). */

typedef struct VtConsole {
        char id[16];    /* "vtcon1" */
        char *name;     /* "(M) frame buffer device" */
        int bind;       /* 0 or 1 */
} VtConsole;

/* A frame buffer console: the one to unbind before the GPU can go. */
bool vtconsole_is_fbcon(const VtConsole *c);

void vtconsoles_free(VtConsole *l, size_t n);

typedef struct Framebuffer {
        char device[64];  /* "efi-framebuffer.0" */
        char *driver;     /* platform driver bound to it, NULL when unbound */
        /* The PCI function the device hangs below in sysfs ("" when none):
         * newer kernels make the firmware framebuffer a child of the
         * display device whose memory it uses. */
        char parent[PCI_ADDR_STRLEN];
} Framebuffer;

void framebuffers_free(Framebuffer *l, size_t n);

/* "efi-framebuffer.0" -> true; guards names used in sysfs paths. */
bool framebuffer_name_valid(const char *name);

/* A frame buffer device (sys/class/graphics/fbN) and what it draws with. */
typedef struct GraphicsFb {
        unsigned index;   /* N of fbN */
        char *name;       /* its "name": "i915drmfb", "EFI VGA", "simpledrmdrmfb" */
        char *device;     /* where fbN/device leads: "0000:00:02.0", "efi-framebuffer.0";
                           * NULL when it has no device or an unknown one */
} GraphicsFb;

void graphics_fbs_free(GraphicsFb *l, size_t n);

/* Pure: the frame buffers fbcon maps the consoles to, from `fbcon=map:`
 * on the kernel command line (split in words): its digits, each an fb
 * number, in order and without repeats ("0" when the command line does not
 * say: fbcon starts every console on fb0). */
int fbcon_map_from_cmdline(char *const *cmdline, char **ret);

/* Where the firmware framebuffer's memory lies, from the text of
 * /proc/iomem: the first efifb, vesafb, BOOTFB, simpledrm or simplefb range,
 * and the PCI function it is nested under (the BAR that holds it). */
typedef struct FirmwareFbMemory {
        char resource[16];            /* "efifb", "BOOTFB", ...: "" when there is none */
        uint64_t start, end;          /* 0, 0 when hidden (read without root) */
        char owner[PCI_ADDR_STRLEN];  /* "" when not nested under a PCI function */
} FirmwareFbMemory;

/* Pure. Returns 1 when a range was found, 0 when not. */
int iomem_firmware_fb(const char *iomem, FirmwareFbMemory *ret);
