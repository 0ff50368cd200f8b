/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <check.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>

#include "check-main.h"
#include "model/policy.h"
#include "shared/util.h"

#define TMPDIR_TEMPLATE "/tmp/test-policy.XXXXXX"
static char tmpdir[sizeof(TMPDIR_TEMPLATE)];

static void setup(void) {
        memcpy(tmpdir, TMPDIR_TEMPLATE, sizeof(TMPDIR_TEMPLATE));
        ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        return remove(path);
}

static void teardown(void) {
        /* Only what this test made, in its own fresh directory. */
        ck_assert_int_eq(nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* Writes a file in tmpdir with the given mode; returns its path. */
static char *write_file(const char *name, const char *content, mode_t mode) {
        char *path;
        int fd;

        ck_assert_int_ge(asprintf(&path, "%s/%s", tmpdir, name), 0);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, content, strlen(content)), (ssize_t) strlen(content));
        ck_assert_int_eq(fchmod(fd, mode), 0);
        close(fd);
        return path;
}

/* want_after_path: the message after the file's path, e.g. ":3: unknown ...". */
static void expect_config_error(const char *content, int want_r, const char *want_after_path) {
        _cleanup_free_ char *path = write_file("vfio-hook.conf", content, 0644);
        _cleanup_free_ char *err = NULL, *want = NULL;
        Config c = { .allowed_modules = (char **) 1 };

        ck_assert_int_eq(config_load(path, false, &c, &err), want_r);
        ck_assert_ptr_eq(c.allowed_modules, (char **) 1); /* untouched on failure */
        ck_assert_ptr_nonnull(err);
        ck_assert_int_ge(asprintf(&want, "%s%s", path, want_after_path), 0);
        ck_assert_msg(strstr(err, want), "error \"%s\" does not contain \"%s\"", err, want);
        ck_assert(!strchr(err, '\n'));
}

/* ---- policy and stacks ---- */

START_TEST(test_policy_defaults) {
        Policy p;

        memset(&p, 0xaa, sizeof(p));
        policy_init(&p);
        ck_assert_int_eq(p.stack, STACK_AUTO);
        ck_assert_int_eq(p.console, CHOICE_AUTO);
        ck_assert_int_eq(p.framebuffer, CHOICE_AUTO);
        ck_assert_int_eq(p.display_manager, CHOICE_AUTO);
        ck_assert_int_eq(p.holders, HOLDERS_REFUSE);
        ck_assert_ptr_null(p.services);
        ck_assert_ptr_null(p.modules);
        ck_assert_uint_eq(p.timeout_sec, 30);
        ck_assert_int_eq(strv_extend(&p.modules, "x"), 0);
        policy_done(&p);
        ck_assert_ptr_null(p.modules);
        policy_done(&p); /* twice is fine */
        policy_done(NULL);
}
END_TEST

START_TEST(test_stack_strings) {
        static const char *const names[] = { "auto", "nvidia", "amdgpu", "i915", "xe", "nouveau", "radeon", "none" };
        Stack s = STACK_NONE;

        ck_assert_uint_eq(ELEMENTSOF(names), _STACK_MAX);
        for (unsigned i = 0; i < _STACK_MAX; i++) {
                ck_assert_str_eq(stack_to_string((Stack) i), names[i]);
                ck_assert_int_eq(stack_from_string(names[i], &s), 0);
                ck_assert_int_eq(s, (Stack) i);
        }
        s = STACK_XE;
        ck_assert_int_eq(stack_from_string("Nvidia", &s), -EINVAL);
        ck_assert_int_eq(stack_from_string("", &s), -EINVAL);
        ck_assert_int_eq(stack_from_string(NULL, &s), -EINVAL);
        ck_assert_int_eq(s, STACK_XE);
        ck_assert_ptr_null(stack_to_string(_STACK_MAX));
}
END_TEST

START_TEST(test_choice_strings) {
        Choice c = CHOICE_KEEP;

        ck_assert_str_eq(choice_to_string(CHOICE_AUTO, "unbind"), "auto");
        ck_assert_str_eq(choice_to_string(CHOICE_KEEP, "unbind"), "keep");
        ck_assert_str_eq(choice_to_string(CHOICE_CHANGE, "unbind"), "unbind");
        ck_assert_str_eq(choice_to_string(CHOICE_CHANGE, "stop"), "stop");
        ck_assert_ptr_null(choice_to_string(_CHOICE_MAX, "stop"));
        ck_assert_int_eq(choice_from_string("auto", "stop", &c), 0);
        ck_assert_int_eq(c, CHOICE_AUTO);
        ck_assert_int_eq(choice_from_string("stop", "stop", &c), 0);
        ck_assert_int_eq(c, CHOICE_CHANGE);
        ck_assert_int_eq(choice_from_string("keep", "stop", &c), 0);
        ck_assert_int_eq(c, CHOICE_KEEP);
        /* Each element has its own word for a change. */
        ck_assert_int_eq(choice_from_string("unbind", "stop", &c), -EINVAL);
        ck_assert_int_eq(choice_from_string("Auto", "stop", &c), -EINVAL);
        ck_assert_int_eq(choice_from_string(NULL, "stop", &c), -EINVAL);
        ck_assert_int_eq(c, CHOICE_KEEP);
}
END_TEST

START_TEST(test_stack_tables) {
        const char *const *m = stack_modules(STACK_NVIDIA);

        ck_assert_str_eq(m[0], "nvidia_drm");
        ck_assert_str_eq(m[1], "nvidia_modeset");
        ck_assert_str_eq(m[2], "nvidia_uvm");
        ck_assert_str_eq(m[3], "nvidia");
        ck_assert_ptr_null(m[4]);
        ck_assert_str_eq(stack_modules(STACK_AMDGPU)[0], "amdgpu");
        ck_assert_str_eq(stack_modules(STACK_I915)[0], "i915");
        ck_assert_str_eq(stack_modules(STACK_XE)[0], "xe");
        ck_assert_str_eq(stack_modules(STACK_NOUVEAU)[0], "nouveau");
        ck_assert_str_eq(stack_modules(STACK_RADEON)[0], "radeon");
        ck_assert_ptr_null(stack_modules(STACK_RADEON)[1]);
        ck_assert_ptr_null(stack_modules(STACK_AUTO)[0]);
        ck_assert_ptr_null(stack_modules(STACK_NONE)[0]);

        ck_assert_str_eq(stack_services(STACK_NVIDIA)[0], "nvidia-persistenced.service");
        ck_assert_ptr_null(stack_services(STACK_NVIDIA)[1]);
        for (unsigned i = 0; i < _STACK_MAX; i++)
                if (i != STACK_NVIDIA)
                        ck_assert_ptr_null(stack_services((Stack) i)[0]);
}
END_TEST

START_TEST(test_unit_names) {
        static const char *const good[] = {
                "display-manager.service", "nvidia-persistenced.service", "a.service",
                "getty@tty1.service", "x:y_z.service", "A-B.1.service",
        };
        static const char *const bad[] = {
                "", ".service", "a.socket", "a.service.", "../a.service", "a/b.service", "a..b.service",
                "-a.service", ".a.service", "@a.service", "getty@.service", "a@b@c.service",
                "a b.service", "a\n.service", "a+b.service", "a.SERVICE", "fsck@dev-x\\x2d.service",
        };

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                ck_assert_msg(unit_name_valid(good[i]), "rejected '%s'", good[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ck_assert_msg(!unit_name_valid(bad[i]), "accepted '%s'", bad[i]);
        ck_assert(!unit_name_valid(NULL));

        char longname[300];
        memset(longname, 'a', sizeof(longname));
        strcpy(longname + 255 - strlen(".service"), ".service");
        ck_assert_uint_eq(strlen(longname), 255);
        ck_assert(unit_name_valid(longname));
        strcpy(longname + 256 - strlen(".service"), ".service");
        ck_assert(!unit_name_valid(longname));
}
END_TEST

START_TEST(test_module_names) {
        _cleanup_free_ char *m = NULL;
        char *untouched = (char *) 1;

        ck_assert_int_eq(policy_module_name_parse("snd-hda-intel", &m), 0);
        ck_assert_str_eq(m, "snd_hda_intel");
        free(m);
        m = NULL;
        ck_assert_int_eq(policy_module_name_parse("i915", &m), 0);
        ck_assert_str_eq(m, "i915");

        static const char *const bad[] = { "", "Evil", "a/b", "..", "a.ko", "a b", "a\n", "é" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                ck_assert_msg(policy_module_name_parse(bad[i], &untouched) == -EINVAL, "accepted '%s'", bad[i]);
                ck_assert_ptr_eq(untouched, (char *) 1);
        }
        ck_assert_int_eq(policy_module_name_parse(NULL, &untouched), -EINVAL);

        char name[MODULE_NAME_MAX + 2];
        memset(name, 'a', sizeof(name));
        name[MODULE_NAME_MAX] = 0;
        _cleanup_free_ char *max = NULL;
        ck_assert_int_eq(policy_module_name_parse(name, &max), 0);
        name[MODULE_NAME_MAX] = 'a';
        name[MODULE_NAME_MAX + 1] = 0;
        ck_assert_int_eq(policy_module_name_parse(name, &untouched), -EINVAL);
}
END_TEST

START_TEST(test_value_quote) {
        char buf[VALUE_QUOTE_BUFSZ], in[200];

        ck_assert_str_eq(value_quote("plain", buf), "plain");
        ck_assert_str_eq(value_quote("a\nb\tc\\d\x1b[0m\x7f\xff", buf), "a\\nb\\tc\\\\d\\x1b[0m\\x7f\\xff");
        ck_assert_str_eq(value_quote(NULL, buf), "");

        /* The worst case fills the buffer exactly. */
        memset(in, 1, sizeof(in) - 1);
        in[sizeof(in) - 1] = 0;
        value_quote(in, buf);
        ck_assert_uint_eq(strlen(buf), VALUE_QUOTE_BUFSZ - 1);
        ck_assert(startswith(buf, "\\x01\\x01"));
        ck_assert_str_eq(buf + strlen(buf) - 3, "...");

        memset(in, 'y', VALUE_QUOTE_CHARS);
        in[VALUE_QUOTE_CHARS] = 0;
        ck_assert_str_eq(value_quote(in, buf), in); /* exactly the limit: not cut */
}
END_TEST

/* ---- the config file ---- */

START_TEST(test_config_good) {
        _cleanup_free_ char *path = write_file("vfio-hook.conf",
                "# comment\n"
                "\n"
                "   \t\n"
                "allow-module i2c-nvidia-gpu\n"
                "  allow-module\txhci_pci  \n"
                "allow-module i2c_nvidia_gpu\n"
                "allow-service openrgb.service\n"
                "  # indented comment\n"
                "allow-service getty@tty7.service\r\n"
                "allow-module last_without_newline", 0644);
        Config c = {};

        ck_assert_int_eq(config_load(path, false, &c, NULL), 0);
        ck_assert_str_eq(c.path, path);
        ck_assert_uint_eq(strv_length(c.allowed_modules), 3);
        ck_assert_str_eq(c.allowed_modules[0], "i2c_nvidia_gpu");
        ck_assert_str_eq(c.allowed_modules[1], "xhci_pci");
        ck_assert_str_eq(c.allowed_modules[2], "last_without_newline");
        ck_assert_uint_eq(strv_length(c.allowed_services), 2);
        ck_assert_str_eq(c.allowed_services[0], "openrgb.service");
        ck_assert_str_eq(c.allowed_services[1], "getty@tty7.service");
        ck_assert(config_module_allowed(&c, "xhci_pci"));
        ck_assert(config_service_allowed(&c, "openrgb.service"));
        config_done(&c);
        ck_assert_ptr_null(c.allowed_modules);
        ck_assert_ptr_null(c.path);
}
END_TEST

START_TEST(test_config_example) {
        /* The shipped example loads (copied: a checkout may be group-writable). */
        _cleanup_free_ char *src = NULL, *content = NULL, *path = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        size_t n = 0;
        Config c = {};

        ck_assert_int_ge(asprintf(&src, "%s/examples/vfio-hook.conf", TEST_SRCDIR), 0);
        f = fopen(src, "re");
        ck_assert_ptr_nonnull(f);
        content = calloc(1, 65536);
        n = fread(content, 1, 65535, f);
        ck_assert_uint_gt(n, 0);
        path = write_file("example.conf", content, 0644);
        ck_assert_int_eq(config_load(path, false, &c, NULL), 0);
        /* Everything in it is commented out: an example, not a grant. */
        ck_assert_ptr_null(c.allowed_modules);
        ck_assert_ptr_null(c.allowed_services);
        config_done(&c);
}
END_TEST

START_TEST(test_config_unknown_directive) {
        expect_config_error("allow-module a\n\nallow-modules b\n", -EINVAL, ":3: unknown directive 'allow-modules'");
        expect_config_error("allow_module a\n", -EINVAL, ":1: unknown directive 'allow_module'");
        expect_config_error("x\x1b[2J\n", -EINVAL, ":1: unknown directive 'x\\x1b[2J'");
}
END_TEST

START_TEST(test_config_bad_names) {
        expect_config_error("allow-module Evil\n", -EINVAL, ":1: invalid module name 'Evil'");
        expect_config_error("# x\nallow-module ../x\n", -EINVAL, ":2: invalid module name '../x'");
        expect_config_error("allow-service sshd\n", -EINVAL, ":1: invalid service name 'sshd'");
        expect_config_error("allow-service ../../x.service\n", -EINVAL, ":1: invalid service name '../../x.service'");
        expect_config_error("allow-module\n", -EINVAL, ":1: allow-module needs a name");
        expect_config_error("allow-service a.service b.service\n", -EINVAL, ":1: unexpected 'b.service' after the name");
        expect_config_error("allow-module a # comment\n", -EINVAL, ":1: unexpected '#' after the name");
}
END_TEST

START_TEST(test_config_missing) {
        _cleanup_free_ char *path = NULL, *err = NULL;
        Config c = { .allowed_modules = (char **) 1 };

        ck_assert_int_ge(asprintf(&path, "%s/nonexistent.conf", tmpdir), 0);
        ck_assert_int_eq(config_load(path, false, &c, &err), -ENOENT);
        ck_assert_ptr_eq(c.allowed_modules, (char **) 1);
        ck_assert_ptr_nonnull(strstr(err, "nonexistent.conf: No such file or directory"));

        ck_assert_int_eq(config_load(path, true, &c, NULL), 0);
        ck_assert_ptr_null(c.allowed_modules);
        ck_assert_ptr_null(c.allowed_services);
        ck_assert_str_eq(c.path, path);
        config_done(&c);
}
END_TEST

START_TEST(test_config_unsafe_files) {
        _cleanup_free_ char *err = NULL, *err2 = NULL, *err3 = NULL;
        _cleanup_free_ char *ww = write_file("ww.conf", "allow-module evil\n", 0666);
        Config c = {};

        ck_assert_int_eq(config_load(ww, false, &c, &err), -EPERM);
        ck_assert_msg(strstr(err, "refusing it: writable by others (mode 0666)"), "%s", err);

        /* Each reason is its own: the owner, the group, others. */
        if (geteuid() == 0) {
                _cleanup_free_ char *theirs = write_file("theirs.conf", "allow-module evil\n", 0644);
                _cleanup_free_ char *group = write_file("group.conf", "allow-module evil\n", 0664);
                _cleanup_free_ char *e1 = NULL, *e2 = NULL;
                ck_assert_int_eq(chown(theirs, 4242, 0), 0);
                ck_assert_int_eq(config_load(theirs, false, &c, &e1), -EPERM);
                ck_assert_msg(strstr(e1, "refusing it: owned by uid 4242, not by root"), "%s", e1);
                ck_assert_int_eq(chown(group, 0, 4243), 0);
                ck_assert_int_eq(config_load(group, false, &c, &e2), -EPERM);
                ck_assert_msg(strstr(e2, "refusing it: writable by group 4243 (mode 0664)"), "%s", e2);
        } else
                printf("test_config_unsafe_files: not root, the owner and group cases need chown(): not run\n");

        /* A directory, and a FIFO that must not hang the hook. */
        ck_assert_int_eq(config_load(tmpdir, true, &c, &err2), -EPERM);
        ck_assert_ptr_nonnull(strstr(err2, "not a regular file"));

        _cleanup_free_ char *fifo = NULL;
        ck_assert_int_ge(asprintf(&fifo, "%s/fifo", tmpdir), 0);
        ck_assert_int_eq(mkfifo(fifo, 0600), 0);
        ck_assert_int_eq(config_load(fifo, true, &c, &err3), -EPERM);
        ck_assert_ptr_null(c.allowed_modules);
}
END_TEST

/* ---- the allowlist ---- */

START_TEST(test_allowlist_builtin) {
        static const char *const modules[] = {
                "nvidia_drm", "nvidia_modeset", "nvidia_uvm", "nvidia", "amdgpu", "i915", "xe",
                "nouveau", "radeon", "snd_hda_intel",
        };

        for (size_t i = 0; i < ELEMENTSOF(modules); i++)
                ck_assert_msg(config_module_allowed(NULL, modules[i]), "'%s' not built in", modules[i]);
        ck_assert(!config_module_allowed(NULL, "evil"));
        ck_assert(!config_module_allowed(NULL, "snd-hda-intel")); /* callers normalize */
        ck_assert(!config_module_allowed(NULL, NULL));
        ck_assert(config_service_allowed(NULL, "display-manager.service"));
        ck_assert(config_service_allowed(NULL, "nvidia-persistenced.service"));
        ck_assert(!config_service_allowed(NULL, "sshd.service"));
        ck_assert(!config_service_allowed(NULL, NULL));
}
END_TEST

START_TEST(test_policy_check_allowed) {
        _cleanup_free_ char *path = write_file("vfio-hook.conf", "allow-module evil\nallow-service openrgb.service\n", 0644);
        _cleanup_free_ char *err = NULL, *err2 = NULL, *err3 = NULL, *want = NULL;
        Config c = {};
        Policy p;

        policy_init(&p);
        ck_assert_int_eq(strv_extend(&p.modules, "snd_hda_intel"), 0);
        ck_assert_int_eq(strv_extend(&p.modules, "evil"), 0);
        ck_assert_int_eq(strv_extend(&p.services, "nvidia-persistenced.service"), 0);

        ck_assert_int_eq(policy_check_allowed(&p, NULL, NULL, &err), -EPERM);
        ck_assert_str_eq(err, "policy: <module>evil</module> is not allowed "
                              "(allowed: built-in GPU stacks and allow-module lines of " SYSCONFDIR "/vfio-hook.conf)");

        ck_assert_int_eq(config_load(path, false, &c, NULL), 0);
        ck_assert_int_eq(policy_check_allowed(&p, &c, NULL, NULL), 0);

        ck_assert_int_eq(strv_extend(&p.services, "sshd.service"), 0);
        ck_assert_int_eq(policy_check_allowed(&p, &c, NULL, &err2), -EPERM);
        ck_assert_int_ge(asprintf(&want, "policy: <service>sshd.service</service> is not allowed "
                                         "(allowed: display-manager.service, nvidia-persistenced.service "
                                         "and allow-service lines of %s)", path), 0);
        ck_assert_str_eq(err2, want);

        ck_assert_int_eq(strv_extend(&c.allowed_services, "sshd.service"), 0);
        ck_assert_int_eq(policy_check_allowed(&p, &c, "/etc/other.conf", &err3), 0);
        ck_assert_ptr_null(err3);

        /* The path the caller names wins over the one the config was read from. */
        _cleanup_free_ char *err4 = NULL;
        ck_assert_int_eq(strv_extend(&p.modules, "evil2"), 0);
        ck_assert_int_eq(policy_check_allowed(&p, &c, "/etc/other.conf", &err4), -EPERM);
        ck_assert_str_eq(err4, "policy: <module>evil2</module> is not allowed "
                               "(allowed: built-in GPU stacks and allow-module lines of /etc/other.conf)");

        policy_done(&p);
        config_done(&c);
}
END_TEST

START_TEST(test_config_vfs) {
        _cleanup_free_ char *path = write_file("vfio-hook.conf", "allow-vfs 0000:3b:00.0 8\nallow-vfs 0000:3B:00.1 2\n"
                                                                 "allow-vfs 0000:3b:00.0 4\n", 0644);
        _cleanup_free_ char *err = NULL, *err2 = NULL;
        Config c = {};
        Policy p;
        PciAddr a;

        ck_assert_int_eq(config_load(path, false, &c, NULL), 0);
        ck_assert_uint_eq(c.n_allowed_vfs, 2);
        ck_assert_int_eq(pci_addr_parse("0000:3b:00.0", &a), 0);
        ck_assert_uint_eq(config_vfs_allowed(&c, &a), 4); /* the last line counts */
        ck_assert_int_eq(pci_addr_parse("0000:3b:00.1", &a), 0);
        ck_assert_uint_eq(config_vfs_allowed(&c, &a), 2);
        ck_assert_int_eq(pci_addr_parse("0000:3b:00.2", &a), 0);
        ck_assert_uint_eq(config_vfs_allowed(&c, &a), 0);
        ck_assert_uint_eq(config_vfs_allowed(NULL, &a), 0);

        policy_init(&p);
        p.vfs = calloc(1, sizeof *p.vfs);
        ck_assert_ptr_nonnull(p.vfs);
        p.n_vfs = 1;
        ck_assert_int_eq(pci_addr_parse("0000:3b:00.0", &p.vfs[0].pf), 0);
        p.vfs[0].count = 4;
        ck_assert_int_eq(policy_check_allowed(&p, &c, NULL, NULL), 0);
        p.vfs[0].count = 5;
        ck_assert_int_eq(policy_check_allowed(&p, &c, "/etc/vfio-hook.conf", &err), -EPERM);
        ck_assert_str_eq(err, "policy: <vfs pf='0000:3b:00.0' count='5'> is not allowed: /etc/vfio-hook.conf allows at "
                              "most 4 VFs of 0000:3b:00.0");
        ck_assert_int_eq(policy_check_allowed(&p, NULL, NULL, &err2), -EPERM);
        ck_assert_str_eq(err2, "policy: <vfs pf='0000:3b:00.0'> is not allowed: no allow-vfs line for 0000:3b:00.0 in "
                               SYSCONFDIR "/vfio-hook.conf (root adds 'allow-vfs 0000:3b:00.0 5' to allow it)");
        policy_done(&p);
        config_done(&c);
        ck_assert_ptr_null(c.allowed_vfs);

        expect_config_error("allow-vfs 0000:3b:00.0\n", -EINVAL, ":1: allow-vfs needs a PF address and a maximum count");
        expect_config_error("allow-vfs 3b:00.0 4\n", -EINVAL, ":1: invalid PCI address '3b:00.0'");
        expect_config_error("allow-vfs 0000:3b:00.0 0\n", -EINVAL, ":1: invalid VF count '0' (expected 1 to 256)");
        expect_config_error("allow-vfs 0000:3b:00.0 257\n", -EINVAL, ":1: invalid VF count '257'");
        expect_config_error("allow-vfs 0000:3b:00.0 -1\n", -EINVAL, ":1: invalid VF count '-1'");
        expect_config_error("allow-vfs 0000:3b:00.0 4 x\n", -EINVAL, ":1: unexpected 'x' after allow-vfs PF MAX");
}
END_TEST

static Suite *policy_suite(void) {
        Suite *s = suite_create("policy");
        TCase *tc;

        tc = test_tcase("policy");
        tcase_add_test(tc, test_policy_defaults);
        tcase_add_test(tc, test_stack_strings);
        tcase_add_test(tc, test_choice_strings);
        tcase_add_test(tc, test_stack_tables);
        tcase_add_test(tc, test_unit_names);
        tcase_add_test(tc, test_module_names);
        tcase_add_test(tc, test_value_quote);
        suite_add_tcase(s, tc);

        tc = test_tcase("config");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_config_good);
        tcase_add_test(tc, test_config_example);
        tcase_add_test(tc, test_config_unknown_directive);
        tcase_add_test(tc, test_config_bad_names);
        tcase_add_test(tc, test_config_missing);
        tcase_add_test(tc, test_config_unsafe_files);
        tcase_add_test(tc, test_config_vfs);
        suite_add_tcase(s, tc);

        tc = test_tcase("allowlist");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_allowlist_builtin);
        tcase_add_test(tc, test_policy_check_allowed);
        suite_add_tcase(s, tc);

        return s;
}

int main(void) {
        return test_run_suite(policy_suite());
}
