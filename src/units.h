/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "facts.h"
#include "macro.h"

/* systemd units through systemctl (see subprocess.h: absolute path, clean
 * environment, deadline). One query is one spawn of
 *   systemctl --no-pager --no-ask-password show --property=LoadState,ActiveState -- UNIT
 * which tells an unknown unit (LoadState=not-found) from an inactive one in
 * a single call, where `is-active` cannot.
 *
 * Unit names were validated by the caller (allowlist); they are checked
 * again here with policy.h's unit_name_valid() (no leading '-', ending in
 * ".service"): -EINVAL, and systemctl is not run. */

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

/* `systemctl stop|start -- UNIT` under the deadline, then the state is
 * polled (from 1 ms, doubling up to 20 ms) until the unit is inactive (or
 * failed, or absent) / active. A unit that failed to start is an error at
 * once; -ETIME when the deadline passes first. Errors read
 * "stopping UNIT: ..." / "starting UNIT: ...". */
int units_stop(const char *unit, usec_t timeout, char **ret_error);
int units_start(const char *unit, usec_t timeout, char **ret_error);
