/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "shared/macro.h"

/* The file helpers of the fake host (tests/fakehost.c, fakesnap.c,
 * fakespec.c), private to it. Paths inside the tree are "relative paths"
 * (rel): "sys/bus/pci/devices". Links are made relative the way sysfs makes
 * them, computed from the link's own place, so the tree can be moved and
 * read through a Sysroot. All return 0 (or a count, or a bool) or a
 * negative errno. */

/* The largest file read back. */
#define FILE_MAX (1024U * 1024U)

/* A file name (no '/', not "." or ".."); a PCI address "dddd:bb:ss.f". */
bool fs_name_ok(const char *s);
bool fs_addr_ok(const char *s);

/* ROOT/REL, REL from the format. */
_printf_(3, 4) int fs_pathf(char **ret, const char *root, const char *fmt, ...);
/* 1 when ROOT/REL exists (not following a last link), 0 when not. */
_printf_(2, 3) int fs_existsf(const char *root, const char *fmt, ...);

/* Directories: mkdir -p of a full path, of ROOT/REL, and of a path's parent. */
int fs_mkdir_p(const char *path);
_printf_(2, 3) int fs_mkdirf(const char *root, const char *fmt, ...);
int fs_mkdir_parent(const char *path);

/* Files: written whole (or appended), read whole (up to FILE_MAX). */
int fs_write_full(const char *path, const void *buf, size_t len, bool append);
_printf_(3, 4) int fs_writef(const char *root, const char *content, const char *fmt, ...);
int fs_read_full_flags(const char *path, int flags, char **ret, size_t *ret_len);
int fs_read_full(const char *path, char **ret, size_t *ret_len);
_printf_(3, 4) int fs_readf(const char *root, char **ret, const char *fmt, ...);

/* Links: REL without "." and "..", a link made relative from its place,
 * the REL a link resolves to inside the tree, its target's last part. */
int fs_rel_normalize(const char *path, char **ret);
int fs_make_link(const char *root, const char *link_rel, const char *target_rel);
_printf_(3, 4) int fs_resolvef(const char *root, char **ret, const char *fmt, ...);
_printf_(3, 4) int fs_link_basenamef(const char *root, char **ret, const char *fmt, ...);

/* Removing a file or link, a whole subtree; a directory's names, sorted
 * (an absent directory has none). */
_printf_(2, 3) int fs_unlinkf(const char *root, const char *fmt, ...);
_printf_(2, 3) int fs_rm_rff(const char *root, const char *fmt, ...);
_printf_(3, 4) int fs_listf(const char *root, char ***ret, const char *fmt, ...);
