/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <check.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fakehost.h"
#include "shared/log.h"
#include "testengine.h"
#include "testutil.h"
#include "shared/util.h"

void fixture_kernel_open(Fixture *fx) {
        ck_assert_int_eq(fakekernel_new(fx->root, &fx->fk), 0);
        fx->e.sr = fx->fk->sr;
        fx->e.ops = &fx->fk->ops;
}

void fixture_setup(Fixture *fx, const char *spec, Domain *d) {
        _cleanup_free_ char *top = test_scratch_dir(), *err = NULL;

        log_set_quiet(true);
        snprintf(fx->root, sizeof fx->root, "%s/host", top);
        snprintf(fx->state, sizeof fx->state, "%s/state", top);
        ck_assert_msg(fakehost_build_string(spec, fx->root) == 0, "%s", fakehost_error());
        fixture_kernel_open(fx);
        ck_assert_int_eq(mkdir(fx->state, 0700), 0);
        ck_assert_msg(engine_open_state_dir(fx->state, false, &fx->e.state_fd, &err) == 0, "%s", err);
        fx->d = d;
        fx->before = test_snapshot(fx->root);
}

void fixture_teardown(Fixture *fx) {
        char top[600];

        snprintf(top, sizeof top, "%.*s", (int) (strlen(fx->root) - strlen("/host")), fx->root);
        if (fx->e.state_fd >= 0)
                close(fx->e.state_fd);
        fakekernel_free(fx->fk);
        domain_free(fx->d);
        free(fx->before);
        (void) fakehost_rm_rf(top);
        *fx = (Fixture) {};
}

bool fixture_journal_exists(const Fixture *fx, const char *domain) {
        char p[700];

        snprintf(p, sizeof p, "%s/%s.journal", fx->state, domain);
        return access(p, F_OK) == 0;
}

char fixture_logged_errors[8192];

void fixture_log_errors(int priority, const char *msg, void *userdata) {
        size_t n = strlen(fixture_logged_errors);

        if (priority <= LOG_ERR && n + strlen(msg) + 2 < sizeof fixture_logged_errors) {
                strcat(fixture_logged_errors, msg);
                strcat(fixture_logged_errors, "\n");
        }
}
