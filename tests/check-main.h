/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <check.h>
#include <stdlib.h>

/* Every Check suite ends its main() here: runs all cases (forked, with
 * CK_DEFAULT_TIMEOUT from tests/tests.am) and exits 1 when one failed. */
static inline int test_run_suite(Suite *s) {
        SRunner *sr = srunner_create(s);

        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
