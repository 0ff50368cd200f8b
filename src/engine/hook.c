/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "engine/hook.h"
#include "engine/lifetime-steps.h"
#include "host/lifetime.h"
#include "model/lifetime-plan.h"
#include "shared/log.h"
#include "shared/util.h"

int hook_load_domain(const char *xml, size_t len, const char *config_path, bool config_required, Domain **ret) {
        _cleanup_domain_ Domain *d = NULL;
        _cleanup_(config_done) Config cfg = {};
        _cleanup_free_ char *err = NULL;
        int r;

        r = domxml_parse(xml, len, &d, &err);
        if (r < 0) {
                log_error("%s", err ? err : strerror(-r));
                return r;
        }
        if (d->policy) {
                r = config_load(config_path, !config_required, &cfg, &err);
                if (r >= 0)
                        r = policy_check_allowed(d->policy, &cfg, config_path, &err);
                if (r >= 0)
                        r = lifetime_check_allowed(&d->policy->lifetime, &cfg.lifetime, config_path, &err);
                if (r < 0) {
                        log_error("%s", err ? err : strerror(-r));
                        return r;
                }
                if (!domain_name_valid(d->name)) {
                        char q[VALUE_QUOTE_BUFSZ];
                        log_error("domain name '%s' has characters vfio-hook does not accept "
                                  "(letters, digits and _.@:+- only)",
                                  value_quote(d->name, q));
                        return -EINVAL;
                }
        }
        *ret = TAKE_PTR(d);
        return 0;
}

int hook_prepare(Engine *e, const char *state_dir, const char *name, const char *xml, size_t len,
                 const char *config_path, bool config_required) {
        _cleanup_domain_ Domain *d = NULL;
        _cleanup_free_ char *err = NULL;

        if (hook_load_domain(xml, len, config_path, config_required, &d) < 0)
                return EXIT_BAD_INPUT;
        if (!d->policy)
                return EXIT_OK;
        if (!streq(d->name, name)) {
                char q1[VALUE_QUOTE_BUFSZ], q2[VALUE_QUOTE_BUFSZ];
                log_error("the domain XML is for '%s', the hook was called for '%s'", value_quote(d->name, q1),
                          value_quote(name, q2));
                return EXIT_BAD_INPUT;
        }
        log_set_prefix(d->name);
        /* <isolate> names CPUs of this host: checked before anything changes. */
        _cleanup_(lifetime_facts_done) LifetimeFacts lf = {};
        int k = lifetime_facts_gather(e->sr, d, &lf);
        if (k >= 0)
                k = lifetime_check_host(d, &lf, &err);
        if (k < 0) {
                log_error("%s", err ? err : strerror(-k));
                return EXIT_BAD_INPUT;
        }

        bool opened = false;
        if (e->state_fd < 0) {
                int r = engine_open_state_dir(state_dir, true, &e->state_fd, &err);
                if (r < 0) {
                        log_error("%s", err ? err : strerror(-r));
                        return EXIT_FAILED;
                }
                opened = true;
        }
        int ret = engine_prepare(e, d);
        if (opened) {
                close(e->state_fd);
                e->state_fd = -1;
        }
        return ret;
}
