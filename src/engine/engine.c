/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "engine/engine-sriov.h"
#include "engine/engine.h"
#include "engine/lifetime-steps.h"
#include "host/console.h"
#include "host/facts.h"
#include "host/holders.h"
#include "host/modules.h"
#include "host/sriov.h"
#include "model/journal.h"
#include "model/lifetime-plan.h"
#include "model/plan.h"
#include "shared/json.h"
#include "shared/log.h"
#include "shared/subprocess.h"
#include "shared/util.h"

#define RELEASE_TIMEOUT_DEFAULT POLICY_TIMEOUT_DEFAULT

/* One run of prepare: the journal being written and what it holds. */
typedef struct Run {
        Engine *e;
        const Domain *d;
        usec_t timeout;
        JournalWriter w;
        Journal j;           /* the steps begun so far, as release would read them */
        unsigned n_changes;  /* step records written */
} Run;

int engine_open_state_dir(const char *given, bool create, int *ret_fd, char **ret_error) {
        /* With a trailing slash open() follows a final symlink despite
         * O_NOFOLLOW: take the name without it. */
        _cleanup_free_ char *path = strdup(given);
        if (!path)
                return -ENOMEM;
        for (size_t n = strlen(path); n > 1 && path[n - 1] == '/'; n--)
                path[n - 1] = 0;

        if (create && mkdir(path, 0700) < 0 && errno != EEXIST) {
                int r = -errno;
                if (asprintf(ret_error, "cannot create the state directory %s: %s", path, strerror(-r)) < 0)
                        *ret_error = NULL;
                return r;
        }
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
                int r = -errno;
                if (r == -ELOOP || r == -ENOTDIR) {
                        struct stat lst;
                        if (lstat(path, &lst) >= 0 && S_ISLNK(lst.st_mode)) {
                                r = -ELOOP;
                                if (asprintf(ret_error, "refusing the state directory %s: it is a symbolic link", path) < 0)
                                        *ret_error = NULL;
                                return r;
                        }
                }
                if (r != -ENOENT && asprintf(ret_error, "cannot open the state directory %s: %s", path, strerror(-r)) < 0)
                        *ret_error = NULL;
                return r;
        }
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        /* The journal decides what root undoes: nobody else may write it. */
        if (st.st_uid != geteuid() || (st.st_mode & 0022)) {
                if (asprintf(ret_error,
                             "refusing the state directory %s: it must be owned by uid %u and not writable by "
                             "group or others (owner %u, mode %04o)",
                             path, (unsigned) geteuid(), (unsigned) st.st_uid, (unsigned) (st.st_mode & 07777)) < 0)
                        *ret_error = NULL;
                return -EPERM;
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* The host-wide lock: flock on the state directory, polled until the
 * deadline (the kernel gives no event for a lock freed; nor for a
 * module's refcount or a driver probed, polled below the same way). */
static int lock_state(Engine *e, usec_t timeout) {
        PollUntil retry = POLL_UNTIL(now_usec() + timeout);
        for (;;) {
                if (flock(e->state_fd, LOCK_EX | LOCK_NB) >= 0)
                        return 0;
                if (errno != EWOULDBLOCK && errno != EINTR)
                        return -errno;
                if (!poll_until(&retry))
                        return -ETIME;
        }
}

static double ms_since(usec_t t0) {
        return (double) (now_usec() - t0) / 1000.0;
}

/* ------------------------------------------------------------------ undo */

static int vtcon_rebind(Engine *e, const char *id) {
        _cleanup_free_ char *bind = NULL, *name = NULL;
        int r = sysroot_read_linef(e->sr, &bind, "sys/class/vtconsole/%s/bind", id);
        if (r == -ENOENT)
                return 0; /* gone with its driver; fbcon takes the console back on load */
        if (r < 0)
                return r;
        if (streq(bind, "1"))
                return 0;
        r = sysroot_read_linef(e->sr, &name, "sys/class/vtconsole/%s/name", id);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        VtConsole c = { .name = name };
        if (!vtconsole_is_fbcon(&c))
                return 0; /* the number now belongs to another console */
        return sysroot_writef(e->sr, "1", "sys/class/vtconsole/%s/bind", id);
}

static int fb_rebind(Engine *e, const char *dev, const char *driver) {
        _cleanup_free_ char *bound = NULL;
        int r = sysroot_existsf(e->sr, "sys/bus/platform/devices/%s", dev);
        if (r <= 0)
                return r; /* removed by the DRM driver that took over: nothing to do */
        r = sysroot_link_basenamef(e->sr, &bound, "sys/bus/platform/devices/%s/driver", dev);
        if (r >= 0)
                return 0;
        if (r != -ENOENT)
                return r;
        if (!driver)
                return -EINVAL;
        return sysroot_writef(e->sr, dev, "sys/bus/platform/drivers/%s/bind", driver);
}

static int undo_step(Engine *e, const JournalStep *s, usec_t timeout, char **ret_error) {
        int r;

        switch (s->action) {
        case STEP_STOP_UNIT:
                /* Starting an active unit changes nothing: no need to ask first. */
                return e->ops->unit_start(e->ops, s->target, timeout, ret_error);
        case STEP_UNBIND_VTCONSOLE:
                return vtcon_rebind(e, s->target);
        case STEP_UNBIND_FRAMEBUFFER:
                return fb_rebind(e, s->target, s->orig);
        case STEP_UNLOAD_MODULE: {
                _cleanup_(module_info_done) ModuleInfo m = {};
                r = module_info_read(e->sr, s->target, &m);
                if (r < 0)
                        return r;
                if (m.state != MODULE_ABSENT)
                        return 0;
                return e->ops->module_load(e->ops, s->target, timeout, ret_error);
        }
        case STEP_DETACH_DEVICE: {
                _cleanup_pci_device_ PciDevice *dev = NULL;
                PciAddr a;
                r = pci_addr_parse(s->target, &a);
                if (r < 0)
                        return r;
                r = pci_device_read(e->sr, &a, &dev);
                if (r < 0)
                        return r;
                if (!streq_ptr(dev->driver, "vfio-pci"))
                        return 0; /* libvirt gave a managed device back already */
                return e->ops->device_reattach(e->ops, &a, timeout, ret_error);
        }
        case STEP_CREATE_VFS:
                return engine_undo_create_vfs(e, s, ret_error);
        case STEP_RESET_METHOD:
                return engine_undo_reset_method(e, s);
        default:
                if (step_is_lifetime(s->action))
                        return lifetime_undo(e->sr, e->ops, s, timeout, ret_error);
                return -EINVAL;
        }
}

static const char *undo_verb(StepAction a) {
        switch (a) {
        case STEP_STOP_UNIT:
                return "start";
        case STEP_UNBIND_VTCONSOLE:
        case STEP_UNBIND_FRAMEBUFFER:
                return "rebind";
        case STEP_UNLOAD_MODULE:
                return "reload";
        case STEP_DETACH_DEVICE:
                return "reattach";
        case STEP_CREATE_VFS:
                return "remove the VFs of";
        case STEP_RESET_METHOD:
                return "restore the reset_method of";
        default:
                return lifetime_undo_verb(a);
        }
}

/* Undo every step begun, in reverse, but those in skip (may be NULL). A
 * step begun but not marked done may have happened in part: each undo
 * looks at the current state first, so it is safe to run on anything.
 * Returns the number of failures. */
static unsigned undo_all(Engine *e, const Journal *j, const bool *skip, bool *failed_steps, usec_t timeout) {
        unsigned failed = 0;

        for (size_t i = j->n_steps; i > 0; i--) {
                const JournalStep *s = &j->steps[i - 1];
                _cleanup_free_ char *err = NULL;
                usec_t t0 = now_usec();
                if (skip && skip[i - 1])
                        continue;
                int r = undo_step(e, s, timeout, &err);
                if (r < 0) {
                        failed++;
                        if (failed_steps)
                                failed_steps[i - 1] = true;
                        log_error("%s %s failed: %s", undo_verb(s->action), s->target,
                                  err ? err : strerror(-r));
                } else
                        log_info("%s %s (%.1f ms)", undo_verb(s->action), s->target, ms_since(t0));
        }
        return failed;
}

/* ------------------------------------------------------------------ is the host back? */

static bool fbcon_bound(Engine *e) {
        VtConsole *l = NULL;
        size_t n = 0;
        bool bound = false;
        if (vtconsoles_read(e->sr, &l, &n) < 0)
                return false;
        for (size_t i = 0; i < n; i++)
                bound = bound || (vtconsole_is_fbcon(&l[i]) && l[i].bind == 1);
        vtconsoles_free(l, n);
        return bound;
}

static bool framebuffer_registered(Engine *e) {
        GraphicsFb *l = NULL;
        size_t n = 0;
        if (graphics_fbs_read(e->sr, &l, &n) < 0)
                return true; /* cannot tell: the console must be back */
        graphics_fbs_free(l, n);
        return n > 0;
}

/* Whether the change a step made is undone on the host now. */
static bool step_undone(Engine *e, const char *domain, const JournalStep *s) {
        switch (s->action) {
        case STEP_STOP_UNIT: {
                UnitState st;
                return e->ops->unit_state(e->ops, s->target, &st) >= 0 && st == UNIT_ACTIVE;
        }
        case STEP_UNBIND_VTCONSOLE:
                /* That console, or the one the reloaded DRM driver's frame buffer
                 * brought; or no frame buffer at all for fbcon to draw on (its card
                 * is another domain's now): fbcon takes the console back by itself
                 * when a frame buffer registers again. */
                return fbcon_bound(e) || !framebuffer_registered(e);
        case STEP_UNBIND_FRAMEBUFFER: {
                _cleanup_free_ char *driver = NULL;
                if (sysroot_existsf(e->sr, "sys/bus/platform/devices/%s", s->target) == 0)
                        return true; /* removed by the DRM driver that took the aperture over */
                return sysroot_link_basenamef(e->sr, &driver, "sys/bus/platform/devices/%s/driver", s->target) >= 0;
        }
        case STEP_UNLOAD_MODULE: {
                _cleanup_(module_info_done) ModuleInfo m = {};
                return module_info_read(e->sr, s->target, &m) >= 0 && m.state != MODULE_ABSENT;
        }
        case STEP_DETACH_DEVICE: {
                _cleanup_pci_device_ PciDevice *dev = NULL;
                PciAddr a;
                if (!s->orig)
                        return true; /* it had no driver to go back to */
                if (pci_addr_parse(s->target, &a) < 0)
                        return false;
                int r = pci_device_read(e->sr, &a, &dev);
                if (r == -ENOENT)
                        return true; /* gone: a VF, with the others of its PF (create-vfs) */
                return r >= 0 && streq_ptr(dev->driver, s->orig);
        }
        case STEP_CREATE_VFS:
                return engine_create_vfs_undone(e, s);
        case STEP_RESET_METHOD:
                return engine_reset_method_undone(e, s);
        default:
                return step_is_lifetime(s->action) && lifetime_undone(e->sr, e->ops, e->state_fd, domain, s);
        }
}

/* What is not back, in words (status says it too, from the release record). */
static const char *missing_phrase(const JournalStep *s, char *buf, size_t size) {
        switch (s->action) {
        case STEP_STOP_UNIT:
                snprintf(buf, size, "%s is not active", s->target);
                break;
        case STEP_UNBIND_VTCONSOLE:
                snprintf(buf, size, "no frame buffer console is bound (%s was)", s->target);
                break;
        case STEP_UNBIND_FRAMEBUFFER:
                snprintf(buf, size, "%s is not bound to %s", s->target, s->orig ? s->orig : "its driver");
                break;
        case STEP_UNLOAD_MODULE:
                snprintf(buf, size, "module %s is not loaded", s->target);
                break;
        case STEP_DETACH_DEVICE:
                snprintf(buf, size, "%s is not back on %s", s->target, s->orig ? s->orig : "its driver");
                break;
        case STEP_CREATE_VFS:
                snprintf(buf, size, "%s still has the VFs prepare made (sriov_numvfs is not 0)", s->target);
                break;
        case STEP_RESET_METHOD:
                snprintf(buf, size, "the reset_method of %s is not back to %s", s->target, s->orig ? s->orig : "?");
                break;
        default:
                if (step_is_lifetime(s->action))
                        lifetime_missing_phrase(s, buf, size);
                else
                        snprintf(buf, size, "%s %s is not undone", step_action_to_string(s->action), s->target);
        }
        return buf;
}

/* After the undo: is the host back? Every change of the journal looked at
 * again until none is missing or the deadline passes (drivers probe
 * asynchronously, fbcon comes with the DRM driver's frame buffer, a display
 * manager takes a while to start); no waiting for the steps whose undo
 * failed or was refused (hopeless), which waiting does not bring back;
 * the waived ones are not looked at. Fills missing[] and returns how many
 * are missing. */
static unsigned check_host_back(Engine *e, const Journal *j, const bool *hopeless, const bool *waived, bool *missing,
                                usec_t timeout) {
        PollUntil retry = POLL_UNTIL(now_usec() + timeout);

        for (;;) {
                unsigned n = 0, waiting = 0;
                for (size_t i = 0; i < j->n_steps; i++) {
                        missing[i] = !waived[i] && !step_undone(e, j->domain, &j->steps[i]);
                        n += missing[i];
                        waiting += missing[i] && !hopeless[i];
                }
                if (waiting == 0 || !poll_until(&retry))
                        return n;
        }
}

/* A display controller that another domain's journal holds, still on
 * vfio-pci: the console (and a framebuffer) may sit on it, and then cannot
 * come back before that domain releases it; fbcon takes the console back
 * when the card's frame buffer registers again. Fills ret_domain and
 * ret_addr, returns whether there is one. */
static bool display_held_elsewhere(Engine *e, const char *self, char **ret_domain, char ret_addr[static PCI_ADDR_STRLEN]) {
        _cleanup_strv_free_ char **domains = NULL;
        if (journal_list(e->state_fd, &domains) < 0)
                return false;
        for (char **o = domains; *o; o++) {
                _cleanup_(journal_done) Journal j = {};
                if (streq(*o, self) || journal_load(e->state_fd, *o, &j, NULL) < 0)
                        continue;
                for (size_t i = 0; i < j.n_devices; i++) {
                        _cleanup_pci_device_ PciDevice *dev = NULL;
                        if (pci_device_read(e->sr, &j.devices[i], &dev) < 0 || !pci_device_is_display(dev) ||
                            !streq_ptr(dev->driver, "vfio-pci"))
                                continue;
                        *ret_domain = strdup(*o);
                        if (!*ret_domain)
                                return false;
                        pci_addr_format(&j.devices[i], ret_addr);
                        return true;
                }
        }
        return false;
}

/* One line for the log, and the record status reads. */
static void report_host_back(Engine *e, const Journal *j, const bool *missing, unsigned n_missing, usec_t t0) {
        ReleaseRecord rec = { .domain = j->domain, .finished = time(NULL), .msec = (unsigned) ((now_usec() - t0) / 1000) };
        _cleanup_free_ JournalStep *m = calloc(n_missing + 1, sizeof *m);
        _cleanup_free_ char *line = NULL;
        size_t size = 0;
        char buf[256];

        FILE *f = open_memstream(&line, &size);
        for (size_t i = 0; m && f && i < j->n_steps; i++)
                if (missing[i]) {
                        m[rec.n_missing++] = j->steps[i];
                        fprintf(f, "%s%s", ftell(f) ? "; " : "", missing_phrase(&j->steps[i], buf, sizeof buf));
                }
        if (f)
                fclose(f);
        rec.missing = m;
        if (n_missing == 0)
                log_notice("host restored in %.1f s", (double) rec.msec / 1000.0);
        else
                log_error("host not restored: %s", line ? line : "see above");
        int r = m ? release_record_write(e->state_fd, &rec) : -ENOMEM;
        if (r < 0)
                log_warning("cannot write the release record for status: %s", strerror(-r));
}

/* ------------------------------------------------------------------ prepare */

static int record_step(Run *run, StepAction a, const char *target, const char *orig) {
        unsigned n = ++run->n_changes;
        int r = orig ? journal_append(&run->w, "step %u %s %s %s", n, step_action_to_string(a), target, orig)
                     : journal_append(&run->w, "step %u %s %s", n, step_action_to_string(a), target);
        if (r < 0)
                return r;
        return journal_steps_append(&run->j.steps, &run->j.n_steps, n, a, target, orig);
}

static int record_done(Run *run) {
        run->j.steps[run->j.n_steps - 1].done = true;
        int r = journal_append(&run->w, "done %u", run->n_changes);
        if (r < 0)
                return r;
        if (run->e->abort_after > 0 && run->n_changes == run->e->abort_after) {
                log_warning("test knob: stopping dead after step %u", run->n_changes);
                raise(SIGKILL);
        }
        return 0;
}

/* The plan has a stop-unit step only for a unit the facts, read a moment
 * ago, found active: asking systemd again would cost a systemctl run. */
static int step_stop_unit(Run *run, const char *unit, char **err) {
        int r = record_step(run, STEP_STOP_UNIT, unit, NULL);
        if (r < 0)
                return r;
        r = run->e->ops->unit_stop(run->e->ops, unit, run->timeout, err);
        return r < 0 ? r : record_done(run);
}

static int step_unbind_vtconsole(Run *run, const char *id, char **err) {
        _cleanup_free_ char *bind = NULL;
        int r = sysroot_read_linef(run->e->sr, &bind, "sys/class/vtconsole/%s/bind", id);
        if (r == -ENOENT || (r >= 0 && !streq(bind, "1")))
                return 0;
        if (r < 0)
                return r;
        r = record_step(run, STEP_UNBIND_VTCONSOLE, id, NULL);
        if (r < 0)
                return r;
        r = sysroot_writef(run->e->sr, "0", "sys/class/vtconsole/%s/bind", id);
        return r < 0 ? r : record_done(run);
}

static int step_unbind_framebuffer(Run *run, const char *dev, char **err) {
        _cleanup_free_ char *driver = NULL;
        int r = sysroot_link_basenamef(run->e->sr, &driver, "sys/bus/platform/devices/%s/driver", dev);
        if (r == -ENOENT)
                return 0; /* gone or unbound already */
        if (r < 0)
                return r;
        if (!filename_is_safe(driver, 64))
                return -EINVAL;
        r = record_step(run, STEP_UNBIND_FRAMEBUFFER, dev, driver);
        if (r < 0)
                return r;
        r = sysroot_writef(run->e->sr, dev, "sys/bus/platform/drivers/%s/unbind", driver);
        return r < 0 ? r : record_done(run);
}

static int step_unload_module(Run *run, const char *module, char **err) {
        _cleanup_(module_info_done) ModuleInfo m = {};
        int r = module_info_read(run->e->sr, module, &m);
        if (r < 0)
                return r;
        if (m.state == MODULE_BUILTIN) {
                log_info("module %s is built in: nothing to unload", module);
                return 0;
        }
        if (m.state != MODULE_LOADED)
                return 0;
        r = record_step(run, STEP_UNLOAD_MODULE, module, NULL);
        if (r < 0)
                return r;
        r = run->e->ops->module_remove(run->e->ops, module, run->timeout, err);
        return r < 0 && r != -ENOENT ? r : record_done(run);
}

/* driver_before: the device's driver when prepare began, which its
 * journal record keeps even when unloading the stack left it with none:
 * release checks that it is back on it. */
static int step_detach_device(Run *run, const char *addr, const char *driver_before, char **err) {
        _cleanup_pci_device_ PciDevice *dev = NULL;
        PciAddr a;
        int r = pci_addr_parse(addr, &a);
        if (r < 0)
                return r;
        r = pci_device_read(run->e->sr, &a, &dev);
        if (r < 0)
                return r;
        if (streq_ptr(dev->driver, "vfio-pci"))
                return 0;
        r = record_step(run, STEP_DETACH_DEVICE, addr, dev->driver ? dev->driver : driver_before);
        if (r < 0)
                return r;
        r = run->e->ops->device_detach(run->e->ops, &a, run->timeout, err);
        return r < 0 ? r : record_done(run);
}

/* create-vfs (first in prepare: the PF's driver makes the VFs). The VFs
 * the domain's hostdevs name are waited for under the deadline. A PF with
 * VFs already: the domain shares those another domain's prepare made
 * (recorded, so that the last one out removes them), else refused. */
static int step_create_vfs(Run *run, const HostFacts *f, const char *target, char **err) {
        _cleanup_(sriov_fact_done) SriovFact s = {};
        _cleanup_free_ PciAddr *want = NULL;
        const VfsRequest *v = NULL;
        size_t n_want = 0;
        char orig[32];
        PciAddr pf;
        int r = pci_addr_parse(target, &pf);
        if (r < 0)
                return r;
        for (size_t i = 0; i < run->d->policy->n_vfs && !v; i++)
                if (pci_addr_equal(&run->d->policy->vfs[i].pf, &pf))
                        v = &run->d->policy->vfs[i];
        if (!v)
                return -EINVAL;
        r = sriov_fact_read(run->e->sr, &pf, &s);
        if (r < 0)
                return r;
        if (!s.capable || !s.layout_known)
                return -EOPNOTSUPP;
        want = calloc(run->d->n_hostdevs + 1, sizeof *want);
        if (!want)
                return -ENOMEM;
        for (size_t i = 0; i < run->d->n_hostdevs; i++)
                if (sriov_vf_index(&pf, s.offset, s.stride, s.num ? s.num : v->count, &run->d->hostdevs[i].addr) >= 0)
                        want[n_want++] = run->d->hostdevs[i].addr;

        if (s.num != 0) {
                bool shared = false;
                for (size_t i = 0; i < f->n_vfs_made && !shared; i++)
                        shared = pci_addr_equal(&f->vfs_made[i].addr, &pf);
                if (!shared || n_want == 0) {
                        _cleanup_free_ char *users = sriov_vfs_describe(&s, NULL, NULL, 0);
                        *err = strf("%s has %u VFs now, not made by vfio-hook for another domain; the kernel changes a "
                                    "non-zero count only through 0, and they are used: %s",
                                    target, s.num, users ? users : "?");
                        return -EBUSY;
                }
                snprintf(orig, sizeof orig, "%u", s.num);
                r = record_step(run, STEP_CREATE_VFS, target, orig);
                return r < 0 ? r : record_done(run);
        }
        bool autoprobe_off = v->autoprobe_off && s.autoprobe == 1;
        snprintf(orig, sizeof orig, "%u%s", v->count, autoprobe_off ? CREATE_VFS_AUTOPROBE_SUFFIX : "");
        r = record_step(run, STEP_CREATE_VFS, target, orig);
        if (r < 0)
                return r;
        r = sriov_make_vfs(run->e->sr, &pf, v->count, autoprobe_off, want, n_want, run->timeout, err);
        return r < 0 ? r : record_done(run);
}

/* reset-method: before the detach, with the value it had. */
static int step_reset_method(Run *run, const char *target, char **err) {
        _cleanup_free_ char *now = NULL, *orig = NULL;
        const ResetRequest *x = NULL;
        PciAddr a;
        int r = pci_addr_parse(target, &a);
        if (r < 0)
                return r;
        for (size_t i = 0; i < run->d->policy->n_resets && !x; i++)
                if (pci_addr_equal(&run->d->policy->resets[i].device, &a))
                        x = &run->d->policy->resets[i];
        if (!x)
                return -EINVAL;
        r = reset_methods_read(run->e->sr, &a, &now);
        if (r < 0)
                return r;
        if (streq(now, x->method))
                return 0;
        orig = reset_methods_to_journal(now);
        if (!orig)
                return -ENOMEM;
        r = record_step(run, STEP_RESET_METHOD, target, orig);
        if (r < 0)
                return r;
        r = sysroot_writef(run->e->sr, x->method, "sys/bus/pci/devices/%s/reset_method", target);
        if (r < 0) {
                *err = strf("writing %s to %s's reset_method: %s (it offers: %s)", x->method, target, strerror(-r), now);
                return r;
        }
        return record_done(run);
}

static void sanitize_word(char *s) {
        for (; *s; s++)
                if (*s <= ' ' || *s >= 0x7f)
                        *s = '_';
}

static bool process_gone(Engine *e, pid_t pid) {
        return sysroot_existsf(e->sr, "proc/%d", (int) pid) == 0;
}

/* On the host, the kernel says when each process exits: one pidfd each,
 * one poll(). -ENOSYS when pidfds cannot be had (old kernel). */
static int wait_pidfds_gone(const Holder *h, size_t n, usec_t deadline) {
        _cleanup_free_ struct pollfd *p = calloc(n + 1, sizeof *p);
        size_t k = 0;
        int r = 0;
        if (!p)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                int fd = process_pidfd(h[i].pid);
                if (fd == -ESRCH)
                        continue; /* gone already */
                if (fd < 0) {
                        r = fd;
                        break;
                }
                p[k++] = (struct pollfd) { .fd = fd, .events = POLLIN };
        }
        while (r == 0) {
                bool all = true;
                for (size_t i = 0; i < k; i++)
                        all = all && p[i].fd < 0;
                if (all)
                        break;
                usec_t now = now_usec();
                if (now >= deadline) {
                        r = -ETIME;
                        break;
                }
                if (poll(p, k, (int) ((deadline - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC)) < 0 && errno != EINTR)
                        r = -errno;
                for (size_t i = 0; i < k; i++)
                        if (p[i].fd >= 0 && p[i].revents) {
                                close(p[i].fd);
                                p[i].fd = -1; /* poll() skips it from now on */
                        }
        }
        for (size_t i = 0; i < k; i++)
                if (p[i].fd >= 0)
                        close(p[i].fd);
        return r;
}

static bool wait_processes_gone(Engine *e, const Holder *h, size_t n, usec_t timeout) {
        PollUntil retry = POLL_UNTIL(now_usec() + timeout);
        if (sysroot_is_host(e->sr)) {
                int r = wait_pidfds_gone(h, n, retry.deadline);
                if (r != -ENOSYS && r != -EPERM)
                        return r == 0;
        }
        for (;;) {
                bool all = true;
                for (size_t i = 0; i < n; i++)
                        all = all && process_gone(e, h[i].pid);
                if (all)
                        return true;
                if (!poll_until(&retry))
                        return false;
        }
}

/* Step 3 (docs/design.md, "The order of prepare"): once the units are
 * stopped, whoever still holds a node the plan counts (the domain's
 * devices', and those of modules that go) is refused or terminated, as the
 * policy says. */
static int handle_holders(Run *run, const Plan *plan) {
        Engine *e = run->e;
        Holder *h = NULL;
        size_t n = 0;
        int r;

        r = holders_find(e->sr, plan->decisions.holder_paths, plan->decisions.holder_prefixes, &h, &n);
        if (r < 0)
                return r;
        if (n == 0)
                return 0;

        if (run->d->policy->holders == HOLDERS_REFUSE) {
                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ char *who = holder_describe(&h[i]);
                        log_error("%s is held by %s: close it, or set <holders>terminate</holders>", h[i].path,
                                  who ? who : h[i].command);
                }
                holders_free(h, n);
                return -EBUSY;
        }

        for (size_t i = 0; i < n; i++) {
                char comm[65];
                snprintf(comm, sizeof comm, "%s", h[i].command);
                sanitize_word(comm);
                r = journal_append(&run->w, "killed %d %s", (int) h[i].pid, comm);
                if (r >= 0)
                        r = e->ops->process_kill(e->ops, h[i].pid, SIGTERM);
                if (r < 0 && r != -ESRCH) {
                        holders_free(h, n);
                        return r;
                }
        }
        if (!wait_processes_gone(e, h, n, run->timeout)) {
                for (size_t i = 0; i < n; i++)
                        if (!process_gone(e, h[i].pid)) {
                                log_warning("pid %d (%s) ignored SIGTERM: killing it", (int) h[i].pid, h[i].command);
                                (void) e->ops->process_kill(e->ops, h[i].pid, SIGKILL);
                        }
                if (!wait_processes_gone(e, h, n, run->timeout)) {
                        for (size_t i = 0; i < n; i++)
                                if (!process_gone(e, h[i].pid))
                                        log_error("pid %d (%s) still holds %s after SIGKILL", (int) h[i].pid,
                                                  h[i].command, h[i].path);
                        holders_free(h, n);
                        return -EBUSY;
                }
        }
        for (size_t i = 0; i < n; i++)
                log_notice("terminated pid %d (%s), which held %s", (int) h[i].pid, h[i].command, h[i].path);
        holders_free(h, n);
        return 0;
}

/* Step 8: each device on vfio-pci, no member of its group keeping VFIO from it. */
static int verify_detached(Run *run) {
        Engine *e = run->e;
        int bad = 0;

        for (size_t i = 0; i < run->d->n_hostdevs; i++) {
                _cleanup_pci_device_ PciDevice *dev = NULL;
                char addr[PCI_ADDR_STRLEN];
                pci_addr_format(&run->d->hostdevs[i].addr, addr);
                if (pci_device_read(e->sr, &run->d->hostdevs[i].addr, &dev) < 0 || !streq_ptr(dev->driver, "vfio-pci")) {
                        log_error("%s is not on vfio-pci after detach (driver: %s)", addr,
                                  dev && dev->driver ? dev->driver : "none");
                        bad++;
                        continue;
                }
                if (dev->iommu_group < 0)
                        continue;
                _cleanup_free_ PciAddr *members = NULL;
                size_t n = 0;
                if (pci_iommu_group_members(e->sr, dev->iommu_group, &members, &n) < 0)
                        continue;
                for (size_t k = 0; k < n; k++) {
                        _cleanup_pci_device_ PciDevice *m = NULL;
                        if (pci_device_read(e->sr, &members[k], &m) < 0 || !pci_member_blocks_vfio(m))
                                continue;
                        log_error("IOMMU group %d is not viable: %s is on %s", dev->iommu_group, m->name, m->driver);
                        bad++;
                }
        }
        return bad ? -EBUSY : 0;
}

static int unit_state_adapter(const char *unit, UnitState *ret, void *userdata) {
        HostOps *ops = userdata;
        return ops->unit_state(ops, unit, ret);
}

/* The other domains' journals: every device they detached is recorded in
 * f with the driver it goes back to, which the plan counts as still served
 * by that driver's module. For prepare (log_conflicts), a device one of
 * them holds, or a journal of d itself, is a conflict: logged and counted. */
static int scan_other_journals(int state_fd, const Domain *d, HostFacts *f, bool log_conflicts) {
        _cleanup_strv_free_ char **domains = NULL;
        int r = journal_list(state_fd, &domains), conflicts = 0;
        if (r < 0)
                return r;
        for (char **o = domains; *o; o++) {
                _cleanup_(journal_done) Journal j = {};
                _cleanup_free_ char *err = NULL;
                if (streq(*o, d->name)) {
                        if (log_conflicts)
                                log_error("a journal of an earlier prepare of %s is still there: run 'vfio-hook restore "
                                          "%s' first",
                                          d->name, d->name);
                        conflicts++;
                        continue;
                }
                int r2 = journal_load(state_fd, *o, &j, &err);
                if (r2 == -ENOENT)
                        continue; /* released meanwhile */
                if (r2 < 0) {
                        /* It may hold these very devices: two domains must never own one. */
                        if (log_conflicts)
                                log_error("cannot read the journal of %s (%s): it may hold devices of this domain; run "
                                          "'vfio-hook status', restore or remove it first",
                                          *o, err ? err : strerror(-r2));
                        conflicts++;
                        continue;
                }
                for (size_t i = 0; log_conflicts && i < d->n_hostdevs; i++)
                        for (size_t k = 0; k < j.n_devices; k++)
                                if (pci_addr_equal(&d->hostdevs[i].addr, &j.devices[k])) {
                                        char a[PCI_ADDR_STRLEN];
                                        log_error("%s is held by domain %s: stop that domain first", pci_addr_format(&j.devices[k], a),
                                                  *o);
                                        conflicts++;
                                }
                for (size_t i = 0; i < j.n_steps; i++) {
                        PciAddr a;
                        if (j.steps[i].action == STEP_CREATE_VFS && pci_addr_parse(j.steps[i].target, &a) >= 0) {
                                r = host_facts_add_vfs_made(f, &a, *o);
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        if (j.steps[i].action != STEP_DETACH_DEVICE || !j.steps[i].orig ||
                            pci_addr_parse(j.steps[i].target, &a) < 0)
                                continue;
                        r = host_facts_add_held(f, &a, j.steps[i].orig, *o);
                        if (r < 0)
                                return r;
                }
        }
        return conflicts;
}

static const char *hostdev_driver(const HostFacts *f, const char *addr) {
        for (size_t i = 0; i < f->n_hostdevs; i++)
                if (f->hostdevs[i] && streq(f->hostdevs[i]->name, addr))
                        return f->hostdevs[i]->driver;
        return NULL;
}

int engine_add_held_devices(int state_fd, const Domain *d, HostFacts *f) {
        int r = scan_other_journals(state_fd, d, f, false);
        return r < 0 ? r : 0;
}

static int lifetime_record(void *userdata, StepAction a, const char *target, const char *orig) {
        return record_step(userdata, a, target, orig);
}

static int lifetime_done(void *userdata) {
        return record_done(userdata);
}

/* Inhibitor, isolation, huge pages: src/engine/lifetime-steps.c, journaled here. */
static int step_lifetime(Run *run, const Step *s, const HostFacts *f, char **err) {
        LifetimeRun lr = {
                .sr = run->e->sr,
                .ops = run->e->ops,
                .d = run->d,
                .facts = &f->lifetime,
                .state_fd = run->e->state_fd,
                .timeout = run->timeout,
                .record = lifetime_record,
                .done = lifetime_done,
                .userdata = run,
        };
        return lifetime_step(&lr, s->action, s->target, err);
}

static int run_steps(Run *run, const Plan *plan, const HostFacts *f) {
        bool holders_done = false;
        int r = 0;

        for (size_t i = 0; i < plan->n_steps; i++) {
                const Step *s = &plan->steps[i];
                _cleanup_free_ char *err = NULL;

                /* After the units (whose processes hold nodes), before the rest. */
                if (!holders_done && s->action != STEP_STOP_UNIT && s->action != STEP_CREATE_VFS &&
                    s->action != STEP_RESET_METHOD && !step_is_lifetime(s->action)) {
                        r = handle_holders(run, plan);
                        if (r < 0)
                                return r;
                        holders_done = true;
                }

                usec_t t0 = now_usec();
                switch (s->action) {
                case STEP_STOP_UNIT:
                        r = step_stop_unit(run, s->target, &err);
                        break;
                case STEP_UNBIND_VTCONSOLE:
                        r = step_unbind_vtconsole(run, s->target, &err);
                        break;
                case STEP_UNBIND_FRAMEBUFFER:
                        r = step_unbind_framebuffer(run, s->target, &err);
                        break;
                case STEP_UNLOAD_MODULE:
                        r = step_unload_module(run, s->target, &err);
                        break;
                case STEP_DETACH_DEVICE:
                        r = step_detach_device(run, s->target, hostdev_driver(f, s->target), &err);
                        break;
                case STEP_CREATE_VFS:
                        r = step_create_vfs(run, f, s->target, &err);
                        break;
                case STEP_RESET_METHOD:
                        r = step_reset_method(run, s->target, &err);
                        break;
                default:
                        r = step_is_lifetime(s->action) ? step_lifetime(run, s, f, &err) : -EINVAL;
                }
                if (r < 0) {
                        log_error("%s %s failed: %s", step_action_to_string(s->action), s->target,
                                  err ? err : strerror(-r));
                        return r;
                }
                log_info("%s %s (%.1f ms)", step_action_to_string(s->action), s->target, ms_since(t0));
        }
        if (!holders_done) {
                r = handle_holders(run, plan);
                if (r < 0)
                        return r;
        }
        return verify_detached(run);
}

int engine_prepare(Engine *e, const Domain *d) {
        _cleanup_(host_facts_done) HostFacts f = {};
        _cleanup_(plan_done) Plan plan = {};
        usec_t t0 = now_usec(), timeout = (usec_t) d->policy->timeout_sec * USEC_PER_SEC;
        int r;

        e->domain = d->name;
        r = lock_state(e, timeout);
        if (r < 0) {
                log_error("cannot take the host-wide lock: %s", r == -ETIME ? "another vfio-hook holds it" : strerror(-r));
                return EXIT_FAILED;
        }
        /* Conflicts first: they refuse before anything is asked of the host. */
        _cleanup_(host_facts_done) HostFacts others = {};
        r = scan_other_journals(e->state_fd, d, &others, true);
        if (r != 0) {
                if (r < 0)
                        log_error("reading the other domains' journals: %s", strerror(-r));
                return EXIT_FAILED;
        }
        /* libvirt loads and connects in its worker while the facts are read
         * and the units stop: the first detach finds it ready. */
        if (d->n_hostdevs > 0 && e->ops->devices_begin)
                e->ops->devices_begin(e->ops);
        r = host_facts_gather(e->sr, d, unit_state_adapter, e->ops, &f);
        if (r < 0) {
                log_error("reading the host's state: %s", strerror(-r));
                return EXIT_FAILED;
        }
        f.held = TAKE_PTR(others.held);
        f.n_held = others.n_held;
        others.n_held = 0;
        f.vfs_made = TAKE_PTR(others.vfs_made);
        f.n_vfs_made = others.n_vfs_made;
        others.n_vfs_made = 0;
        r = plan_build(d, &f, &plan);
        if (r < 0) {
                log_error("building the plan: %s", strerror(-r));
                return EXIT_FAILED;
        }
        if (plan.n_problems > 0) {
                /* A policy the host cannot follow (bad input): that alone is said. */
                bool bad = plan_bad_input(&plan);
                for (size_t i = 0; i < plan.n_problems; i++)
                        if (!bad || plan.problems[i].bad_input)
                                log_error("%s", plan.problems[i].message);
                return bad ? EXIT_BAD_INPUT : EXIT_FAILED;
        }

        Run run = { .e = e, .d = d, .timeout = timeout, .w = { .fd = -1 } };
        PciAddr *devs = calloc(d->n_hostdevs + 1, sizeof *devs);
        if (!devs)
                return EXIT_FAILED;
        for (size_t i = 0; i < d->n_hostdevs; i++)
                devs[i] = d->hostdevs[i].addr;
        r = journal_create(e->state_fd, d->name, devs, d->n_hostdevs, &run.w);
        free(devs);
        if (r < 0) {
                log_error("cannot write the journal: %s", strerror(-r));
                return EXIT_FAILED;
        }
        log_info("prepare: %zu step%s", plan.n_steps, plan.n_steps == 1 ? "" : "s");
        /* Why each thing moves or stays: the story `journalctl -t vfio-hook` tells. */
        for (size_t i = 0; i < plan.decisions.n; i++)
                log_info("%s", plan.decisions.list[i].reason);

        r = run_steps(&run, &plan, &f);
        if (r >= 0)
                r = journal_append(&run.w, "prepared");
        journal_writer_close(&run.w);

        int ret = EXIT_OK;
        if (r < 0) {
                log_error("prepare failed: undoing %zu step%s", run.j.n_steps, run.j.n_steps == 1 ? "" : "s");
                if (undo_all(e, &run.j, NULL, NULL, timeout) > 0) {
                        log_error("the host is not fully restored: the journal stays in place; fix the above and run "
                                  "'vfio-hook restore %s'", d->name);
                        ret = EXIT_INCOMPLETE;
                } else {
                        (void) journal_remove(e->state_fd, d->name);
                        ret = EXIT_FAILED;
                }
        } else
                log_info("prepare done in %.1f ms", ms_since(t0));
        journal_done(&run.j);
        return ret;
}

/* ------------------------------------------------------------------ release */

/* Whether a module of the journal may be loaded back: on the allowlist, or
 * claiming one of the journal's devices (what the kernel would load for it
 * anyway: prepare unloads a DRM driver's own module, bochs, which is on no
 * list). */
static bool module_may_come_back(Engine *e, const Journal *j, const char *module) {
        if (config_module_allowed(e->cfg, module))
                return true;
        for (size_t i = 0; i < j->n_devices; i++) {
                _cleanup_strv_free_ char **mods = NULL;
                if (e->ops->device_modules(e->ops, &j->devices[i], &mods) >= 0 && strv_contains(mods, module))
                        return true;
        }
        return false;
}

/* The journal is read as strictly as the XML, and every name in it is
 * checked again before use, as prepare checked the policy's: the units
 * and modules must be what root allows. Marks the others in skip and
 * returns how many there are. */
static unsigned refuse_names_not_allowed(Engine *e, const Journal *j, bool *skip) {
        const char *cfg_path = e->cfg && e->cfg->path ? e->cfg->path : CONFIG_PATH_DEFAULT;
        unsigned n = 0;

        for (size_t i = 0; i < j->n_steps; i++) {
                const JournalStep *s = &j->steps[i];
                if (s->action == STEP_STOP_UNIT && !config_service_allowed(e->cfg, s->target))
                        log_error("the journal names %s, which is not on the allowlist (%s, "
                                  "nvidia-persistenced.service and allow-service lines of %s): not started",
                                  s->target, DISPLAY_MANAGER_UNIT, cfg_path);
                else if (s->action == STEP_UNLOAD_MODULE && !module_may_come_back(e, j, s->target))
                        log_error("the journal names module %s, which is not on the allowlist and drives none of its "
                                  "devices: not loaded (add 'allow-module %s' to %s if it should come back)",
                                  s->target, s->target, cfg_path);
                else
                        continue;
                skip[i] = true;
                n++;
        }
        return n;
}

/* Asks libvirt whether the domain runs: a restore then would take the
 * driver, the console and the display manager back without the devices,
 * which QEMU holds. 0 when restore may go on. */
static int refuse_running_domain(Engine *e, const char *domain, usec_t timeout) {
        _cleanup_free_ char *err = NULL;
        int r = e->ops->domain_running(e->ops, domain, timeout, &err);
        if (r > 0)
                log_error("domain %s is running: QEMU holds its devices, so nothing is undone. Stop it (virsh shutdown "
                          "%s, or virsh destroy %s): its release gives everything back. To undo anyway: "
                          "vfio-hook restore --force %s",
                          domain, domain, domain, domain);
        else if (r < 0)
                log_error("cannot tell whether domain %s is running (%s): nothing is undone; if it is not running, "
                          "run vfio-hook restore --force %s",
                          domain, err ? err : strerror(-r), domain);
        return r == 0 ? 0 : -EBUSY;
}

static int replay(Engine *e, const char *domain, unsigned timeout_sec, bool restore, bool force) {
        _cleanup_(journal_done) Journal j = {};
        _cleanup_free_ char *err = NULL;
        _cleanup_free_ bool *skip = NULL, *missing = NULL;
        usec_t t0 = now_usec(), timeout = (usec_t) (timeout_sec ? timeout_sec : RELEASE_TIMEOUT_DEFAULT) * USEC_PER_SEC;
        int r;

        e->domain = domain;
        r = lock_state(e, timeout);
        if (r < 0) {
                log_error("cannot take the host-wide lock: %s", r == -ETIME ? "another vfio-hook holds it" : strerror(-r));
                return EXIT_INCOMPLETE;
        }
        r = journal_load(e->state_fd, domain, &j, &err);
        if (r == -ENOENT) {
                if (restore)
                        log_info("no journal for %s: nothing to undo", domain);
                else
                        log_debug("no journal for %s: nothing to undo", domain);
                return EXIT_OK;
        }
        if (r < 0) {
                log_error("cannot read the journal of %s: %s", domain, err ? err : strerror(-r));
                return EXIT_INCOMPLETE;
        }
        if (restore && !force && refuse_running_domain(e, domain, timeout) < 0)
                return EXIT_FAILED;
        if (j.truncated)
                log_warning("the journal's last record was cut short (a crash during prepare): it is ignored");
        for (size_t i = 0; i < j.n_steps && e->ops->devices_begin; i++)
                if (j.steps[i].action == STEP_DETACH_DEVICE) {
                        e->ops->devices_begin(e->ops);
                        break;
                }

        /* skip: refused names; then also the steps whose undo failed. */
        skip = calloc(j.n_steps + 1, sizeof *skip);
        missing = calloc(j.n_steps + 1, sizeof *missing);
        if (!skip || !missing)
                return EXIT_INCOMPLETE;
        unsigned failed = refuse_names_not_allowed(e, &j, skip);

        log_info("%s: undoing %zu step%s", restore ? "restore" : "release", j.n_steps, j.n_steps == 1 ? "" : "s");
        _cleanup_free_ bool *undo_failed = calloc(j.n_steps + 1, sizeof *undo_failed);
        if (!undo_failed)
                return EXIT_INCOMPLETE;
        failed += undo_all(e, &j, skip, undo_failed, timeout);
        /* Not worth waiting for: what was refused or failed, and the console
         * and framebuffer when a device did not come back (they come with
         * its driver). */
        bool device_failed = false;
        for (size_t i = 0; i < j.n_steps; i++)
                device_failed = device_failed || (undo_failed[i] && j.steps[i].action == STEP_DETACH_DEVICE);
        for (size_t i = 0; i < j.n_steps; i++)
                skip[i] = skip[i] || undo_failed[i] ||
                          (device_failed && (j.steps[i].action == STEP_UNBIND_VTCONSOLE ||
                                             j.steps[i].action == STEP_UNBIND_FRAMEBUFFER));
        /* The console and framebuffers while another domain holds a display
         * controller: theirs to bring back, not this release's to wait for. */
        _cleanup_free_ char *holder = NULL;
        _cleanup_free_ bool *waived = calloc(j.n_steps + 1, sizeof *waived);
        char held[PCI_ADDR_STRLEN];
        if (!waived)
                return EXIT_INCOMPLETE;
        if (display_held_elsewhere(e, domain, &holder, held))
                for (size_t i = 0; i < j.n_steps; i++) {
                        if (j.steps[i].action != STEP_UNBIND_VTCONSOLE && j.steps[i].action != STEP_UNBIND_FRAMEBUFFER)
                                continue;
                        if (step_undone(e, domain, &j.steps[i]))
                                continue;
                        log_notice("%s is not back yet: domain %s holds %s, on which it may sit; it comes back with "
                                   "that card",
                                   j.steps[i].target, holder, held);
                        waived[i] = true;
                }
        usec_t t_check = now_usec();
        unsigned n_missing = check_host_back(e, &j, skip, waived, missing, timeout);
        /* The kernel's and systemd's pace (drivers probe, fbcon binds), in the
         * step records' form: `make bench` tells it from the hook's own time. */
        log_info("check host-back (%.1f ms)", ms_since(t_check));
        report_host_back(e, &j, missing, n_missing, t0);
        if (failed > 0 || n_missing > 0) {
                log_error("restore incomplete: the journal stays in place, run 'vfio-hook restore %s' again once fixed",
                          domain);
                return EXIT_INCOMPLETE;
        }
        r = journal_remove(e->state_fd, domain);
        if (r < 0) {
                log_error("cannot remove the journal of %s: %s", domain, strerror(-r));
                return EXIT_INCOMPLETE;
        }
        log_info("%s done in %.1f ms", restore ? "restore" : "release", ms_since(t0));
        return EXIT_OK;
}

int engine_release(Engine *e, const char *domain, unsigned timeout_sec) {
        return replay(e, domain, timeout_sec, false, false);
}

int engine_restore(Engine *e, const char *domain, bool force) {
        return replay(e, domain, 0, true, force);
}

/* ------------------------------------------------------------------ status */

static void format_time(time_t t, char buf[static 64]) {
        struct tm tm;
        if (!localtime_r(&t, &tm) || strftime(buf, 64, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                snprintf(buf, 64, "?");
}

/* A file of the state directory that cannot be read, with why. */
static void status_unreadable(const char *domain, const char *what, const char *why, bool json, FILE *out) {
        if (!json) {
                fprintf(out, "%s: %s unreadable: %s\n", domain, what, why);
                return;
        }
        json_write_string(out, domain);
        fputs(", \"error\": ", out);
        json_write_string(out, why);
        fputc('}', out);
}

/* The journal of one domain: what it holds now. */
static bool status_journal(Engine *e, const char *domain, bool json, bool first, FILE *out) {
        _cleanup_(journal_done) Journal j = {};
        _cleanup_free_ char *err = NULL;
        char since[64];
        int r = journal_load(e->state_fd, domain, &j, &err);

        if (r == -ENOENT)
                return false; /* gone meanwhile */
        if (json)
                fputs(first ? "{\"domain\": " : ", {\"domain\": ", out);
        if (r < 0) {
                status_unreadable(domain, "journal", err ? err : strerror(-r), json, out);
                return true;
        }
        format_time(j.started, since);
        if (json) {
                json_write_string(out, j.domain);
                fprintf(out, ", \"since\": %lld, \"pid\": %d, \"prepared\": %s, \"devices\": [",
                        (long long) j.started, (int) j.pid, j.prepared ? "true" : "false");
                for (size_t i = 0; i < j.n_devices; i++) {
                        char a[PCI_ADDR_STRLEN];
                        fputs(i ? ", " : "", out);
                        json_write_string(out, pci_addr_format(&j.devices[i], a));
                }
                fputs("], \"changes\": [", out);
                for (size_t i = 0; i < j.n_steps; i++) {
                        fputs(i ? ", {\"action\": " : "{\"action\": ", out);
                        json_write_string(out, step_action_to_string(j.steps[i].action));
                        fputs(", \"target\": ", out);
                        json_write_string(out, j.steps[i].target);
                        if (step_is_lifetime(j.steps[i].action)) {
                                char held[160];
                                lifetime_describe(&j.steps[i], held, sizeof held);
                                fputs(", \"holds\": ", out);
                                json_write_string(out, held);
                        }
                        fprintf(out, ", \"done\": %s}", j.steps[i].done ? "true" : "false");
                }
                fputs("]}", out);
                return true;
        }
        fprintf(out, "%s: since %s (pid %d), %s\n", j.domain, since, (int) j.pid,
                j.prepared ? "handed over" : "prepare did not finish: run 'vfio-hook restore' to undo");
        for (size_t i = 0; i < j.n_devices; i++) {
                char a[PCI_ADDR_STRLEN];
                fprintf(out, "  device %s\n", pci_addr_format(&j.devices[i], a));
        }
        for (size_t i = 0; i < j.n_steps; i++) {
                char held[160] = "";
                if (step_is_lifetime(j.steps[i].action))
                        lifetime_describe(&j.steps[i], held, sizeof held);
                fprintf(out, "  %-19s %s%s%s%s\n", step_action_to_string(j.steps[i].action), j.steps[i].target,
                        held[0] ? ": " : "", held, j.steps[i].done ? "" : " (begun, not finished)");
        }
        for (char **k = j.killed; k && *k; k++)
                fprintf(out, "  terminated pid %s\n", *k);
        return true;
}

/* How the last release of one domain ended: one line. */
static bool status_release(Engine *e, const char *domain, bool json, bool first, FILE *out) {
        _cleanup_(release_record_done) ReleaseRecord rec = {};
        _cleanup_free_ char *err = NULL;
        char when[64], buf[256];
        int r = release_record_load(e->state_fd, domain, &rec, &err);

        if (r == -ENOENT)
                return false; /* gone meanwhile */
        if (json)
                fputs(first ? "{\"domain\": " : ", {\"domain\": ", out);
        if (r < 0) {
                status_unreadable(domain, "release record", err ? err : strerror(-r), json, out);
                return true;
        }
        format_time(rec.finished, when);
        if (json) {
                json_write_string(out, rec.domain);
                fprintf(out, ", \"finished\": %lld, \"seconds\": %.1f, \"restored\": %s, \"missing\": [",
                        (long long) rec.finished, (double) rec.msec / 1000.0, rec.n_missing ? "false" : "true");
                for (size_t i = 0; i < rec.n_missing; i++) {
                        fputs(i ? ", " : "", out);
                        json_write_string(out, missing_phrase(&rec.missing[i], buf, sizeof buf));
                }
                fputs("]}", out);
                return true;
        }
        if (rec.n_missing == 0) {
                fprintf(out, "%s: host restored in %.1f s (released %s)\n", rec.domain, (double) rec.msec / 1000.0, when);
                return true;
        }
        fprintf(out, "%s: host not restored (released %s): ", rec.domain, when);
        for (size_t i = 0; i < rec.n_missing; i++)
                fprintf(out, "%s%s", i ? "; " : "", missing_phrase(&rec.missing[i], buf, sizeof buf));
        fputc('\n', out);
        return true;
}

int engine_status(Engine *e, bool json, FILE *out) {
        _cleanup_strv_free_ char **domains = NULL, **released = NULL;
        int r = journal_list(e->state_fd, &domains);
        if (r >= 0)
                r = release_record_list(e->state_fd, &released);
        if (r < 0) {
                log_error("cannot list the journals: %s", strerror(-r));
                return EXIT_FAILED;
        }
        if (json)
                fputs("{\"domains\": [", out);
        else if (!domains[0])
                fputs("No domain holds devices.\n", out);
        size_t n = 0;
        for (char **dom = domains; *dom; dom++)
                n += status_journal(e, *dom, json, n == 0, out);
        if (json)
                fputs("], \"releases\": [", out);
        n = 0;
        for (char **dom = released; *dom; dom++)
                n += status_release(e, *dom, json, n == 0, out);
        if (json)
                fputs("]}\n", out);
        return EXIT_OK;
}
