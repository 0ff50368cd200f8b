/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <limits.h>
#include <signal.h>

#include "host/facts.h"
#include "host/holders.h"
#include "host/hostops.h"
#include "host/kmodops.h"
#include "host/nodedev.h"
#include "host/unitprops.h"
#include "host/units.h"
#include "shared/subprocess.h"

/* The real host: systemd over D-Bus (units.c), libkmod (kmodops.c), libvirt through
 * dlopen() in one worker process for all the devices of a run (nodedev.c),
 * kill(2). libkmod's context is created on
 * the first module operation, so that a hook run that touches no module
 * does not parse modprobe.d. */

typedef struct RealOps {
        HostOps ops;
        KmodOps *kmod;
        NodedevSession *virt; /* one libvirt worker for every device of the run */
} RealOps;

static RealOps *real(HostOps *ops) {
        return ops->userdata;
}

static int real_unit_state(HostOps *ops, const char *unit, UnitState *ret) {
        /* Most hosts have no display manager unit or listed service at all:
         * no unit file means no unit, and spares a systemctl run. (Tests
         * with a fake systemctl have no unit files.) */
        char template[256] = "";
        const char *at = strchr(unit, '@');
        if (at) /* an instance comes from its template: foo@bar.service <- foo@.service */
                snprintf(template, sizeof template, "%.*s@%s", (int) (at - unit), unit, strrchr(unit, '.'));
        bool found = false;
        for (size_t i = 0; i < n_unit_dirs && !found; i++) {
                char path[PATH_MAX];
                snprintf(path, sizeof path, "/%s/%s", unit_dirs[i].path, unit);
                found = access(path, F_OK) == 0;
                if (!found && at) {
                        snprintf(path, sizeof path, "/%s/%s", unit_dirs[i].path, template);
                        found = access(path, F_OK) == 0;
                }
        }
        if (!found && !spawn_test_overrides_allowed()) {
                *ret = UNIT_ABSENT;
                return 0;
        }
        return units_state(unit, UNITS_QUERY_TIMEOUT, ret, NULL);
}

static int real_unit_stop(HostOps *ops, const char *unit, usec_t timeout, char **ret_error) {
        return units_stop(unit, timeout, ret_error);
}

/* A started unit one of whose processes holds a DRM card node is drawing
 * (Xorg under sddm or lightdm): it did not die for want of a GPU, and
 * needs no UNITS_START_SETTLE. (gdm's greeter runs in a session scope of
 * its own: gdm waits out the settle.) */
static bool unit_holds_card(const char *control_group, void *userdata) {
        _cleanup_(sysroot_freep) Sysroot *sr = NULL;
        char *const card[] = { (char *) "/dev/dri/card", NULL };
        return sysroot_open("/", &sr) >= 0 && holders_in_cgroup(sr, control_group, card) > 0;
}

static int real_unit_start(HostOps *ops, const char *unit, usec_t timeout, char **ret_error) {
        return units_start_until_ready(unit, timeout, unit_holds_card, NULL, ret_error);
}

static int get_kmod(RealOps *ro, KmodOps **ret, char **ret_error) {
        if (!ro->kmod) {
                int r = kmodops_new(&ro->kmod, ret_error);
                if (r < 0)
                        return r;
        }
        *ret = ro->kmod;
        return 0;
}

static int real_module_remove(HostOps *ops, const char *module, usec_t timeout, char **ret_error) {
        KmodOps *k;
        int r = get_kmod(real(ops), &k, ret_error);
        if (r < 0)
                return r;
        return kmodops_remove(k, module, timeout, ret_error);
}

static int real_module_load(HostOps *ops, const char *module, usec_t timeout, char **ret_error) {
        KmodOps *k;
        int r = get_kmod(real(ops), &k, ret_error);
        if (r < 0)
                return r;
        return kmodops_load(k, module, timeout, ret_error);
}

static NodedevSession *get_virt(RealOps *ro) {
        if (!ro->virt)
                ro->virt = nodedev_session_new(NODEDEV_URI, NULL);
        return ro->virt;
}

static int real_device_detach(HostOps *ops, const PciAddr *a, usec_t timeout, char **ret_error) {
        NodedevSession *s = get_virt(real(ops));
        return s ? nodedev_session_detach(s, a, timeout, ret_error) : -ENOMEM;
}

static int real_device_reattach(HostOps *ops, const PciAddr *a, usec_t timeout, char **ret_error) {
        NodedevSession *s = get_virt(real(ops));
        return s ? nodedev_session_reattach(s, a, timeout, ret_error) : -ENOMEM;
}

static void real_devices_begin(HostOps *ops) {
        NodedevSession *s = get_virt(real(ops));
        if (s)
                (void) nodedev_session_begin(s); /* else the first device's call says why */
}

static int real_domain_running(HostOps *ops, const char *domain, usec_t timeout, char **ret_error) {
        return nodedev_domain_active(NODEDEV_URI, domain, timeout, ret_error);
}

static int real_device_modules(HostOps *ops, const PciAddr *a, char ***ret) {
        _cleanup_free_ char *alias = NULL, *err = NULL;
        _cleanup_sysroot_ Sysroot *sr = NULL;
        char name[PCI_ADDR_STRLEN];
        KmodOps *k;

        int r = sysroot_open("/", &sr);
        if (r < 0)
                return r;
        r = sysroot_read_linef(sr, &alias, "sys/bus/pci/devices/%s/modalias", pci_addr_format(a, name));
        if (r < 0)
                return r;
        r = get_kmod(real(ops), &k, &err);
        if (r < 0)
                return r;
        return kmodops_alias_modules(k, alias, ret, NULL);
}

static int real_inhibitor_start(HostOps *ops, const char *unit, const char *what, const char *why, usec_t timeout,
                                char **ret_error) {
        return unitprops_inhibitor_start(unit, what, why, timeout, ret_error);
}

static int real_inhibitor_stop(HostOps *ops, const char *unit, usec_t timeout, char **ret_error) {
        return unitprops_inhibitor_stop(unit, timeout, ret_error);
}

static int real_inhibitor_state(HostOps *ops, const char *unit, UnitState *ret) {
        int r = unitprops_state(unit, UNITS_QUERY_TIMEOUT, ret, NULL);
        if (r == -ENOEXEC) { /* failed: not running */
                *ret = UNIT_INACTIVE;
                return 0;
        }
        return r;
}

static int real_allowed_cpus_get(HostOps *ops, const char *unit, char **ret, char **ret_error) {
        return unitprops_allowed_cpus_get(unit, UNITS_QUERY_TIMEOUT, ret, ret_error);
}

static int real_allowed_cpus_set(HostOps *ops, const char *unit, const char *cpus, usec_t timeout, char **ret_error) {
        return unitprops_allowed_cpus_set(unit, cpus, timeout, ret_error);
}

static int real_process_kill(HostOps *ops, pid_t pid, int sig) {
        if (pid <= 0)
                return -EINVAL;   /* never a process group, never everything */
        return kill(pid, sig) < 0 ? -errno : 0;
}

HostOps *host_ops_real_new(void) {
        RealOps *ro = calloc(1, sizeof *ro);
        if (!ro)
                return NULL;

        ro->ops = (HostOps) {
                .unit_state = real_unit_state,
                .unit_stop = real_unit_stop,
                .unit_start = real_unit_start,
                .module_remove = real_module_remove,
                .module_load = real_module_load,
                .device_detach = real_device_detach,
                .device_reattach = real_device_reattach,
                .process_kill = real_process_kill,
                .domain_running = real_domain_running,
                .device_modules = real_device_modules,
                .inhibitor_start = real_inhibitor_start,
                .inhibitor_stop = real_inhibitor_stop,
                .inhibitor_state = real_inhibitor_state,
                .allowed_cpus_get = real_allowed_cpus_get,
                .allowed_cpus_set = real_allowed_cpus_set,
                .devices_begin = real_devices_begin,
                .userdata = ro,
        };
        return &ro->ops;
}

HostOps *host_ops_real_free(HostOps *ops) {
        if (!ops)
                return NULL;
        RealOps *ro = real(ops);
        nodedev_session_free(ro->virt);
        kmodops_free(ro->kmod);
        units_close();
        free(ro);
        return NULL;
}

int host_ops_unit_state(const char *unit, UnitState *ret, void *userdata) {
        HostOps *ops = userdata;
        return ops->unit_state(ops, unit, ret);
}

int host_fetch_domain_xml(const char *domain, usec_t timeout, char **ret, char **ret_error) {
        return nodedev_fetch_domain_xml(NODEDEV_URI, domain, timeout, ret, ret_error);
}
