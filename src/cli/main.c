/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vfio-hook-engine: the program the hook front execs when there is work,
 * and every subcommand. See `vfio-hook --help`, vfio-hook(8)
 * and docs/design.md, "The two binaries". */

#include <fcntl.h>
#include <sys/stat.h>

#include "check/preflight.h"
#include "cli/dump.h"
#include "cli/enable.h"
#include "engine/engine.h"
#include "engine/hook.h"
#include "host/facts.h"
#include "host/hostops.h"
#include "model/domxml.h"
#include "model/fastscan.h"
#include "model/plan.h"
#include "shared/cmdline.h"
#include "shared/exitcode.h"
#include "shared/input.h"
#include "shared/log.h"
#include "shared/util.h"

typedef struct Args {
        Options o;    /* with the defaults filled in */
        char **pos;   /* positional arguments */
        int n_pos;
        bool state_dir_given;
} Args;

static void help(void) {
        printf("vfio-hook %s: hand PCI devices (a desktop's only GPU) from the host to a libvirt guest and back\n\n"
               "  vfio-hook DOMAIN OP SUBOP [EXTRA]        as libvirt's qemu hook (/etc/libvirt/hooks/qemu)\n"
               "  vfio-hook check [DOMAIN | --xml FILE]     what stands in the way: host, domain, IOMMU groups\n"
               "  vfio-hook plan [DOMAIN | --xml FILE]      the steps prepare would take, changing nothing\n"
               "  vfio-hook status                          domains holding devices, from the journals\n"
               "  vfio-hook restore DOMAIN [--force]        undo a crashed or failed prepare from its journal\n"
               "                                            (refused while the domain runs, unless --force)\n"
               "  vfio-hook enable DOMAIN [--device ADDR]... [--policy-from FILE] [--dry-run]\n"
               "                                            give the domain the GPU (default: the boot VGA card)\n"
               "                                            and its IOMMU group as hostdevs, and vfio-hook's policy\n"
               "  vfio-hook disable DOMAIN [--dry-run]      remove what enable added\n"
               "  vfio-hook dump [FILE]                     what vfio-hook reads here, as a tar archive for a bug\n"
               "                                            report (FILE '-': stdout); extracted, a --sysroot\n\n"
               "Options:\n"
               "  --xml FILE        read the domain XML from FILE ('-' for stdin)\n"
               "  --json            machine-readable output\n"
               "  --sysroot DIR     read /sys, /proc and /dev under DIR (check, plan, status, dump)\n"
               "  --state-dir DIR   where journals live (default %s)\n"
               "  --config FILE     the allowlist (default %s)\n"
               "  --force           restore even a domain that runs, or when libvirt cannot say\n"
               "  --connect URI     libvirt to change the domain on (enable, disable; default qemu:///system)\n"
               "  --device ADDR     a PCI device for enable, DDDD:BB:SS.F (repeatable)\n"
               "  --policy-from FILE  the policy enable writes (default: an empty policy, all defaults)\n"
               "  --dry-run         print the change to the domain's XML as a diff, change nothing\n"
               "  --help, --version\n"
               "Options go anywhere, as --opt VALUE or --opt=VALUE; after -- nothing is an option\n"
               "(vfio-hook restore -- -x). libvirt's call (DOMAIN prepare begin -) is told by its shape:\n"
               "a domain may be called status or --json.\n\n"
               "Exit: 0 success, 1 failed (host restored), 2 bad usage or input (nothing changed),\n"
               "      3 restore incomplete (the message says what is left).\n",
               PACKAGE_VERSION, STATE_DIR_DEFAULT, CONFIG_PATH_DEFAULT);
}

/* Options from argv[first..], the rest into a->pos (which the caller frees). */
static int parse_args(int argc, char **argv, int first, Args *a) {
        Options o = {};
        const char *bad = NULL;

        a->pos = calloc((size_t) argc + 1, sizeof(char *));
        if (!a->pos) {
                log_error("%s", strerror(ENOMEM));
                return -ENOMEM;
        }
        CmdlineError e = cmdline_parse(argc, argv, first, &o, a->pos, &a->n_pos, &bad);
        if (e != CMDLINE_OK) {
                _cleanup_free_ char *name = strndup(bad, strcspn(bad, "="));
                char q[VALUE_QUOTE_BUFSZ];
                if (e == CMDLINE_UNKNOWN_OPTION)
                        log_error("unknown option '%s' (see --help)", value_quote(bad, q));
                else
                        log_error("option '%s' %s (see --help)", value_quote(name ? name : bad, q),
                                  cmdline_error_to_string(e));
                return -EINVAL;
        }
        if (o.help) {
                help();
                exit(EXIT_OK);
        }
        if (o.version) {
                printf("vfio-hook %s\n", PACKAGE_VERSION);
                exit(EXIT_OK);
        }
        if (!o.sysroot)
                o.sysroot = "/";
        a->state_dir_given = o.state_dir != NULL;
        if (!o.state_dir)
                o.state_dir = STATE_DIR_DEFAULT;
        a->o = o;
        return 0;
}

static void log_bad_name(const char *name) {
        char q[VALUE_QUOTE_BUFSZ];
        log_error("'%s' is not a domain name vfio-hook accepts (letters, digits and _.@:+- only)", value_quote(name, q));
}

/* --xml FILE ('-': stdin), as large as the parser takes; no time limit:
 * a person may be typing. */
static int read_xml_file(const char *path, char **ret, size_t *ret_len) {
        if (streq(path, "-"))
                return input_read(STDIN_FILENO, DOMXML_MAX_SIZE, 0, ret, ret_len);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        return input_read(fd, DOMXML_MAX_SIZE, 0, ret, ret_len);
}

static int load_domain(const char *xml, size_t len, const Args *a, Domain **ret) {
        return hook_load_domain(xml, len, a->o.config ? a->o.config : CONFIG_PATH_DEFAULT, a->o.config != NULL, ret);
}

/* A plan is information: a systemd that cannot be asked makes a unit's
 * state unknown, not the plan fail (prepare, though, must know). */
static int unit_state_host(const char *unit, UnitState *ret, void *userdata) {
        HostOps *ops = userdata;
        if (ops->unit_state(ops, unit, ret) < 0)
                *ret = UNIT_UNKNOWN;
        return 0;
}

/* The domain named on the command line: from --xml FILE, or from
 * qemu:///system for a DOMAIN. NULL in *ret when neither was given. */
static int load_requested_domain(const Args *a, Domain **ret) {
        _cleanup_free_ char *xml = NULL, *err = NULL;
        size_t len = 0;
        int r = 0;

        if (a->o.xml_file) {
                r = read_xml_file(a->o.xml_file, &xml, &len);
                if (r < 0) {
                        char why[128];
                        if (streq(a->o.xml_file, "-"))
                                log_error("the domain XML on stdin %s", input_strerror(r, DOMXML_MAX_SIZE, 0, why, sizeof why));
                        else if (r == -EFBIG)
                                log_error("the domain XML in %s %s", a->o.xml_file,
                                          input_strerror(r, DOMXML_MAX_SIZE, 0, why, sizeof why));
                        else
                                log_error("cannot read the domain XML in %s: %s", a->o.xml_file, strerror(-r));
                        return r;
                }
        } else if (a->n_pos == 1) {
                if (!domain_name_valid(a->pos[0])) {
                        log_bad_name(a->pos[0]);
                        return -EINVAL;
                }
                r = host_fetch_domain_xml(a->pos[0], 30 * USEC_PER_SEC, &xml, &err);
                if (r >= 0)
                        len = strlen(xml);
        }
        if (r < 0) {
                log_error("reading the domain XML: %s", err ? err : strerror(-r));
                return r;
        }
        *ret = NULL;
        return xml ? load_domain(xml, len, a, ret) : 0;
}

static int cmd_plan(const Args *a) {
        _cleanup_domain_ Domain *d = NULL;
        _cleanup_sysroot_ Sysroot *sr = NULL;
        _cleanup_(host_facts_done) HostFacts f = {};
        _cleanup_(plan_done) Plan p = {};
        HostOps *ops = NULL;
        int r;

        if ((a->o.xml_file != NULL) == (a->n_pos == 1) || a->n_pos > 1) {
                log_error("plan takes a DOMAIN or --xml FILE (see --help)");
                return EXIT_BAD_INPUT;
        }
        if (load_requested_domain(a, &d) < 0)
                return EXIT_BAD_INPUT;

        r = sysroot_open(a->o.sysroot, &sr);
        if (r < 0) {
                log_error("cannot open the sysroot %s: %s%s", a->o.sysroot, strerror(-r), sysroot_open_hint(r));
                return EXIT_BAD_INPUT;
        }
        if (d->policy) {
                /* Unit states come from systemd on a live host, from unit files in a tree. */
                if (sysroot_is_host(sr)) {
                        ops = host_ops_real_new();
                        if (!ops)
                                return EXIT_FAILED;
                        r = host_facts_gather(sr, d, unit_state_host, ops, &f);
                } else /* a dump says what systemd said */
                        r = host_facts_gather(sr, d, dump_unit_state, sr, &f);
                host_ops_real_free(ops);
                /* Devices other domains hold go back to their drivers: prepare
                 * counts them, and so does the plan when it can read the journals. */
                _cleanup_free_ char *err = NULL, *dump_journals = NULL;
                _cleanup_close_ int state_fd = -1;
                const char *state_dir = a->o.state_dir;
                /* A dump carries the journals of its host. */
                if (!a->state_dir_given && !sysroot_is_host(sr) && sysroot_existsf(sr, DUMP_INFO_FILE) > 0) {
                        dump_journals = strf("%s/" STATE_DIR_IN_TREE, a->o.sysroot);
                        state_dir = dump_journals ? dump_journals : state_dir;
                }
                if (r >= 0 && engine_open_state_dir(state_dir, false, &state_fd, &err) >= 0)
                        r = engine_add_held_devices(state_fd, d, &f);
                if (r < 0) {
                        log_error("reading the host's state under %s: %s", a->o.sysroot, strerror(-r));
                        return EXIT_FAILED;
                }
        }
        r = plan_build(d, &f, &p);
        if (r < 0) {
                log_error("building the plan: %s", strerror(-r));
                return EXIT_FAILED;
        }
        if (a->o.json)
                plan_print_json(&p, &f, stdout);
        else if (!d->policy) {
                /* Any name libvirt accepts: a newline or a control sequence in it is printed escaped. */
                _cleanup_free_ char *name = escape_string(d->name);
                if (!name)
                        return EXIT_FAILED;
                printf("Domain %s has no vfio-hook policy: the hook leaves it alone.\n", name);
        } else
                plan_print_text(&p, &f, stdout);
        if (p.n_problems > 0)
                return plan_bad_input(&p) ? EXIT_BAD_INPUT : EXIT_FAILED;
        return EXIT_OK;
}

/* A preflight, changing nothing: the host, then the domain if one is given
 * (its XML read as plan reads it), else the IOMMU groups. */
static int cmd_check(const Args *a) {
        _cleanup_domain_ Domain *d = NULL;

        if (a->n_pos > 1 || (a->o.xml_file && a->n_pos == 1)) {
                log_error("check takes a DOMAIN, --xml FILE or nothing (see --help)");
                return EXIT_BAD_INPUT;
        }
        if (load_requested_domain(a, &d) < 0)
                return EXIT_BAD_INPUT;
        return check_command(a->o.sysroot, d, a->o.json, stdout);
}

static int cmd_dump(const Args *a) {
        _cleanup_sysroot_ Sysroot *sr = NULL;
        _cleanup_(config_done) Config cfg = {};
        _cleanup_free_ char *err = NULL;
        HostOps *ops = NULL;

        if (a->n_pos > 1) {
                log_error("dump takes at most one FILE (see --help)");
                return EXIT_BAD_INPUT;
        }
        int r = sysroot_open(a->o.sysroot, &sr);
        if (r < 0) {
                log_error("cannot open the sysroot %s: %s%s", a->o.sysroot, strerror(-r), sysroot_open_hint(r));
                return EXIT_BAD_INPUT;
        }
        /* The services root allows are units a plan may ask about. */
        if (config_load(a->o.config ? a->o.config : CONFIG_PATH_DEFAULT, a->o.config == NULL, &cfg, &err) < 0)
                log_warning("%s: the dump records only the built-in services' states", err ? err : "the config");
        if (sysroot_is_host(sr)) {
                ops = host_ops_real_new();
                if (!ops)
                        return EXIT_FAILED;
                r = dump_command(sr, &cfg, unit_state_host, ops, a->o.state_dir, a->n_pos == 1 ? a->pos[0] : NULL);
                host_ops_real_free(ops);
                return r;
        }
        /* A tree's journals are its own (a dump's), unless --state-dir names others. */
        _cleanup_free_ char *tree_state = strf("%s/" STATE_DIR_IN_TREE, a->o.sysroot);
        if (!tree_state)
                return EXIT_FAILED;
        return dump_command(sr, &cfg, dump_unit_state, sr, a->state_dir_given ? a->o.state_dir : tree_state,
                            a->n_pos == 1 ? a->pos[0] : NULL);
}

static int open_engine(const Args *a, bool create, Engine *e, Sysroot **sr, HostOps **ops) {
        _cleanup_free_ char *err = NULL;
        int r = sysroot_open(a->o.sysroot, sr);
        if (r < 0) {
                log_error("cannot open the sysroot %s: %s%s", a->o.sysroot, strerror(-r), sysroot_open_hint(r));
                return -EINVAL;
        }
        r = engine_open_state_dir(a->o.state_dir, create, &e->state_fd, &err);
        if (r < 0) {
                if (r == -ENOENT)
                        return r;
                log_error("%s", err ? err : strerror(-r));
                return r;
        }
        *ops = host_ops_real_new();
        if (!*ops)
                return -ENOMEM;
        e->sr = *sr;
        e->ops = *ops;
        const char *knob = getenv("VFIO_HOOK_TEST_ABORT_AFTER");
        if (knob && parse_uint(knob, &e->abort_after) < 0)
                e->abort_after = 0;
        return 0;
}

static void close_engine(Engine *e, Sysroot *sr, HostOps *ops) {
        if (e->state_fd >= 0)
                close(e->state_fd);
        host_ops_real_free(ops);
        sysroot_free(sr);
}

static int cmd_status(const Args *a) {
        Engine e = { .state_fd = -1 };
        if (a->n_pos > 0) {
                log_error("status takes no arguments (see --help)");
                return EXIT_BAD_INPUT;
        }
        Sysroot *sr = NULL;
        HostOps *ops = NULL;
        int r = open_engine(a, false, &e, &sr, &ops);
        if (r == -ENOENT) {
                close_engine(&e, sr, ops);
                fputs(a->o.json ? "{\"domains\": [], \"releases\": []}\n" : "No domain holds devices.\n", stdout);
                return EXIT_OK;
        }
        r = r < 0 ? EXIT_FAILED : engine_status(&e, a->o.json, stdout);
        close_engine(&e, sr, ops);
        return r;
}

/* Release (libvirt's) and restore (the command): the journal replayed,
 * each name in it checked against root's allowlist. A config that cannot
 * be read must not stop a hand-back: the built-in list then applies. */
static int replay(const Args *a, const char *domain, bool restore, unsigned timeout) {
        _cleanup_(config_done) Config cfg = {};
        _cleanup_free_ char *err = NULL;
        Engine e = { .state_fd = -1 };
        Sysroot *sr = NULL;
        HostOps *ops = NULL;
        const char *cfg_path = a->o.config ? a->o.config : CONFIG_PATH_DEFAULT;

        if (!domain_name_valid(domain)) {
                log_bad_name(domain);
                return EXIT_BAD_INPUT;
        }
        int r = open_engine(a, false, &e, &sr, &ops);
        if (r == -ENOENT) {
                close_engine(&e, sr, ops);
                return EXIT_OK; /* no state directory: nothing was ever changed */
        }
        if (r >= 0) {
                if (config_load(cfg_path, a->o.config == NULL, &cfg, &err) < 0)
                        log_warning("%s: only the built-in allowlist applies", err ? err : cfg_path);
                else
                        e.cfg = &cfg;
        }
        r = r < 0 ? EXIT_INCOMPLETE : restore ? engine_restore(&e, domain, a->o.force) : engine_release(&e, domain, timeout);
        close_engine(&e, sr, ops);
        return r;
}

static int cmd_restore(const Args *a) {
        if (a->n_pos != 1) {
                log_error("restore takes one DOMAIN (see --help)");
                return EXIT_BAD_INPUT;
        }
        log_open_syslog();
        log_set_prefix(a->pos[0]);
        return replay(a, a->pos[0], true, 0);
}

#define STDIN_TIMEOUT ((usec_t) INPUT_TIMEOUT_SEC * USEC_PER_SEC)

static bool stdin_closed;

static int read_stdin(char **ret, size_t *ret_len) {
        if (stdin_closed)
                return -EBADF;
        return input_read(STDIN_FILENO, DOMXML_MAX_SIZE, STDIN_TIMEOUT, ret, ret_len);
}

/* Release follows the journal whatever stdin holds: the XML only lends its
 * <timeout>, when it can be read, parses and is this domain's. 0: the
 * default. */
static unsigned release_timeout(const char *domain) {
        _cleanup_free_ char *xml = NULL, *err = NULL;
        _cleanup_domain_ Domain *d = NULL;
        char why[256], q[VALUE_QUOTE_BUFSZ];
        size_t len = 0;

        int r = read_stdin(&xml, &len);
        if (r < 0)
                input_strerror(r, DOMXML_MAX_SIZE, STDIN_TIMEOUT, why, sizeof why);
        else if (!fastscan_may_have_policy(xml, len))
                return 0; /* no policy there: nothing to lend, nothing to parse */
        else if (domxml_parse(xml, len, &d, &err) < 0)
                snprintf(why, sizeof why, "cannot be used: %s", err ? err : "it does not parse");
        else if (!d->policy)
                return 0;
        else if (!streq(d->name, domain))
                snprintf(why, sizeof why, "is for domain '%s'", value_quote(d->name, q));
        else
                return d->policy->timeout_sec;
        log_warning("the domain XML on stdin %s: release follows the journal, with the default timeout of %u s", why,
                    POLICY_TIMEOUT_DEFAULT);
        return 0;
}

/* How long the whole hook ran, from the front's exec (VFIO_HOOK_STARTED_USEC,
 * set by the front: a number for the log, nothing else), in ms; < 0 when
 * not known. */
static double hook_ran_ms(void) {
        const char *s = getenv("VFIO_HOOK_STARTED_USEC");
        uint64_t t0;
        if (!s || parse_u64(s, &t0) < 0 || t0 > now_usec())
                return -1;
        return (double) (now_usec() - t0) / 1000.0;
}

static int hook_work(const Args *a, const HookCall *call);

static int hook(const Args *a, const HookCall *call) {
        int r = hook_work(a, call);
        double ms = hook_ran_ms();
        if (ms >= 0 && (streq(call->op, "prepare") || streq(call->op, "release")))
                log_info("the hook ran %.1f ms", ms);
        return r;
}

static int hook_work(const Args *a, const HookCall *call) {
        const char *domain = call->domain;
        bool prepare = streq(call->op, "prepare") && streq(call->subop, "begin");
        bool rel = streq(call->op, "release") && streq(call->subop, "end");
        _cleanup_free_ char *xml = NULL;
        size_t len = 0;
        int r;

        if (!prepare && !rel)
                return EXIT_OK; /* start, started, stopped, reconnect, ...: nothing to do */

        log_open_syslog();
        log_set_quiet(true); /* libvirt shows our stderr in its error: only problems go there */
        if (!streq(a->o.sysroot, "/")) {
                log_error("the hook acts on the live host only: --sysroot is for plan, check and status");
                return EXIT_BAD_INPUT;
        }

        if (rel) {
                log_set_prefix(domain);
                if (!domain_name_valid(domain))
                        return EXIT_OK; /* no journal can carry such a name */
                return replay(a, domain, false, release_timeout(domain));
        }

        r = read_stdin(&xml, &len);
        if (r < 0) {
                char why[128];
                log_error("the domain XML on stdin %s", input_strerror(r, DOMXML_MAX_SIZE, STDIN_TIMEOUT, why, sizeof why));
                return EXIT_BAD_INPUT;
        }

        Engine e = { .state_fd = -1 };
        Sysroot *sr = NULL;
        HostOps *ops = NULL;
        r = sysroot_open("/", &sr);
        ops = r >= 0 ? host_ops_real_new() : NULL;
        if (!ops) {
                log_error("cannot set up: %s", strerror(r < 0 ? -r : ENOMEM));
                sysroot_free(sr);
                return EXIT_FAILED;
        }
        e.sr = sr;
        e.ops = ops;
        const char *knob = getenv("VFIO_HOOK_TEST_ABORT_AFTER");
        if (knob && parse_uint(knob, &e.abort_after) < 0)
                e.abort_after = 0;
        r = hook_prepare(&e, a->o.state_dir, domain, xml, len, a->o.config ? a->o.config : CONFIG_PATH_DEFAULT,
                         a->o.config != NULL);
        host_ops_real_free(ops);
        sysroot_free(sr);
        return r;
}

/* A closed stdin, stdout or stderr would be taken by the next open() (a
 * journal read as the domain XML, log lines written into a file): put
 * /dev/null there, and remember that stdin was closed. */
static void fill_std_fds(void) {
        for (int fd = 0; fd <= 2; fd++) {
                if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
                        continue;
                if (fd == STDIN_FILENO)
                        stdin_closed = true;
                int n = open("/dev/null", O_RDWR | O_NOCTTY);
                if (n >= 0 && n != fd) {
                        (void) dup2(n, fd);
                        close(n);
                }
        }
}

int main(int argc, char **argv) {
        _cleanup_free_ char **pos = NULL;
        HookCall call;
        Args a;
        int next;

        fill_std_fds();

        /* libvirt's call, run directly (the front hands it on with --hook):
         * the name is never read as an option or a subcommand. */
        if (cmdline_hook_call(argc, argv, &call, &next)) {
                int r = parse_args(argc, argv, next, &a);
                pos = a.pos;
                if (r < 0)
                        return EXIT_BAD_INPUT;
                if (a.n_pos > 0) {
                        char q[VALUE_QUOTE_BUFSZ];
                        log_error("unexpected argument '%s' after the hook's four (see --help)", value_quote(a.pos[0], q));
                        return EXIT_BAD_INPUT;
                }
                return hook(&a, &call);
        }

        int r = parse_args(argc, argv, 1, &a);
        pos = a.pos;
        if (r < 0)
                return EXIT_BAD_INPUT;
        if (a.o.hook) {
                if (a.n_pos < 3 || a.n_pos > 4) {
                        log_error("--hook takes -- DOMAIN OPERATION SUB-OPERATION [EXTRA] (see --help)");
                        return EXIT_BAD_INPUT;
                }
                call = (HookCall) { a.pos[0], a.pos[1], a.pos[2], a.n_pos > 3 ? a.pos[3] : NULL };
                return hook(&a, &call);
        }
        if (a.n_pos == 0) {
                help();
                return EXIT_BAD_INPUT;
        }

        const char *cmd = a.pos[0];
        Args sub = a;
        sub.pos++;
        sub.n_pos--;
        if (streq(cmd, "check"))
                return cmd_check(&sub);
        if (streq(cmd, "plan"))
                return cmd_plan(&sub);
        if (streq(cmd, "status"))
                return cmd_status(&sub);
        if (streq(cmd, "restore"))
                return cmd_restore(&sub);
        if (streq(cmd, "enable"))
                return enable_command(&sub.o, sub.pos, sub.n_pos);
        if (streq(cmd, "disable"))
                return disable_command(&sub.o, sub.pos, sub.n_pos);
        if (streq(cmd, "dump"))
                return cmd_dump(&sub);
        if (streq(cmd, "help")) {
                help();
                return EXIT_OK;
        }
        char q[VALUE_QUOTE_BUFSZ];
        log_error("unknown command '%s' (see --help)", value_quote(cmd, q));
        return EXIT_BAD_INPUT;
}
