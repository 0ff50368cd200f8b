/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <check.h>
#include <stdlib.h>

/* Check's per-test timeout (seconds) for every case: it catches a hang,
 * nothing else. Sized for a loaded machine: under `make -j16 check` on two
 * cores a test runs ten to twenty times slower than alone, and the slowest
 * (test-engine's test_release_says_what_is_missing) takes 30 s alone. The
 * tests' own time bounds are asserted inside them. */
#define TEST_TIMEOUT 300

/* A test case with that timeout (CK_TIMEOUT_MULTIPLIER still scales it). */
static inline TCase *test_tcase(const char *name) {
        TCase *tc = tcase_create(name);

        tcase_set_timeout(tc, TEST_TIMEOUT);
        return tc;
}

/* Every Check suite ends its main() here: runs all cases (forked) and
 * exits 1 when one failed. */
static inline int test_run_suite(Suite *s) {
        SRunner *sr = srunner_create(s);

        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
