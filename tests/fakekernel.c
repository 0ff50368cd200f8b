/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "host/holders.h"
#include "shared/deadline.h"
#include "fakehost.h"
#include "fakekernel.h"
#include "host/modules.h"
#include "model/policy.h"
#include "host/sriov.h"
#include "shared/util.h"

/* ---- small file helpers, on absolute paths under root or memdir ---- */

static int write_file(const char *path, const char *content) {
        FILE *f = fopen(path, "we");
        if (!f)
                return -errno;
        fputs(content, f);
        return fclose(f) == 0 ? 0 : -errno;
}

static int read_file(const char *path, char **ret) {
        FILE *f = fopen(path, "re");
        if (!f)
                return -errno;
        char *buf = NULL;
        size_t n = 0;
        ssize_t len = getdelim(&buf, &n, 0, f);
        fclose(f);
        if (len < 0) {
                free(buf);
                buf = strdup("");
                if (!buf)
                        return -ENOMEM;
        }
        *ret = buf;
        return 0;
}

static char *pathf(const char *fmt, ...) _printf_(1, 2);
static char *pathf(const char *fmt, ...) {
        char *p;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&p, fmt, ap);
        va_end(ap);
        return r < 0 ? NULL : p;
}

static int count_change(FakeKernel *fk) {
        fk->changes++;
        if (fk->fail_at && fk->changes == fk->fail_at)
                return -EIO;
        return 0;
}

/* ---- sysfs writes ---- */

/* sriov_numvfs as drivers/pci/iov.c takes it (sriov_numvfs_store). */
static int write_numvfs(FakeKernel *fk, const char *dev, const char *value) {
        _cleanup_free_ char *drv = NULL, *num = NULL, *total = NULL;
        unsigned n, t, cur;
        if (parse_uint(value, &n) < 0 && sscanf(value, "%u\n", &n) != 1)
                return -EINVAL;
        if (sysroot_read_linef(fk->sr, &total, "sys/bus/pci/devices/%s/sriov_totalvfs", dev) < 0 ||
            sysroot_read_linef(fk->sr, &num, "sys/bus/pci/devices/%s/sriov_numvfs", dev) < 0 ||
            parse_uint(total, &t) < 0 || parse_uint(num, &cur) < 0)
                return -EIO;
        if (n > t)
                return -ERANGE;
        if (n == cur)
                return 0;
        if (sysroot_link_basenamef(fk->sr, &drv, "sys/bus/pci/devices/%s/driver", dev) < 0)
                return -ENOENT; /* "no driver bound to device; cannot configure SR-IOV" */
        if (n != 0 && cur != 0)
                return -EBUSY; /* "%d VFs already enabled. Disable before enabling %d VFs" */
        for (unsigned i = 0; n == 0 && i < cur; i++) {
                _cleanup_free_ char *vf = NULL, *vfdrv = NULL;
                if (sysroot_link_basenamef(fk->sr, &vf, "sys/bus/pci/devices/%s/virtfn%u", dev, i) < 0)
                        continue;
                /* Linux waits in vfio-pci's remove until the user lets go:
                 * here the write fails at once. */
                if (sysroot_link_basenamef(fk->sr, &vfdrv, "sys/bus/pci/devices/%s/driver", vf) >= 0 &&
                    streq(vfdrv, "vfio-pci"))
                        return -EBUSY;
                _cleanup_free_ char *mem = pathf("%s/devices/%s", fk->memdir, vf);
                if (mem)
                        (void) unlink(mem);
        }
        return fakehost_sriov_set_numvfs(fk->root, dev, n);
}

/* reset_method (Linux >= 5.15, reset_method_store): the device's methods,
 * remembered before the first write, or a subset of them; "default" for
 * all; empty for none. */
static int write_reset_method(FakeKernel *fk, const char *dev, const char *value) {
        _cleanup_free_ char *mem = pathf("%s/reset-%s", fk->memdir, dev), *all = NULL, *now = NULL, *v = strdup(value);
        if (!mem || !v)
                return -ENOMEM;
        if (read_file(mem, &all) < 0) {
                if (sysroot_read_linef(fk->sr, &now, "sys/bus/pci/devices/%s/reset_method", dev) < 0)
                        return -ENOENT;
                int r = write_file(mem, now);
                if (r < 0)
                        return r;
                all = TAKE_PTR(now);
        }
        _cleanup_free_ char *path = strf("sys/bus/pci/devices/%s/reset_method", dev), *nv = strdup(value);
        if (!path || !nv)
                return -ENOMEM;
        strstrip_trailing(v);
        strstrip_trailing(nv);
        if (streq(v, "default"))
                return sysroot_write_direct(fk->sr, path, all);
        for (char *save = NULL, *w = strtok_r(v, " ", &save); w; w = strtok_r(NULL, " ", &save))
                if (!word_list_contains(all, w))
                        return -EINVAL;
        _cleanup_free_ char *line = strf("%s\n", nv); /* sysfs shows it with a newline */
        return line ? sysroot_write_direct(fk->sr, path, line) : -ENOMEM;
}

static int read_u(Sysroot *sr, const char *path, unsigned long long *ret) {
        _cleanup_free_ char *v = NULL;
        int r = sysroot_read_line(sr, path, &v);
        if (r < 0)
                return r;
        return sscanf(v, "%llu", ret) == 1 ? 0 : -EINVAL;
}

static int write_u(Sysroot *sr, const char *path, unsigned long long v) {
        char buf[32];
        snprintf(buf, sizeof buf, "%llu\n", v);
        return sysroot_write_direct(sr, path, buf);
}

/* A pool's nr_hugepages and free_hugepages moved by delta pages. */
static int pool_move(FakeKernel *fk, const char *dir, long long delta) {
        _cleanup_free_ char *nrp = pathf("%s/nr_hugepages", dir), *freepath = pathf("%s/free_hugepages", dir);
        unsigned long long nr, fr;
        if (!nrp || !freepath)
                return -ENOMEM;
        int r = read_u(fk->sr, nrp, &nr);
        if (r >= 0)
                r = read_u(fk->sr, freepath, &fr);
        if (r < 0)
                return r;
        r = write_u(fk->sr, nrp, (unsigned long long) ((long long) nr + delta));
        return r < 0 ? r : write_u(fk->sr, freepath, (unsigned long long) ((long long) fr + delta));
}

static int hugepages_write(FakeKernel *fk, const char *path, const char *value) {
        _cleanup_free_ char *dir = strndup(path, strlen(path) - strlen("/nr_hugepages")), *freepath = NULL, *c = NULL;
        unsigned long long want, nr, fr;
        if (!dir)
                return -ENOMEM;
        if (sscanf(value, "%llu", &want) != 1)
                return -EINVAL;
        freepath = pathf("%s/free_hugepages", dir);
        int r = freepath ? read_u(fk->sr, path, &nr) : -ENOMEM;
        if (r >= 0)
                r = read_u(fk->sr, freepath, &fr);
        if (r < 0)
                return r;
        c = pathf("%s/compacted", fk->memdir);
        bool compacted = c && access(c, F_OK) == 0;
        unsigned long long max = fk->huge_max ? fk->huge_max - (compacted ? 0 : fk->huge_fragmented) : want;
        unsigned long long inuse = nr - fr, goal = want;
        if (goal > nr && goal > max)
                goal = max > nr ? max : nr;  /* the kernel gives what it can, silently */
        if (goal < inuse)
                goal = inuse;
        long long delta = (long long) goal - (long long) nr;
        r = pool_move(fk, dir, delta);
        if (r < 0)
                return r;
        /* A node's pool is part of the host's. */
        const char *size = strstr(dir, "/hugepages/hugepages-");
        if (startswith(path, "sys/devices/system/node/") && size) {
                _cleanup_free_ char *host = pathf("sys/kernel/mm%s", size);
                r = host ? pool_move(fk, host, delta) : -ENOMEM;
        }
        return r;
}

static int write_hook(Sysroot *sr, const char *path, const char *value, void *userdata) {
        FakeKernel *fk = userdata;
        unsigned n;
        char drv[128], action[16], dev[16], attr[32];
        int r = count_change(fk);
        if (r < 0)
                return r;

        if (sscanf(path, "sys/bus/pci/devices/%15[^/]/%31s", dev, attr) == 2) {
                if (streq(attr, "sriov_numvfs"))
                        return write_numvfs(fk, dev, value);
                if (streq(attr, "reset_method"))
                        return write_reset_method(fk, dev, value);
                if (streq(attr, "sriov_drivers_autoprobe")) {
                        if (!streq(value, "0") && !streq(value, "1"))
                                return -EINVAL;
                        return sysroot_write_direct(sr, path, value[0] == '1' ? "1\n" : "0\n");
                }
        }
        if (sscanf(path, "sys/class/vtconsole/vtcon%u/bind", &n) == 1) {
                if (!streq(value, "0") && !streq(value, "1"))
                        return -EINVAL;
                return fakehost_vtcon_set_bind(fk->root, n, value[0] - '0');
        }
        if (streq(path, "proc/sys/vm/compact_memory")) {
                _cleanup_free_ char *p = pathf("%s/compacted", fk->memdir);
                return p ? write_file(p, "1\n") : -ENOMEM;
        }
        if (strstr(path, "/hugepages/hugepages-") && strlen(path) > 13 && streq(path + strlen(path) - 13, "/nr_hugepages"))
                return hugepages_write(fk, path, value);
        if (sscanf(path, "sys/bus/platform/drivers/%127[^/]/%15s", drv, action) == 2) {
                if (streq(action, "unbind"))
                        return fakehost_fb_unbind(fk->root, value);
                if (streq(action, "bind"))
                        return fakehost_fb_bind(fk->root, value, drv);
        }
        return sysroot_write_direct(sr, path, value);
}

/* ---- units ---- */

static int unit_state(HostOps *ops, const char *unit, UnitState *ret) {
        FakeKernel *fk = (FakeKernel *) ops;
        _cleanup_free_ char *p = pathf("%s/run/fakekernel/units/%s", fk->root, unit), *s = NULL;
        if (!p)
                return -ENOMEM;
        int r = read_file(p, &s);
        if (r == -ENOENT) {
                *ret = UNIT_ABSENT;
                return 0;
        }
        if (r < 0)
                return r;
        unsigned long long at;
        if (sscanf(s, "active-at %llu", &at) == 1) /* activating until then */
                *ret = now_usec() >= at ? UNIT_ACTIVE : UNIT_INACTIVE;
        else
                *ret = startswith(s, "active\n") ? UNIT_ACTIVE : UNIT_INACTIVE;
        return 0;
}

/* Processes owned by a unit: memdir/units/UNIT holds "PID COMM FD..." lines. */
static int unit_processes(FakeKernel *fk, const char *unit, bool start) {
        _cleanup_free_ char *p = pathf("%s/units/%s", fk->memdir, unit), *s = NULL;
        if (!p)
                return -ENOMEM;
        if (read_file(p, &s) < 0)
                return 0;
        for (char *save = NULL, *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                _cleanup_strv_free_ char **w = NULL;
                for (char *s2 = NULL, *t = strtok_r(line, " ", &s2); t; t = strtok_r(NULL, " ", &s2))
                        if (strv_extend(&w, t) < 0)
                                return -ENOMEM;
                if (strv_length(w) < 2)
                        continue;
                pid_t pid = (pid_t) atoi(w[0]);
                int r = start ? fakehost_process_add(fk->root, pid, w[1], w + 2) : fakehost_process_remove(fk->root, pid);
                if (r < 0 && r != -ENOENT && r != -EEXIST)
                        return r;
                /* It comes back in the same cgroup. */
                _cleanup_free_ char *saved = pathf("%s/units/%s.%d.cgroup", fk->memdir, unit, (int) pid), *cg = NULL;
                if (start && saved && read_file(saved, &cg) >= 0) {
                        _cleanup_free_ char *dst = pathf("%s/proc/%d/cgroup", fk->root, (int) pid);
                        r = dst ? write_file(dst, cg) : -ENOMEM;
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int set_unit(FakeKernel *fk, const char *unit, bool active) {
        _cleanup_free_ char *p = pathf("%s/run/fakekernel/units/%s", fk->root, unit);
        if (!p)
                return -ENOMEM;
        int r = unit_processes(fk, unit, active);
        return r < 0 ? r : write_file(p, active ? "active\n" : "inactive\n");
}

static int unit_stop(HostOps *ops, const char *unit, usec_t timeout, char **ret_error) {
        int r = count_change((FakeKernel *) ops);
        return r < 0 ? r : set_unit((FakeKernel *) ops, unit, false);
}

static int unit_start(HostOps *ops, const char *unit, usec_t timeout, char **ret_error) {
        FakeKernel *fk = (FakeKernel *) ops;
        int r = count_change(fk);
        if (r < 0)
                return r;
        r = set_unit(fk, unit, true);
        if (r < 0)
                return r;
        _cleanup_free_ char *p = pathf("%s/run/fakekernel/units/%s", fk->root, unit), *state = NULL;
        if (!p)
                return -ENOMEM;
        if (streq_ptr(fk->dead_unit, unit)) {
                r = unit_processes(fk, unit, false);
                return r < 0 ? r : write_file(p, "failed\n");
        }
        if (fk->unit_delay > 0) {
                if (asprintf(&state, "active-at %llu\n", (unsigned long long) (now_usec() + fk->unit_delay)) < 0)
                        return -ENOMEM;
                return write_file(p, state);
        }
        return 0;
}

int fakekernel_unit_owns(FakeKernel *fk, const char *unit, pid_t pid) {
        _cleanup_free_ char *p = pathf("%s/units/%s", fk->memdir, unit), *comm = NULL;
        _cleanup_strv_free_ char **fds = NULL;
        if (!p)
                return -ENOMEM;
        int r = sysroot_read_linef(fk->sr, &comm, "proc/%d/comm", (int) pid);
        if (r < 0)
                return r;
        r = sysroot_list_dirf(fk->sr, &fds, "proc/%d/fd", (int) pid);
        if (r < 0)
                return r;
        FILE *f = fopen(p, "ae");
        if (!f)
                return -errno;
        _cleanup_free_ char *cg = NULL, *cgpath = pathf("%s/proc/%d/cgroup", fk->root, (int) pid),
                            *saved = pathf("%s/units/%s.%d.cgroup", fk->memdir, unit, (int) pid);
        if (cgpath && saved && read_file(cgpath, &cg) >= 0) {
                r = write_file(saved, cg);
                if (r < 0) {
                        fclose(f);
                        return r;
                }
        }
        fprintf(f, "%d %s", (int) pid, comm);
        /* fds are listed 0..n-1 by fakehost; keep their order. */
        for (size_t i = 0; i < strv_length(fds); i++) {
                _cleanup_free_ char *t = NULL;
                if (sysroot_readlinkf(fk->sr, &t, "proc/%d/fd/%zu", (int) pid, i) >= 0)
                        fprintf(f, " %s", t);
        }
        fputc('\n', f);
        return fclose(f) == 0 ? 0 : -errno;
}

/* ---- modules ---- */

/* The devices bound to a module's PCI drivers, with their DRM nodes:
 * "DRIVER ADDR NODE,NODE" lines. */
static int module_bindings(FakeKernel *fk, const char *module, char **ret) {
        _cleanup_strv_free_ char **drivers = NULL;
        _cleanup_free_ char *out = strdup("");
        if (!out)
                return -ENOMEM;
        if (sysroot_list_dirf(fk->sr, &drivers, "sys/module/%s/drivers", module) < 0) {
                *ret = TAKE_PTR(out);
                return 0;
        }
        for (char **d = drivers; *d; d++) {
                if (!startswith(*d, "pci:"))
                        continue;
                const char *drv = *d + 4;
                _cleanup_strv_free_ char **entries = NULL;
                if (sysroot_list_dirf(fk->sr, &entries, "sys/bus/pci/drivers/%s", drv) < 0)
                        continue;
                for (char **e = entries; *e; e++) {
                        PciAddr a;
                        if (pci_addr_parse(*e, &a) < 0)
                                continue;
                        _cleanup_strv_free_ char **nodes = NULL;
                        (void) pci_device_drm_nodes(fk->sr, &a, &nodes);
                        _cleanup_free_ char *joined = strdup("-");
                        for (char **nd = nodes; nd && *nd; nd++) {
                                char *j = pathf("%s%s%s", streq(joined, "-") ? "" : joined,
                                                streq(joined, "-") ? "" : ",", *nd);
                                free(joined);
                                joined = j;
                                if (!joined)
                                        return -ENOMEM;
                        }
                        char *n = pathf("%s%s %s %s\n", out, drv, *e, joined);
                        if (!n)
                                return -ENOMEM;
                        free(out);
                        out = n;
                }
        }
        *ret = TAKE_PTR(out);
        return 0;
}

static bool node_held(FakeKernel *fk, const char *path_prefix) {
        Holder *h = NULL;
        size_t n = 0;
        char *paths[] = { (char *) path_prefix, NULL }, *nvidia_nodes[] = { (char *) "/dev/nvidia", NULL };
        bool nvidia = streq(path_prefix, "nvidia");
        if (holders_find(fk->sr, nvidia ? NULL : paths, nvidia ? nvidia_nodes : NULL, &h, &n) < 0)
                return false;
        holders_free(h, n);
        return n > 0;
}

static bool bindings_busy(FakeKernel *fk, const char *bindings) {
        _cleanup_free_ char *copy = strdup(bindings);
        if (!copy)
                return true;
        for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char drv[64], addr[16], nodes[128];
                if (sscanf(line, "%63s %15s %127s", drv, addr, nodes) != 3 || streq(nodes, "-"))
                        continue;
                for (char *s2 = NULL, *nd = strtok_r(nodes, ",", &s2); nd; nd = strtok_r(NULL, ",", &s2)) {
                        char p[160];
                        snprintf(p, sizeof p, "/dev/dri/%s", nd);
                        if (node_held(fk, p))
                                return true;
                }
        }
        return false;
}

static int module_remove(HostOps *ops, const char *module, usec_t timeout, char **ret_error) {
        FakeKernel *fk = (FakeKernel *) ops;
        _cleanup_(module_info_done) ModuleInfo m = {};
        _cleanup_free_ char *bindings = NULL, *mem = NULL, *uses = strdup("");
        int r = count_change(fk);
        if (r < 0)
                return r;
        r = module_info_read(fk->sr, module, &m);
        if (r < 0)
                return r;
        if (m.state != MODULE_LOADED)
                return -ENOENT;
        if (m.holders && m.holders[0])
                return -EAGAIN;
        r = module_bindings(fk, module, &bindings);
        if (r < 0)
                return r;
        /* Busy while a process holds a node of its devices. */
        if (bindings_busy(fk, bindings))
                return -EAGAIN;
        if (startswith(module, "nvidia") && node_held(fk, "nvidia"))
                return -EAGAIN;

        /* Remember what a reload brings back: the modules it uses, its refcnt, its bindings. */
        _cleanup_strv_free_ char **all = NULL;
        r = sysroot_list_dirf(fk->sr, &all, "sys/module");
        if (r < 0)
                return r;
        for (char **o = all; *o; o++)
                if (sysroot_existsf(fk->sr, "sys/module/%s/holders/%s", *o, module) > 0) {
                        char *n = pathf("%s %s", uses, *o);
                        if (!n)
                                return -ENOMEM;
                        free(uses);
                        uses = n;
                }
        _cleanup_free_ char *p = pathf("%s/modules/%s", fk->memdir, module);
        mem = pathf("refcnt %d\nuses%s\n%s", m.refcnt, uses, bindings);
        if (!p || !mem)
                return -ENOMEM;
        r = write_file(p, mem);
        if (r < 0)
                return r;

        /* DRM nodes go with the driver. */
        for (char *save = NULL, *line = strtok_r(bindings, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char drv[64], addr[16], nodes[128];
                if (sscanf(line, "%63s %15s %127s", drv, addr, nodes) == 3 && !streq(nodes, "-"))
                        for (char *s2 = NULL, *nd = strtok_r(nodes, ",", &s2); nd; nd = strtok_r(NULL, ",", &s2))
                                (void) fakehost_drm_remove(fk->root, addr, nd);
        }
        r = fakehost_module_set_refcnt(fk->root, module, 0);
        return r < 0 ? r : fakehost_module_unload(fk->root, module);
}

static int rebind_device(FakeKernel *fk, const char *addr, const char *drv, const char *nodes) {
        int r = fakehost_pci_bind(fk->root, addr, drv);
        if (r < 0)
                return r;
        if (nodes && !streq(nodes, "-")) {
                _cleanup_free_ char *copy = strdup(nodes);
                if (!copy)
                        return -ENOMEM;
                for (char *s = NULL, *nd = strtok_r(copy, ",", &s); nd; nd = strtok_r(NULL, ",", &s)) {
                        r = fakehost_drm_add(fk->root, addr, nd);
                        if (r < 0 && r != -EEXIST)
                                return r;
                }
        }
        return 0;
}

static int module_load(HostOps *ops, const char *module, usec_t timeout, char **ret_error) {
        FakeKernel *fk = (FakeKernel *) ops;
        _cleanup_free_ char *p = pathf("%s/modules/%s", fk->memdir, module), *mem = NULL;
        _cleanup_strv_free_ char **uses = NULL;
        int refcnt = 0, r = count_change(fk);
        if (r < 0)
                return r;
        if (!p)
                return -ENOMEM;
        r = read_file(p, &mem);
        if (r < 0) {
                if (ret_error)
                        *ret_error = pathf("modprobe: FATAL: Module %s not found", module);
                return -ENOENT;
        }
        char *save = NULL;
        for (char *line = strtok_r(mem, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (sscanf(line, "refcnt %d", &refcnt) == 1)
                        continue;
                if (startswith(line, "uses")) {
                        for (char *s2 = NULL, *u = strtok_r(line + 4, " ", &s2); u; u = strtok_r(NULL, " ", &s2))
                                if (strv_extend(&uses, u) < 0)
                                        return -ENOMEM;
                        r = fakehost_module_load(fk->root, module, uses);
                        if (r < 0 && r != -EEXIST)
                                return r;
                        continue;
                }
                char drv[64], addr[16], nodes[128];
                if (sscanf(line, "%63s %15s %127s", drv, addr, nodes) != 3)
                        continue;
                r = fakehost_pci_driver_add(fk->root, drv, module);
                if (r < 0 && r != -EEXIST)
                        return r;
                _cleanup_free_ char *cur = NULL;
                if (fakehost_pci_driver(fk->root, addr, &cur) >= 0 && !cur) {
                        r = rebind_device(fk, addr, drv, nodes);
                        if (r < 0)
                                return r;
                }
        }
        /* Drivers without bound devices at unload time come back too. */
        return fakehost_module_set_refcnt(fk->root, module, refcnt);
}

/* ---- devices ---- */

static int hang(void *userdata, char **ret_error) {
        for (;;)
                pause();
        return 0;
}

static int device_detach(HostOps *ops, const PciAddr *a, usec_t timeout, char **ret_error) {
        FakeKernel *fk = (FakeKernel *) ops;
        char addr[PCI_ADDR_STRLEN];
        _cleanup_free_ char *drv = NULL;
        _cleanup_strv_free_ char **nodes = NULL;
        int r = count_change(fk);
        if (r < 0)
                return r;
        pci_addr_format(a, addr);
        if (streq_ptr(fk->hang_device, addr)) {
                _cleanup_free_ char *err = NULL;
                r = deadline_run(hang, NULL, timeout, &err);
                if (ret_error)
                        *ret_error = pathf("detaching %s: %s", addr, err ? err : "hung");
                return r < 0 ? r : -ETIME;
        }
        r = fakehost_pci_driver(fk->root, addr, &drv);
        if (r < 0)
                return r;
        if (drv) {
                /* Unbinding waits until every node of the device is closed
                 * (snd_card_free, drm_dev_unplug, nvidia): in Linux the write
                 * to unbind hangs; here it fails at once. */
                _cleanup_strv_free_ char **all = NULL;
                Holder *h = NULL;
                size_t nh = 0;
                if (pci_device_dev_nodes(fk->sr, a, &all) >= 0 && holders_find(fk->sr, all, NULL, &h, &nh) >= 0 &&
                    nh > 0) {
                        if (ret_error)
                                *ret_error = pathf("unbinding %s from %s waits for %s to be closed (pid %d)", addr, drv,
                                                   h[0].path, (int) h[0].pid);
                        holders_free(h, nh);
                        return -ETIME;
                }
                holders_free(h, nh);
                _cleanup_free_ char *p = pathf("%s/devices/%s", fk->memdir, addr);
                (void) pci_device_drm_nodes(fk->sr, a, &nodes);
                FILE *f = p ? fopen(p, "we") : NULL;
                if (!f)
                        return -errno;
                fprintf(f, "%s", drv);
                for (char **nd = nodes; nd && *nd; nd++)
                        fprintf(f, "%s%s", nd == nodes ? " " : ",", *nd);
                fputc('\n', f);
                fclose(f);
                for (char **nd = nodes; nd && *nd; nd++)
                        (void) fakehost_drm_remove(fk->root, addr, *nd);
                r = fakehost_pci_unbind(fk->root, addr);
                if (r < 0)
                        return r;
        }
        return fakehost_pci_bind(fk->root, addr, "vfio-pci");
}

static int device_reattach(HostOps *ops, const PciAddr *a, usec_t timeout, char **ret_error) {
        FakeKernel *fk = (FakeKernel *) ops;
        char addr[PCI_ADDR_STRLEN], drv[64] = "", nodes[128] = "-";
        _cleanup_free_ char *p = NULL, *mem = NULL;
        int r = count_change(fk);
        if (r < 0)
                return r;
        pci_addr_format(a, addr);
        r = fakehost_pci_unbind(fk->root, addr);
        if (r < 0)
                return r;
        p = pathf("%s/devices/%s", fk->memdir, addr);
        if (!p)
                return -ENOMEM;
        if (read_file(p, &mem) < 0 || sscanf(mem, "%63s %127s", drv, nodes) < 1)
                return 0; /* no driver to go back to */
        /* The kernel re-probes: only a loaded driver takes the device. */
        if (sysroot_existsf(fk->sr, "sys/bus/pci/drivers/%s", drv) <= 0)
                return 0;
        return rebind_device(fk, addr, drv, nodes);
}

/* ---- lifetime units: inhibitors and AllowedCPUs= ---- */

static int inhibitor_start(HostOps *ops, const char *unit, const char *what, const char *why, usec_t timeout,
                           char **ret_error) {
        FakeKernel *fk = (FakeKernel *) ops;
        int r = count_change(fk);
        if (r < 0)
                return r;
        _cleanup_free_ char *p = pathf("%s/run/fakekernel/inhibitors/%s", fk->root, unit),
                            *content = pathf("%s\n%s\n", what, why);
        if (!p || !content)
                return -ENOMEM;
        if (access(p, F_OK) == 0) {
                if (ret_error)
                        *ret_error = pathf("Failed to start transient service unit: Unit %s was already loaded", unit);
                return -EEXIST;
        }
        return write_file(p, content);
}

static int inhibitor_stop(HostOps *ops, const char *unit, usec_t timeout, char **ret_error) {
        FakeKernel *fk = (FakeKernel *) ops;
        int r = count_change(fk);
        if (r < 0)
                return r;
        _cleanup_free_ char *p = pathf("%s/run/fakekernel/inhibitors/%s", fk->root, unit);
        if (!p)
                return -ENOMEM;
        return unlink(p) < 0 && errno != ENOENT ? -errno : 0;
}

static int inhibitor_state(HostOps *ops, const char *unit, UnitState *ret) {
        FakeKernel *fk = (FakeKernel *) ops;
        _cleanup_free_ char *p = pathf("%s/run/fakekernel/inhibitors/%s", fk->root, unit);
        if (!p)
                return -ENOMEM;
        *ret = access(p, F_OK) == 0 ? UNIT_ACTIVE : UNIT_INACTIVE;
        return 0;
}

static int allowed_cpus_get(HostOps *ops, const char *unit, char **ret, char **ret_error) {
        FakeKernel *fk = (FakeKernel *) ops;
        _cleanup_free_ char *p = pathf("%s/run/fakekernel/allowedcpus/%s", fk->root, unit), *v = NULL;
        if (!p)
                return -ENOMEM;
        int r = read_file(p, &v);
        if (r == -ENOENT)
                v = strdup("");
        else if (r < 0)
                return r;
        if (!v)
                return -ENOMEM;
        *ret = TAKE_PTR(v);
        return 0;
}

static int allowed_cpus_set(HostOps *ops, const char *unit, const char *cpus, usec_t timeout, char **ret_error) {
        FakeKernel *fk = (FakeKernel *) ops;
        int r = count_change(fk);
        if (r < 0)
                return r;
        _cleanup_free_ char *p = pathf("%s/run/fakekernel/allowedcpus/%s", fk->root, unit);
        if (!p)
                return -ENOMEM;
        if (!*cpus)
                return unlink(p) < 0 && errno != ENOENT ? -errno : 0;
        return write_file(p, cpus);
}

/* ---- libvirt's domains, and modalias lookups ---- */

static int domain_running(HostOps *ops, const char *domain, usec_t timeout, char **ret_error) {
        FakeKernel *fk = (FakeKernel *) ops;
        if (fk->domain_query_fails) {
                if (ret_error)
                        *ret_error = pathf("asking libvirt whether it runs domain %s: Failed to connect socket", domain);
                return -ECONNREFUSED;
        }
        return strv_contains(fk->running_domains, domain) ? 1 : 0;
}

/* The modules that drove the device: remembered from an unload (memdir),
 * or bound now. What modules.alias would say for it. */
static int device_modules(HostOps *ops, const PciAddr *a, char ***ret) {
        FakeKernel *fk = (FakeKernel *) ops;
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        _cleanup_free_ char *dir = pathf("%s/modules", fk->memdir);
        _cleanup_pci_device_ PciDevice *dev = NULL;
        char addr[PCI_ADDR_STRLEN];
        int r;

        if (!l || !dir)
                return -ENOMEM;
        pci_addr_format(a, addr);
        _cleanup_closedir_ DIR *d = opendir(dir);
        for (struct dirent *de; d && (de = readdir(d));) {
                _cleanup_free_ char *p = NULL, *mem = NULL;
                if (de->d_name[0] == '.')
                        continue;
                p = pathf("%s/%s", dir, de->d_name);
                if (!p || read_file(p, &mem) < 0)
                        continue;
                for (char *save = NULL, *line = strtok_r(mem, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                        char drv[64], ad[16];
                        if (sscanf(line, "%63s %15s", drv, ad) == 2 && streq(ad, addr)) {
                                r = strv_extend_unique(&l, de->d_name);
                                if (r < 0)
                                        return r;
                        }
                }
        }
        if (pci_device_read(fk->sr, a, &dev) >= 0 && dev->driver_module) {
                r = strv_extend_unique(&l, dev->driver_module);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int process_kill(HostOps *ops, pid_t pid, int sig) {
        FakeKernel *fk = (FakeKernel *) ops;
        if (sig == SIGTERM && pid == fk->stubborn_pid)
                return 0;
        int r = fakehost_process_remove(fk->root, pid);
        return r == -ENOENT ? -ESRCH : r;
}

int fakekernel_new(const char *root, FakeKernel **ret) {
        FakeKernel *fk = calloc(1, sizeof *fk);
        _cleanup_strv_free_ char **units = NULL;
        int r;
        if (!fk)
                return -ENOMEM;
        fk->ops = (HostOps) {
                .unit_state = unit_state,
                .unit_stop = unit_stop,
                .unit_start = unit_start,
                .module_remove = module_remove,
                .module_load = module_load,
                .device_detach = device_detach,
                .device_reattach = device_reattach,
                .process_kill = process_kill,
                .domain_running = domain_running,
                .device_modules = device_modules,
                .inhibitor_start = inhibitor_start,
                .inhibitor_stop = inhibitor_stop,
                .inhibitor_state = inhibitor_state,
                .allowed_cpus_get = allowed_cpus_get,
                .allowed_cpus_set = allowed_cpus_set,
        };
        fk->root = strdup(root);
        fk->memdir = pathf("%s.kernel", root);
        if (!fk->root || !fk->memdir) {
                r = -ENOMEM;
                goto fail;
        }
        r = sysroot_open(root, &fk->sr);
        if (r < 0)
                goto fail;
        sysroot_set_write_hook(fk->sr, write_hook, fk);

        /* Memory survives a killed engine: create it only once per tree. */
        char *dirs[] = { fk->memdir, pathf("%s/modules", fk->memdir), pathf("%s/devices", fk->memdir),
                         pathf("%s/units", fk->memdir), pathf("%s/run", root), pathf("%s/run/fakekernel", root),
                         pathf("%s/run/fakekernel/units", root), pathf("%s/run/fakekernel/inhibitors", root),
                         pathf("%s/run/fakekernel/allowedcpus", root) };
        bool first = mkdir(fk->memdir, 0755) == 0;
        for (size_t i = 1; i < ELEMENTSOF(dirs); i++) {
                if (dirs[i])
                        (void) mkdir(dirs[i], 0755);
                free(dirs[i]);
        }
        if (first) {
                r = fakehost_pci_driver_add(root, "vfio-pci", NULL);
                if (r < 0 && r != -EEXIST)
                        goto fail;
                if (sysroot_list_dirf(fk->sr, &units, "etc/systemd/system") >= 0)
                        for (char **u = units; *u; u++)
                                if (unit_name_valid(*u)) {
                                        _cleanup_free_ char *p = pathf("%s/run/fakekernel/units/%s", root, *u);
                                        if (p)
                                                (void) write_file(p, "active\n");
                                }
        }
        *ret = fk;
        return 0;
fail:
        fakekernel_free(fk);
        return r;
}

FakeKernel *fakekernel_free(FakeKernel *fk) {
        if (!fk)
                return NULL;
        sysroot_free(fk->sr);
        free(fk->root);
        free(fk->memdir);
        free(fk->hang_device);
        free(fk->dead_unit);
        strv_free(fk->running_domains);
        free(fk);
        return NULL;
}
