/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <syslog.h>

#include "host/kmodlib.h"
#include "host/kmodops.h"
#include "host/modules.h"
#include "shared/deadline.h"
#include "shared/subprocess.h"
#include "shared/util.h"

#define RETRY_FIRST (1 * USEC_PER_MSEC)
#define RETRY_MAX (20 * USEC_PER_MSEC)

/* libkmod's functions, loaded by the first kmodops_new() of the process. */
static KmodLib kl;

struct KmodOps {
        struct kmod_ctx *ctx;
        char last_error[512];   /* libkmod's last error message, for ours */
};

/* libkmod logs errors on stderr by default; we keep the last one to put it
 * in our own message instead. */
static void kmod_log_capture(void *data, int priority, const char *file, int line, const char *fn,
                             const char *format, va_list args) _printf_(6, 0);
static void kmod_log_capture(void *data, int priority, const char *file, int line, const char *fn,
                             const char *format, va_list args) {
        KmodOps *k = data;

        if (priority > LOG_ERR)
                return;
        vsnprintf(k->last_error, sizeof k->last_error, format, args);
        strstrip_trailing(k->last_error);
}

int kmodops_new(KmodOps **ret, char **ret_error) {
        if (ret_error)
                *ret_error = NULL;

        if (!kl.dl) {
                int r = kmodlib_load(&kl, ret_error);
                if (r < 0)
                        return r;
        }
        KmodOps *k = calloc(1, sizeof *k);
        if (!k)
                return -ENOMEM;

        k->ctx = kl.kmod_new(NULL, NULL);
        if (!k->ctx) {
                free(k);
                return errorf(ret_error, -ENOMEM, "cannot initialize libkmod");
        }
        kl.kmod_set_log_fn(k->ctx, kmod_log_capture, k);
        /* A missing index is not fatal: libkmod falls back to reading files. */
        (void) kl.kmod_load_resources(k->ctx);
        k->last_error[0] = 0;

        *ret = k;
        return 0;
}

KmodOps *kmodops_free(KmodOps *k) {
        if (!k)
                return NULL;
        kl.kmod_unref(k->ctx);
        free(k);
        return NULL;
}

static const char *kernel_release(char buf[static sizeof(((struct utsname *) NULL)->release)]) {
        struct utsname u;

        if (uname(&u) < 0)
                return "the running kernel";
        memcpy(buf, u.release, sizeof u.release);
        return buf;
}

static void unref_modp(struct kmod_module **m) {
        if (*m)
                kl.kmod_module_unref(*m);
}

static void unref_listp(struct kmod_list **l) {
        if (*l)
                kl.kmod_module_unref_list(*l);
}

/* Built in: libkmod knows from modules.builtin(.modinfo). Without those
 * files (no /lib/modules for this kernel), a /sys/module/NAME directory
 * without an initstate file is a built-in module with parameters: loaded
 * modules always have initstate. */
static bool module_is_builtin(struct kmod_module *mod, int state) {
        char path[sizeof("/sys/module//initstate") + 64];
        struct stat st;

        if (state == KMOD_MODULE_BUILTIN)
                return true;
        if (state != KMOD_MODULE_COMING)
                return false;
        snprintf(path, sizeof path, "/sys/module/%s/initstate", kl.kmod_module_get_name(mod));
        return stat(path, &st) < 0 && errno == ENOENT;
}

/* "refcount 2, used by nvidia_modeset nvidia_uvm" */
static void describe_users(struct kmod_module *mod, char *buf, size_t size) {
        _cleanup_(unref_listp) struct kmod_list *holders = kl.kmod_module_get_holders(mod);
        struct kmod_list *i;
        size_t n;

        int refcnt = kl.kmod_module_get_refcnt(mod);
        if (refcnt >= 0)
                n = (size_t) snprintf(buf, size, "refcount %d", refcnt);
        else
                n = (size_t) snprintf(buf, size, "refcount unknown");
        const char *sep = ", used by ";
        kmodlib_list_foreach(&kl, i, holders) {
                struct kmod_module *h = kl.kmod_module_get_module(i);
                if (n < size)
                        n += (size_t) snprintf(buf + n, size - n, "%s%s", sep, kl.kmod_module_get_name(h));
                kl.kmod_module_unref(h);
                sep = " ";
        }
}

typedef struct KmodCall {
        KmodOps *k;
        const char *name;
        usec_t timeout;     /* for messages */
        usec_t deadline;    /* the child's own, a bit before the parent's */
} KmodCall;

static int remove_child(void *userdata, char **ret_payload, size_t *ret_size, char **ret_error) {
        KmodCall *c = userdata;
        _cleanup_(unref_modp) struct kmod_module *mod = NULL;
        char t[FORMAT_TIMEOUT_MAX], users[256];
        int r;

        r = kl.kmod_module_new_from_name(c->k->ctx, c->name, &mod);
        if (r < 0)
                return errorf(ret_error, r, "%s", strerror(-r));

        int state = kl.kmod_module_get_initstate(mod);
        if (module_is_builtin(mod, state))
                return errorf(ret_error, -EOPNOTSUPP, "built into the kernel");
        if (state < 0)
                return errorf(ret_error, -ENOENT, "not loaded");

        PollUntil retry = { .deadline = c->deadline, .wait = RETRY_FIRST, .cap = RETRY_MAX };
        for (;;) {
                c->k->last_error[0] = 0;
                r = kl.kmod_module_remove_module(mod, 0);
                if (r == 0)
                        return 0;
                if (r == -ENOENT)
                        return errorf(ret_error, r, "not loaded");
                if (r != -EAGAIN && r != -EBUSY)
                        return errorf(ret_error, r, "%s", strerror(-r));

                if (!poll_until(&retry)) {
                        describe_users(mod, users, sizeof users);
                        return errorf(ret_error, -ETIME, "still in use after %s (%s)",
                                      format_timeout(c->timeout, t, sizeof t), users);
                }
        }
}

/* Runs root's modprobe.d "install" command, as modprobe does, but under our
 * deadline and with our clean environment. */
static int run_install(struct kmod_module *m, const char *cmdline, void *data) {
        KmodCall *c = data;
        SpawnResult sr;
        char why[256], var[sizeof("MODPROBE_MODULE=") + 64];
        usec_t now = now_usec();
        int r;

        snprintf(var, sizeof var, "MODPROBE_MODULE=%s", kl.kmod_module_get_name(m));
        const char *argv[] = { "sh", "-c", cmdline, NULL };
        const char *env[] = { var, NULL };

        r = spawn_run_env("/bin/sh", argv, env, now < c->deadline ? c->deadline - now : 0, &sr);
        if (r == 0 && sr.exit_status != 0) {
                spawn_first_line(sr.err, why, sizeof why);
                if (!why[0])
                        spawn_describe_status(&sr, why, sizeof why);
                snprintf(c->k->last_error, sizeof c->k->last_error, "install command \"%s\": %s", cmdline, why);
                r = -EIO;
        } else if (r < 0)
                snprintf(c->k->last_error, sizeof c->k->last_error, "install command \"%s\": %s", cmdline,
                         r == -ETIME ? "did not finish in time" : strerror(-r));
        spawn_result_done(&sr);
        return r;
}

static int load_child(void *userdata, char **ret_payload, size_t *ret_size, char **ret_error) {
        KmodCall *c = userdata;
        _cleanup_(unref_listp) struct kmod_list *list = NULL;
        struct kmod_list *i;
        char rel[sizeof(((struct utsname *) NULL)->release)];
        int r;

        c->k->last_error[0] = 0;
        r = kl.kmod_module_new_from_lookup(c->k->ctx, c->name, &list);
        if (r < 0)
                return errorf(ret_error, r, "%s", c->k->last_error[0] ? c->k->last_error : strerror(-r));
        if (!list)
                return errorf(ret_error, -ENOENT, "no such module for kernel %s", kernel_release(rel));

        kmodlib_list_foreach(&kl, i, list) {
                _cleanup_(unref_modp) struct kmod_module *mod = kl.kmod_module_get_module(i);

                c->k->last_error[0] = 0;
                /* flags 0: no KMOD_PROBE_APPLY_BLACKLIST*, loaded is fine. */
                r = kl.kmod_module_probe_insert_module(mod, 0, NULL, run_install, c, NULL);
                if (r == -ENOENT && !c->k->last_error[0])
                        return errorf(ret_error, r, "%s: no module file for kernel %s",
                                      kl.kmod_module_get_name(mod), kernel_release(rel));
                if (r < 0)
                        return errorf(ret_error, r, "%s: %s", kl.kmod_module_get_name(mod),
                                      c->k->last_error[0] ? c->k->last_error : strerror(-r));
        }
        return 0;
}

static int run_call(KmodOps *k, const char *doing, const char *name, DeadlinePayloadFn fn, usec_t timeout,
                    char **ret_error) {
        _cleanup_free_ char *e = NULL;
        char t[FORMAT_TIMEOUT_MAX];
        DeadlineAnswer answer;
        int r;

        if (ret_error)
                *ret_error = NULL;
        if (!k || !module_name_valid(name))
                return errorf(ret_error, -EINVAL, "%s: invalid module name", doing);

        /* The child gives up a little before the parent would kill it, so
         * that a busy module is reported with its users. */
        usec_t margin = timeout / 5 < USEC_PER_SEC ? timeout / 5 : USEC_PER_SEC;
        KmodCall c = {
                .k = k,
                .name = name,
                .timeout = timeout,
                .deadline = now_usec() + timeout - margin,
        };

        r = deadline_run_payload(fn, &c, timeout, 0, &answer, &e);
        if (r >= 0)
                return 0;
        if (answer.timed_out)
                return errorf(ret_error, r, "%s %s: the kernel did not finish within %s", doing, name,
                              format_timeout(timeout, t, sizeof t));
        return errorf(ret_error, r, "%s %s: %s", doing, name, e ? e : strerror(-r));
}

int kmodops_remove(KmodOps *k, const char *name, usec_t timeout, char **ret_error) {
        return run_call(k, "removing module", name, remove_child, timeout, ret_error);
}

int kmodops_load(KmodOps *k, const char *name, usec_t timeout, char **ret_error) {
        return run_call(k, "loading module", name, load_child, timeout, ret_error);
}

int kmodops_alias_modules(KmodOps *k, const char *alias, char ***ret, char **ret_error) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        struct kmod_list *list = NULL, *i;
        int r;

        if (ret_error)
                *ret_error = NULL;
        if (!l)
                return -ENOMEM;
        for (const char *c = alias; *c; c++)
                if ((unsigned char) *c <= ' ' || (unsigned char) *c >= 0x7f)
                        return errorf(ret_error, -EINVAL, "invalid modalias");
        r = kl.kmod_module_new_from_lookup(k->ctx, alias, &list);
        if (r < 0)
                return errorf(ret_error, r, "looking up %s: %s", alias, strerror(-r));
        kmodlib_list_foreach(&kl, i, list) {
                struct kmod_module *m = kl.kmod_module_get_module(i);
                _cleanup_free_ char *name = strdup(kl.kmod_module_get_name(m));
                kl.kmod_module_unref(m);
                if (!name) {
                        r = -ENOMEM;
                        break;
                }
                module_name_normalize(name);
                r = strv_extend_unique(&l, name);
                if (r < 0)
                        break;
        }
        kl.kmod_module_unref_list(list);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}
