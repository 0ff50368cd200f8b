/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* A unified diff of two texts, line by line, as diff -u writes it, for
 * `vfio-hook enable --dry-run` (no diff program is run: the domain XML is
 * not ours to pass to one). The common head and tail are taken off first;
 * what is left is compared by longest common subsequence when it is
 * smaller than UDIFF_MAX_CELLS line pairs, and otherwise shown as removed
 * and added whole: still a correct diff, only not the shortest.
 *
 * *ret is "" when the texts are the same, else starts with
 * "--- LABEL_A\n+++ LABEL_B\n". */

#define UDIFF_MAX_CELLS (4U * 1024U * 1024U)

int udiff(const char *a, const char *b, const char *label_a, const char *label_b, unsigned context, char **ret);
