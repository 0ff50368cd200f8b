/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <check.h>
#include <sys/stat.h>

#include <stdarg.h>

#include "fakehost.h"
#include "model/domxml.h"
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

/* A domain parsed from its parts: its name, the body of its <vh:policy>
 * (NULL: no policy element) and its PCI hostdevs ("DDDD:BB:SS.F"),
 * NULL-terminated. */
Domain *test_domain_newv(const char *name, const char *policy, va_list ap) {
        _cleanup_free_ char *xml = NULL, *devs = strdup(""), *err = NULL;
        Domain *d = NULL;

        for (const char *a; (a = va_arg(ap, const char *));) {
                unsigned dom, bus, slot, fn;
                char *n = NULL;
                ck_assert_int_eq(sscanf(a, "%x:%x:%x.%x", &dom, &bus, &slot, &fn), 4);
                ck_assert_int_ge(asprintf(&n,
                                          "%s<hostdev mode='subsystem' type='pci' managed='yes'><source>"
                                          "<address domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/>"
                                          "</source></hostdev>",
                                          devs, dom, bus, slot, fn),
                                 0);
                free(devs);
                devs = n;
        }
        ck_assert_int_ge(asprintf(&xml, "<domain type='kvm'><name>%s</name>%s%s%s<devices>%s</devices></domain>", name,
                                  policy ? "<metadata><vh:policy xmlns:vh='urn:vfio-hook:policy:1'>" : "",
                                  policy ? policy : "", policy ? "</vh:policy></metadata>" : "", devs),
                         0);
        int r = domxml_parse(xml, strlen(xml), &d, &err);
        ck_assert_msg(r == 0, "parsing: %s", err ? err : strerror(-r));
        return d;
}

Domain *test_domain_new(const char *name, const char *policy, ...) {
        va_list ap;
        va_start(ap, policy);
        Domain *d = test_domain_newv(name, policy, ap);
        va_end(ap);
        return d;
}
