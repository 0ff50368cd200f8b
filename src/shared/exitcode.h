/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The program's exit codes, one home for the engine, `check`, `dump`,
 * `enable` and main() (docs/design.md, "Exit codes"). */
enum {
        EXIT_OK = 0,
        EXIT_FAILED = 1,      /* the operation failed, the host is restored */
        EXIT_BAD_INPUT = 2,   /* bad usage or input, nothing changed */
        EXIT_INCOMPLETE = 3,  /* restore incomplete: the host needs attention */
};
