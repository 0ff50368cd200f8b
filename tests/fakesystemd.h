/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

/* A stand-in for systemd's D-Bus API (tests/fakesystemd.c) over the unit
 * files of unit_dir, listening on unit_dir/bus in a child process; its
 * address ("unix:path=...") goes to address. Returns the child's pid, or
 * -1. */
pid_t fakesystemd_start(const char *unit_dir, char *address, size_t size);
void fakesystemd_stop(pid_t pid);
/* The same, and units.c pointed at it: VFIO_HOOK_SYSTEMD_BUS set to its
 * address, VFIO_HOOK_SYSTEMCTL (the fake systemctl) unset. */
pid_t fakesystemd_start_env(const char *unit_dir);
/* Closes units.c's connection, then stops it. */
void fakesystemd_stop_env(pid_t pid);
