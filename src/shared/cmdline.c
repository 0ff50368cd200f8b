/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libc only: linked into the hook front too. */
#include <stddef.h>
#include <string.h>

#include "shared/cmdline.h"

#define ELEMENTS(x) (sizeof(x) / sizeof((x)[0]))

/* libvirt's src/util/virhook.c: virHookQemuOp and virHookSubop. */
static const char *const hook_ops[] = {
        "start", "stopped", "prepare", "release", "migrate", "started", "reconnect", "attach", "restore",
};
static const char *const hook_subops[] = { "-", "begin", "end" };

static bool in(const char *s, const char *const *l, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(s, l[i]) == 0)
                        return true;
        return false;
}

bool cmdline_called_as_hook(const char *argv0) {
        const char *slash = strrchr(argv0, '/');
        const char *base = slash ? slash + 1 : argv0;

        if (strcmp(base, "qemu") == 0)
                return true;
        if (!slash)
                return false;
        /* .../qemu.d/ANY */
        size_t dir_len = (size_t) (slash - argv0), k = strlen("qemu.d");
        return dir_len >= k && memcmp(slash - k, "qemu.d", k) == 0 && (dir_len == k || slash[-(ptrdiff_t) k - 1] == '/');
}

bool cmdline_hook_call(int argc, char *const *argv, HookCall *ret, int *ret_next) {
        if (argc < 4)
                return false;
        if (!cmdline_called_as_hook(argv[0]) &&
            !(in(argv[2], hook_ops, ELEMENTS(hook_ops)) && in(argv[3], hook_subops, ELEMENTS(hook_subops))))
                return false;

        *ret = (HookCall) { .domain = argv[1], .op = argv[2], .subop = argv[3] };
        *ret_next = 4;
        if (argc > 4 && strncmp(argv[4], "--", 2) != 0) {
                ret->extra = argv[4];
                *ret_next = 5;
        }
        return true;
}

typedef enum OptionId {
        OPT_SYSROOT,
        OPT_STATE_DIR,
        OPT_CONFIG,
        OPT_XML,
        OPT_JSON,
        OPT_FORCE,
        OPT_HOOK,
        OPT_HELP,
        OPT_VERSION,
        OPT_CONNECT,
        OPT_DEVICE,
        OPT_POLICY_FROM,
        OPT_DRY_RUN,
} OptionId;

static const struct {
        const char *name;
        OptionId id;
        bool takes_value;
} options[] = {
        { "sysroot", OPT_SYSROOT, true }, { "state-dir", OPT_STATE_DIR, true }, { "config", OPT_CONFIG, true },
        { "xml", OPT_XML, true },         { "json", OPT_JSON, false },          { "force", OPT_FORCE, false },
        { "hook", OPT_HOOK, false },      { "help", OPT_HELP, false },          { "version", OPT_VERSION, false },
        { "connect", OPT_CONNECT, true }, { "device", OPT_DEVICE, true },       { "policy-from", OPT_POLICY_FROM, true },
        { "dry-run", OPT_DRY_RUN, false },
};

static bool set_option(Options *o, OptionId id, const char *value) {
        switch (id) {
        case OPT_SYSROOT:
                o->sysroot = value;
                break;
        case OPT_STATE_DIR:
                o->state_dir = value;
                break;
        case OPT_CONFIG:
                o->config = value;
                break;
        case OPT_XML:
                o->xml_file = value;
                break;
        case OPT_JSON:
                o->json = true;
                break;
        case OPT_FORCE:
                o->force = true;
                break;
        case OPT_HOOK:
                o->hook = true;
                break;
        case OPT_HELP:
                o->help = true;
                break;
        case OPT_VERSION:
                o->version = true;
                break;
        case OPT_CONNECT:
                o->connect = value;
                break;
        case OPT_DEVICE:
                if (o->n_devices >= CMDLINE_DEVICES_MAX)
                        return false;
                o->devices[o->n_devices++] = value;
                break;
        case OPT_POLICY_FROM:
                o->policy_from = value;
                break;
        case OPT_DRY_RUN:
                o->dry_run = true;
                break;
        }
        return true;
}

CmdlineError cmdline_parse(int argc, char **argv, int first, Options *o, char **pos, int *n_pos,
                           const char **ret_bad) {
        bool options_end = false;
        int n = 0;

        for (int i = first; i < argc; i++) {
                char *a = argv[i];

                if (options_end || a[0] != '-' || strcmp(a, "-") == 0) {
                        pos[n++] = a;
                        continue;
                }
                if (strcmp(a, "--") == 0) {
                        options_end = true;
                        continue;
                }
                *ret_bad = a;
                if (strcmp(a, "-h") == 0) {
                        o->help = true;
                        continue;
                }
                if (a[1] != '-')
                        return CMDLINE_UNKNOWN_OPTION;

                const char *name = a + 2, *eq = strchr(name, '=');
                size_t len = eq ? (size_t) (eq - name) : strlen(name);
                size_t k;
                for (k = 0; k < ELEMENTS(options); k++)
                        if (strlen(options[k].name) == len && memcmp(options[k].name, name, len) == 0)
                                break;
                if (k == ELEMENTS(options))
                        return CMDLINE_UNKNOWN_OPTION;

                const char *value = NULL;
                if (options[k].takes_value) {
                        if (eq)
                                value = eq + 1;
                        else if (i + 1 < argc)
                                value = argv[++i];
                        if (!value || !value[0])
                                return CMDLINE_NEEDS_VALUE;
                } else if (eq)
                        return CMDLINE_TAKES_NO_VALUE;
                if (!set_option(o, options[k].id, value))
                        return CMDLINE_TOO_MANY;
        }
        *n_pos = n;
        pos[n] = NULL;
        return CMDLINE_OK;
}

const char *cmdline_error_to_string(CmdlineError e) {
        switch (e) {
        case CMDLINE_UNKNOWN_OPTION:
                return "unknown option";
        case CMDLINE_NEEDS_VALUE:
                return "needs a value";
        case CMDLINE_TAKES_NO_VALUE:
                return "takes no value";
        case CMDLINE_TOO_MANY:
                return "is given too many times";
        default:
                return "is fine";
        }
}
