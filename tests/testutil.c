/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <check.h>
#include <sys/stat.h>

#include "fakehost.h"
#include "macro.h"
#include "util.h"
#include "testutil.h"

char *test_scratch_dir(void) {
        const char *name = program_invocation_short_name;
        char *dir = NULL;

        if (startswith(name, "test-"))
                name += strlen("test-");
        ck_assert_int_eq(test_mkdir_p(TEST_BUILDDIR "/tests"), 0);
        ck_assert_int_ge(asprintf(&dir, "%s/tests/tmp-%s.XXXXXX", TEST_BUILDDIR, name), 0);
        ck_assert_msg(mkdtemp(dir), "%s: %m", dir);
        return dir;
}

int test_mkdir_p(const char *path) {
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        for (char *c = p + 1; *c; c++) {
                if (*c != '/')
                        continue;
                *c = 0;
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *c = '/';
        }
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

char *test_read_file(const char *path) {
        FILE *f = fopen(path, "re");
        ck_assert_msg(f, "cannot open %s: %m", path);
        char *s = NULL;
        size_t n = 0;
        ssize_t len = getdelim(&s, &n, 0, f);
        fclose(f);
        if (len < 0) { /* an empty file */
                free(s);
                s = strdup("");
        }
        ck_assert_ptr_nonnull(s);
        return s;
}

char *test_snapshot(const char *root) {
        char *s = NULL;
        ck_assert_int_eq(fakehost_snapshot(root, &s), 0);
        return s;
}

void test_assert_tree_is(const char *root, const char *before) {
        _cleanup_free_ char *now = test_snapshot(root);
        if (!streq(now, before)) {
                _cleanup_free_ char *diff = fakehost_snapshot_diff(before, now);
                ck_abort_msg("the host is not as before:\n%s", diff ? diff : "?");
        }
}
