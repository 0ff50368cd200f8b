/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "host/hostops.h"
#include "shared/sysroot.h"

/* A fake kernel, systemd and libvirt over a fakehost tree, in the manner of
 * libvirt's tests/virpcimock.c: the engine's sysfs writes and HostOps calls
 * change the tree the way Linux would.
 *
 * - vtconsole `bind` writes bind/unbind the console; platform driver
 *   `bind`/`unbind` writes move the framebuffer device's driver link.
 * - Units: state in run/fakekernel/units/UNIT ("active"/"inactive"); a
 *   unit may own processes, which stop with it and come back on start; it
 *   may fail right after its start (dead_unit) or become active only after
 *   a while (unit_delay).
 * - Modules: unload fails (-EAGAIN) while the module has holders or a
 *   process holds a device node of its devices; unload removes its PCI
 *   drivers (unbinding devices and their DRM nodes); load brings back the
 *   same module, drivers and bindings (what the kernel would re-probe).
 * - Devices: detach moves a device to vfio-pci, reattach gives it back to
 *   its driver when that driver is loaded. Detach fails (-ETIME) while a
 *   process holds a node of the device (in Linux the unbind would hang).
 *   A device's modules (its modalias) are those that drove it.
 * - libvirt runs the domains in running_domains.
 *
 * What the "kernel" must remember across processes (a test kills the
 * engine and restores from another process) lives in MEMDIR, beside the
 * tree, so it is not part of the tree's snapshot.
 *
 * Faults: every change (a sysfs write or a changing HostOps call) counts;
 * change number fail_at fails with -EIO before it happens. A device can be
 * made to hang in detach: it then sleeps in a deadline-bound child. */

typedef struct FakeKernel {
        HostOps ops;            /* first: the engine gets &fk->ops */
        char *root;
        char *memdir;
        Sysroot *sr;
        unsigned changes;       /* changes seen so far */
        unsigned fail_at;       /* 0: no fault */
        char *hang_device;      /* detach of this address never returns */
        pid_t stubborn_pid;     /* ignores SIGTERM */
        char *dead_unit;        /* starts, then fails at once (a display manager without its GPU) */
        usec_t unit_delay;      /* a started unit is active only this long after its start */
        char **running_domains; /* what libvirt runs (domain_running) */
        bool domain_query_fails; /* libvirt cannot be asked */
        /* Huge pages: nr_hugepages of a pool grows to at most huge_max pages
         * (0: no limit), huge_fragmented fewer until memory is compacted
         * (a write to proc/sys/vm/compact_memory, remembered in MEMDIR). */
        unsigned huge_max;
        unsigned huge_fragmented;
} FakeKernel;

/* - Huge pages: writes to a pool's nr_hugepages (the host's, or a node's,
 *   which moves the host's by as much) change nr_hugepages and
 *   free_hugepages within huge_max/huge_fragmented.
 * - Lifetime units: an inhibitor is run/fakekernel/inhibitors/UNIT (WHAT
 *   and WHY), a slice's AllowedCPUs= is run/fakekernel/allowedcpus/UNIT
 *   (absent: unset). */

/* Takes a built fakehost tree; makes vfio-pci a built-in driver and every
 * unit file in the tree an active unit. */
int fakekernel_new(const char *root, FakeKernel **ret);
FakeKernel *fakekernel_free(FakeKernel *fk);

/* PID's process (comm and fds) stops and starts with UNIT. */
int fakekernel_unit_owns(FakeKernel *fk, const char *unit, pid_t pid);
