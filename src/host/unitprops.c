/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "host/lifetime.h"
#include "host/unitprops.h"
#include "shared/subprocess.h"
#include "shared/util.h"

static bool inhibit_unit_ok(const char *u) {
        static const char prefix[] = "vfio-hook-inhibit-", suffix[] = ".service";
        size_t n = strlen(u);
        if (!startswith(u, prefix) || n >= INHIBIT_UNIT_MAX || n < sizeof prefix + sizeof suffix - 1 ||
            !streq(u + n - (sizeof suffix - 1), suffix))
                return false;
        for (const char *c = u; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                      strchr(":_.-\\", *c)))
                        return false;
        return true;
}

static bool unit_ok(const char *u) {
        return u && (isolate_unit_valid(u) || inhibit_unit_ok(u));
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
        if (!unit_ok(unit))
                return errorf(ret_error, -EINVAL, "invalid unit name");
        int r = show(unit, "ActiveState", timeout, &state, ret_error);
        if (r < 0)
                return r;
        *ret = streq(state, "active") || streq(state, "activating") || streq(state, "reloading") ||
                               streq(state, "deactivating") || streq(state, "refreshing")
                       ? UNIT_ACTIVE
                       : UNIT_INACTIVE;
        /* "failed" is told apart by the caller through this: */
        if (streq(state, "failed"))
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

int unitprops_inhibitor_start(const char *unit, const char *what, const char *why, usec_t timeout, char **ret_error) {
        _cleanup_free_ char *inhibit = NULL, *sleep = NULL, *o_unit = NULL, *o_desc = NULL, *o_what = NULL,
                            *o_why = NULL;
        usec_t deadline = now_usec() + timeout;
        _cleanup_strv_free_ char **whats = NULL;
        int r;

        if (!unit_ok(unit) || !startswith(unit, "vfio-hook-inhibit-"))
                return errorf(ret_error, -EINVAL, "invalid inhibitor unit name");
        if (inhibit_parse(what, &whats) < 0 || !why || strchr(why, '\n'))
                return errorf(ret_error, -EINVAL, "invalid inhibitor lock");
        r = spawn_find_tool("systemd-inhibit", &inhibit);
        if (r >= 0)
                r = spawn_find_tool("sleep", &sleep);
        if (r < 0)
                return errorf(ret_error, r, "systemd-inhibit or sleep not found in /usr/sbin, /usr/bin, /sbin or /bin");
        o_unit = strf("--unit=%s", unit);
        o_desc = strf("--description=%s (inhibitor lock)", why);
        o_what = strf("--what=%s", what);
        o_why = strf("--why=%s", why);
        if (!o_unit || !o_desc || !o_what || !o_why)
                return -ENOMEM;
        const char *argv[] = {
                "systemd-run", "--no-ask-password", "--quiet", "--collect", "--service-type=exec", o_unit, o_desc, "--",
                inhibit, o_what, "--who=vfio-hook", o_why, "--mode=block", sleep, "infinity", NULL,
        };
        r = run("systemd-run", argv, timeout, NULL, ret_error);
        if (r < 0)
                return r;
        return wait_state(unit, true, deadline, ret_error);
}

int unitprops_inhibitor_stop(const char *unit, usec_t timeout, char **ret_error) {
        usec_t deadline = now_usec() + timeout;
        if (!unit_ok(unit) || !startswith(unit, "vfio-hook-inhibit-"))
                return errorf(ret_error, -EINVAL, "invalid inhibitor unit name");
        const char *argv[] = { "systemctl", "--no-pager", "--no-ask-password", "stop", "--", unit, NULL };
        _cleanup_free_ char *e = NULL;
        int r = run("systemctl", argv, timeout, NULL, &e);
        /* A unit that is gone already ("not loaded") is what stop wants. */
        if (r < 0 && r != -EIO)
                return errorf(ret_error, r, "%s", e ? e : strerror(-r));
        return wait_state(unit, false, deadline, ret_error);
}

int unitprops_allowed_cpus_get(const char *unit, usec_t timeout, char **ret, char **ret_error) {
        if (!unit_ok(unit))
                return errorf(ret_error, -EINVAL, "invalid unit name");
        return show(unit, "AllowedCPUs", timeout, ret, ret_error);
}

int unitprops_allowed_cpus_set(const char *unit, const char *cpus, usec_t timeout, char **ret_error) {
        _cleanup_free_ char *prop = NULL;
        CpuSet s;
        if (!unit_ok(unit) || !isolate_unit_valid(unit))
                return errorf(ret_error, -EINVAL, "invalid unit name");
        if (!cpus || cpuset_parse(cpus, false, &s) < 0)
                return errorf(ret_error, -EINVAL, "invalid CPU list");
        prop = strf("AllowedCPUs=%s", cpus);
        if (!prop)
                return -ENOMEM;
        const char *argv[] = { "systemctl", "--no-pager", "--no-ask-password", "set-property", "--runtime", "--", unit, prop, NULL };
        return run("systemctl", argv, timeout, NULL, ret_error);
}
