/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "host/facts.h"
#include "host/pci.h"

/* The changes the engine makes to a host that are not plain sysfs writes
 * (those go through the Sysroot): systemd units, kernel modules, libvirt's
 * node-device detach/reattach, signals. The real host implements them with
 * systemctl, libkmod and libvirt (hostops-real.c); the tests with a fake
 * kernel over a tree. Every call that waits takes a deadline (a timeout in
 * microseconds) and returns -ETIME when it passes, never blocks for ever.
 * On failure, *ret_error (when given) gets one line that says why. */

typedef struct HostOps HostOps;

struct HostOps {
        int (*unit_state)(HostOps *ops, const char *unit, UnitState *ret);
        /* Stop/start and wait until inactive/active. */
        int (*unit_stop)(HostOps *ops, const char *unit, usec_t timeout, char **ret_error);
        int (*unit_start)(HostOps *ops, const char *unit, usec_t timeout, char **ret_error);
        /* Remove one module (its holders are the caller's business), retrying
         * while it is busy until the deadline. -ENOENT when not loaded. */
        int (*module_remove)(HostOps *ops, const char *module, usec_t timeout, char **ret_error);
        /* Load with modprobe semantics (options, softdeps, dependencies). */
        int (*module_load)(HostOps *ops, const char *module, usec_t timeout, char **ret_error);
        /* virNodeDeviceDetachFlags(dev, "vfio", 0) / virNodeDeviceReAttach. */
        int (*device_detach)(HostOps *ops, const PciAddr *a, usec_t timeout, char **ret_error);
        int (*device_reattach)(HostOps *ops, const PciAddr *a, usec_t timeout, char **ret_error);
        int (*process_kill)(HostOps *ops, pid_t pid, int sig);
        /* Whether libvirt runs the domain: 1, 0, or a negative errno when it
         * cannot be asked. Never from hook mode: libvirt holds the domain. */
        int (*domain_running)(HostOps *ops, const char *domain, usec_t timeout, char **ret_error);
        /* The modules that claim the device (its modalias, as modprobe reads
         * modules.alias): what the kernel would load for it anyway. */
        int (*device_modules)(HostOps *ops, const PciAddr *a, char ***ret);
        /* For the guest's lifetime (lifetime-steps.h), systemd through one
         * adapter (src/host/unitprops.c): a transient unit holding a logind
         * inhibitor lock (what: "sleep:idle", why: its reason), started and
         * confirmed active; stopped (an absent one is fine); its state. */
        int (*inhibitor_start)(HostOps *ops, const char *unit, const char *what, const char *why, usec_t timeout,
                               char **ret_error);
        int (*inhibitor_stop)(HostOps *ops, const char *unit, usec_t timeout, char **ret_error);
        int (*inhibitor_state)(HostOps *ops, const char *unit, UnitState *ret);
        /* AllowedCPUs= of a slice or scope ("" when unset), and setting it
         * as a runtime property ("" resets it). */
        int (*allowed_cpus_get)(HostOps *ops, const char *unit, char **ret, char **ret_error);
        int (*allowed_cpus_set)(HostOps *ops, const char *unit, const char *cpus, usec_t timeout, char **ret_error);
        /* May be NULL: a hand-off with devices to detach or reattach is
         * coming; set up for it (load libvirt, connect) meanwhile. */
        void (*devices_begin)(HostOps *ops);
        void *userdata;
};

/* The real host. sysroot must be "/" for anything but reading. */
HostOps *host_ops_real_new(void);
HostOps *host_ops_real_free(HostOps *ops);

/* A UnitStateFn (facts.h) over any HostOps: pass the HostOps as userdata. */
int host_ops_unit_state(const char *unit, UnitState *ret, void *userdata);

/* For `plan DOMAIN`: the domain's XML from qemu:///system, read-only. */
int host_fetch_domain_xml(const char *domain, usec_t timeout, char **ret, char **ret_error);
