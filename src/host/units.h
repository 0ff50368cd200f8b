/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "host/facts.h"
#include "host/sdbus.h"
#include "shared/macro.h"

/* systemd units, through systemd's D-Bus API (sd-bus from libsystemd,
 * dlopen()ed on the first unit call, see sdbus.h), on systemd's own socket
 * /run/systemd/private as systemctl uses it as root (the system bus when
 * that cannot be had):
 *   state: LoadUnit(UNIT), then its LoadState and ActiveState, which tell
 *          an unknown unit (LoadState=not-found) from an inactive one;
 *   stop/start: StopUnit/StartUnit(UNIT, "replace"), then the job's
 *          JobRemoved signal, waited for under the deadline, then the
 *          state once.
 * The lifetime steps' systemd side (unitprops.c) uses the same connection
 * and wait through the units_bus_* calls below.
 * Without libsystemd.so.0 (or with the tests' fake systemctl, see
 * subprocess.h) the same through `systemctl show|stop|start`. Where
 * systemd does not run (a container), an error says so: the callers look
 * for unit files first (hostops-real.c), so a host without the units
 * never gets that far.
 *
 * Unit names were validated by the caller (allowlist); they are checked
 * again here with policy.h's unit_name_valid() (no leading '-', ending in
 * ".service"): -EINVAL, and systemd is not asked. */

#define UNITS_QUERY_TIMEOUT (10 * USEC_PER_SEC)

typedef struct UnitStatus {
        char load_state[32];    /* "loaded", "not-found", "masked", ... */
        char active_state[32];  /* "active", "inactive", "failed", "activating", ... */
} UnitStatus;

/* Running (active, reloading, activating, deactivating, refreshing) counts
 * as UNIT_ACTIVE, even for a unit whose file is gone; otherwise a
 * not-found unit is UNIT_ABSENT and anything else (inactive, failed,
 * maintenance) UNIT_INACTIVE. */
UnitState unit_status_to_state(const UnitStatus *s);

int units_query(const char *unit, usec_t timeout, UnitStatus *ret, char **ret_error);
int units_state(const char *unit, usec_t timeout, UnitState *ret, char **ret_error);

/* A started service counts as started once it has been active this long:
 * systemd says a Type=simple service is active as soon as it forked, and a
 * display manager that dies at once (no GPU to draw on) did not start. */
#define UNITS_START_SETTLE (1000 * USEC_PER_MSEC)

/* Stop/start under the deadline; then, while the unit is not yet inactive
 * (or failed, or absent) / active and settled, its state is read again on
 * each PropertiesChanged systemd sends for it (over systemctl, without
 * libsystemd: polled from 1 ms, doubling up to 20 ms). A unit that failed
 * to start is an error at once; -ETIME when the deadline passes first. Errors read
 * "stopping UNIT: ..." / "starting UNIT: ...". */
int units_stop(const char *unit, usec_t timeout, char **ret_error);
int units_start(const char *unit, usec_t timeout, char **ret_error);

/* Whether a started unit is ready before it has been active
 * UNITS_START_SETTLE, asked with its control group ("/system.slice/
 * sddm.service") once it is active, then again after 1 ms, doubling up to
 * 20 ms (hostops-real.c: a process of it holds a DRM card node, as a
 * display manager's X server does once it draws). */
typedef bool (*UnitReadyFn)(const char *control_group, void *userdata);

/* units_start(), done as soon as ready() says so (over D-Bus; through
 * systemctl, a started unit is done once active, as there). */
int units_start_until_ready(const char *unit, usec_t timeout, UnitReadyFn ready, void *userdata, char **ret_error);

/* The same connection for the lifetime steps' systemd side (unitprops.c),
 * which checks its own names first (host slices, escaped inhibitor units,
 * which unit_name_valid() does not take): no name check here. Each returns
 * -EOPNOTSUPP when there is no bus to use (no libsystemd, or the tests'
 * fake systemctl): the caller runs systemctl then. Errors read "DOING
 * UNIT: why", systemd's own message passed through. */
int units_bus_query(const char *unit, usec_t timeout, UnitStatus *ret, char **ret_error);
/* StopUnit and its job, as units_stop(); a unit systemd does not know is stopped. */
int units_bus_stop(const char *unit, usec_t timeout, char **ret_error);
/* The connection's function table (connecting on the first call). */
int units_bus_open(const char *doing, const char *unit, const SdBusLib **ret, char **ret_error);
/* A method call to fill in: on the manager, or (on_unit) on UNIT's object
 * (LoadUnit tells its path). */
int units_bus_new_call(const char *doing, const char *unit, bool on_unit, const char *iface, const char *member,
                       usec_t timeout, sd_bus_message **ret, char **ret_error);
/* Sends m, when built (what filling it in returned) is not an error, and
 * drops it; the reply in *ret when ret is given. No answer within
 * timeout: -ETIME. */
int units_bus_call(sd_bus_message *m, int built, const char *doing, const char *unit, usec_t timeout,
                   sd_bus_message **ret, char **ret_error);
/* rep: the reply to a call that queued a job for UNIT (dropped here):
 * the job's JobRemoved, then the state as units_stop()/units_start() wait
 * for it; a start counts once the unit has been active for settle (0:
 * once active), or when ready (may be NULL) says so first. */
int units_bus_wait_job(sd_bus_message *rep, const char *unit, bool stop, usec_t settle, UnitReadyFn ready,
                       void *userdata, usec_t deadline, usec_t timeout, char **ret_error);

/* Closes the connection to systemd, if one was opened. */
void units_close(void);
