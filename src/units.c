/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy.h"
#include "subprocess.h"
#include "units.h"
#include "util.h"

#define POLL_FIRST (1 * USEC_PER_MSEC)
#define POLL_MAX (20 * USEC_PER_MSEC)

UnitState unit_status_to_state(const UnitStatus *s) {
        static const char *const running[] = {
                "active", "reloading", "activating", "deactivating", "refreshing",
        };

        for (size_t i = 0; i < ELEMENTSOF(running); i++)
                if (streq(s->active_state, running[i]))
                        return UNIT_ACTIVE;
        if (streq(s->load_state, "not-found"))
                return UNIT_ABSENT;
        return UNIT_INACTIVE;
}

static bool status_is_stopped(const UnitStatus *s) {
        return unit_status_to_state(s) != UNIT_ACTIVE;
}

/* Runs systemctl VERB -- UNIT. */
static int systemctl(const char *verb, const char *unit, usec_t timeout, SpawnResult *ret, char **ret_error) {
        _cleanup_free_ char *path = NULL;
        char t[FORMAT_TIMEOUT_MAX];
        int r;

        *ret = (SpawnResult) { .exit_status = -1 };

        r = spawn_find_tool("systemctl", &path);
        if (r == -ENOENT)
                return errorf(ret_error, r, "systemctl not found in /usr/sbin, /usr/bin, /sbin or /bin");
        if (r < 0)
                return errorf(ret_error, r, "cannot look for systemctl: %s", strerror(-r));

        const char *argv[] = {
                "systemctl",
                "--no-pager",
                "--no-ask-password",
                verb,
                NULL, /* --property=... for show */
                NULL,
                NULL,
                NULL,
        };
        size_t n = 4;
        if (streq(verb, "show"))
                argv[n++] = "--property=LoadState,ActiveState";
        argv[n++] = "--";
        argv[n++] = unit;

        r = spawn_run(path, argv, timeout, ret);
        if (r == -ETIME)
                return errorf(ret_error, r, "systemctl %s did not finish within %s", verb,
                              format_timeout(timeout, t, sizeof t));
        if (r < 0)
                return errorf(ret_error, r, "cannot run %s: %s", path, strerror(-r));
        return 0;
}

/* A line of stderr, or the exit status, for messages. */
static const char *failure_reason(const SpawnResult *sr, char *buf, size_t size) {
        spawn_first_line(sr->err, buf, size);
        if (!buf[0])
                spawn_describe_status(sr, buf, size);
        return buf;
}

static void copy_value(char *dst, size_t size, const char *v, size_t n) {
        if (n >= size)
                n = size - 1;
        memcpy(dst, v, n);
        dst[n] = 0;
}

int units_query(const char *unit, usec_t timeout, UnitStatus *ret, char **ret_error) {
        SpawnResult sr;
        char why[256];
        int r;

        if (ret_error)
                *ret_error = NULL;
        if (!unit_name_valid(unit))
                return errorf(ret_error, -EINVAL, "invalid unit name");

        r = systemctl("show", unit, timeout, &sr, ret_error);
        if (r < 0) {
                spawn_result_done(&sr);
                return r;
        }

        UnitStatus s = {};
        for (const char *l = sr.out; *l;) {
                size_t n = strcspn(l, "\n");
                if (startswith(l, "LoadState="))
                        copy_value(s.load_state, sizeof s.load_state, l + 10, n - 10);
                else if (startswith(l, "ActiveState="))
                        copy_value(s.active_state, sizeof s.active_state, l + 12, n - 12);
                l += n;
                if (*l)
                        l++;
        }

        if (sr.exit_status != 0 || !s.load_state[0] || !s.active_state[0]) {
                /* e.g. "System has not been booted with systemd as init system". */
                r = errorf(ret_error, -EIO, "querying %s: %s", unit, failure_reason(&sr, why, sizeof why));
                spawn_result_done(&sr);
                return r;
        }

        spawn_result_done(&sr);
        *ret = s;
        return 0;
}

int units_state(const char *unit, usec_t timeout, UnitState *ret, char **ret_error) {
        UnitStatus s;
        int r = units_query(unit, timeout, &s, ret_error);
        if (r < 0)
                return r;
        *ret = unit_status_to_state(&s);
        return 0;
}

static usec_t remaining(usec_t deadline) {
        usec_t now = now_usec();
        return now < deadline ? deadline - now : 0;
}

static int unit_change(const char *unit, bool stop, usec_t timeout, char **ret_error) {
        const char *doing = stop ? "stopping" : "starting";
        usec_t deadline = now_usec() + timeout;
        _cleanup_free_ char *e = NULL;
        char why[256], t[FORMAT_TIMEOUT_MAX];
        SpawnResult sr;
        UnitStatus s = {};
        int r;

        if (ret_error)
                *ret_error = NULL;
        if (!unit_name_valid(unit))
                return errorf(ret_error, -EINVAL, "%s: invalid unit name", doing);

        r = systemctl(stop ? "stop" : "start", unit, timeout, &sr, &e);
        if (r < 0) {
                spawn_result_done(&sr);
                return errorf(ret_error, r, "%s %s: %s", doing, unit, e);
        }
        bool ok = sr.exit_status == 0;
        failure_reason(&sr, why, sizeof why);
        spawn_result_done(&sr);

        /* systemctl stop/start wait for their job; what follows confirms the
         * state, and waits when the job was queued or the unit is slow. */
        usec_t interval = POLL_FIRST;
        for (;;) {
                if (remaining(deadline) == 0)
                        break;
                r = units_query(unit, remaining(deadline), &s, &e);
                if (r == -ETIME)
                        break;
                if (r < 0)
                        return errorf(ret_error, r, "%s %s: %s", doing, unit, e);

                if (stop && status_is_stopped(&s))
                        return 0;
                if (!stop && streq(s.active_state, "active"))
                        return 0;
                if (!ok)
                        /* e.g. "Job for x.service failed because ..." or
                         * "Unit x.service not found." */
                        return errorf(ret_error, -EIO, "%s %s: %s", doing, unit, why);
                if (!stop && streq(s.active_state, "failed"))
                        return errorf(ret_error, -EIO, "%s %s: the unit failed", doing, unit);
                if (!stop && streq(s.load_state, "not-found"))
                        return errorf(ret_error, -ENOENT, "%s %s: no such unit", doing, unit);

                usec_t left = remaining(deadline);
                if (left == 0)
                        break;
                sleep_usec(interval < left ? interval : left);
                interval *= 2;
                if (interval > POLL_MAX)
                        interval = POLL_MAX;
        }

        if (s.active_state[0])
                return errorf(ret_error, -ETIME, "%s %s: still %s after %s", doing, unit, s.active_state,
                              format_timeout(timeout, t, sizeof t));
        return errorf(ret_error, -ETIME, "%s %s: systemd did not answer within %s", doing, unit,
                      format_timeout(timeout, t, sizeof t));
}

int units_stop(const char *unit, usec_t timeout, char **ret_error) {
        return unit_change(unit, true, timeout, ret_error);
}

int units_start(const char *unit, usec_t timeout, char **ret_error) {
        return unit_change(unit, false, timeout, ret_error);
}
