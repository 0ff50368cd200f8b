/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdarg.h>
#include <stddef.h>

#include "model/domxml.h"

/* Helpers the Check suites share. Each asserts (ck_assert) rather than
 * returning an error: a failure ends the test with its message. */

/* A fresh scratch directory for this test, under the build tree:
 * tests/tmp-SUITE.XXXXXX (SUITE: the program's name without "test-"),
 * which make clean removes. Freed by the caller. */
char *test_scratch_dir(void);

/* mkdir -p, 0755; returns 0 or a negative errno. */
int test_mkdir_p(const char *path);

/* The whole file, NUL-terminated (freed by the caller). */
char *test_read_file(const char *path);

/* A fake host tree's snapshot (fakehost_snapshot), and the check that a
 * tree is exactly as it was, failing with the differing lines. */
char *test_snapshot(const char *root);
void test_assert_tree_is(const char *root, const char *before);

/* Stand-in tools (tests/helpers/) in a scratch directory: dir, a mkdtemp()
 * template such as "/tmp/vfio-hook-units-XXXXXX", is filled in; each tool
 * is a symlink there named NAME to tests/helpers/HELPER, its path set in
 * the variable ENV, which spawn.c honours once spawn_allow_test_overrides()
 * said so. The helpers write what they keep (units, ./calls) beside them. */
typedef struct TestTool {
        const char *name, *helper, *env;
} TestTool;
void test_tools_setup(char *dir, const TestTool *tools, size_t n_tools);

/* Removes the files in dir and dir itself, and makes dir a template again
 * (with CK_FORK=no the next test makes a new one). */
void test_tools_teardown(char *dir);

/* A domain parsed from its parts: its name, the body of its <vh:policy>
 * (NULL: no policy element) and its PCI hostdevs ("DDDD:BB:SS.F"),
 * NULL-terminated. */
Domain *test_domain_new(const char *name, const char *policy, ...);
Domain *test_domain_newv(const char *name, const char *policy, va_list ap);
