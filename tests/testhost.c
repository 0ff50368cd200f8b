/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <check.h>

#include "fakehost.h"
#include "shared/macro.h"
#include "testhost.h"
#include "testutil.h"

void host_new(Host *h) {
        h->tmp = test_scratch_dir();
        ck_assert_int_ge(asprintf(&h->root, "%s/host", h->tmp), 0);
        h->sr = NULL;
}

void host_open_sysroot(Host *h) {
        sysroot_free(h->sr);
        h->sr = NULL;
        ck_assert_int_eq(sysroot_open(h->root, &h->sr), 0);
}

void host_build(Host *h, const char *fixture, const char *extra) {
        _cleanup_free_ char *spec = NULL, *include = NULL;

        host_new(h);
        if (fixture)
                ck_assert_int_ge(asprintf(&include, "include %s/tests/data/%s.host\n", TEST_SRCDIR, fixture), 0);
        ck_assert_int_ge(asprintf(&spec, "%s%s\n", include ? include : "", extra ? extra : ""), 0);
        int r = fakehost_build_string(spec, h->root);
        ck_assert_msg(r == 0, "building %s: %d %s", fixture ? fixture : "(none)", r, fakehost_error());
        host_open_sysroot(h);
}

void host_done(Host *h) {
        sysroot_free(h->sr);
        if (h->tmp)
                ck_assert_int_eq(fakehost_rm_rf(h->tmp), 0);
        free(h->tmp);
        free(h->root);
        *h = (Host) {};
}
