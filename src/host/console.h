/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "model/console.h"
#include "shared/sysroot.h"

/* Consoles and framebuffers read over a sysroot, each list sorted. */

/* All vtconsoles, sorted by number. */
int vtconsoles_read(Sysroot *sr, VtConsole **ret, size_t *ret_n);

/* Firmware framebuffer platform devices present, sorted by name. */
int framebuffers_read(Sysroot *sr, Framebuffer **ret, size_t *ret_n);

/* The frame buffers present, sorted by number. */
int graphics_fbs_read(Sysroot *sr, GraphicsFb **ret, size_t *ret_n);
