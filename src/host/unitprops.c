/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "host/lifetime.h"
#include "host/unitprops.h"
#include "host/units.h"
#include "shared/subprocess.h"
#include "shared/util.h"

static bool unit_ok(const char *u) {
        return isolate_unit_valid(u) || inhibit_unit_valid(u);
}

static usec_t remaining(usec_t deadline) {
        usec_t now = now_usec();
        return now < deadline ? deadline - now : 0;
}

/* Runs TOOL with argv; 0 when it exited 0, else -EIO and its first line of stderr. */
static int run(const char *tool, const char *const *argv, usec_t timeout, char **ret_out, char **ret_error) {
        _cleanup_free_ char *path = NULL;
        char t[FORMAT_TIMEOUT_MAX], why[256];
        SpawnResult sr;
        int r = spawn_find_tool(tool, &path);
        if (r < 0)
                return errorf(ret_error, r, "%s not found in /usr/sbin, /usr/bin, /sbin or /bin", tool);
        r = spawn_run(path, argv, timeout, &sr);
        if (r == -ETIME)
                r = errorf(ret_error, r, "%s %s did not finish within %s", tool, argv[3] ? argv[3] : "",
                           format_timeout(timeout, t, sizeof t));
        else if (r < 0)
                r = errorf(ret_error, r, "cannot run %s: %s", path, strerror(-r));
        else if (sr.exit_status != 0) {
                spawn_first_line(sr.err, why, sizeof why);
                if (!why[0])
                        spawn_describe_status(&sr, why, sizeof why);
                r = errorf(ret_error, -EIO, "%s: %s", tool, why);
        } else if (ret_out) {
                *ret_out = TAKE_PTR(sr.out);
        }
        spawn_result_done(&sr);
        return r;
}

static int show(const char *unit, const char *property, usec_t timeout, char **ret, char **ret_error) {
        _cleanup_free_ char *prop = strf("--property=%s", property), *out = NULL;
        if (!prop)
                return -ENOMEM;
        const char *argv[] = { "systemctl", "--no-pager", "--no-ask-password", "show", prop, "--value", "--", unit, NULL };
        int r = run("systemctl", argv, timeout, &out, ret_error);
        if (r < 0)
                return r;
        *ret = strdup(strstrip_trailing(out));
        return *ret ? 0 : -ENOMEM;
}

int unitprops_state(const char *unit, usec_t timeout, UnitState *ret, char **ret_error) {
        _cleanup_free_ char *state = NULL;
        UnitStatus s = {};
        if (!unit_ok(unit))
                return errorf(ret_error, -EINVAL, "invalid unit name");
        int r = units_bus_query(unit, timeout, &s, ret_error);
        if (r == -EOPNOTSUPP) {
                r = show(unit, "ActiveState", timeout, &state, ret_error);
                if (r >= 0)
                        snprintf(s.active_state, sizeof s.active_state, "%s", state);
        }
        if (r < 0)
                return r;
        /* A unit systemd does not know (collected) is not running. */
        *ret = unit_status_to_state(&s) == UNIT_ACTIVE ? UNIT_ACTIVE : UNIT_INACTIVE;
        /* "failed" is told apart by the caller through this: */
        if (streq(s.active_state, "failed"))
                return -ENOEXEC;
        return 0;
}

/* Polls the unit's state until it is (in)active or the deadline passes. */
static int wait_state(const char *unit, bool active, usec_t deadline, char **ret_error) {
        PollUntil retry = POLL_UNTIL(deadline);
        for (;;) {
                UnitState st;
                _cleanup_free_ char *e = NULL;
                int r = unitprops_state(unit, remaining(deadline), &st, &e);
                if (r == -ENOEXEC)
                        return active ? errorf(ret_error, -EIO, "%s failed (journalctl -u %s says why)", unit, unit) : 0;
                if (r < 0)
                        return errorf(ret_error, r, "%s", e ? e : strerror(-r));
                if ((st == UNIT_ACTIVE) == active)
                        return 0;
                if (!poll_until(&retry))
                        return errorf(ret_error, -ETIME, "%s is not %s yet", unit, active ? "active" : "stopped");
        }
}

/* Opens ("NAME", variant of TYPE) in an a(sv) of properties; two
 * close_container() end it. */
static int open_property(const SdBusLib *l, sd_bus_message *m, const char *name, const char *type) {
        int r = l->sd_bus_message_open_container(m, 'r', "sv");
        if (r >= 0)
                r = l->sd_bus_message_append(m, "s", name);
        if (r >= 0)
                r = l->sd_bus_message_open_container(m, 'v', type);
        return r;
}

static int close_containers(const SdBusLib *l, sd_bus_message *m, unsigned n) {
        int r = 0;
        for (unsigned i = 0; i < n && r >= 0; i++)
                r = l->sd_bus_message_close_container(m);
        return r;
}

/* StartTransientUnit(UNIT, "fail", properties as systemd-run sets them,
 * no aux units), then the job and the unit active, as units_start() waits
 * but without its settle time (Type=exec: active once systemd-inhibit is
 * running). */
static int bus_start_transient(const SdBusLib *l, const char *unit, const char *desc, const char *const *cmd,
                               usec_t deadline, usec_t timeout, char **ret_error) {
        sd_bus_message *m = NULL, *rep = NULL;
        int r = units_bus_new_call("starting", unit, false, "org.freedesktop.systemd1.Manager", "StartTransientUnit",
                                   remaining(deadline), &m, ret_error);
        if (r < 0)
                return r;
        r = l->sd_bus_message_append(m, "ss", unit, "fail");
        if (r >= 0)
                r = l->sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
                r = l->sd_bus_message_append(m, "(sv)(sv)(sv)", "Description", "s", desc, "Type", "s", "exec",
                                             "CollectMode", "s", "inactive-or-failed");
        /* ExecStart a(sasb): [(path, argv, ignore failure)]. */
        if (r >= 0)
                r = open_property(l, m, "ExecStart", "a(sasb)");
        if (r >= 0)
                r = l->sd_bus_message_open_container(m, 'a', "(sasb)");
        if (r >= 0)
                r = l->sd_bus_message_open_container(m, 'r', "sasb");
        if (r >= 0)
                r = l->sd_bus_message_append(m, "s", cmd[0]);
        if (r >= 0)
                r = l->sd_bus_message_append_strv(m, (char **) cmd);
        if (r >= 0)
                r = l->sd_bus_message_append(m, "b", 0);
        if (r >= 0)
                r = close_containers(l, m, 5);
        if (r >= 0)
                r = l->sd_bus_message_append(m, "a(sa(sv))", 0);
        /* Refused ("Unit ... was already loaded or has a fragment file."):
         * systemd's message, in units_bus_call()'s error. */
        r = units_bus_call(m, r, "starting", unit, remaining(deadline), &rep, ret_error);
        if (r < 0)
                return r;
        return units_bus_wait_job(rep, unit, false, 0, NULL, NULL, deadline, timeout, ret_error);
}

int unitprops_inhibitor_start(const char *unit, const char *what, const char *why, usec_t timeout, char **ret_error) {
        _cleanup_free_ char *inhibit = NULL, *sleep = NULL, *o_unit = NULL, *desc = NULL, *o_desc = NULL,
                            *o_what = NULL, *o_why = NULL;
        usec_t deadline = now_usec() + timeout;
        _cleanup_strv_free_ char **whats = NULL;
        const SdBusLib *l = NULL;
        int r;

        if (!inhibit_unit_valid(unit))
                return errorf(ret_error, -EINVAL, "invalid inhibitor unit name");
        if (inhibit_parse(what, &whats) < 0 || !why || strchr(why, '\n'))
                return errorf(ret_error, -EINVAL, "invalid inhibitor lock");
        r = spawn_find_tool("systemd-inhibit", &inhibit);
        if (r >= 0)
                r = spawn_find_tool("sleep", &sleep);
        if (r < 0)
                return errorf(ret_error, r, "systemd-inhibit or sleep not found in /usr/sbin, /usr/bin, /sbin or /bin");
        desc = strf("%s (inhibitor lock)", why);
        o_what = strf("--what=%s", what);
        o_why = strf("--why=%s", why);
        if (!desc || !o_what || !o_why)
                return -ENOMEM;
        const char *cmd[] = { inhibit, o_what, "--who=vfio-hook", o_why, "--mode=block", sleep, "infinity", NULL };

        r = units_bus_open("starting", unit, &l, ret_error);
        if (r != -EOPNOTSUPP)
                return r < 0 ? r : bus_start_transient(l, unit, desc, cmd, deadline, timeout, ret_error);

        /* Without libsystemd: systemd-run makes the same call. */
        o_unit = strf("--unit=%s", unit);
        o_desc = strf("--description=%s", desc);
        if (!o_unit || !o_desc)
                return -ENOMEM;
        const char *argv[] = {
                "systemd-run", "--no-ask-password", "--quiet", "--collect", "--service-type=exec", o_unit, o_desc, "--",
                cmd[0], cmd[1], cmd[2], cmd[3], cmd[4], cmd[5], cmd[6], NULL,
        };
        r = run("systemd-run", argv, timeout, NULL, ret_error);
        if (r < 0)
                return r;
        return wait_state(unit, true, deadline, ret_error);
}

int unitprops_inhibitor_stop(const char *unit, usec_t timeout, char **ret_error) {
        usec_t deadline = now_usec() + timeout;
        if (!inhibit_unit_valid(unit))
                return errorf(ret_error, -EINVAL, "invalid inhibitor unit name");
        int r = units_bus_stop(unit, timeout, ret_error);
        if (r != -EOPNOTSUPP)
                return r;

        /* Without libsystemd. */
        const char *argv[] = { "systemctl", "--no-pager", "--no-ask-password", "stop", "--", unit, NULL };
        _cleanup_free_ char *e = NULL;
        r = run("systemctl", argv, timeout, NULL, &e);
        /* A unit that is gone already ("not loaded") is what stop wants. */
        if (r < 0 && r != -EIO)
                return errorf(ret_error, r, "%s", e ? e : strerror(-r));
        return wait_state(unit, false, deadline, ret_error);
}

/* A slice's or scope's AllowedCPUs (isolate_units[] holds both). */
static const char *cpus_interface(const char *unit) {
        size_t n = strlen(unit);
        return n > 6 && streq(unit + n - 6, ".scope") ? "org.freedesktop.systemd1.Scope" : "org.freedesktop.systemd1.Slice";
}

int unitprops_allowed_cpus_get(const char *unit, usec_t timeout, char **ret, char **ret_error) {
        usec_t deadline = now_usec() + timeout;
        sd_bus_message *m = NULL, *rep = NULL;
        const SdBusLib *l = NULL;
        const void *mask = NULL;
        size_t size = 0;
        CpuSet s;

        if (!unit_ok(unit))
                return errorf(ret_error, -EINVAL, "invalid unit name");
        int r = units_bus_open("querying", unit, &l, ret_error);
        if (r == -EOPNOTSUPP)
                return show(unit, "AllowedCPUs", timeout, ret, ret_error);
        if (r >= 0)
                r = units_bus_new_call("querying", unit, true, "org.freedesktop.DBus.Properties", "Get", timeout, &m,
                                       ret_error);
        if (r < 0)
                return r;
        r = l->sd_bus_message_append(m, "ss", cpus_interface(unit), "AllowedCPUs");
        r = units_bus_call(m, r, "querying", unit, remaining(deadline), &rep, ret_error);
        if (r < 0)
                return r;
        r = l->sd_bus_message_enter_container(rep, 'v', "ay");
        if (r >= 0)
                r = l->sd_bus_message_read_array(rep, 'y', &mask, &size);
        if (r >= 0)
                r = cpuset_from_mask(mask, size, &s);
        l->sd_bus_message_unref(rep);
        if (r < 0)
                return errorf(ret_error, r, "querying %s: AllowedCPUs unreadable: %s", unit, strerror(-r));
        *ret = cpuset_format(&s);
        return *ret ? 0 : -ENOMEM;
}

int unitprops_allowed_cpus_set(const char *unit, const char *cpus, usec_t timeout, char **ret_error) {
        static const char doing[] = "setting AllowedCPUs of";
        uint8_t mask[CPUSET_MAX / 8];
        _cleanup_free_ char *prop = NULL;
        usec_t deadline = now_usec() + timeout;
        sd_bus_message *m = NULL;
        const SdBusLib *l = NULL;
        CpuSet s;

        if (!isolate_unit_valid(unit))
                return errorf(ret_error, -EINVAL, "invalid unit name");
        if (!cpus || cpuset_parse(cpus, false, &s) < 0)
                return errorf(ret_error, -EINVAL, "invalid CPU list");
        int r = units_bus_open(doing, unit, &l, ret_error);
        if (r >= 0) {
                /* SetUnitProperties(UNIT, runtime, [("AllowedCPUs", ay)]):
                 * no bytes reset it, as "AllowedCPUs=" does. */
                size_t n = cpuset_to_mask(&s, mask);
                r = units_bus_new_call(doing, unit, false, "org.freedesktop.systemd1.Manager", "SetUnitProperties",
                                       timeout, &m, ret_error);
                if (r < 0)
                        return r;
                r = l->sd_bus_message_append(m, "sb", unit, 1);
                if (r >= 0)
                        r = l->sd_bus_message_open_container(m, 'a', "(sv)");
                if (r >= 0)
                        r = open_property(l, m, "AllowedCPUs", "ay");
                if (r >= 0)
                        r = l->sd_bus_message_append_array(m, 'y', mask, n);
                if (r >= 0)
                        r = close_containers(l, m, 3);
                return units_bus_call(m, r, doing, unit, remaining(deadline), NULL, ret_error);
        }
        if (r != -EOPNOTSUPP)
                return r;

        /* Without libsystemd. */
        prop = strf("AllowedCPUs=%s", cpus);
        if (!prop)
                return -ENOMEM;
        const char *argv[] = { "systemctl", "--no-pager", "--no-ask-password", "set-property", "--runtime", "--", unit, prop, NULL };
        return run("systemctl", argv, timeout, NULL, ret_error);
}
