/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The whole tree as text, one line per entry, sorted by path:
 *   d PATH            a directory
 *   f PATH CONTENT    a file, content escaped (\n, \\, \xNN)
 *   l PATH -> TARGET  a symlink
 * Two trees are "exactly as before" when their snapshots are equal. */
int fakehost_snapshot(const char *root, char **ret);
/* The lines only in a ("- ...") and only in b ("+ ..."), or NULL when the
 * snapshots are equal (or on -ENOMEM). For test failure messages. */
char *fakehost_snapshot_diff(const char *a, const char *b);
