/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "host/facts.h"
#include "shared/macro.h"

/* The systemd side of the lifetime steps (lifetime-steps.h), in one place
 * so it can move to D-Bus: systemd-run and systemctl by absolute path with
 * an argv (subprocess.h), each under a deadline.
 *
 * Units are checked before any argv is built: a host slice of
 * isolate_units[], or a "vfio-hook-inhibit-*.service" of
 * inhibit_unit_name()'s characters. -EINVAL otherwise. */

/* systemd-run --unit=UNIT --collect --service-type=exec -- systemd-inhibit
 * --what=WHAT --who=vfio-hook --why=WHY --mode=block sleep infinity; then
 * waits until the unit is active (a failed one is an error). */
int unitprops_inhibitor_start(const char *unit, const char *what, const char *why, usec_t timeout, char **ret_error);
/* systemctl stop, then waits until it is gone or inactive. */
int unitprops_inhibitor_stop(const char *unit, usec_t timeout, char **ret_error);
/* UNIT_ACTIVE while it runs, else UNIT_INACTIVE. */
int unitprops_state(const char *unit, usec_t timeout, UnitState *ret, char **ret_error);

/* systemctl show --property=AllowedCPUs --value: "" when unset. */
int unitprops_allowed_cpus_get(const char *unit, usec_t timeout, char **ret, char **ret_error);
/* systemctl set-property --runtime UNIT AllowedCPUs=CPUS ("" resets it). */
int unitprops_allowed_cpus_set(const char *unit, const char *cpus, usec_t timeout, char **ret_error);
