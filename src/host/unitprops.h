/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "host/facts.h"
#include "shared/macro.h"

/* The systemd side of the lifetime steps (lifetime-steps.h), on units.c's
 * connection to systemd (units_bus_*, units.h): one connection, one wait
 * for a job. Without libsystemd (or with the tests' fake systemctl),
 * systemd-run and systemctl by absolute path with an argv (subprocess.h),
 * each under a deadline, the state polled.
 *
 * Units are checked before anything is sent or run: a host slice of
 * isolate_units[], or a "vfio-hook-inhibit-*.service" of
 * inhibit_unit_name()'s characters. -EINVAL otherwise. */

/* StartTransientUnit(UNIT, "fail") with what systemd-run --unit=UNIT
 * --collect --service-type=exec sets (Description "WHY (inhibitor lock)",
 * Type=exec, CollectMode=inactive-or-failed, ExecStart systemd-inhibit
 * --what=WHAT --who=vfio-hook --why=WHY --mode=block sleep infinity); then
 * its job and the unit active. A unit that failed is an error naming
 * `journalctl -u UNIT`; one systemd has already is systemd's refusal. */
int unitprops_inhibitor_start(const char *unit, const char *what, const char *why, usec_t timeout, char **ret_error);
/* StopUnit and its job, as units_stop(); a unit systemd does not know
 * (collected) is stopped. */
int unitprops_inhibitor_stop(const char *unit, usec_t timeout, char **ret_error);
/* UNIT_ACTIVE while it runs, else UNIT_INACTIVE (also when systemd does not
 * know it); -ENOEXEC, with *ret set, when it failed. */
int unitprops_state(const char *unit, usec_t timeout, UnitState *ret, char **ret_error);

/* The slice's (scope's) AllowedCPUs as a CPU list, "" when unset. */
int unitprops_allowed_cpus_get(const char *unit, usec_t timeout, char **ret, char **ret_error);
/* SetUnitProperties(UNIT, runtime, AllowedCPUs=CPUS) as systemctl
 * set-property --runtime does ("" resets it). */
int unitprops_allowed_cpus_set(const char *unit, const char *cpus, usec_t timeout, char **ret_error);
