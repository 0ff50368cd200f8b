/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "sysroot.h"

/* Virtual consoles (sys/class/vtconsole) and firmware framebuffers
 * (efi-/simple-/vesa-framebuffer platform devices), read over a sysroot. */

typedef struct VtConsole {
        char id[16];    /* "vtcon1" */
        char *name;     /* "(M) frame buffer device" */
        int bind;       /* 0 or 1 */
} VtConsole;

/* A frame buffer console: the one to unbind before the GPU can go. */
bool vtconsole_is_fbcon(const VtConsole *c);

/* All vtconsoles, sorted by number. */
int vtconsoles_read(Sysroot *sr, VtConsole **ret, size_t *ret_n);
void vtconsoles_free(VtConsole *l, size_t n);

typedef struct Framebuffer {
        char device[64];  /* "efi-framebuffer.0" */
        char *driver;     /* platform driver bound to it, NULL when unbound */
} Framebuffer;

/* Firmware framebuffer platform devices present, sorted by name. */
int framebuffers_read(Sysroot *sr, Framebuffer **ret, size_t *ret_n);
void framebuffers_free(Framebuffer *l, size_t n);

/* "efi-framebuffer.0" -> true; guards names used in sysfs paths. */
bool framebuffer_name_valid(const char *name);
