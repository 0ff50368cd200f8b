/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "shared/macro.h"

/* Rooted file access, in the manner of util-linux's lib/path.c: every path
 * is relative to a root directory ("/" on a live host, a tree in tests or
 * for `--sysroot`). Lookups resolve symlinks inside the root (openat2 with
 * RESOLVE_IN_ROOT), so the relative links of a real /sys work, and an
 * absolute link in a copied tree cannot escape it.
 *
 * Paths are given without the leading '/': "sys/bus/pci/devices". Path
 * components built from outside input must be checked by the caller (see
 * filename_is_safe() and pci_addr_parse()) before they reach here. */

typedef struct Sysroot Sysroot;

/* A test seam: when set, sysroot_write() calls it instead of writing, so a
 * fake kernel can react to writes to `bind`/`unbind` the way Linux does. */
typedef int (*SysrootWriteFn)(Sysroot *sr, const char *path, const char *value, void *userdata);

int sysroot_open(const char *path, Sysroot **ret);
Sysroot *sysroot_free(Sysroot *sr);
static inline void sysroot_freep(Sysroot **sr) {
        sysroot_free(*sr);
}
#define _cleanup_sysroot_ _cleanup_(sysroot_freep)

const char *sysroot_path(const Sysroot *sr);
bool sysroot_is_host(const Sysroot *sr);
void sysroot_set_write_hook(Sysroot *sr, SysrootWriteFn fn, void *userdata);

/* All return 0 (or a count/fd) on success and a negative errno on failure,
 * leaving *ret untouched on failure. */
int sysroot_openf(Sysroot *sr, int flags, char **ret_path, const char *fmt, ...) _printf_(4, 5);
int sysroot_read_file(Sysroot *sr, const char *path, size_t max, char **ret);
int sysroot_read_line(Sysroot *sr, const char *path, char **ret);
int sysroot_read_linef(Sysroot *sr, char **ret, const char *fmt, ...) _printf_(3, 4);
int sysroot_read_hexf(Sysroot *sr, unsigned *ret, const char *fmt, ...) _printf_(3, 4);
int sysroot_readlinkf(Sysroot *sr, char **ret, const char *fmt, ...) _printf_(3, 4);
/* The last component of a symlink's target ("../../bus/pci/drivers/nvidia" -> "nvidia"). */
int sysroot_link_basenamef(Sysroot *sr, char **ret, const char *fmt, ...) _printf_(3, 4);
int sysroot_existsf(Sysroot *sr, const char *fmt, ...) _printf_(2, 3);
int sysroot_opendirf(Sysroot *sr, DIR **ret, const char *fmt, ...) _printf_(3, 4);
/* Sorted names in a directory, without "." and "..". */
int sysroot_list_dirf(Sysroot *sr, char ***ret, const char *fmt, ...) _printf_(3, 4);

/* Write a sysfs attribute in a single write(2), as the kernel expects. */
int sysroot_write(Sysroot *sr, const char *path, const char *value);
int sysroot_writef(Sysroot *sr, const char *value, const char *fmt, ...) _printf_(3, 4);
/* The same, never through the write hook: for fake kernels themselves. */
int sysroot_write_direct(Sysroot *sr, const char *path, const char *value);

/* What to add to "cannot open the sysroot X: ..." when X is a file: a
 * dump must be extracted first. "" for any other error. */
const char *sysroot_open_hint(int error);
