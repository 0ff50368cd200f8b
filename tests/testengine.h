/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "model/domxml.h"
#include "engine/engine.h"
#include "fakekernel.h"

/* The engine over a fake kernel (tests/fakekernel.c), as the engine and
 * lifetime-engine suites set it up: a fake host tree and a state directory
 * in a fresh scratch directory under the build tree, and a domain. */
typedef struct Fixture {
        char root[512], state[512];
        FakeKernel *fk;
        Engine e;
        Domain *d;
        char *before; /* the tree's snapshot once set up */
} Fixture;

/* A host from spec (spec-file lines, e.g. "include FILE" and more; see
 * tests/fakehost.h), the fake kernel over it, an empty state directory,
 * d as the domain (taken; may be NULL and set later), and the snapshot. */
void fixture_setup(Fixture *fx, const char *spec, Domain *d);
void fixture_teardown(Fixture *fx);

/* The fake kernel over fx->root as the engine's sysroot and host
 * operations: at setup, and again in a test that plays a new process. */
void fixture_kernel_open(Fixture *fx);

bool fixture_journal_exists(const Fixture *fx, const char *domain);

/* The error lines the engine logged (a log sink: log_set_sink(
 * fixture_log_errors, NULL)), for the messages a user sees; empty it with
 * fixture_logged_errors[0] = 0. */
extern char fixture_logged_errors[8192];
void fixture_log_errors(int priority, const char *msg, void *userdata);
