/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* units.c against a stand-in systemd on D-Bus (tests/fakesystemd.c) and
 * against tests/helpers/fake-systemctl (the way without libsystemd):
 * states, stop/start and the wait for the job, units that never stop,
 * failures, name checks; and the real HostOps' unit calls on top. */
#include <check.h>
#include <fcntl.h>
#include <limits.h>

#include "check-main.h"
#include "fakesystemd.h"
#include "host/hostops.h"
#include "shared/subprocess.h"
#include "host/units.h"
#include "shared/util.h"
#include "testutil.h"

/* A bound the calls must come back well within: the product's own bounds
 * here are 0.5 to 4 s; a call that ignored them would take 600 s (a hung
 * systemctl) or forever; a loaded machine (make -j16 check on two cores)
 * adds seconds of scheduling to a spawn. */
#define GENEROUS (10 * USEC_PER_SEC)
#define LONG (20 * USEC_PER_SEC)

static char tmpdir[] = "/tmp/vfio-hook-units-XXXXXX";

static void setup(void) {
        static const TestTool tools[] = { { "systemctl", "fake-systemctl", "VFIO_HOOK_SYSTEMCTL" } };
        test_tools_setup(tmpdir, tools, ELEMENTSOF(tools));
}

static void teardown(void) {
        test_tools_teardown(tmpdir);
}

static void put_unit(const char *unit, const char *content) {
        char path[sizeof tmpdir + 256];
        snprintf(path, sizeof path, "%s/%s", tmpdir, unit);
        FILE *f = fopen(path, "we");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "%s\n", content);
        ck_assert_int_eq(fclose(f), 0);
}

/* First word of the unit's file. */
static char *unit_file_state(const char *unit, char *buf, size_t size) {
        char path[sizeof tmpdir + 256];
        snprintf(path, sizeof path, "%s/%s", tmpdir, unit);
        FILE *f = fopen(path, "re");
        ck_assert_ptr_nonnull(f);
        ck_assert_ptr_nonnull(fgets(buf, (int) size, f));
        fclose(f);
        buf[strcspn(buf, " \n")] = 0;
        return buf;
}

/* How many calls of this verb the fake saw. */
static unsigned calls(const char *verb) {
        char path[sizeof tmpdir + 32], line[512];
        unsigned n = 0;
        snprintf(path, sizeof path, "%s/calls", tmpdir);
        FILE *f = fopen(path, "re");
        if (!f)
                return 0;
        while (fgets(line, sizeof line, f))
                if (startswith(line, verb) && line[strlen(verb)] == ' ')
                        n++;
        fclose(f);
        return n;
}

START_TEST(unit_names) {
        /* Nothing invalid ever reaches systemctl. */
        _cleanup_free_ char *e = NULL;
        UnitState s;
        ck_assert_int_eq(units_state("--force.service", USEC_PER_SEC, &s, NULL), -EINVAL);
        ck_assert_int_eq(units_stop("-x.service", USEC_PER_SEC, &e), -EINVAL);
        ck_assert_str_eq(e, "stopping: invalid unit name");
        ck_assert_int_eq(units_start("x.target", USEC_PER_SEC, NULL), -EINVAL);
        ck_assert_int_eq(units_start("../x.service", USEC_PER_SEC, NULL), -EINVAL);
        ck_assert_int_eq(units_start("a b.service", USEC_PER_SEC, NULL), -EINVAL);
        ck_assert_int_eq(units_start(".service", USEC_PER_SEC, NULL), -EINVAL);
        ck_assert_uint_eq(calls("show") + calls("stop") + calls("start"), 0);
}
END_TEST

START_TEST(unit_states) {
        UnitState s;
        UnitStatus st;

        put_unit("a.service", "active");
        put_unit("i.service", "inactive");
        put_unit("f.service", "failed");
        put_unit("d.service", "deactivating slow 100");

        ck_assert_int_eq(units_state("a.service", LONG, &s, NULL), 0);
        ck_assert_int_eq(s, UNIT_ACTIVE);
        ck_assert_int_eq(units_state("i.service", LONG, &s, NULL), 0);
        ck_assert_int_eq(s, UNIT_INACTIVE);
        ck_assert_int_eq(units_state("f.service", LONG, &s, NULL), 0);
        ck_assert_int_eq(s, UNIT_INACTIVE);
        ck_assert_int_eq(units_state("d.service", LONG, &s, NULL), 0);
        ck_assert_int_eq(s, UNIT_ACTIVE);
        ck_assert_int_eq(units_state("nope.service", LONG, &s, NULL), 0);
        ck_assert_int_eq(s, UNIT_ABSENT);

        ck_assert_int_eq(units_query("f.service", LONG, &st, NULL), 0);
        ck_assert_str_eq(st.load_state, "loaded");
        ck_assert_str_eq(st.active_state, "failed");
        ck_assert_int_eq(units_query("nope.service", LONG, &st, NULL), 0);
        ck_assert_str_eq(st.load_state, "not-found");

        /* One spawn per query. */
        ck_assert_uint_eq(calls("show"), 7);

        /* A unit whose file is gone but that still runs is running. */
        ck_assert_int_eq(unit_status_to_state(&(UnitStatus) { "not-found", "active" }), UNIT_ACTIVE);
        ck_assert_int_eq(unit_status_to_state(&(UnitStatus) { "masked", "inactive" }), UNIT_INACTIVE);
}
END_TEST

START_TEST(unit_stop) {
        char buf[64];
        UnitState s;

        put_unit("dm.service", "active");
        ck_assert_int_eq(units_stop("dm.service", LONG, NULL), 0);
        ck_assert_str_eq(unit_file_state("dm.service", buf, sizeof buf), "inactive");
        ck_assert_int_eq(units_state("dm.service", LONG, &s, NULL), 0);
        ck_assert_int_eq(s, UNIT_INACTIVE);
        ck_assert_uint_eq(calls("stop"), 1);

        /* Already stopped, or no such unit: nothing to wait for. */
        ck_assert_int_eq(units_stop("dm.service", LONG, NULL), 0);
        ck_assert_int_eq(units_stop("absent.service", LONG, NULL), 0);
}
END_TEST

START_TEST(unit_stop_slow) {
        char buf[64];

        /* Stays deactivating for 4 queries: polled until inactive. */
        put_unit("slow.service", "active slow 4");
        ck_assert_int_eq(units_stop("slow.service", LONG, NULL), 0);
        ck_assert_str_eq(unit_file_state("slow.service", buf, sizeof buf), "inactive");
        ck_assert_uint_eq(calls("show"), 5);
}
END_TEST

START_TEST(unit_stop_never) {
        _cleanup_free_ char *e = NULL, *e2 = NULL;
        usec_t t0 = now_usec();

        /* systemctl stop returns, the unit stays up: polled until the
         * deadline, not given up on before it. How many polls fit in the
         * time depends on the machine's load (unit_stop_slow counts them);
         * the message says one answered. 4 s leave a loaded machine time to
         * spawn systemctl stop and one show. */
        put_unit("stuck.service", "active stuck");
        ck_assert_int_eq(units_stop("stuck.service", 4 * USEC_PER_SEC, &e), -ETIME);
        usec_t took = now_usec() - t0;
        ck_assert_uint_ge(took, 4 * USEC_PER_SEC);
        ck_assert_uint_lt(took, 4 * USEC_PER_SEC + GENEROUS);
        ck_assert_str_eq(e, "stopping stuck.service: still active after 4 s");
        ck_assert_uint_ge(calls("show"), 1);

        /* systemctl stop itself never returns. */
        t0 = now_usec();
        put_unit("hang.service", "active hang");
        ck_assert_int_eq(units_stop("hang.service", 500 * USEC_PER_MSEC, &e2), -ETIME);
        ck_assert_uint_lt(now_usec() - t0, GENEROUS);
        ck_assert_str_eq(e2, "stopping hang.service: systemctl stop did not finish within 0.5 s");
}
END_TEST

START_TEST(unit_start) {
        _cleanup_free_ char *e = NULL, *e2 = NULL;
        char buf[64];

        put_unit("dm.service", "inactive");
        ck_assert_int_eq(units_start("dm.service", LONG, NULL), 0);
        ck_assert_str_eq(unit_file_state("dm.service", buf, sizeof buf), "active");

        put_unit("slow.service", "inactive slow 3");
        ck_assert_int_eq(units_start("slow.service", LONG, NULL), 0);
        ck_assert_str_eq(unit_file_state("slow.service", buf, sizeof buf), "active");

        put_unit("broken.service", "inactive broken");
        ck_assert_int_eq(units_start("broken.service", LONG, &e), -EIO);
        ck_assert_str_eq(e, "starting broken.service: Job for broken.service failed because the control "
                            "process exited with error code.");

        ck_assert_int_eq(units_start("absent.service", LONG, &e2), -EIO);
        ck_assert_str_eq(e2, "starting absent.service: Failed to start absent.service: Unit absent.service not found.");
}
END_TEST

START_TEST(unit_no_systemctl) {
        _cleanup_free_ char *e = NULL;
        UnitState s;

        ck_assert_int_eq(setenv("VFIO_HOOK_SYSTEMCTL", "/nonexistent/systemctl", 1), 0);
        ck_assert_int_eq(units_state("dm.service", LONG, &s, &e), -ENOENT);
        ck_assert_str_eq(e, "cannot run /nonexistent/systemctl: No such file or directory");
}
END_TEST

START_TEST(unit_hostops) {
        HostOps *ops = host_ops_real_new();
        _cleanup_free_ char *e = NULL;
        UnitState s;

        ck_assert_ptr_nonnull(ops);
        put_unit("dm.service", "active");
        ck_assert_int_eq(ops->unit_state(ops, "dm.service", &s), 0);
        ck_assert_int_eq(s, UNIT_ACTIVE);
        ck_assert_int_eq(ops->unit_stop(ops, "dm.service", LONG, &e), 0);
        ck_assert_int_eq(host_ops_unit_state("dm.service", &s, ops), 0);
        ck_assert_int_eq(s, UNIT_INACTIVE);
        ck_assert_int_eq(ops->unit_start(ops, "dm.service", LONG, &e), 0);
        ck_assert_int_eq(host_ops_unit_state("dm.service", &s, ops), 0);
        ck_assert_int_eq(s, UNIT_ACTIVE);
        ck_assert_ptr_null(e);

        /* process_kill never signals a group or everything. */
        ck_assert_int_eq(ops->process_kill(ops, 0, 0), -EINVAL);
        ck_assert_int_eq(ops->process_kill(ops, -1, 0), -EINVAL);
        ck_assert_int_eq(ops->process_kill(ops, getpid(), 0), 0);
        host_ops_real_free(ops);
}
END_TEST

/* ------------------------------------------------------------------ over D-Bus */

static pid_t bus_pid = -1;

static void setup_bus(void) {
        test_tools_setup(tmpdir, NULL, 0);
        bus_pid = fakesystemd_start_env(tmpdir);
        ck_assert_int_gt(bus_pid, 0);
}

static void teardown_bus(void) {
        fakesystemd_stop_env(bus_pid);
        teardown();
}

START_TEST(bus_states) {
        UnitState s;

        put_unit("a.service", "active");
        put_unit("i.service", "inactive");
        put_unit("f.service", "failed");
        ck_assert_int_eq(units_state("a.service", LONG, &s, NULL), 0);
        ck_assert_int_eq(s, UNIT_ACTIVE);
        ck_assert_int_eq(units_state("i.service", LONG, &s, NULL), 0);
        ck_assert_int_eq(s, UNIT_INACTIVE);
        ck_assert_int_eq(units_state("f.service", LONG, &s, NULL), 0);
        ck_assert_int_eq(s, UNIT_INACTIVE);
        ck_assert_int_eq(units_state("none.service", LONG, &s, NULL), 0);
        ck_assert_int_eq(s, UNIT_ABSENT);
        ck_assert_uint_eq(calls("LoadUnit"), 4);
        ck_assert_int_eq(units_state("-x.service", LONG, &s, NULL), -EINVAL);
        ck_assert_uint_eq(calls("LoadUnit"), 4);
}
END_TEST

START_TEST(bus_stop_start) {
        _cleanup_free_ char *e = NULL;
        char buf[64];

        put_unit("dm.service", "active");
        usec_t t0 = now_usec();
        ck_assert_int_eq(units_stop("dm.service", LONG, &e), 0);
        ck_assert_str_eq(unit_file_state("dm.service", buf, sizeof buf), "inactive");
        ck_assert_int_eq(units_start("dm.service", LONG, &e), 0);
        ck_assert_str_eq(unit_file_state("dm.service", buf, sizeof buf), "active");
        ck_assert_uint_lt(now_usec() - t0, GENEROUS);
        ck_assert_ptr_null(e);
        ck_assert_uint_eq(calls("StopUnit"), 1);
        ck_assert_uint_eq(calls("StartUnit"), 1);

        /* Nothing to stop of a unit systemd does not know; nothing to start either. */
        ck_assert_int_eq(units_stop("none.service", LONG, &e), 0);
        ck_assert_int_eq(units_start("none.service", LONG, &e), -ENOENT);
        ck_assert_msg(startswith(e, "starting none.service: no such unit"), "got: %s", e);
}
END_TEST

/* ready() is asked with the unit's control group once it is active:
 * the start is done when it says so, or once the unit has been active
 * UNITS_START_SETTLE. */
typedef struct Asked {
        unsigned n, yes_at;
        char cgroup[128];
} Asked;

static bool ready_at(const char *control_group, void *userdata) {
        Asked *a = userdata;
        snprintf(a->cgroup, sizeof a->cgroup, "%s", control_group);
        return ++a->n >= a->yes_at;
}

START_TEST(bus_start_ready) {
        _cleanup_free_ char *e = NULL;
        Asked a = { .yes_at = 3 };

        put_unit("dm.service", "inactive");
        ck_assert_int_eq(units_start_until_ready("dm.service", LONG, ready_at, &a, &e), 0);
        ck_assert_ptr_null(e);
        ck_assert_uint_eq(a.n, 3); /* asked until it said yes, not after */
        ck_assert_str_eq(a.cgroup, "/system.slice/dm.service");

        /* Never ready: done once settled, asked on the way. */
        Asked never = { .yes_at = UINT_MAX };
        put_unit("dm.service", "inactive");
        usec_t t0 = now_usec();
        ck_assert_int_eq(units_start_until_ready("dm.service", LONG, ready_at, &never, &e), 0);
        ck_assert_uint_ge(now_usec() - t0, UNITS_START_SETTLE);
        ck_assert_uint_gt(never.n, 3);

        /* One that dies before it is ready did not start. */
        Asked not_yet = { .yes_at = UINT_MAX };
        put_unit("dm.service", "inactive dies");
        ck_assert_int_eq(units_start_until_ready("dm.service", LONG, ready_at, &not_yet, &e), -EIO);
        ck_assert_uint_gt(not_yet.n, 0);
}
END_TEST

START_TEST(bus_slow) {
        _cleanup_free_ char *e = NULL;
        char buf[64];

        /* The job ends 100 ms later: waited for, not polled. */
        put_unit("dm.service", "active slow 10");
        usec_t t0 = now_usec();
        ck_assert_int_eq(units_stop("dm.service", LONG, &e), 0);
        usec_t took = now_usec() - t0;
        ck_assert_uint_ge(took, 100 * USEC_PER_MSEC);
        ck_assert_uint_lt(took, GENEROUS);
        ck_assert_str_eq(unit_file_state("dm.service", buf, sizeof buf), "inactive");
        ck_assert_uint_eq(calls("LoadUnit"), 1); /* the state once, after the job */

        put_unit("dm.service", "inactive slow 10");
        ck_assert_int_eq(units_start("dm.service", LONG, &e), 0);
        ck_assert_str_eq(unit_file_state("dm.service", buf, sizeof buf), "active");
        ck_assert_ptr_null(e);
}
END_TEST

START_TEST(bus_hang) {
        _cleanup_free_ char *e = NULL;

        put_unit("dm.service", "active hang");
        usec_t t0 = now_usec();
        ck_assert_int_eq(units_stop("dm.service", USEC_PER_SEC, &e), -ETIME);
        usec_t took = now_usec() - t0;
        ck_assert_uint_ge(took, USEC_PER_SEC);
        ck_assert_uint_lt(took, GENEROUS);
        ck_assert_str_eq(e, "stopping dm.service: still deactivating after 1 s");
}
END_TEST

START_TEST(bus_failed_start) {
        _cleanup_free_ char *e = NULL;

        put_unit("dm.service", "inactive broken");
        ck_assert_int_eq(units_start("dm.service", LONG, &e), -EIO);
        ck_assert_str_eq(e, "starting dm.service: the unit failed (journalctl -u dm.service)");
}
END_TEST

/* systemd says a Type=simple service is active as soon as it forked: one
 * that dies a moment later did not start. */
START_TEST(bus_start_dies) {
        _cleanup_free_ char *e = NULL, *e2 = NULL;
        char buf[64];

        put_unit("dm.service", "inactive dies");
        usec_t t0 = now_usec();
        ck_assert_int_eq(units_start("dm.service", LONG, &e), -EIO);
        /* Seen when it happens (PropertiesChanged), not at the window's end. */
        ck_assert_uint_lt(now_usec() - t0, UNITS_START_SETTLE);
        ck_assert_str_eq(e, "starting dm.service: the unit failed (journalctl -u dm.service)");
        ck_assert_str_eq(unit_file_state("dm.service", buf, sizeof buf), "failed");

        /* One that lives is started once it has been active a moment. */
        put_unit("dm.service", "inactive");
        t0 = now_usec();
        ck_assert_int_eq(units_start("dm.service", LONG, &e2), 0);
        ck_assert_uint_ge(now_usec() - t0, UNITS_START_SETTLE);
        ck_assert_uint_lt(now_usec() - t0, GENEROUS);
        /* Watched, not polled: the unit looked up once per start. */
        ck_assert_uint_eq(calls("LoadUnit"), 2);
}
END_TEST

START_TEST(bus_unreachable) {
        _cleanup_free_ char *e = NULL, *e2 = NULL;
        UnitState s;

        ck_assert_int_eq(setenv("VFIO_HOOK_SYSTEMD_BUS", "unix:path=/nonexistent/vfio-hook/bus", 1), 0);
        ck_assert_int_eq(units_state("dm.service", LONG, &s, &e), -EHOSTDOWN);
        ck_assert_str_eq(e, "querying dm.service: systemd cannot be reached at unix:path=/nonexistent/vfio-hook/bus: "
                            "No such file or directory");
        ck_assert_int_eq(units_stop("dm.service", LONG, &e2), -EHOSTDOWN);
        ck_assert_msg(startswith(e2, "stopping dm.service: systemd cannot be reached"), "got: %s", e2);
}
END_TEST

START_TEST(bus_hostops) {
        HostOps *ops = host_ops_real_new();
        _cleanup_free_ char *e = NULL;
        UnitState s;

        put_unit("dm.service", "active");
        ck_assert_int_eq(ops->unit_state(ops, "dm.service", &s), 0);
        ck_assert_int_eq(s, UNIT_ACTIVE);
        ck_assert_int_eq(ops->unit_stop(ops, "dm.service", LONG, &e), 0);
        ck_assert_int_eq(ops->unit_state(ops, "dm.service", &s), 0);
        ck_assert_int_eq(s, UNIT_INACTIVE);
        ck_assert_ptr_null(e);
        host_ops_real_free(ops);
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("units");
        TCase *tc = test_tcase("fake-systemctl");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, unit_names);
        tcase_add_test(tc, unit_states);
        tcase_add_test(tc, unit_stop);
        tcase_add_test(tc, unit_stop_slow);
        tcase_add_test(tc, unit_stop_never);
        tcase_add_test(tc, unit_start);
        tcase_add_test(tc, unit_no_systemctl);
        tcase_add_test(tc, unit_hostops);
        suite_add_tcase(s, tc);

        tc = test_tcase("fake-systemd");
        tcase_add_checked_fixture(tc, setup_bus, teardown_bus);
        tcase_add_test(tc, bus_states);
        tcase_add_test(tc, bus_stop_start);
        tcase_add_test(tc, bus_start_ready);
        tcase_add_test(tc, bus_slow);
        tcase_add_test(tc, bus_hang);
        tcase_add_test(tc, bus_failed_start);
        tcase_add_test(tc, bus_start_dies);
        tcase_add_test(tc, bus_unreachable);
        tcase_add_test(tc, bus_hostops);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(suite());
}
