/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>

#include "check/preflight.h"
#include "cli/enable.h"
#include "engine/engine.h"
#include "host/virtdomain.h"
#include "model/domedit.h"
#include "model/domxml.h"
#include "model/policy.h"
#include "shared/input.h"
#include "shared/log.h"
#include "shared/subprocess.h"
#include "shared/udiff.h"
#include "shared/util.h"

#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define LIBVIRT_TIMEOUT (60 * USEC_PER_SEC)
#define POLICY_SCHEMA PKGDATADIR "/policy.rng"

/* Bridges (a PCI-to-PCI bridge's header, or any device of the bridge class:
 * host, ISA, ... bridges) are the host's: never given to a guest. */
static bool is_any_bridge(const PciDevice *d) {
        return d->is_bridge || (d->class >> 16) == 0x06;
}

/* The GPU when none is named: the boot VGA device, else the only display
 * controller there is. */
static int default_device(Sysroot *sr, PciAddr *ret, char **ret_error) {
        PciDevice **l = NULL;
        size_t n = 0, boot = SIZE_MAX;
        char a[PCI_ADDR_STRLEN];

        int r = pci_display_devices(sr, &l, &n);
        if (r < 0)
                return errorf(ret_error, r, "cannot list the display controllers: %s", strerror(-r));
        for (size_t i = 0; i < n; i++)
                if (l[i]->boot_vga == 1)
                        boot = i;
        if (boot == SIZE_MAX && n == 1)
                boot = 0;
        if (boot != SIZE_MAX) {
                *ret = l[boot]->addr;
                pci_devices_free(l, n);
                return 0;
        }
        if (n == 0)
                r = errorf(ret_error, -EINVAL, "this host has no display controller: name the device with --device ADDR");
        else {
                _cleanup_free_ char *list = strdup("");
                for (size_t i = 0; list && i < n; i++) {
                        char *m = strf("%s%s%s [%04x:%04x] (%s)", list, i ? ", " : "", pci_addr_format(&l[i]->addr, a),
                                       l[i]->vendor, l[i]->device, l[i]->driver ? l[i]->driver : "no driver");
                        free(list);
                        list = m;
                }
                r = list ? errorf(ret_error, -EINVAL,
                                  "none of the %zu display controllers is the boot VGA device: say which with --device "
                                  "ADDR: %s",
                                  n, list)
                         : -ENOMEM;
        }
        pci_devices_free(l, n);
        return r;
}

int enable_resolve_devices(Sysroot *sr, const char *const *args, size_t n_args, PciAddr **ret, size_t *ret_n,
                           char **ret_error) {
        _cleanup_free_ PciAddr *out = NULL;
        size_t n = 0;
        char a[PCI_ADDR_STRLEN], q[VALUE_QUOTE_BUFSZ];
        int r;

        for (size_t i = 0; i < MAX(n_args, (size_t) 1); i++) {
                _cleanup_pci_device_ PciDevice *d = NULL;
                _cleanup_free_ PciAddr *members = NULL;
                size_t n_members = 0;
                PciAddr want;

                if (n_args == 0)
                        r = default_device(sr, &want, ret_error);
                else if ((r = pci_addr_parse(args[i], &want)) < 0)
                        r = errorf(ret_error, -EINVAL,
                                   "--device '%s' is not a PCI address: give it as DDDD:BB:SS.F (lspci -D shows them)",
                                   value_quote(args[i], q));
                if (r < 0)
                        return r;
                pci_addr_format(&want, a);

                r = pci_device_read(sr, &want, &d);
                if (r == -ENOENT)
                        return errorf(ret_error, -EINVAL, "there is no PCI device %s on this host (lspci -D lists them)", a);
                if (r < 0)
                        return errorf(ret_error, r, "cannot read PCI device %s: %s", a, strerror(-r));
                if (is_any_bridge(d))
                        return errorf(ret_error, -EINVAL, "%s is a bridge: give the devices behind it instead", a);
                if (d->iommu_group < 0)
                        return errorf(ret_error, -EINVAL,
                                      "%s is in no IOMMU group, so VFIO cannot take it (is the IOMMU on? vfio-hook check "
                                      "says)",
                                      a);

                r = pci_iommu_group_members(sr, d->iommu_group, &members, &n_members);
                if (r < 0)
                        return errorf(ret_error, r, "cannot list IOMMU group %d: %s", d->iommu_group, strerror(-r));
                for (size_t j = 0; j < n_members; j++) {
                        _cleanup_pci_device_ PciDevice *m = NULL;
                        r = pci_device_read(sr, &members[j], &m);
                        if (r == -ENOENT)
                                continue; /* gone meanwhile */
                        if (r < 0)
                                return errorf(ret_error, r, "cannot read PCI device %s: %s",
                                              pci_addr_format(&members[j], a), strerror(-r));
                        if (!is_any_bridge(m) && domedit_addr_add(&out, &n, &m->addr) < 0)
                                return -ENOMEM;
                }
        }
        domedit_sort_addrs(out, n);
        *ret = TAKE_PTR(out);
        *ret_n = n;
        return 0;
}

static char *addr_list(const PciAddr *l, size_t n) {
        char *s = strdup("");
        for (size_t i = 0; s && i < n; i++) {
                char a[PCI_ADDR_STRLEN];
                char *m = strf("%s%s%s", s, i ? ", " : "", pci_addr_format(&l[i], a));
                free(s);
                s = m;
        }
        return s;
}

static const char *rng_path(void) {
        /* Tests run the program before it is installed. */
        const char *p = secure_getenv("VFIO_HOOK_POLICY_SCHEMA");
        return p ? p : POLICY_SCHEMA;
}

static int read_policy_file(const char *path, char **ret) {
        _cleanup_free_ char *data = NULL, *err = NULL;
        _cleanup_close_ int fd = -1;
        size_t len = 0;
        char why[128];

        fd = streq(path, "-") ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                log_error("cannot open the policy %s: %s", path, strerror(errno));
                return -errno;
        }
        int r = input_read(fd, 64 * 1024, 0, &data, &len);
        if (r < 0) {
                log_error("the policy in %s %s", path, input_strerror(r, 64 * 1024, 0, why, sizeof why));
                return r;
        }
        r = domedit_policy_element(data, len, rng_path(), ret, &err);
        if (r < 0)
                log_error("%s: %s", path, err ? err : strerror(-r));
        return r;
}

/* The would-be definition checked as `vfio-hook check DOMAIN` would: a
 * device or group that fails there fails here, with the check's words. */
static int check_viable(Sysroot *sr, const char *xml) {
        _cleanup_(check_report_done) CheckReport rep = {};
        _cleanup_domain_ Domain *d = NULL;
        _cleanup_free_ char *err = NULL;
        int bad = 0;

        int r = domxml_parse(xml, strlen(xml), &d, &err);
        if (r < 0) {
                log_error("the new definition would not be one vfio-hook reads: %s", err ? err : strerror(-r));
                return r;
        }
        r = check_run(sr, d, &rep);
        if (r < 0) {
                log_error("checking the devices: %s", strerror(-r));
                return r;
        }
        for (size_t i = rep.n_host_results; i < rep.n_results; i++) {
                const CheckResult *c = &rep.results[i];
                if (c->status != CHECK_FAIL || (!startswith(c->id, "device:") && !startswith(c->id, "iommu-group:")))
                        continue;
                log_error("%s: %s%s%s", c->id, c->message, c->hint ? "; hint: " : "", c->hint ? c->hint : "");
                bad++;
        }
        return bad > 0 ? -EINVAL : 0;
}

static void print_check(Sysroot *sr, const char *xml) {
        _cleanup_(check_report_done) CheckReport rep = {};
        _cleanup_domain_ Domain *d = NULL;
        _cleanup_free_ char *err = NULL;

        if (domxml_parse(xml, strlen(xml), &d, &err) < 0 || check_run(sr, d, &rep) < 0) {
                log_warning("cannot check the new definition: %s", err ? err : "out of memory");
                return;
        }
        printf("\nvfio-hook check %s:\n", d->name);
        check_print_domain_text(&rep, stdout);
        size_t fail = 0;
        for (size_t i = rep.n_host_results; i < rep.n_results; i++)
                fail += rep.results[i].status == CHECK_FAIL;
        if (fail > 0)
                printf("%zu check%s failed: see `vfio-hook check %s` before starting it\n", fail, fail == 1 ? "" : "s",
                       d->name);
}

static int print_diff(const char *name, const char *before_raw, const char *after) {
        _cleanup_free_ char *before = NULL, *err = NULL, *d = NULL, *la = NULL, *lb = NULL;
        int r = domedit_normalize(before_raw, strlen(before_raw), &before, &err);
        if (r < 0) {
                log_error("%s", err ? err : strerror(-r));
                return r;
        }
        la = strf("%s.xml (now)", name);
        lb = strf("%s.xml (after)", name);
        if (!la || !lb || udiff(before, after, la, lb, 3, &d) < 0)
                return -ENOMEM;
        fputs(d, stdout);
        return 0;
}

/* Everything that is ours taken off a definition: the hostdevs in devs and
 * both metadata elements. What is left must be the same before and after
 * a change, else libvirt added something on its own. */
static int strip_ours(const char *xml, const PciAddr *devs, size_t n, char **ret) {
        _cleanup_free_ char *a = NULL, *b = NULL, *err = NULL;
        size_t removed;
        int r = domedit_remove_hostdevs(xml, strlen(xml), devs, n, &a, &removed, &err);
        if (r >= 0)
                r = domedit_set_metadata(a, strlen(a), POLICY_NAMESPACE, POLICY_KEY, NULL, &b, &err);
        if (r >= 0)
                r = domedit_set_metadata(b, strlen(b), ENABLED_NAMESPACE, ENABLED_KEY, NULL, ret, &err);
        return r;
}

static void verify_untouched(const char *name, const char *before, const char *after, const PciAddr *devs, size_t n) {
        _cleanup_free_ char *x = NULL, *y = NULL, *d = NULL;
        if (strip_ours(before, devs, n, &x) < 0 || strip_ours(after, devs, n, &y) < 0 ||
            udiff(x, y, "before", "after", 3, &d) < 0) {
                log_warning("cannot compare the definitions before and after");
                return;
        }
        if (d[0])
                log_warning("libvirt changed more of %s's definition than vfio-hook asked for; disable will not undo "
                            "this:\n%s",
                            name, d);
}

typedef struct Ctx {
        const Options *o;
        const char *name;
        Sysroot *sr;
        VirtDomInfo info;
} Ctx;

static void ctx_done(Ctx *c) {
        sysroot_free(c->sr);
        virtdom_info_done(&c->info);
}

/* libvirt's failures: a missing or transient domain is the user's input (2),
 * the rest failed (1). Nothing was changed either way. */
static int libvirt_exit(int r) {
        return r == -ENOENT || r == -EMEDIUMTYPE ? EXIT_BAD_INPUT : EXIT_FAILED;
}

/* -1 to go on, else the exit code. */
static int ctx_open(Ctx *c, const Options *o, char **pos, int n_pos, const char *cmd) {
        char q[VALUE_QUOTE_BUFSZ];

        c->o = o;
        if (n_pos != 1) {
                log_error("%s takes one DOMAIN (see --help)", cmd);
                return EXIT_BAD_INPUT;
        }
        c->name = pos[0];
        if (!domain_name_valid(c->name)) {
                log_error("'%s' is not a domain name vfio-hook accepts (letters, digits and _.@:+- only)",
                          value_quote(c->name, q));
                return EXIT_BAD_INPUT;
        }
        int r = sysroot_open(o->sysroot, &c->sr);
        if (r < 0) {
                log_error("cannot open the sysroot %s: %s", o->sysroot, strerror(-r));
                return EXIT_BAD_INPUT;
        }
        return -1; /* go on */
}

/* The domain's definition, and what enable recorded in it. */
static int ctx_fetch(Ctx *c, DomEditState *st) {
        _cleanup_free_ char *err = NULL;
        int r = virtdom_fetch(c->o->connect, c->name, c->o->dry_run, LIBVIRT_TIMEOUT, &c->info, &err);
        if (r < 0) {
                log_error("%s", err ? err : strerror(-r));
                return libvirt_exit(r);
        }
        r = domedit_read_state(c->info.xml, strlen(c->info.xml), st, &err);
        if (r < 0) {
                log_error("domain %s: %s", c->name, err ? err : strerror(-r));
                return EXIT_BAD_INPUT;
        }
        return -1;
}

static void say_running(const Ctx *c) {
        if (c->info.active)
                printf("%s is running: the change applies at its next start (virsh shutdown %s, then virsh start %s).\n",
                       c->name, c->name, c->name);
}

int enable_command(const Options *o, char **pos, int n_pos) {
        _cleanup_(ctx_done) Ctx c = {};
        _cleanup_(domedit_state_done) DomEditState st = {};
        _cleanup_free_ PciAddr *devs = NULL, *added = NULL, *all = NULL;
        _cleanup_free_ char *err = NULL, *policy = NULL, *with_devs = NULL, *record = NULL, *mid = NULL,
                            *preview = NULL, *now = NULL, *list = NULL;
        size_t n_devs = 0, n_added = 0, n_all = 0;
        int r;

        r = ctx_open(&c, o, pos, n_pos, "enable");
        if (r >= 0)
                return r;

        r = enable_resolve_devices(c.sr, o->devices, (size_t) o->n_devices, &devs, &n_devs, &err);
        if (r < 0) {
                log_error("%s", err ? err : strerror(-r));
                return r == -EINVAL ? EXIT_BAD_INPUT : EXIT_FAILED;
        }
        if (o->policy_from && read_policy_file(o->policy_from, &policy) < 0)
                return EXIT_BAD_INPUT;
        r = ctx_fetch(&c, &st);
        if (r >= 0)
                return r;

        const char *xml = c.info.xml;
        /* A policy already there stays, unless a new one is given. */
        bool set_policy = policy || !st.has_policy;
        if (!policy && set_policy && !(policy = strdup("<policy/>")))
                return EXIT_FAILED;

        r = domedit_add_hostdevs(xml, strlen(xml), devs, n_devs, &with_devs, &added, &n_added, &err);
        if (r < 0) {
                log_error("domain %s: %s", c.name, err ? err : strerror(-r));
                return EXIT_BAD_INPUT;
        }
        /* The record: what earlier runs added, and what this one adds. */
        for (size_t i = 0; i < st.n_recorded; i++)
                if (domedit_addr_add(&all, &n_all, &st.recorded[i]) < 0)
                        return EXIT_FAILED;
        for (size_t i = 0; i < n_added; i++)
                if (domedit_addr_add(&all, &n_all, &added[i]) < 0)
                        return EXIT_FAILED;
        domedit_sort_addrs(all, n_all);
        if (domedit_record_xml(all, n_all, &record) < 0)
                return EXIT_FAILED;

        if (set_policy)
                r = domedit_set_metadata(with_devs, strlen(with_devs), POLICY_NAMESPACE, POLICY_KEY, policy, &mid, &err);
        else
                r = (mid = strdup(with_devs)) ? 0 : -ENOMEM;
        if (r >= 0)
                r = domedit_set_metadata(mid, strlen(mid), ENABLED_NAMESPACE, ENABLED_KEY, record, &preview, &err);
        if (r < 0) {
                log_error("domain %s: %s", c.name, err ? err : strerror(-r));
                return EXIT_FAILED;
        }

        r = check_viable(c.sr, preview);
        if (r < 0) {
                log_error("domain %s was not changed", c.name);
                return r == -EINVAL ? EXIT_BAD_INPUT : EXIT_FAILED;
        }

        list = addr_list(added, n_added);
        if (!list)
                return EXIT_FAILED;
        if (o->dry_run) {
                if (print_diff(c.name, xml, preview) < 0)
                        return EXIT_FAILED;
                printf("Dry run: %s would get %s%s%s; nothing was changed.\n", c.name, n_added ? "the hostdevs " : "no new hostdev",
                       list, set_policy ? " and vfio-hook's policy" : "");
                return EXIT_OK;
        }

        if (n_added == 0 && !set_policy && n_all == st.n_recorded) {
                printf("%s: its hostdevs were all there already, and its policy: nothing to change.\n", c.name);
                print_check(c.sr, xml);
                return EXIT_OK;
        }

        VirtDomChange ch = {
                .expect_xml = xml,
                .xml = with_devs,
                .set_policy = set_policy,
                .policy = policy,
                .set_record = true,
                .record = record,
        };
        r = virtdom_change(o->connect, c.name, &ch, LIBVIRT_TIMEOUT, &now, &err);
        if (r < 0) {
                log_error("%s", err ? err : strerror(-r));
                log_error("domain %s was not changed", c.name);
                return libvirt_exit(r);
        }
        verify_untouched(c.name, xml, now, all, n_all);

        if (n_added > 0)
                printf("%s: added %s as managed PCI hostdev%s", c.name, list, n_added == 1 ? "" : "s");
        else
                printf("%s: its hostdevs were all there already", c.name);
        printf("%s.\n", set_policy ? (policy && o->policy_from ? ", and the policy from the file" : ", and the default policy")
                                   : " (its policy is kept)");
        say_running(&c);
        print_check(c.sr, now);
        return EXIT_OK;
}

int disable_command(const Options *o, char **pos, int n_pos) {
        _cleanup_(ctx_done) Ctx c = {};
        _cleanup_(domedit_state_done) DomEditState st = {};
        _cleanup_free_ char *err = NULL, *without = NULL, *mid = NULL, *preview = NULL, *now = NULL, *list = NULL;
        size_t n_removed = 0;
        int r;

        if (o->n_devices > 0 || o->policy_from) {
                log_error("disable takes no --device or --policy-from: it removes what enable added (see --help)");
                return EXIT_BAD_INPUT;
        }
        r = ctx_open(&c, o, pos, n_pos, "disable");
        if (r < 0)
                r = ctx_fetch(&c, &st);
        if (r >= 0)
                return r;

        const char *xml = c.info.xml;
        if (!st.has_policy && st.n_recorded == 0) {
                printf("%s has no vfio-hook policy and no hostdevs enable added: nothing to do.\n", c.name);
                return EXIT_OK;
        }
        r = domedit_remove_hostdevs(xml, strlen(xml), st.recorded, st.n_recorded, &without, &n_removed, &err);
        if (r >= 0)
                r = domedit_set_metadata(without, strlen(without), POLICY_NAMESPACE, POLICY_KEY, NULL, &mid, &err);
        if (r >= 0)
                r = domedit_set_metadata(mid, strlen(mid), ENABLED_NAMESPACE, ENABLED_KEY, NULL, &preview, &err);
        if (r < 0) {
                log_error("domain %s: %s", c.name, err ? err : strerror(-r));
                return EXIT_FAILED;
        }
        list = addr_list(st.recorded, st.n_recorded);
        if (!list)
                return EXIT_FAILED;

        if (o->dry_run) {
                if (print_diff(c.name, xml, preview) < 0)
                        return EXIT_FAILED;
                printf("Dry run: nothing was changed.\n");
                return EXIT_OK;
        }
        /* Our two elements go with the definition: virDomainSetMetadata would
         * leave an empty <metadata/> where there was none. */
        VirtDomChange ch = { .expect_xml = xml, .xml = preview };
        r = virtdom_change(o->connect, c.name, &ch, LIBVIRT_TIMEOUT, &now, &err);
        if (r < 0) {
                log_error("%s", err ? err : strerror(-r));
                log_error("domain %s was not changed", c.name);
                return libvirt_exit(r);
        }
        if (st.n_recorded > 0)
                printf("%s: removed the hostdev%s enable added (%s)%s, and vfio-hook's policy.\n", c.name,
                       st.n_recorded == 1 ? "" : "s", list,
                       n_removed < st.n_recorded ? "; some were gone already" : "");
        else
                printf("%s: removed vfio-hook's policy.\n", c.name);
        say_running(&c);
        return EXIT_OK;
}
