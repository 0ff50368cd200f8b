/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "check/report.h"
#include "shared/util.h"

static const char *const status_names[_CHECK_STATUS_MAX] = {
        [CHECK_PASS] = "pass",
        [CHECK_WARN] = "warn",
        [CHECK_FAIL] = "fail",
};

const char *check_status_to_string(CheckStatus s) {
        return s < _CHECK_STATUS_MAX ? status_names[s] : NULL;
}

static void groups_free(IommuGroup *l, size_t n) {
        for (size_t i = 0; l && i < n; i++) {
                for (size_t j = 0; j < l[i].n_devices; j++) {
                        free(l[i].devices[j].name);
                        free(l[i].devices[j].driver);
                }
                free(l[i].devices);
        }
        free(l);
}

void check_report_done(CheckReport *r) {
        if (!r)
                return;
        free(r->domain);
        for (size_t i = 0; i < r->n_results; i++) {
                free(r->results[i].id);
                free(r->results[i].message);
                free(r->results[i].hint);
        }
        free(r->results);
        groups_free(r->groups, r->n_groups);
        *r = (CheckReport) {};
}

const CheckResult *check_report_find(const CheckReport *r, const char *id) {
        for (size_t i = 0; i < r->n_results; i++)
                if (streq(r->results[i].id, id))
                        return &r->results[i];
        return NULL;
}

size_t check_report_count(const CheckReport *r, CheckStatus s) {
        size_t n = 0;
        for (size_t i = 0; i < r->n_results; i++)
                n += r->results[i].status == s;
        return n;
}

int check_report_add(CheckReport *r, CheckStatus status, const char *id, char *message, char *hint) {
        _cleanup_free_ char *m = message, *h = hint, *i = strdup(id);

        if (!m || !i || (status != CHECK_PASS && !h))
                return -ENOMEM;
        if (status == CHECK_PASS) {
                free(h);
                h = NULL;
        }
        CheckResult *n = realloc(r->results, (r->n_results + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        r->results = n;
        r->results[r->n_results++] = (CheckResult) {
                .id = TAKE_PTR(i),
                .status = status,
                .message = TAKE_PTR(m),
                .hint = TAKE_PTR(h),
        };
        return 0;
}
