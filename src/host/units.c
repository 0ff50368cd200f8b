/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>

#include "host/sdbus.h"
#include "host/units.h"
#include "model/policy.h"
#include "shared/subprocess.h"
#include "shared/util.h"

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

static int systemctl_query(const char *unit, usec_t timeout, UnitStatus *ret, char **ret_error) {
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

static int bus_change(const char *unit, bool stop, usec_t timeout, UnitReadyFn ready, void *userdata,
                      char **ret_error);

int units_query(const char *unit, usec_t timeout, UnitStatus *ret, char **ret_error) {
        if (ret_error)
                *ret_error = NULL;
        if (!unit_name_valid(unit))
                return errorf(ret_error, -EINVAL, "invalid unit name");
        int r = units_bus_query(unit, timeout, ret, ret_error);
        if (r != -EOPNOTSUPP)
                return r;
        return systemctl_query(unit, timeout, ret, ret_error);
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

static int systemctl_change(const char *unit, bool stop, usec_t timeout, char **ret_error) {
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
        PollUntil retry = POLL_UNTIL(deadline);
        for (;;) {
                if (remaining(deadline) == 0)
                        break;
                r = systemctl_query(unit, remaining(deadline), &s, &e);
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

                if (!poll_until(&retry))
                        break;
        }

        if (s.active_state[0])
                return errorf(ret_error, -ETIME, "%s %s: still %s after %s", doing, unit, s.active_state,
                              format_timeout(timeout, t, sizeof t));
        return errorf(ret_error, -ETIME, "%s %s: systemd did not answer within %s", doing, unit,
                      format_timeout(timeout, t, sizeof t));
}

static int unit_change(const char *unit, bool stop, usec_t timeout, UnitReadyFn ready, void *userdata,
                       char **ret_error) {
        if (ret_error)
                *ret_error = NULL;
        if (!unit_name_valid(unit))
                return errorf(ret_error, -EINVAL, "%s: invalid unit name", stop ? "stopping" : "starting");
        int r = bus_change(unit, stop, timeout, ready, userdata, ret_error);
        if (r != -EOPNOTSUPP)
                return r;
        if (ret_error) {
                free(*ret_error);
                *ret_error = NULL;
        }
        return systemctl_change(unit, stop, timeout, ret_error);
}

int units_stop(const char *unit, usec_t timeout, char **ret_error) {
        return unit_change(unit, true, timeout, NULL, NULL, ret_error);
}

int units_start(const char *unit, usec_t timeout, char **ret_error) {
        return unit_change(unit, false, timeout, NULL, NULL, ret_error);
}

int units_start_until_ready(const char *unit, usec_t timeout, UnitReadyFn ready, void *userdata, char **ret_error) {
        return unit_change(unit, false, timeout, ready, userdata, ret_error);
}

/* ------------------------------------------------------------------ D-Bus */

/* systemd's own socket, as systemctl uses it when run as root: no bus
 * daemon in between, and systemd sends its signals (JobRemoved) to every
 * connection there. The system bus when it cannot be had (not root). */
#define SYSTEMD_PRIVATE "unix:path=/run/systemd/private"
#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"

#define REMOVED_MAX 64

/* The connection, opened on the first unit call of the process and kept
 * (units_close() ends it). Jobs that ended, as JobRemoved announced them,
 * are kept until the caller waiting for one of them takes it. */
static struct {
        bool tried;
        int error;           /* why there is no bus: -EOPNOTSUPP means use systemctl */
        char *why;
        SdBusLib l;
        sd_bus *bus;
        sd_bus_slot *slot;
        struct {
                char *job;
                char *result;
        } removed[REMOVED_MAX];
        size_t n_removed;
} sd;

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        const char *job = NULL, *unit = NULL, *result = NULL;
        uint32_t id;

        if (sd.l.sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) < 0 || !job || !result)
                return 0;
        if (sd.n_removed == REMOVED_MAX) {
                /* Someone else's jobs: the oldest goes. */
                free(sd.removed[0].job);
                free(sd.removed[0].result);
                memmove(sd.removed, sd.removed + 1, (REMOVED_MAX - 1) * sizeof sd.removed[0]);
                sd.n_removed--;
        }
        char *j = strdup(job), *res = strdup(result);
        if (!j || !res) {
                free(j);
                free(res);
                return 0;
        }
        sd.removed[sd.n_removed].job = j;
        sd.removed[sd.n_removed].result = res;
        sd.n_removed++;
        return 0;
}

/* The result of the job at path when it ended, or NULL. */
static char *take_removed(const char *job) {
        for (size_t i = 0; i < sd.n_removed; i++)
                if (streq(sd.removed[i].job, job)) {
                        char *res = sd.removed[i].result;
                        free(sd.removed[i].job);
                        memmove(sd.removed + i, sd.removed + i + 1, (sd.n_removed - i - 1) * sizeof sd.removed[0]);
                        sd.n_removed--;
                        return res;
                }
        return NULL;
}

static bool test_systemctl(void) {
        /* The tests' fake systemctl (tests/helpers/fake-systemctl). */
        return spawn_test_overrides_allowed() && getenv("VFIO_HOOK_SYSTEMCTL");
}

static int bus_connect(const char *address, sd_bus **ret) {
        sd_bus *b = NULL;
        int r = sd.l.sd_bus_new(&b);
        if (r < 0)
                return r;
        r = sd.l.sd_bus_set_address(b, address);
        if (r >= 0)
                r = sd.l.sd_bus_start(b);
        if (r < 0) {
                sd.l.sd_bus_flush_close_unref(b);
                return r;
        }
        *ret = b;
        return 0;
}

static int bus_method(const char *path, const char *iface, const char *member, usec_t timeout, sd_bus_message **reply,
                      sd_bus_error *e, const char *types, ...);

/* Opens the connection once. -EOPNOTSUPP: no libsystemd (use systemctl);
 * another error: systemd cannot be reached, with the reason in sd.why. */
static int bus_get(void) {
        if (sd.tried)
                return sd.error;
        sd.tried = true;
        if (test_systemctl())
                return (sd.error = -EOPNOTSUPP);
        int r = sdbus_load(&sd.l, &sd.why);
        if (r < 0)
                return (sd.error = -EOPNOTSUPP);

        const char *address = SYSTEMD_PRIVATE;
        bool given = spawn_test_overrides_allowed() && getenv("VFIO_HOOK_SYSTEMD_BUS");
        if (given)
                address = getenv("VFIO_HOOK_SYSTEMD_BUS"); /* the tests' stand-in systemd */
        r = bus_connect(address, &sd.bus);
        if (r < 0 && !given) {
                int r2 = sd.l.sd_bus_open_system(&sd.bus);
                if (r2 < 0) {
                        if (asprintf(&sd.why,
                                     "systemd cannot be reached (its socket /run/systemd/private: %s; the system "
                                     "bus: %s): is systemd the init system here?",
                                     strerror(-r), strerror(-r2)) < 0)
                                sd.why = NULL;
                        return (sd.error = -EHOSTDOWN);
                }
                r = 0;
        }
        if (r < 0) {
                if (asprintf(&sd.why, "systemd cannot be reached at %s: %s", address, strerror(-r)) < 0)
                        sd.why = NULL;
                return (sd.error = -EHOSTDOWN);
        }
        r = sd.l.sd_bus_match_signal(sd.bus, &sd.slot, NULL, SD_PATH, SD_MANAGER, "JobRemoved", on_job_removed, NULL);
        if (r < 0) {
                if (asprintf(&sd.why, "cannot watch systemd's jobs: %s", strerror(-r)) < 0)
                        sd.why = NULL;
                return (sd.error = r);
        }
        /* On the system bus, systemd sends its signals only to subscribers
         * (on its own socket, to everyone). */
        sd_bus_error e = SD_BUS_ERROR_NULL;
        (void) bus_method(SD_PATH, SD_MANAGER, "Subscribe", UNITS_QUERY_TIMEOUT, NULL, &e, NULL);
        sd.l.sd_bus_error_free(&e);
        return (sd.error = 0);
}

void units_close(void) {
        if (sd.slot)
                sd.l.sd_bus_slot_unref(sd.slot);
        if (sd.bus)
                sd.l.sd_bus_flush_close_unref(sd.bus);
        for (size_t i = 0; i < sd.n_removed; i++) {
                free(sd.removed[i].job);
                free(sd.removed[i].result);
        }
        free(sd.why);
        /* libsystemd stays mapped (RTLD_NODELETE). */
        sd = (__typeof__(sd)) {};
}

static int bus_method(const char *path, const char *iface, const char *member, usec_t timeout, sd_bus_message **reply,
                      sd_bus_error *e, const char *types, ...) {
        sd_bus_message *m = NULL, *rep = NULL;
        int r = sd.l.sd_bus_message_new_method_call(sd.bus, &m, SD_DEST, path, iface, member);
        if (r < 0)
                return r;
        if (types) {
                va_list ap;
                va_start(ap, types);
                const char *a = va_arg(ap, const char *);
                const char *b = strlen(types) > 1 ? va_arg(ap, const char *) : NULL;
                va_end(ap);
                r = b ? sd.l.sd_bus_message_append(m, types, a, b) : sd.l.sd_bus_message_append(m, types, a);
        }
        if (r >= 0)
                r = sd.l.sd_bus_call(sd.bus, m, timeout ? timeout : 1, e, &rep);
        sd.l.sd_bus_message_unref(m);
        if (r >= 0 && reply)
                *reply = rep;
        else if (rep)
                sd.l.sd_bus_message_unref(rep);
        return r;
}

/* "UNIT: why" for a failed call. */
static const char *call_error(const sd_bus_error *e, int r, char *buf, size_t size) {
        if (r == -ETIMEDOUT)
                snprintf(buf, size, "systemd did not answer");
        else
                snprintf(buf, size, "%s", e && e->message ? e->message : strerror(-r));
        return buf;
}

/* A string property of the object at path, from interface iface. */
static int get_string(const char *path, const char *iface, const char *name, usec_t timeout, char **ret,
                      sd_bus_error *e) {
        sd_bus_message *rep = NULL;
        const char *v = NULL;
        int r = bus_method(path, "org.freedesktop.DBus.Properties", "Get", timeout, &rep, e, "ss", iface, name);
        if (r < 0)
                return r;
        r = sd.l.sd_bus_message_read(rep, "v", "s", &v);
        if (r >= 0)
                *ret = strdup(v ? v : "");
        sd.l.sd_bus_message_unref(rep);
        if (r < 0)
                return r;
        return *ret ? 0 : -ENOMEM;
}

static int read_property(const char *path, const char *name, usec_t timeout, char *dst, size_t size,
                         sd_bus_error *e) {
        _cleanup_free_ char *v = NULL;
        int r = get_string(path, "org.freedesktop.systemd1.Unit", name, timeout, &v, e);
        if (r >= 0)
                copy_value(dst, size, v, strlen(v));
        return r;
}

/* The service's control group ("/system.slice/sddm.service"), NULL when it
 * cannot be told. */
static char *control_group(const char *path, usec_t timeout) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char *cg = NULL;
        if (get_string(path, "org.freedesktop.systemd1.Service", "ControlGroup", timeout, &cg, &e) < 0)
                cg = NULL;
        sd.l.sd_bus_error_free(&e);
        return cg;
}

static int read_property_u64(const char *path, const char *name, usec_t timeout, uint64_t *ret, sd_bus_error *e) {
        sd_bus_message *rep = NULL;
        int r = bus_method(path, "org.freedesktop.DBus.Properties", "Get", timeout, &rep, e, "ss",
                           "org.freedesktop.systemd1.Unit", name);
        if (r < 0)
                return r;
        r = sd.l.sd_bus_message_read(rep, "v", "t", ret);
        sd.l.sd_bus_message_unref(rep);
        return r < 0 ? r : 0;
}

/* When the unit at path became active (ActiveEnterTimestampMonotonic: our
 * clock); 0 when that cannot be told. */
static usec_t active_since(const char *path, usec_t timeout) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        uint64_t since = 0;
        int r = read_property_u64(path, "ActiveEnterTimestampMonotonic", timeout, &since, &e);
        sd.l.sd_bus_error_free(&e);
        return r < 0 || since > now_usec() ? 0 : since;
}

static int on_unit_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        *(bool *) userdata = true;
        return 0;
}

/* The unit's object path (LoadUnit: a unit without a file is one whose
 * LoadState says "not-found"). */
static int unit_path(const char *unit, usec_t timeout, char **ret, sd_bus_error *e) {
        sd_bus_message *rep = NULL;
        const char *p = NULL;
        int r = bus_method(SD_PATH, SD_MANAGER, "LoadUnit", timeout, &rep, e, "s", unit);
        if (r < 0)
                return r;
        r = sd.l.sd_bus_message_read(rep, "o", &p);
        if (r >= 0)
                *ret = p ? strdup(p) : NULL;
        sd.l.sd_bus_message_unref(rep);
        if (r < 0)
                return r;
        return *ret ? 0 : -ENOMEM;
}

/* LoadState and ActiveState of the unit at path. */
static int query_path(const char *path, usec_t deadline, UnitStatus *s, sd_bus_error *e) {
        int r = read_property(path, "LoadState", remaining(deadline), s->load_state, sizeof s->load_state, e);
        if (r >= 0)
                r = read_property(path, "ActiveState", remaining(deadline), s->active_state, sizeof s->active_state, e);
        return r;
}

int units_bus_query(const char *unit, usec_t timeout, UnitStatus *ret, char **ret_error) {
        usec_t deadline = now_usec() + timeout;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL;
        char why[256];
        int r = bus_get();
        if (r == -EOPNOTSUPP)
                return r;
        if (r < 0)
                return errorf(ret_error, r, "querying %s: %s", unit, sd.why ? sd.why : strerror(-r));

        UnitStatus s = {};
        r = unit_path(unit, remaining(deadline), &path, &e);
        if (r >= 0)
                r = query_path(path, deadline, &s, &e);
        if (r < 0) {
                r = errorf(ret_error, r == -ETIMEDOUT ? -ETIME : r, "querying %s: %s", unit,
                           call_error(&e, r, why, sizeof why));
                sd.l.sd_bus_error_free(&e);
                return r;
        }
        *ret = s;
        return 0;
}

/* Waits until JobRemoved says the job at path ended; its result, or NULL
 * when the deadline passed (or the connection broke: *ret_r). */
static char *wait_job(const char *job, usec_t deadline, int *ret_r) {
        *ret_r = 0;
        for (;;) {
                char *res = take_removed(job);
                if (res)
                        return res;
                int r = sd.l.sd_bus_process(sd.bus, NULL);
                if (r < 0) {
                        *ret_r = r;
                        return NULL;
                }
                if (r > 0)
                        continue;
                usec_t left = remaining(deadline);
                if (left == 0) {
                        *ret_r = -ETIME;
                        return NULL;
                }
                r = sd.l.sd_bus_wait(sd.bus, left);
                if (r < 0 && r != -EINTR) {
                        *ret_r = r;
                        return NULL;
                }
        }
}

/* What the state says of a stop or start whose job ended with result
 * (NULL: not seen by the deadline): 0 done, < 0 failed (with the error),
 * 1 not yet. since: when a started unit became active (0: not active, or
 * not known); settle: how long it must have been (0: active is started);
 * ready: the caller's UnitReadyFn said so. */
static int stop_or_start_verdict(const char *unit, bool stop, const UnitStatus *s, const char *result, usec_t since,
                                 usec_t settle, bool ready, usec_t deadline, char **ret_error) {
        const char *doing = stop ? "stopping" : "starting";

        if (stop && status_is_stopped(s))
                return 0;
        /* A service is active as soon as it forked (Type=simple): one that
         * dies at once did not start. One that is ready is past that. */
        if (!stop && streq(s->active_state, "active") &&
            (settle == 0 || ready || remaining(deadline) == 0 || since == 0 || now_usec() - since >= settle))
                return 0;
        if (!stop && streq(s->active_state, "failed"))
                return errorf(ret_error, -EIO, "%s %s: the unit failed (journalctl -u %s)", doing, unit, unit);
        if (!stop && streq(s->load_state, "not-found"))
                return errorf(ret_error, -ENOENT, "%s %s: no such unit", doing, unit);
        if (!stop && (streq(s->active_state, "inactive") || streq(s->active_state, "deactivating")) && result &&
            streq(result, "done"))
                return errorf(ret_error, -EIO, "%s %s: the unit stopped right after it started (journalctl -u %s)",
                              doing, unit, unit);
        if (result && !streq(result, "done"))
                return errorf(ret_error, -EIO, "%s %s: systemd's job ended with '%s', the unit is %s", doing, unit,
                              result, s->active_state);
        return 1;
}

/* StopUnit/StartUnit(unit, "replace"), then JobRemoved for its job, then
 * the state, once (docs/design.md, "Deadlines"). */
static int bus_change(const char *unit, bool stop, usec_t timeout, UnitReadyFn ready, void *userdata,
                      char **ret_error) {
        const char *doing = stop ? "stopping" : "starting";
        usec_t deadline = now_usec() + timeout;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *rep = NULL;
        char why[256];

        int r = bus_get();
        if (r == -EOPNOTSUPP)
                return r;
        if (r < 0)
                return errorf(ret_error, r, "%s %s: %s", doing, unit, sd.why ? sd.why : strerror(-r));

        r = bus_method(SD_PATH, SD_MANAGER, stop ? "StopUnit" : "StartUnit", remaining(deadline), &rep, &e, "ss", unit,
                       "replace");
        if (r < 0) {
                /* Nothing to stop of a unit systemd does not know. */
                bool no_unit = sd.l.sd_bus_error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit") ||
                               sd.l.sd_bus_error_has_name(&e, "org.freedesktop.systemd1.LoadFailed");
                if (stop && no_unit)
                        r = 0;
                else if (no_unit)
                        r = errorf(ret_error, -ENOENT, "%s %s: no such unit (%s)", doing, unit,
                                   call_error(&e, r, why, sizeof why));
                else
                        r = errorf(ret_error, r == -ETIMEDOUT ? -ETIME : r, "%s %s: %s", doing, unit,
                                   call_error(&e, r, why, sizeof why));
                sd.l.sd_bus_error_free(&e);
                return r;
        }
        return units_bus_wait_job(rep, unit, stop, stop ? 0 : UNITS_START_SETTLE, ready, userdata, deadline, timeout,
                                  ret_error);
}

int units_bus_wait_job(sd_bus_message *rep, const char *unit, bool stop, usec_t settle, UnitReadyFn ready,
                       void *userdata, usec_t deadline, usec_t timeout, char **ret_error) {
        const char *doing = stop ? "stopping" : "starting";
        _cleanup_free_ char *job = NULL, *result = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char why[256], t[FORMAT_TIMEOUT_MAX];
        const char *p = NULL;
        UnitStatus s = {};

        int r = sd.l.sd_bus_message_read(rep, "o", &p);
        if (r >= 0 && p)
                job = strdup(p);
        sd.l.sd_bus_message_unref(rep);
        if (!job)
                return errorf(ret_error, r < 0 ? r : -ENOMEM, "%s %s: no job from systemd", doing, unit);

        result = wait_job(job, deadline, &r);
        if (!result && r != -ETIME)
                return errorf(ret_error, r, "%s %s: lost systemd: %s", doing, unit, strerror(-r));

        /* Then the unit's own state, re-read whenever systemd says one of
         * its properties changed (PropertiesChanged, watched from before the
         * first read): a unit still activating or deactivating after its job
         * (Type=simple units that fork late, a queued restart) is waited for
         * without polling, and so is a started one until it has been active
         * settle: one that dies meanwhile is seen at once. When ready()
         * says so first, it is done then. */
        _cleanup_free_ char *path = NULL, *cgroup = NULL;
        sd_bus_slot *watch = NULL;
        bool changed = true, is_ready = false, asked_cgroup = false;
        usec_t since = 0, ask_at = 0;
        PollUntil ask = POLL_UNTIL(deadline);
        r = unit_path(unit, remaining(deadline) ? remaining(deadline) : USEC_PER_SEC, &path, &e);
        if (r >= 0)
                r = sd.l.sd_bus_match_signal(sd.bus, &watch, NULL, path, "org.freedesktop.DBus.Properties",
                                             "PropertiesChanged", on_unit_changed, &changed);
        if (r < 0) {
                r = errorf(ret_error, r == -ETIMEDOUT ? -ETIME : r, "%s %s: %s", doing, unit,
                           call_error(&e, r, why, sizeof why));
                sd.l.sd_bus_error_free(&e);
                return r;
        }
        for (;;) {
                if (changed) {
                        changed = false;
                        r = query_path(path, remaining(deadline) ? deadline : now_usec() + USEC_PER_SEC, &s, &e);
                        if (r < 0) {
                                r = errorf(ret_error, r == -ETIMEDOUT ? -ETIME : r, "%s %s: %s", doing, unit,
                                           call_error(&e, r, why, sizeof why));
                                sd.l.sd_bus_error_free(&e);
                                break;
                        }
                        since = settle > 0 && !stop && streq(s.active_state, "active")
                                        ? active_since(path, USEC_PER_SEC)
                                        : 0;
                }
                bool asking = ready && since > 0 && !is_ready;
                if (asking && !asked_cgroup) {
                        cgroup = control_group(path, USEC_PER_SEC);
                        asked_cgroup = true;
                }
                asking = asking && cgroup;
                if (asking && now_usec() >= ask_at) {
                        is_ready = ready(cgroup, userdata);
                        ask_at = now_usec() + poll_next_wait(&ask);
                }
                r = stop_or_start_verdict(unit, stop, &s, result, since, settle, is_ready, deadline, ret_error);
                if (r <= 0)
                        break;
                /* Not there yet: wait for a change, until the unit has been
                 * active long enough, the next question to ready(), or the
                 * deadline. */
                usec_t until = deadline;
                if (since > 0 && since + settle < until)
                        until = since + settle;
                if (asking && ask_at < until)
                        until = ask_at;
                usec_t now = now_usec();
                if (now >= deadline) {
                        r = errorf(ret_error, -ETIME, "%s %s: still %s after %s", doing, unit, s.active_state,
                                   format_timeout(timeout, t, sizeof t));
                        break;
                }
                int k = sd.l.sd_bus_process(sd.bus, NULL);
                if (k < 0) {
                        r = errorf(ret_error, k, "%s %s: lost systemd: %s", doing, unit, strerror(-k));
                        break;
                }
                if (k > 0 || changed)
                        continue;
                if (now < until) {
                        k = sd.l.sd_bus_wait(sd.bus, until - now);
                        if (k < 0 && k != -EINTR) {
                                r = errorf(ret_error, k, "%s %s: lost systemd: %s", doing, unit, strerror(-k));
                                break;
                        }
                }
        }
        sd.l.sd_bus_slot_unref(watch);
        return r;
}

int units_bus_stop(const char *unit, usec_t timeout, char **ret_error) {
        if (ret_error)
                *ret_error = NULL;
        return bus_change(unit, true, timeout, NULL, NULL, ret_error);
}

int units_bus_open(const char *doing, const char *unit, const SdBusLib **ret, char **ret_error) {
        int r = bus_get();
        if (r == -EOPNOTSUPP)
                return r;
        if (r < 0)
                return errorf(ret_error, r, "%s %s: %s", doing, unit, sd.why ? sd.why : strerror(-r));
        *ret = &sd.l;
        return 0;
}

int units_bus_new_call(const char *doing, const char *unit, bool on_unit, const char *iface, const char *member,
                       usec_t timeout, sd_bus_message **ret, char **ret_error) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL;
        char why[256];
        int r = on_unit ? unit_path(unit, timeout, &path, &e) : 0;
        if (r >= 0)
                r = sd.l.sd_bus_message_new_method_call(sd.bus, ret, SD_DEST, path ? path : SD_PATH, iface, member);
        if (r < 0) {
                r = errorf(ret_error, r == -ETIMEDOUT ? -ETIME : r, "%s %s: %s", doing, unit,
                           call_error(&e, r, why, sizeof why));
                sd.l.sd_bus_error_free(&e);
        }
        return r;
}

int units_bus_call(sd_bus_message *m, int built, const char *doing, const char *unit, usec_t timeout,
                   sd_bus_message **ret, char **ret_error) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *rep = NULL;
        char why[256];
        if (built < 0) {
                sd.l.sd_bus_message_unref(m);
                return errorf(ret_error, built, "%s %s: %s", doing, unit, strerror(-built));
        }
        int r = sd.l.sd_bus_call(sd.bus, m, timeout ? timeout : 1, &e, &rep);
        sd.l.sd_bus_message_unref(m);
        if (r < 0) {
                r = errorf(ret_error, r == -ETIMEDOUT ? -ETIME : r, "%s %s: %s", doing, unit,
                           call_error(&e, r, why, sizeof why));
                sd.l.sd_bus_error_free(&e);
                return r;
        }
        if (ret)
                *ret = rep;
        else
                sd.l.sd_bus_message_unref(rep);
        return 0;
}
