/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vfio-hook-engine: the program the hook front execs when there is work,
 * and every subcommand. See `vfio-hook --help` and DESIGN.md. */

#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>

#include "domxml.h"
#include "engine.h"
#include "facts.h"
#include "hook.h"
#include "hostops.h"
#include "log.h"
#include "plan.h"
#include "preflight.h"
#include "util.h"

typedef struct Args {
        const char *sysroot;
        const char *state_dir;
        const char *config;
        const char *xml_file;
        bool json;
        char **pos;   /* positional arguments */
        int n_pos;
} Args;

static void help(void) {
        printf("vfio-hook %s: hand PCI devices (a desktop's only GPU) from the host to a libvirt guest and back\n\n"
               "  vfio-hook DOMAIN OP SUBOP [EXTRA]        as libvirt's qemu hook (/etc/libvirt/hooks/qemu)\n"
               "  vfio-hook check [DOMAIN | --xml FILE]     what stands in the way: host, domain, IOMMU groups\n"
               "  vfio-hook plan [DOMAIN | --xml FILE]      the steps prepare would take, changing nothing\n"
               "  vfio-hook status                          domains holding devices, from the journals\n"
               "  vfio-hook restore DOMAIN                  undo a crashed or failed prepare from its journal\n\n"
               "Options:\n"
               "  --xml FILE        read the domain XML from FILE ('-' for stdin)\n"
               "  --json            machine-readable output\n"
               "  --sysroot DIR     read /sys, /proc and /dev under DIR (check, plan, status)\n"
               "  --state-dir DIR   where journals live (default %s)\n"
               "  --config FILE     the allowlist (default %s)\n"
               "  --help, --version\n\n"
               "Exit: 0 success, 1 failed (host restored), 2 bad usage or input (nothing changed),\n"
               "      3 restore incomplete (the message says what is left).\n",
               PACKAGE_VERSION, STATE_DIR_DEFAULT, CONFIG_PATH_DEFAULT);
}

static int parse_args(int argc, char **argv, Args *a) {
        enum { ARG_SYSROOT = 0x100, ARG_STATE_DIR, ARG_CONFIG, ARG_XML, ARG_JSON, ARG_VERSION };
        static const struct option options[] = {
                { "sysroot", required_argument, NULL, ARG_SYSROOT },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "config", required_argument, NULL, ARG_CONFIG },
                { "xml", required_argument, NULL, ARG_XML },
                { "json", no_argument, NULL, ARG_JSON },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        int c;

        *a = (Args) { .sysroot = "/", .state_dir = STATE_DIR_DEFAULT };
        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case ARG_SYSROOT:
                        a->sysroot = optarg;
                        break;
                case ARG_STATE_DIR:
                        a->state_dir = optarg;
                        break;
                case ARG_CONFIG:
                        a->config = optarg;
                        break;
                case ARG_XML:
                        a->xml_file = optarg;
                        break;
                case ARG_JSON:
                        a->json = true;
                        break;
                case 'h':
                        help();
                        exit(EXIT_OK);
                case ARG_VERSION:
                        printf("vfio-hook %s\n", PACKAGE_VERSION);
                        exit(EXIT_OK);
                default:
                        log_error("unknown or incomplete option '%s' (see --help)", argv[optind - 1]);
                        return -EINVAL;
                }
        a->pos = argv + optind;
        a->n_pos = argc - optind;
        return 0;
}

static void log_bad_name(const char *name) {
        char q[VALUE_QUOTE_BUFSZ];
        log_error("'%s' is not a domain name vfio-hook accepts (letters, digits and _.@:+- only)", value_quote(name, q));
}

static int read_all_fd(int fd, char **ret, size_t *ret_len) {
        size_t size = 0, alloc = 64 * 1024;
        _cleanup_free_ char *buf = malloc(alloc + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (size == alloc) {
                        if (alloc > DOMXML_MAX_SIZE)
                                return -EFBIG;
                        alloc *= 2;
                        char *nb = realloc(buf, alloc + 1);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                }
                ssize_t n = read(fd, buf + size, alloc - size);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                size += (size_t) n;
        }
        buf[size] = 0;
        *ret = TAKE_PTR(buf);
        *ret_len = size;
        return 0;
}

static int read_xml_file(const char *path, char **ret, size_t *ret_len) {
        if (streq(path, "-"))
                return read_all_fd(STDIN_FILENO, ret, ret_len);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return read_all_fd(fd, ret, ret_len);
}

static int load_domain(const char *xml, size_t len, const Args *a, Domain **ret) {
        return hook_load_domain(xml, len, a->config ? a->config : CONFIG_PATH_DEFAULT, a->config != NULL, ret);
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

        if (a->xml_file)
                r = read_xml_file(a->xml_file, &xml, &len);
        else if (a->n_pos == 1) {
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

        if ((a->xml_file != NULL) == (a->n_pos == 1) || a->n_pos > 1) {
                log_error("plan takes a DOMAIN or --xml FILE (see --help)");
                return EXIT_BAD_INPUT;
        }
        if (load_requested_domain(a, &d) < 0)
                return EXIT_BAD_INPUT;

        r = sysroot_open(a->sysroot, &sr);
        if (r < 0) {
                log_error("cannot open the sysroot %s: %s", a->sysroot, strerror(-r));
                return EXIT_BAD_INPUT;
        }
        if (d->policy) {
                /* Unit states come from systemd on a live host, from unit files in a tree. */
                if (sysroot_is_host(sr)) {
                        ops = host_ops_real_new();
                        if (!ops)
                                return EXIT_FAILED;
                        r = host_facts_gather(sr, d, unit_state_host, ops, &f);
                } else
                        r = host_facts_gather(sr, d, unit_state_from_tree, sr, &f);
                host_ops_real_free(ops);
                /* Devices other domains hold go back to their drivers: prepare
                 * counts them, and so does the plan when it can read the journals. */
                _cleanup_free_ char *err = NULL;
                _cleanup_close_ int state_fd = -1;
                if (r >= 0 && engine_open_state_dir(a->state_dir, false, &state_fd, &err) >= 0)
                        r = engine_add_held_devices(state_fd, d, &f);
                if (r < 0) {
                        log_error("reading the host's state under %s: %s", a->sysroot, strerror(-r));
                        return EXIT_FAILED;
                }
        }
        r = plan_build(d, &f, &p);
        if (r < 0) {
                log_error("building the plan: %s", strerror(-r));
                return EXIT_FAILED;
        }
        if (a->json)
                plan_print_json(&p, &f, stdout);
        else if (!d->policy)
                printf("Domain %s has no vfio-hook policy: the hook leaves it alone.\n", d->name);
        else
                plan_print_text(&p, &f, stdout);
        return p.n_problems > 0 ? EXIT_FAILED : EXIT_OK;
}

/* A preflight, changing nothing: the host, then the domain if one is given
 * (its XML read as plan reads it), else the IOMMU groups. */
static int cmd_check(const Args *a) {
        _cleanup_domain_ Domain *d = NULL;

        if (a->n_pos > 1 || (a->xml_file && a->n_pos == 1)) {
                log_error("check takes a DOMAIN, --xml FILE or nothing (see --help)");
                return EXIT_BAD_INPUT;
        }
        if (load_requested_domain(a, &d) < 0)
                return EXIT_BAD_INPUT;
        return check_command(a->sysroot, d, a->json, stdout);
}

static int open_engine(const Args *a, bool create, Engine *e, Sysroot **sr, HostOps **ops) {
        _cleanup_free_ char *err = NULL;
        int r = sysroot_open(a->sysroot, sr);
        if (r < 0) {
                log_error("cannot open the sysroot %s: %s", a->sysroot, strerror(-r));
                return -EINVAL;
        }
        r = engine_open_state_dir(a->state_dir, create, &e->state_fd, &err);
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
        Sysroot *sr = NULL;
        HostOps *ops = NULL;
        int r = open_engine(a, false, &e, &sr, &ops);
        if (r == -ENOENT) {
                close_engine(&e, sr, ops);
                fputs(a->json ? "{\"domains\": []}\n" : "No domain holds devices.\n", stdout);
                return EXIT_OK;
        }
        r = r < 0 ? EXIT_FAILED : engine_status(&e, a->json, stdout);
        close_engine(&e, sr, ops);
        return r;
}

static int release(const Args *a, const char *domain, unsigned timeout) {
        Engine e = { .state_fd = -1 };
        Sysroot *sr = NULL;
        HostOps *ops = NULL;
        if (!domain_name_valid(domain)) {
                log_bad_name(domain);
                return EXIT_BAD_INPUT;
        }
        int r = open_engine(a, false, &e, &sr, &ops);
        if (r == -ENOENT)
                r = EXIT_OK; /* no state directory: nothing was ever changed */
        else
                r = r < 0 ? EXIT_INCOMPLETE : engine_release(&e, domain, timeout);
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
        return release(a, a->pos[0], 0);
}

static int hook(const Args *a) {
        const char *domain = a->pos[0], *op = a->pos[1], *subop = a->pos[2];
        bool prepare = streq(op, "prepare") && streq(subop, "begin");
        bool rel = streq(op, "release") && streq(subop, "end");
        _cleanup_free_ char *xml = NULL;
        _cleanup_domain_ Domain *d = NULL;
        size_t len = 0;
        int r;

        if (!prepare && !rel)
                return EXIT_OK; /* start, started, stopped, reconnect, ...: nothing to do */

        log_open_syslog();
        log_set_quiet(true); /* libvirt shows our stderr in its error: only problems go there */
        if (!streq(a->sysroot, "/")) {
                log_error("the hook acts on the live host only: --sysroot is for plan, check and status");
                return EXIT_BAD_INPUT;
        }

        r = read_all_fd(STDIN_FILENO, &xml, &len);
        if (r < 0) {
                log_error("reading the domain XML from stdin: %s", strerror(-r));
                return prepare ? EXIT_BAD_INPUT : EXIT_OK;
        }
        if (rel) {
                /* Release follows the journal, whatever the XML says now; the
                 * policy, when it parses, only lends its timeout. */
                unsigned timeout = 0;
                if (!domain_name_valid(domain))
                        return EXIT_OK; /* no journal can carry such a name */
                if (domxml_parse(xml, len, &d, NULL) >= 0 && d->policy)
                        timeout = d->policy->timeout_sec;
                log_set_prefix(domain);
                return release(a, domain, timeout);
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
        r = hook_prepare(&e, a->state_dir, domain, xml, len, a->config ? a->config : CONFIG_PATH_DEFAULT,
                         a->config != NULL);
        host_ops_real_free(ops);
        sysroot_free(sr);
        return r;
}

int main(int argc, char **argv) {
        Args a;
        if (parse_args(argc, argv, &a) < 0)
                return EXIT_BAD_INPUT;
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
        if (streq(cmd, "help")) {
                help();
                return EXIT_OK;
        }
        if (a.n_pos >= 3 && a.n_pos <= 4)
                return hook(&a);
        log_error("unknown command '%s' (see --help)", cmd);
        return EXIT_BAD_INPUT;
}
