/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <check.h>
#include <sys/stat.h>

#include "fakehost.h"
#include "shared/macro.h"
#include "shared/subprocess.h"
#include "shared/util.h"
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

void test_tools_setup(char *dir, const TestTool *tools, size_t n_tools) {
        ck_assert_ptr_nonnull(mkdtemp(dir));
        for (size_t i = 0; i < n_tools; i++) {
                _cleanup_free_ char *link = NULL, *helper = NULL;
                ck_assert_int_ge(asprintf(&link, "%s/%s", dir, tools[i].name), 0);
                ck_assert_int_ge(asprintf(&helper, "%s/tests/helpers/%s", TEST_SRCDIR, tools[i].helper), 0);
                ck_assert_int_eq(symlink(helper, link), 0);
                ck_assert_int_eq(setenv(tools[i].env, link, 1), 0);
        }
        spawn_allow_test_overrides();
}

void test_tools_teardown(char *dir) {
        _cleanup_closedir_ DIR *d = opendir(dir);
        struct dirent *de;

        if (d) {
                while ((de = readdir(d)))
                        if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                                (void) unlinkat(dirfd(d), de->d_name, 0);
                (void) rmdir(dir);
        }
        strcpy(dir + strlen(dir) - 6, "XXXXXX");
}
