/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "shared/macro.h"

/* A tar writer: POSIX ustar headers, with a pax extended header ('x', POSIX
 * 1003.1-2001) in front of an entry whose path or link target does not fit
 * ustar's fields (sysfs paths and links are often longer than 100 bytes).
 * GNU tar, bsdtar and Python's tarfile read it. Only what vfio-hook dump
 * writes: directories, regular files and symlinks, owned by root. */

typedef struct TarWriter {
        int fd;
        uint64_t mtime;
        uint64_t written;      /* bytes so far */
} TarWriter;

void tar_writer_init(TarWriter *t, int fd, uint64_t mtime);
/* path without a leading '/' and, for a directory, without a trailing one. */
int tar_add_dir(TarWriter *t, const char *path, mode_t mode);
int tar_add_file(TarWriter *t, const char *path, const void *data, size_t len, mode_t mode);
int tar_add_symlink(TarWriter *t, const char *path, const char *target);
/* The two zero blocks that end an archive. */
int tar_finish(TarWriter *t);
