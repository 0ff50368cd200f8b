/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The command line as the front and the engine both read it: libvirt's call
 * told by its shape, options in both forms, never abbreviated. */
#include <check.h>
#include <stdarg.h>

#include "check-main.h"
#include "shared/cmdline.h"
#include "shared/macro.h"

START_TEST(test_called_as_hook) {
        ck_assert(cmdline_called_as_hook("/etc/libvirt/hooks/qemu"));
        ck_assert(cmdline_called_as_hook("qemu"));
        ck_assert(cmdline_called_as_hook("/etc/libvirt/hooks/qemu.d/vfio-hook"));
        ck_assert(cmdline_called_as_hook("qemu.d/x"));
        ck_assert(!cmdline_called_as_hook("/usr/sbin/vfio-hook"));
        ck_assert(!cmdline_called_as_hook("/etc/libvirt/hooks/qemu.d"));
        ck_assert(!cmdline_called_as_hook("/etc/libvirt/hooks/myqemu.d/x"));
        ck_assert(!cmdline_called_as_hook("/etc/libvirt/hooks/qemux"));
}
END_TEST

static bool hook(const char *argv0, const char *a1, const char *a2, const char *a3, const char *a4, HookCall *c,
                 int *next) {
        char *argv[] = { (char *) argv0, (char *) a1, (char *) a2, (char *) a3, (char *) a4, NULL };
        int argc = 1;
        while (argv[argc])
                argc++;
        return cmdline_hook_call(argc, argv, c, next);
}

START_TEST(test_hook_call) {
        static const char *const names[] = { "status", "check", "plan", "restore", "help", "--json", "-x",
                                             "--state-dir=x", "win10" };
        HookCall c;
        int next;

        /* Whatever the name, under any program name: libvirt's shape decides. */
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                for (size_t k = 0; k < 2; k++) {
                        const char *argv0 = k ? "/etc/libvirt/hooks/qemu" : "/usr/sbin/vfio-hook";
                        ck_assert_msg(hook(argv0, names[i], "prepare", "begin", "-", &c, &next), "%s", names[i]);
                        ck_assert_str_eq(c.domain, names[i]);
                        ck_assert_str_eq(c.op, "prepare");
                        ck_assert_str_eq(c.extra, "-");
                        ck_assert_int_eq(next, 5);
                }
        ck_assert(hook("vfio-hook", "w", "release", "end", NULL, &c, &next));
        ck_assert_ptr_null(c.extra);
        ck_assert_int_eq(next, 4);
        /* Options after the call are not its EXTRA. */
        ck_assert(hook("vfio-hook", "w", "release", "end", "--state-dir=/x", &c, &next));
        ck_assert_ptr_null(c.extra);
        ck_assert_int_eq(next, 4);
        /* Under the hook's name any operation is libvirt's (a newer libvirt may add some). */
        ck_assert(hook("/etc/libvirt/hooks/qemu", "w", "frobnicate", "-", "-", &c, &next));

        /* The command line. */
        ck_assert(!hook("vfio-hook", "--state-dir", "D", "status", NULL, &c, &next));
        ck_assert(!hook("vfio-hook", "restore", "win10", "--force", NULL, &c, &next));
        ck_assert(!hook("vfio-hook", "plan", "--xml", "f.xml", "--json", &c, &next));
        ck_assert(!hook("vfio-hook", "status", NULL, NULL, NULL, &c, &next));
        ck_assert(!hook("/etc/libvirt/hooks/qemu", "status", NULL, NULL, NULL, &c, &next));
}
END_TEST

static CmdlineError parse(Options *o, char **pos, int *n, const char **bad, ...) {
        char *argv[16] = { (char *) "vfio-hook" };
        int argc = 1;
        va_list ap;
        va_start(ap, bad);
        for (char *a; (a = va_arg(ap, char *));)
                argv[argc++] = a;
        va_end(ap);
        *o = (Options) {};
        return cmdline_parse(argc, argv, 1, o, pos, n, bad);
}

START_TEST(test_options) {
        Options o;
        char *pos[16];
        const char *bad = NULL;
        int n;

        /* Both forms mean the same, anywhere before "--". */
        ck_assert_int_eq(parse(&o, pos, &n, &bad, "--state-dir", "/s", "status", "--json", NULL), CMDLINE_OK);
        ck_assert_str_eq(o.state_dir, "/s");
        ck_assert(o.json);
        ck_assert_int_eq(n, 1);
        ck_assert_str_eq(pos[0], "status");
        ck_assert_ptr_null(pos[1]);
        ck_assert_int_eq(parse(&o, pos, &n, &bad, "status", "--state-dir=/s", "--sysroot=/r", NULL), CMDLINE_OK);
        ck_assert_str_eq(o.state_dir, "/s");
        ck_assert_str_eq(o.sysroot, "/r");

        /* After "--" everything is an argument; "-" is one anyway. */
        ck_assert_int_eq(parse(&o, pos, &n, &bad, "restore", "--force", "--", "-x", "--json", NULL), CMDLINE_OK);
        ck_assert(o.force);
        ck_assert(!o.json);
        ck_assert_int_eq(n, 3);
        ck_assert_str_eq(pos[1], "-x");
        ck_assert_str_eq(pos[2], "--json");
        ck_assert_int_eq(parse(&o, pos, &n, &bad, "plan", "--xml", "-", NULL), CMDLINE_OK);
        ck_assert_str_eq(o.xml_file, "-");

        /* A value may start with '-', as with getopt. */
        ck_assert_int_eq(parse(&o, pos, &n, &bad, "--config", "-odd", NULL), CMDLINE_OK);
        ck_assert_str_eq(o.config, "-odd");

        ck_assert_int_eq(parse(&o, pos, &n, &bad, "restore", "-x", NULL), CMDLINE_UNKNOWN_OPTION);
        ck_assert_str_eq(bad, "-x");
        ck_assert_int_eq(parse(&o, pos, &n, &bad, "--state", "/s", NULL), CMDLINE_UNKNOWN_OPTION);
        ck_assert_str_eq(bad, "--state");
        ck_assert_int_eq(parse(&o, pos, &n, &bad, "--sysroot", NULL), CMDLINE_NEEDS_VALUE);
        ck_assert_int_eq(parse(&o, pos, &n, &bad, "--sysroot=", NULL), CMDLINE_NEEDS_VALUE);
        ck_assert_int_eq(parse(&o, pos, &n, &bad, "--json=yes", NULL), CMDLINE_TAKES_NO_VALUE);
        ck_assert_str_eq(bad, "--json=yes");
        ck_assert_int_eq(parse(&o, pos, &n, &bad, "-h", NULL), CMDLINE_OK);
        ck_assert(o.help);
}
END_TEST

int main(void) {
        Suite *s = suite_create("cmdline");
        TCase *tc = test_tcase("cmdline");
        tcase_add_test(tc, test_called_as_hook);
        tcase_add_test(tc, test_hook_call);
        tcase_add_test(tc, test_options);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}
