/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* The command line, shared by the hook front (which links nothing but
 * libc) and the engine, so that both read it the same way.
 *
 * libvirt runs the hook as  HOOK NAME OP SUBOP EXTRA  (src/util/virhook.c:
 * EXTRA is "-" when it has nothing to say), HOOK being .../hooks/qemu or
 * .../hooks/qemu.d/ANY. NAME is any domain name libvirt accepts: "status",
 * "--json" and "-x" included. So libvirt's call is recognised by its shape,
 * never by reading NAME, and the front hands it on to the engine as
 *
 *     vfio-hook-engine --hook [OPTIONS] -- NAME OP SUBOP [EXTRA]
 *
 * Everything else is the command line: options (anywhere before "--",
 * "--opt VALUE" and "--opt=VALUE" alike, never abbreviated) and a
 * subcommand with its arguments. */

/* The state directory (journals, the lock); STATE_DIR_IN_TREE is the same
 * below a tree's root, where a dump carries the journals and a plan on
 * the dump reads them unless --state-dir says otherwise. */
#define STATE_DIR_IN_TREE "run/vfio-hook"
#define STATE_DIR_DEFAULT "/" STATE_DIR_IN_TREE

typedef struct HookCall {
        const char *domain;
        const char *op;
        const char *subop;
        const char *extra;     /* NULL when not given */
} HookCall;

/* Called under the hook's name: basename "qemu", or any file in a
 * directory named "qemu.d". */
bool cmdline_called_as_hook(const char *argv0);

/* libvirt's call: NAME OP SUBOP [EXTRA] under the hook's name, or under any
 * name when OP is one of libvirt's QEMU hook operations and SUBOP one of
 * its sub-operations ("-", "begin", "end"): no subcommand takes arguments
 * of that shape. EXTRA is argv[4] unless that starts with "--"; options may
 * follow (tests and administrators pass --state-dir, --config).
 * *ret_next: the index of the first argument after the call. */
bool cmdline_hook_call(int argc, char *const *argv, HookCall *ret, int *ret_next);

/* --device may be given this many times. */
#define CMDLINE_DEVICES_MAX 32

typedef struct Options {
        const char *sysroot;
        const char *state_dir;
        const char *config;
        const char *xml_file;
        bool json;
        bool force;
        bool hook;             /* --hook: the front hands on libvirt's call */
        bool help;
        bool version;
        /* enable, disable */
        const char *connect;   /* --connect URI */
        const char *policy_from;
        bool dry_run;
        const char *devices[CMDLINE_DEVICES_MAX];   /* --device ADDR, in order */
        int n_devices;
} Options;

typedef enum CmdlineError {
        CMDLINE_OK,
        CMDLINE_UNKNOWN_OPTION,
        CMDLINE_NEEDS_VALUE,
        CMDLINE_TAKES_NO_VALUE,
        CMDLINE_TOO_MANY,
} CmdlineError;

/* Parses argv[first..argc): options into *o (fields not given are left
 * as they are), the other arguments in order into pos (room for argc + 1
 * entries: it ends with NULL), their number into *n_pos. "--" ends the
 * options. Returns
 * CMDLINE_OK, or an error with *ret_bad the argument at fault. */
CmdlineError cmdline_parse(int argc, char **argv, int first, Options *o, char **pos, int *n_pos,
                           const char **ret_bad);

/* "unknown option", "needs a value", "takes no value". */
const char *cmdline_error_to_string(CmdlineError e);
