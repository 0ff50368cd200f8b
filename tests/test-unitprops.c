/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* src/host/unitprops.c, the lifetime steps' systemd adapter: over D-Bus
 * against the stand-in systemd (tests/fakesystemd.c), the exact calls and
 * properties it sends; without libsystemd against tests/helpers/fake-systemd,
 * the exact argv of systemd-run and systemctl; in both, the states it waits
 * for, and the names it refuses before sending or running anything. */
#include <check.h>
#include <fcntl.h>

#include "check-main.h"
#include "fakesystemd.h"
#include "host/lifetime.h"
#include "shared/subprocess.h"
#include "host/unitprops.h"
#include "host/units.h"
#include "shared/util.h"
#include "testutil.h"

/* Long enough for a loaded machine (make -j16 check on two cores) to run
 * the fake; the calls here do not time out. */
#define T (20 * USEC_PER_SEC)

static char tmpdir[] = "/tmp/vfio-hook-unitprops-XXXXXX";

static void setup(void) {
        static const TestTool tools[] = {
                { "systemctl", "fake-systemd", "VFIO_HOOK_SYSTEMCTL" },
                { "systemd-run", "fake-systemd", "VFIO_HOOK_SYSTEMD_RUN" },
        };
        test_tools_setup(tmpdir, tools, ELEMENTSOF(tools));
        /* Only named in the argv: any absolute path does. */
        ck_assert_int_eq(setenv("VFIO_HOOK_SYSTEMD_INHIBIT", "/usr/bin/systemd-inhibit", 1), 0);
        ck_assert_int_eq(setenv("VFIO_HOOK_SLEEP", "/usr/bin/sleep", 1), 0);
}

static void teardown(void) {
        test_tools_teardown(tmpdir);
}

/* What the fake ran since the last call: the whole log, then forgotten. */
static char *calls(void) {
        char p[sizeof tmpdir + 16];
        snprintf(p, sizeof p, "%s/calls", tmpdir);
        if (access(p, F_OK) < 0)
                return strdup("");
        char *buf = test_read_file(p);
        unlink(p);
        return buf;
}

/* The next start fails: the fake's unit fails (a lock logind refuses). */
static void fail_next_start(void) {
        char p[sizeof tmpdir + 16];
        snprintf(p, sizeof p, "%s/fail-start", tmpdir);
        close(open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
}

/* Names and values refused before anything is sent or run. */
static void refused_inhibitors(const char *unit) {
        free(calls()); /* forget what ran so far */
        ck_assert_int_eq(unitprops_inhibitor_start("sshd.service", "sleep", "x", T, NULL), -EINVAL);
        ck_assert_int_eq(unitprops_inhibitor_start("vfio-hook-inhibit-a/b.service", "sleep", "x", T, NULL), -EINVAL);
        ck_assert_int_eq(unitprops_inhibitor_start(unit, "nap", "x", T, NULL), -EINVAL);
        ck_assert_int_eq(unitprops_inhibitor_start(unit, "sleep", "a\nb", T, NULL), -EINVAL);
        ck_assert_int_eq(unitprops_inhibitor_stop("system.slice", T, NULL), -EINVAL);
        _cleanup_free_ char *c = calls();
        ck_assert_str_eq(c, "");
}

static void refused_cpus(void) {
        char *v = NULL;
        free(calls());
        ck_assert_int_eq(unitprops_allowed_cpus_set("machine.slice", "0", T, NULL), -EINVAL);
        ck_assert_int_eq(unitprops_allowed_cpus_set("system.slice", "0;1", T, NULL), -EINVAL);
        ck_assert_int_eq(unitprops_allowed_cpus_set("system.slice", "0 CPUQuota=1%", T, NULL), -EINVAL);
        ck_assert_int_eq(unitprops_allowed_cpus_set("system.slice", "8192", T, NULL), -EINVAL);
        ck_assert_int_eq(unitprops_allowed_cpus_get("../x.slice", T, &v, NULL), -EINVAL);
        _cleanup_free_ char *c = calls();
        ck_assert_str_eq(c, "");
}

START_TEST(test_inhibitor) {
        char unit[INHIBIT_UNIT_MAX];
        _cleanup_free_ char *err = NULL, *c1 = NULL, *c2 = NULL;
        UnitState st;

        inhibit_unit_name("my-vm", unit);
        ck_assert_int_eq(unitprops_inhibitor_start(unit, "sleep:idle", "vfio-hook: my-vm has the GPU", T, &err), 0);
        c1 = calls();
        ck_assert_msg(startswith(c1, "systemd-run [--no-ask-password] [--quiet] [--collect] [--service-type=exec] "
                                     "[--unit=vfio-hook-inhibit-my\\x2dvm.service] "
                                     "[--description=vfio-hook: my-vm has the GPU (inhibitor lock)] [--] "
                                     "[/usr/bin/systemd-inhibit] [--what=sleep:idle] [--who=vfio-hook] "
                                     "[--why=vfio-hook: my-vm has the GPU] [--mode=block] [/usr/bin/sleep] [infinity]\n"
                                     "systemctl [--no-pager] [--no-ask-password] [show] [--property=ActiveState] "
                                     "[--value] [--] [vfio-hook-inhibit-my\\x2dvm.service]\n"),
                      "%s", c1);
        ck_assert_int_eq(unitprops_state(unit, T, &st, NULL), 0);
        ck_assert_int_eq(st, UNIT_ACTIVE);

        /* Started twice: systemd's own refusal, in one line. */
        ck_assert_int_eq(unitprops_inhibitor_start(unit, "sleep", "x", T, &err), -EIO);
        ck_assert_msg(strstr(err, "was already loaded"), "%s", err);

        ck_assert_int_eq(unitprops_inhibitor_stop(unit, T, NULL), 0);
        c2 = calls();
        ck_assert_msg(strstr(c2, "systemctl [--no-pager] [--no-ask-password] [stop] [--] [vfio-hook-inhibit-my\\x2dvm.service]"),
                      "%s", c2);
        ck_assert_int_eq(unitprops_state(unit, T, &st, NULL), 0);
        ck_assert_int_eq(st, UNIT_INACTIVE);
        /* A unit that is gone is stopped. */
        ck_assert_int_eq(unitprops_inhibitor_stop(unit, T, NULL), 0);

        /* A lock logind refuses: the unit fails, and so does the start. */
        fail_next_start();
        free(err);
        err = NULL;
        ck_assert_int_eq(unitprops_inhibitor_start(unit, "sleep", "x", T, &err), -EIO);
        ck_assert_msg(strstr(err, "failed"), "%s", err);
        refused_inhibitors(unit);
}
END_TEST

START_TEST(test_allowed_cpus) {
        _cleanup_free_ char *v = NULL, *v2 = NULL, *c1 = NULL;
        ck_assert_int_eq(unitprops_allowed_cpus_get("system.slice", T, &v, NULL), 0);
        ck_assert_str_eq(v, "");
        ck_assert_int_eq(unitprops_allowed_cpus_set("system.slice", "0-1,4", T, NULL), 0);
        c1 = calls();
        ck_assert_msg(strstr(c1, "systemctl [--no-pager] [--no-ask-password] [set-property] [--runtime] [--] "
                                 "[system.slice] [AllowedCPUs=0-1,4]\n"),
                      "%s", c1);
        ck_assert_int_eq(unitprops_allowed_cpus_get("system.slice", T, &v2, NULL), 0);
        ck_assert_str_eq(v2, "0-1,4");
        ck_assert_int_eq(unitprops_allowed_cpus_set("init.scope", "", T, NULL), 0);
        refused_cpus();
}
END_TEST

/* ------------------------------------------------------------------ over D-Bus */

static pid_t bus_pid = -1;

static void setup_bus(void) {
        test_tools_setup(tmpdir, NULL, 0);
        bus_pid = fakesystemd_start_env(tmpdir);
        ck_assert_int_gt(bus_pid, 0);
        ck_assert_int_eq(unsetenv("VFIO_HOOK_SYSTEMD_RUN"), 0);
        ck_assert_int_eq(setenv("VFIO_HOOK_SYSTEMD_INHIBIT", "/usr/bin/systemd-inhibit", 1), 0);
        ck_assert_int_eq(setenv("VFIO_HOOK_SLEEP", "/usr/bin/sleep", 1), 0);
}

static void teardown_bus(void) {
        fakesystemd_stop_env(bus_pid);
        teardown();
}

START_TEST(bus_inhibitor) {
        char unit[INHIBIT_UNIT_MAX];
        _cleanup_free_ char *err = NULL, *err2 = NULL, *err3 = NULL, *c1 = NULL, *c2 = NULL, *c3 = NULL, *c4 = NULL;
        UnitState st;

        inhibit_unit_name("my-vm", unit);
        ck_assert_int_eq(unitprops_inhibitor_start(unit, "sleep:idle", "vfio-hook: my-vm has the GPU", T, &err), 0);
        ck_assert_ptr_null(err);
        c1 = calls();
        /* systemd-run's properties; then the job, and the state once. */
        ck_assert_str_eq(c1, "StartTransientUnit vfio-hook-inhibit-my\\x2dvm.service fail "
                             "Description=vfio-hook: my-vm has the GPU (inhibitor lock) Type=exec "
                             "CollectMode=inactive-or-failed ExecStart=/usr/bin/systemd-inhibit "
                             "[/usr/bin/systemd-inhibit] [--what=sleep:idle] [--who=vfio-hook] "
                             "[--why=vfio-hook: my-vm has the GPU] [--mode=block] [/usr/bin/sleep] [infinity] false\n"
                             "LoadUnit vfio-hook-inhibit-my\\x2dvm.service\n");
        ck_assert_int_eq(unitprops_state(unit, T, &st, NULL), 0);
        ck_assert_int_eq(st, UNIT_ACTIVE);

        /* Started twice: systemd's own refusal, in one line. */
        int r = unitprops_inhibitor_start(unit, "sleep", "x", T, &err);
        ck_assert_int_lt(r, 0);
        ck_assert_str_eq(err, "starting vfio-hook-inhibit-my\\x2dvm.service: Unit vfio-hook-inhibit-my\\x2dvm.service "
                              "was already loaded or has a fragment file.");

        free(calls());
        ck_assert_int_eq(unitprops_inhibitor_stop(unit, T, NULL), 0);
        c2 = calls();
        ck_assert_msg(startswith(c2, "StopUnit vfio-hook-inhibit-my\\x2dvm.service\n"), "%s", c2);
        /* Collected: systemd does not know it any more. */
        ck_assert_int_eq(unitprops_state(unit, T, &st, NULL), 0);
        ck_assert_int_eq(st, UNIT_INACTIVE);
        /* A unit that is gone is stopped. */
        ck_assert_int_eq(unitprops_inhibitor_stop(unit, T, NULL), 0);

        /* A lock that cannot be taken: the unit fails, and so does the start. */
        fail_next_start();
        ck_assert_int_eq(unitprops_inhibitor_start(unit, "sleep", "x", T, &err2), -EIO);
        ck_assert_str_eq(err2, "starting vfio-hook-inhibit-my\\x2dvm.service: the unit failed "
                               "(journalctl -u vfio-hook-inhibit-my\\x2dvm.service)");
        ck_assert_int_eq(unitprops_state(unit, T, &st, NULL), -ENOEXEC);
        c3 = calls();
        ck_assert_msg(strstr(c3, "StartTransientUnit vfio-hook-inhibit-my\\x2dvm.service fail Description=x "), "%s", c3);

        refused_inhibitors(unit);
        ck_assert_int_eq(unitprops_state("-x.service", T, &st, &err3), -EINVAL);
        c4 = calls();
        ck_assert_str_eq(c4, "");
}
END_TEST

START_TEST(bus_allowed_cpus) {
        _cleanup_free_ char *v = NULL, *v2 = NULL, *v3 = NULL, *v4 = NULL, *c1 = NULL, *c2 = NULL, *c3 = NULL;

        ck_assert_int_eq(unitprops_allowed_cpus_get("system.slice", T, &v, NULL), 0);
        ck_assert_str_eq(v, "");
        c1 = calls();
        ck_assert_str_eq(c1, "LoadUnit system.slice\nGet system.slice\n");

        /* CPU n is bit n % 8 of byte n / 8: 0-1,4 is 0x13. */
        ck_assert_int_eq(unitprops_allowed_cpus_set("system.slice", "0-1,4", T, NULL), 0);
        c2 = calls();
        ck_assert_str_eq(c2, "SetUnitProperties system.slice runtime=1 AllowedCPUs=13\n");
        ck_assert_int_eq(unitprops_allowed_cpus_get("system.slice", T, &v2, NULL), 0);
        ck_assert_str_eq(v2, "0-1,4");

        /* A scope's is on the Scope interface (the fake has no Slice one there). */
        ck_assert_int_eq(unitprops_allowed_cpus_set("init.scope", "9,12-13", T, NULL), 0);
        ck_assert_int_eq(unitprops_allowed_cpus_get("init.scope", T, &v3, NULL), 0);
        ck_assert_str_eq(v3, "9,12-13");
        /* "" resets: no bytes. */
        free(calls());
        ck_assert_int_eq(unitprops_allowed_cpus_set("init.scope", "", T, NULL), 0);
        c3 = calls();
        ck_assert_str_eq(c3, "SetUnitProperties init.scope runtime=1 AllowedCPUs=\n");
        ck_assert_int_eq(unitprops_allowed_cpus_get("init.scope", T, &v4, NULL), 0);
        ck_assert_str_eq(v4, "");
        refused_cpus();
}
END_TEST

START_TEST(bus_unreachable) {
        _cleanup_free_ char *e = NULL, *e2 = NULL;
        char *v = NULL;

        ck_assert_int_eq(setenv("VFIO_HOOK_SYSTEMD_BUS", "unix:path=/nonexistent/vfio-hook/bus", 1), 0);
        ck_assert_int_eq(unitprops_allowed_cpus_get("system.slice", T, &v, &e), -EHOSTDOWN);
        ck_assert_str_eq(e, "querying system.slice: systemd cannot be reached at unix:path=/nonexistent/vfio-hook/bus: "
                            "No such file or directory");
        ck_assert_int_eq(unitprops_inhibitor_start("vfio-hook-inhibit-x.service", "sleep", "x", T, &e2), -EHOSTDOWN);
        ck_assert_msg(startswith(e2, "starting vfio-hook-inhibit-x.service: systemd cannot be reached"), "%s", e2);
}
END_TEST

static Suite *unitprops_suite(void) {
        Suite *s = suite_create("unitprops");
        TCase *tc = test_tcase("unitprops");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_inhibitor);
        tcase_add_test(tc, test_allowed_cpus);
        suite_add_tcase(s, tc);

        tc = test_tcase("fake-systemd-bus");
        tcase_add_checked_fixture(tc, setup_bus, teardown_bus);
        tcase_add_test(tc, bus_inhibitor);
        tcase_add_test(tc, bus_allowed_cpus);
        tcase_add_test(tc, bus_unreachable);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(unitprops_suite());
}
