/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine against a fake kernel: whole hand-offs, a fault at every
 * change of prepare, a kill after every step, and the odd cases of release. */
#include <check.h>
#include <fcntl.h>
#include <stdarg.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "check-main.h"
#include "model/domxml.h"
#include "engine/engine.h"
#include "fakehost.h"
#include "testutil.h"
#include "fakekernel.h"
#include "model/journal.h"
#include "shared/log.h"
#include "model/plan.h"
#include "shared/util.h"
#include "testengine.h"

static char card0[] = "/dev/dri/card0";
static char *holder_fds[] = { card0, NULL };

static void write_state_file(const Fixture *fx, const char *name, const char *content) {
        int fd = openat(fx->e.state_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, content, strlen(content)), (ssize_t) strlen(content));
        close(fd);
}

/* A host from a spec file of tests/data and extra spec lines (NULL: none),
 * the domain from an example. */
static void setup(Fixture *fx, const char *spec, const char *example, const char *extra_spec) {
        _cleanup_free_ char *text = NULL, *xml = NULL, *err = NULL;
        char path[600];
        Domain *d = NULL;

        snprintf(path, sizeof path, "%s/examples/%s", TEST_SRCDIR, example);
        xml = test_read_file(path);
        ck_assert_msg(domxml_parse(xml, strlen(xml), &d, &err) == 0, "%s", err);
        ck_assert(d->policy);
        d->policy->timeout_sec = 1;
        ck_assert_int_ge(asprintf(&text, "include %s/tests/data/%s\n%s\n", TEST_SRCDIR, spec,
                                  extra_spec ? extra_spec : ""),
                         0);
        fixture_setup(fx, text, d);
        (void) fakekernel_unit_owns(fx->fk, "display-manager.service", 1234);
        (void) fakekernel_unit_owns(fx->fk, "nvidia-persistenced.service", 1301);
}

/* test_domain_new() with a 1 s step timeout in the policy. */
static Domain *domain_new(const char *name, const char *policy, ...) {
        _cleanup_free_ char *p = NULL;
        va_list ap;

        ck_assert_int_ge(asprintf(&p, "<timeout>1</timeout>%s", policy), 0);
        va_start(ap, policy);
        Domain *d = test_domain_newv(name, p, ap);
        va_end(ap);
        return d;
}

/* A host from a fixture of tests/data and extra spec lines, with d as the domain. */
static void setup_host(Fixture *fx, const char *fixture, const char *extra, Domain *d) {
        _cleanup_free_ char *spec = NULL;

        ck_assert_int_ge(asprintf(&spec, "include %s/tests/data/%s.host\n%s\n", TEST_SRCDIR, fixture, extra ? extra : ""),
                         0);
        fixture_setup(fx, spec, d);
}

static char *driver_of(const Fixture *fx, const char *addr) {
        char *d = NULL;
        ck_assert_int_eq(fakehost_pci_driver(fx->root, addr, &d), 0);
        return d;
}

static void assert_driver(const Fixture *fx, const char *addr, const char *want) {
        _cleanup_free_ char *d = driver_of(fx, addr);
        ck_assert_msg(streq_ptr(d, want), "%s is on %s, expected %s", addr, d ? d : "no driver", want);
}

static bool unit_active(const Fixture *fx, const char *unit) {
        UnitState st = UNIT_ABSENT;
        ck_assert_int_eq(fx->fk->ops.unit_state(&fx->fk->ops, unit, &st), 0);
        return st == UNIT_ACTIVE;
}

static char *read_attr(const Fixture *fx, const char *path) {
        char *v = NULL;
        ck_assert_int_eq(sysroot_read_linef(fx->e.sr, &v, "%s", path), 0);
        return v;
}

START_TEST(test_nvidia_cycle) {
        Fixture fx = {};
        setup(&fx, "nvidia-desktop.host", "win10-nvidia.xml", NULL);

        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_OK);
        _cleanup_free_ char *gpu = driver_of(&fx, "0000:01:00.0"), *audio = driver_of(&fx, "0000:01:00.1");
        ck_assert_str_eq(gpu, "vfio-pci");
        ck_assert_str_eq(audio, "vfio-pci");
        _cleanup_free_ char *bind = NULL, *fbdrv = NULL;
        ck_assert_int_eq(sysroot_read_linef(fx.e.sr, &bind, "sys/class/vtconsole/vtcon1/bind"), 0);
        ck_assert_str_eq(bind, "0");
        ck_assert_int_eq(sysroot_link_basenamef(fx.e.sr, &fbdrv, "sys/bus/platform/devices/efi-framebuffer.0/driver"),
                         -ENOENT);
        ck_assert_int_eq(sysroot_existsf(fx.e.sr, "sys/module/nvidia"), 0);
        ck_assert_int_eq(sysroot_existsf(fx.e.sr, "proc/1234"), 0); /* Xorg went with the display manager */
        ck_assert(fixture_journal_exists(&fx, fx.d->name));

        ck_assert_int_eq(engine_release(&fx.e, fx.d->name, 1), EXIT_OK);
        test_assert_tree_is(fx.root, fx.before);
        ck_assert(!fixture_journal_exists(&fx, fx.d->name));
        fixture_teardown(&fx);
}
END_TEST

START_TEST(test_bochs_cycle) {
        Fixture fx = {};
        setup(&fx, "qemu-bochs.host", "win10-nvidia.xml", NULL);
        /* The guest's card sits elsewhere: point the domain at it. */
        fx.d->n_hostdevs = 1;
        ck_assert_int_eq(pci_addr_parse("0000:00:01.0", &fx.d->hostdevs[0].addr), 0);
        strv_free(fx.d->policy->services);
        fx.d->policy->services = NULL;

        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_OK);
        _cleanup_free_ char *gpu = driver_of(&fx, "0000:00:01.0");
        ck_assert_str_eq(gpu, "vfio-pci");
        ck_assert_int_eq(sysroot_existsf(fx.e.sr, "sys/module/bochs"), 0);
        ck_assert_int_eq(engine_release(&fx.e, fx.d->name, 1), EXIT_OK);
        test_assert_tree_is(fx.root, fx.before);
        fixture_teardown(&fx);
}
END_TEST

/* How many changes does a clean prepare make? */
static unsigned count_changes(void) {
        Fixture fx = {};
        setup(&fx, "nvidia-desktop.host", "win10-nvidia.xml", NULL);
        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_OK);
        unsigned n = fx.fk->changes;
        fixture_teardown(&fx);
        return n;
}

START_TEST(test_fault_at_every_change) {
        unsigned n = count_changes();
        ck_assert_uint_ge(n, 9); /* 2 units, vtcon, fb, 4 modules, 2 devices */
        for (unsigned k = 1; k <= n; k++) {
                Fixture fx = {};
                setup(&fx, "nvidia-desktop.host", "win10-nvidia.xml", NULL);
                fx.fk->fail_at = k;
                ck_assert_msg(engine_prepare(&fx.e, fx.d) == EXIT_FAILED, "fault at change %u", k);
                test_assert_tree_is(fx.root, fx.before);
                ck_assert_msg(!fixture_journal_exists(&fx, fx.d->name), "journal left after a fault at change %u", k);
                /* libvirt runs release after a failed prepare: nothing to do. */
                ck_assert_int_eq(engine_release(&fx.e, fx.d->name, 1), EXIT_OK);
                test_assert_tree_is(fx.root, fx.before);
                fixture_teardown(&fx);
        }
}
END_TEST

START_TEST(test_kill_after_every_step) {
        unsigned n = count_changes();
        for (unsigned k = 1; k <= n; k++) {
                Fixture fx = {};
                setup(&fx, "nvidia-desktop.host", "win10-nvidia.xml", NULL);
                pid_t pid = fork();
                ck_assert_int_ge(pid, 0);
                if (pid == 0) {
                        fx.e.abort_after = k;
                        _exit(engine_prepare(&fx.e, fx.d) == EXIT_OK ? 0 : 1);
                }
                int status;
                ck_assert_int_eq(waitpid(pid, &status, 0), pid);
                ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "prepare was not killed after step %u",
                              k);
                ck_assert(fixture_journal_exists(&fx, fx.d->name));

                /* What `vfio-hook restore` does, from a new process's view of the kernel. */
                fakekernel_free(fx.fk);
                fixture_kernel_open(&fx);
                ck_assert_int_eq(engine_release(&fx.e, fx.d->name, 1), EXIT_OK);
                test_assert_tree_is(fx.root, fx.before);
                ck_assert(!fixture_journal_exists(&fx, fx.d->name));
                fixture_teardown(&fx);
        }
}
END_TEST

START_TEST(test_release_twice_and_without_journal) {
        Fixture fx = {};
        setup(&fx, "nvidia-desktop.host", "win10-nvidia.xml", NULL);
        ck_assert_int_eq(engine_release(&fx.e, fx.d->name, 1), EXIT_OK);
        test_assert_tree_is(fx.root, fx.before);
        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_OK);
        ck_assert_int_eq(engine_release(&fx.e, fx.d->name, 1), EXIT_OK);
        ck_assert_int_eq(engine_release(&fx.e, fx.d->name, 1), EXIT_OK);
        test_assert_tree_is(fx.root, fx.before);
        fixture_teardown(&fx);
}
END_TEST

START_TEST(test_release_after_libvirt_reattached) {
        Fixture fx = {};
        setup(&fx, "nvidia-desktop.host", "win10-nvidia.xml", NULL);
        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_OK);
        /* A managed hostdev: libvirt gives it back between stopped and release. */
        PciAddr a;
        ck_assert_int_eq(pci_addr_parse("0000:01:00.1", &a), 0);
        ck_assert_int_eq(fx.fk->ops.device_reattach(&fx.fk->ops, &a, USEC_PER_SEC, NULL), 0);
        ck_assert_int_eq(engine_release(&fx.e, fx.d->name, 1), EXIT_OK);
        test_assert_tree_is(fx.root, fx.before);
        fixture_teardown(&fx);
}
END_TEST

START_TEST(test_holders_refuse) {
        Fixture fx = {};
        setup(&fx, "nvidia-desktop.host", "win10-nvidia.xml", "proc 4000 sleep /dev/dri/card0");
        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_FAILED);
        test_assert_tree_is(fx.root, fx.before);
        ck_assert(!fixture_journal_exists(&fx, fx.d->name));
        fixture_teardown(&fx);
}
END_TEST

START_TEST(test_holders_terminate) {
        Fixture fx = {};
        setup(&fx, "nvidia-desktop.host", "win10-nvidia.xml", "proc 4000 sleep /dev/dri/card0");
        fx.d->policy->holders = HOLDERS_TERMINATE;
        fx.fk->stubborn_pid = 4000; /* ignores SIGTERM: needs SIGKILL */
        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_OK);
        ck_assert_int_eq(sysroot_existsf(fx.e.sr, "proc/4000"), 0);
        ck_assert_int_eq(engine_release(&fx.e, fx.d->name, 1), EXIT_OK);
        /* Everything is back but the process that was terminated. */
        ck_assert_int_eq(fakehost_process_add(fx.root, 4000, "sleep", holder_fds), 0);
        test_assert_tree_is(fx.root, fx.before);
        fixture_teardown(&fx);
}
END_TEST

START_TEST(test_device_hangs) {
        Fixture fx = {};
        setup(&fx, "nvidia-desktop.host", "win10-nvidia.xml", NULL);
        fx.fk->hang_device = strdup("0000:01:00.1");
        usec_t t0 = now_usec();
        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_FAILED);
        ck_assert_uint_lt(now_usec() - t0, 20 * USEC_PER_SEC); /* bounded, not hung */
        test_assert_tree_is(fx.root, fx.before);
        fixture_teardown(&fx);
}
END_TEST

START_TEST(test_conflict_with_other_domain) {
        Fixture fx = {};
        setup(&fx, "nvidia-desktop.host", "win10-nvidia.xml", NULL);
        JournalWriter w;
        ck_assert_int_eq(journal_create(fx.e.state_fd, "other", &fx.d->hostdevs[0].addr, 1, &w), 0);
        journal_writer_close(&w);
        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_FAILED);
        test_assert_tree_is(fx.root, fx.before);
        fixture_teardown(&fx);
}
END_TEST

START_TEST(test_problems_change_nothing) {
        Fixture fx = {};
        setup(&fx, "nonviable-group.host", "win10-nvidia.xml", NULL);
        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_FAILED);
        test_assert_tree_is(fx.root, fx.before);
        ck_assert(!fixture_journal_exists(&fx, fx.d->name));
        fixture_teardown(&fx);
}
END_TEST

/* The kernel lets VFIO use a group whose other members are on pci-stub or on
 * a vfio-pci variant driver (drivers/vfio/group.c): plan, check and the
 * engine's last check apply that one rule, so a clean plan is a clean prepare. */
START_TEST(test_group_member_on_stub_or_vfio_variant) {
        static const char *const drivers[] = { "pci-stub", "mlx5_vfio_pci" };
        for (size_t i = 0; i < ELEMENTSOF(drivers); i++) {
                Fixture fx = {};
                setup(&fx, "nonviable-group.host", "win10-nvidia.xml", NULL);
                ck_assert_int_eq(fakehost_pci_unbind(fx.root, "0000:02:00.0"), 0);
                ck_assert_int_eq(fakehost_pci_driver_add(fx.root, drivers[i], NULL), 0);
                ck_assert_int_eq(fakehost_pci_bind(fx.root, "0000:02:00.0", drivers[i]), 0);
                free(fx.before);
                fx.before = test_snapshot(fx.root);

                _cleanup_(host_facts_done) HostFacts f = {};
                _cleanup_(plan_done) Plan p = {};
                ck_assert_int_eq(host_facts_gather(fx.e.sr, fx.d, host_ops_unit_state, fx.e.ops, &f), 0);
                ck_assert_int_eq(plan_build(fx.d, &f, &p), 0);
                ck_assert_msg(p.n_problems == 0, "%s: plan: %s", drivers[i], p.problems[0].message);

                ck_assert_msg(engine_prepare(&fx.e, fx.d) == EXIT_OK, "prepare with a member on %s", drivers[i]);
                ck_assert_int_eq(engine_release(&fx.e, fx.d->name, 1), EXIT_OK);
                test_assert_tree_is(fx.root, fx.before);
                fixture_teardown(&fx);
        }
}
END_TEST

/* Another domain's journal that cannot be read may hold these devices:
 * prepare stops there rather than let two domains own one device. */
START_TEST(test_conflict_with_unreadable_journal) {
        static const char *const kinds[] = { "corrupt", "fifo" };
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                Fixture fx = {};
                setup(&fx, "nvidia-desktop.host", "win10-nvidia.xml", NULL);
                if (streq(kinds[i], "fifo"))
                        ck_assert_int_eq(mkfifoat(fx.e.state_fd, "other.journal", 0600), 0);
                else
                        write_state_file(&fx, "other.journal", "vfio-hook-journal 1\ndomain other\nbogus\n");
                ck_assert_msg(engine_prepare(&fx.e, fx.d) == EXIT_FAILED, "prepare beside a %s journal", kinds[i]);
                test_assert_tree_is(fx.root, fx.before);
                ck_assert(!fixture_journal_exists(&fx, fx.d->name));
                fixture_teardown(&fx);
        }
}
END_TEST

static char *status_of(Fixture *fx, bool json) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(engine_status(&fx->e, json, f), EXIT_OK);
        fclose(f);
        return buf;
}

/* An unreadable journal is listed with its reason, and the JSON stays JSON. */
START_TEST(test_status_unreadable_journal) {
        Fixture fx = {};
        setup(&fx, "nvidia-desktop.host", "win10-nvidia.xml", NULL);
        write_state_file(&fx, "aaa.journal", "garbage\n");
        ck_assert_int_eq(mkfifoat(fx.e.state_fd, "bbb.journal", 0600), 0);
        write_state_file(&fx, "win10.journal",
                         "vfio-hook-journal 1\ndomain win10\nstarted 1763726400 pid 42\ndevice 0000:01:00.0\n"
                         "step 1 stop-unit display-manager.service\ndone 1\nprepared\n");
        _cleanup_free_ char *json = status_of(&fx, true), *text = status_of(&fx, false);
        ck_assert_str_eq(json, "{\"domains\": ["
                               "{\"domain\": \"aaa\", \"error\": \"journal line 1: not a vfio-hook journal\"}, "
                               "{\"domain\": \"bbb\", \"error\": \"bbb.journal is not a regular file (a FIFO)\"}, "
                               "{\"domain\": \"win10\", \"since\": 1763726400, \"pid\": 42, \"prepared\": true, "
                               "\"devices\": [\"0000:01:00.0\"], "
                               "\"changes\": [{\"action\": \"stop-unit\", \"target\": \"display-manager.service\", "
                               "\"done\": true}]}], \"releases\": []}\n");
        ck_assert_msg(strstr(text, "aaa: journal unreadable: journal line 1: not a vfio-hook journal\n"), "%s", text);
        ck_assert_msg(strstr(text, "bbb: journal unreadable: bbb.journal is not a regular file (a FIFO)\n"), "%s", text);
        ck_assert_msg(strstr(text, "win10: since "), "%s", text);
        fixture_teardown(&fx);
}
END_TEST

START_TEST(test_status) {
        Fixture fx = {};
        setup(&fx, "nvidia-desktop.host", "win10-nvidia.xml", NULL);
        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_OK);
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        ck_assert_int_eq(engine_status(&fx.e, true, f), EXIT_OK);
        fclose(f);
        ck_assert_ptr_nonnull(strstr(buf, "\"domain\": \"win10\""));
        ck_assert_ptr_nonnull(strstr(buf, "\"0000:01:00.0\""));
        ck_assert_ptr_nonnull(strstr(buf, "\"prepared\": true"));
        free(buf);
        ck_assert_int_eq(engine_release(&fx.e, fx.d->name, 1), EXIT_OK);
        fixture_teardown(&fx);
}
END_TEST

START_TEST(test_state_dir_must_be_private) {
        char dir[600], *err = NULL;
        int fd = -1;
        snprintf(dir, sizeof dir, "%s/tests/tmp-engine-%d-open", TEST_BUILDDIR, (int) getpid());
        (void) fakehost_rm_rf(dir);
        ck_assert_int_eq(mkdir(dir, 0700), 0);
        ck_assert_int_eq(chmod(dir, 0777), 0);
        ck_assert_int_eq(engine_open_state_dir(dir, false, &fd, &err), -EPERM);
        ck_assert_ptr_nonnull(strstr(err, "not writable by group or others"));
        free(err);
        (void) fakehost_rm_rf(dir);
}
END_TEST

/* A trailing slash makes open() follow a final symlink whatever O_NOFOLLOW
 * says: the state directory's name is taken without it. */
START_TEST(test_state_dir_trailing_slash_symlink) {
        char dir[600], link[620], with_slash[640], *err = NULL;
        int fd = -1;
        snprintf(dir, sizeof dir, "%s/tests/tmp-engine-%d-slash", TEST_BUILDDIR, (int) getpid());
        snprintf(link, sizeof link, "%s-link", dir);
        snprintf(with_slash, sizeof with_slash, "%s//", link);
        (void) fakehost_rm_rf(dir);
        (void) unlink(link);
        ck_assert_int_eq(mkdir(dir, 0700), 0);
        ck_assert_int_eq(symlink(dir, link), 0);
        ck_assert_int_eq(engine_open_state_dir(with_slash, false, &fd, &err), -ELOOP);
        ck_assert_msg(err && strstr(err, "is a symbolic link"), "%s", err ? err : "(null)");
        free(err);
        err = NULL;
        snprintf(with_slash, sizeof with_slash, "%s/", dir);
        ck_assert_int_eq(engine_open_state_dir(with_slash, false, &fd, &err), 0);
        close(fd);
        (void) unlink(link);
        (void) fakehost_rm_rf(dir);
}
END_TEST

/* Nothing of a journal reaches the terminal raw, not even in an error. */
START_TEST(test_status_escapes) {
        Fixture fx = {};
        setup(&fx, "nvidia-desktop.host", "win10-nvidia.xml", NULL);
        write_state_file(&fx, "win10.journal",
                         "vfio-hook-journal 1\ndomain win10\nstarted 1763726400 pid 42\nkilled 1234 \x1b]0;owned\x07\n");
        write_state_file(&fx, "x.journal", "vfio-hook-journal 1\ndomain x\n\x1b[2J\x1b[31mred 1\n");
        _cleanup_free_ char *text = status_of(&fx, false);
        for (const char *c = text; *c; c++)
                ck_assert_msg(*c == '\n' || ((unsigned char) *c >= 0x20 && (unsigned char) *c < 0x7f),
                              "raw byte 0x%02x in status: %s", (unsigned char) *c, text);
        ck_assert_msg(strstr(text, "win10: journal unreadable: journal line 4: malformed killed record"), "%s", text);
        ck_assert_msg(strstr(text, "x: journal unreadable: journal line 3: unknown record '\\x1b[2J\\x1b[31mred'"), "%s",
                      text);
        fixture_teardown(&fx);
}
END_TEST

/* Logged lines, for what the engine says. */
static char logged[8192];
static void log_to_buffer(int priority, const char *msg, void *userdata) {
        size_t n = strlen(logged);
        snprintf(logged + n, sizeof logged - n, "%s\n", msg);
}

#define JOURNAL_HEAD "vfio-hook-journal 1\ndomain win10\nstarted 1763726400 pid 42\n"

/* Release and restore check every name of the journal again, as prepare
 * checked the policy's: a journal that says stop-unit sshd.service does not
 * make restore start sshd. */
START_TEST(test_release_checks_names_again) {
        Fixture fx = {};
        UnitState st;
        setup(&fx, "nvidia-desktop.host", "win10-nvidia.xml", NULL);
        write_state_file(&fx, "win10.journal", JOURNAL_HEAD "step 1 stop-unit sshd.service\ndone 1\nprepared\n");
        logged[0] = 0;
        log_set_sink(log_to_buffer, NULL);
        ck_assert_int_eq(engine_release(&fx.e, "win10", 1), EXIT_INCOMPLETE);
        log_set_sink(NULL, NULL);
        ck_assert_int_eq(fx.fk->ops.unit_state(&fx.fk->ops, "sshd.service", &st), 0);
        ck_assert_int_eq(st, UNIT_ABSENT);
        ck_assert_msg(strstr(logged, "the journal names sshd.service, which is not on the allowlist"), "%s", logged);
        ck_assert(fixture_journal_exists(&fx, fx.d->name));

        /* Allowed by root's config: started. */
        Config cfg = {};
        ck_assert_int_eq(strv_extend(&cfg.allowed_services, "sshd.service"), 0);
        fx.e.cfg = &cfg;
        ck_assert_int_eq(engine_release(&fx.e, "win10", 1), EXIT_OK);
        ck_assert_int_eq(fx.fk->ops.unit_state(&fx.fk->ops, "sshd.service", &st), 0);
        ck_assert_int_eq(st, UNIT_ACTIVE);
        config_done(&cfg);
        fx.e.cfg = NULL;
        fixture_teardown(&fx);
}
END_TEST

/* A module comes back when it is on the allowlist or claims one of the
 * journal's devices (bochs, found from the card, is on no list). */
START_TEST(test_release_module_names) {
        Fixture fx = {};
        setup(&fx, "qemu-bochs.host", "win10-nvidia.xml", NULL);
        ck_assert_int_eq(fx.fk->ops.module_remove(&fx.fk->ops, "e1000e", USEC_PER_SEC, NULL), 0);
        ck_assert_int_eq(sysroot_existsf(fx.e.sr, "sys/module/e1000e"), 0);

        /* The journal's device is the bochs card: e1000e claims none of them. */
        write_state_file(&fx, "win10.journal",
                         JOURNAL_HEAD "device 0000:00:01.0\nstep 1 unload-module e1000e\ndone 1\nprepared\n");
        logged[0] = 0;
        log_set_sink(log_to_buffer, NULL);
        ck_assert_int_eq(engine_release(&fx.e, "win10", 1), EXIT_INCOMPLETE);
        log_set_sink(NULL, NULL);
        ck_assert_int_eq(sysroot_existsf(fx.e.sr, "sys/module/e1000e"), 0);
        ck_assert_msg(strstr(logged, "the journal names module e1000e, which is not on the allowlist and drives none "
                                     "of its devices"),
                      "%s", logged);

        /* The NIC among its devices: e1000e is what the kernel would load for it. */
        write_state_file(&fx, "win10.journal",
                         JOURNAL_HEAD "device 0000:00:02.0\nstep 1 unload-module e1000e\ndone 1\nprepared\n");
        ck_assert_int_eq(engine_release(&fx.e, "win10", 1), EXIT_OK);
        ck_assert_int_eq(sysroot_existsf(fx.e.sr, "sys/module/e1000e"), 1);
        fixture_teardown(&fx);
}
END_TEST

/* restore leaves a hand-off alone while its domain runs (QEMU has the
 * devices), unless forced; when libvirt cannot say, it does not guess. */
START_TEST(test_restore_running_domain) {
        Fixture fx = {};
        setup(&fx, "nvidia-desktop.host", "win10-nvidia.xml", NULL);
        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_OK);
        _cleanup_free_ char *handed_over = test_snapshot(fx.root);

        ck_assert_int_eq(strv_extend(&fx.fk->running_domains, "win10"), 0);
        logged[0] = 0;
        log_set_sink(log_to_buffer, NULL);
        ck_assert_int_eq(engine_restore(&fx.e, "win10", false), EXIT_FAILED);
        ck_assert_msg(strstr(logged, "domain win10 is running"), "%s", logged);
        ck_assert_msg(strstr(logged, "virsh destroy win10"), "%s", logged);
        ck_assert_msg(strstr(logged, "--force"), "%s", logged);
        test_assert_tree_is(fx.root, handed_over);
        ck_assert(fixture_journal_exists(&fx, fx.d->name));

        fx.fk->domain_query_fails = true;
        logged[0] = 0;
        ck_assert_int_eq(engine_restore(&fx.e, "win10", false), EXIT_FAILED);
        ck_assert_msg(strstr(logged, "cannot tell whether domain win10 is running"), "%s", logged);
        log_set_sink(NULL, NULL);
        test_assert_tree_is(fx.root, handed_over);

        ck_assert_int_eq(engine_restore(&fx.e, "win10", true), EXIT_OK);
        test_assert_tree_is(fx.root, fx.before);
        ck_assert(!fixture_journal_exists(&fx, fx.d->name));

        /* Not running: restored without --force. */
        fx.fk->domain_query_fails = false;
        strv_free(fx.fk->running_domains);
        fx.fk->running_domains = NULL;
        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_OK);
        ck_assert_int_eq(engine_restore(&fx.e, "win10", false), EXIT_OK);
        test_assert_tree_is(fx.root, fx.before);
        fixture_teardown(&fx);
}
END_TEST

/* After release, one line says whether the host came back, in the log and
 * in status; waiting (under the deadline) for what comes back slowly. */
START_TEST(test_release_says_host_restored) {
        Fixture fx = {};
        setup(&fx, "nvidia-desktop.host", "win10-nvidia.xml", NULL);
        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_OK);
        fx.fk->unit_delay = 300 * USEC_PER_MSEC; /* the display manager takes a while */
        logged[0] = 0;
        log_set_sink(log_to_buffer, NULL);
        log_set_quiet(false);
        ck_assert_int_eq(engine_release(&fx.e, "win10", 5), EXIT_OK);
        log_set_sink(NULL, NULL);
        log_set_quiet(true);
        ck_assert_msg(strstr(logged, "host restored in "), "%s", logged);
        UnitState st;
        ck_assert_int_eq(fx.fk->ops.unit_state(&fx.fk->ops, "display-manager.service", &st), 0);
        ck_assert_int_eq(st, UNIT_ACTIVE);

        _cleanup_free_ char *text = status_of(&fx, false), *json = status_of(&fx, true);
        ck_assert_msg(strstr(text, "No domain holds devices.\nwin10: host restored in "), "%s", text);
        ck_assert_msg(strstr(json, "\"releases\": [{\"domain\": \"win10\", \"finished\": "), "%s", json);
        ck_assert_msg(strstr(json, "\"restored\": true, \"missing\": []}]}"), "%s", json);
        fixture_teardown(&fx);
}
END_TEST

START_TEST(test_release_says_what_is_missing) {
        Fixture fx = {};
        setup(&fx, "nvidia-desktop.host", "win10-nvidia.xml", NULL);
        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_OK);
        /* The display manager starts and dies (no GPU for it, say); nvidia_drm
         * cannot be loaded back. */
        fx.fk->dead_unit = strdup("display-manager.service");
        char p[700];
        snprintf(p, sizeof p, "%s.kernel/modules/nvidia_drm", fx.root);
        ck_assert_int_eq(unlink(p), 0);
        logged[0] = 0;
        log_set_sink(log_to_buffer, NULL);
        ck_assert_int_eq(engine_release(&fx.e, "win10", 1), EXIT_INCOMPLETE);
        log_set_sink(NULL, NULL);
        ck_assert_msg(strstr(logged, "host not restored: display-manager.service is not active; module nvidia_drm is "
                                     "not loaded"),
                      "%s", logged);
        ck_assert(fixture_journal_exists(&fx, fx.d->name));

        _cleanup_free_ char *text = status_of(&fx, false), *json = status_of(&fx, true);
        ck_assert_msg(strstr(text, "win10: host not restored (released "), "%s", text);
        ck_assert_msg(strstr(text, "): display-manager.service is not active; module nvidia_drm is not loaded\n"), "%s",
                      text);
        ck_assert_msg(strstr(json, "\"restored\": false, \"missing\": [\"display-manager.service is not active\", "
                                   "\"module nvidia_drm is not loaded\"]}]}"),
                      "%s", json);

        /* restore says it too, and exits 3 while something is missing. */
        ck_assert_int_eq(engine_restore(&fx.e, "win10", true), EXIT_INCOMPLETE);
        free(fx.fk->dead_unit);
        fx.fk->dead_unit = NULL;
        ck_assert_int_eq(engine_restore(&fx.e, "win10", true), EXIT_INCOMPLETE); /* nvidia_drm still missing */
        fixture_teardown(&fx);
}
END_TEST

/* A GPU whose driver was unloaded before its detach goes back to that driver:
 * the check knows which one (the journal has the driver prepare found). */
START_TEST(test_release_checks_the_gpu_driver) {
        Fixture fx = {};
        setup(&fx, "nvidia-desktop.host", "win10-nvidia.xml", NULL);
        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_OK);
        char p[700];
        snprintf(p, sizeof p, "%s.kernel/modules/nvidia", fx.root);
        ck_assert_int_eq(unlink(p), 0); /* nvidia cannot be loaded back */
        logged[0] = 0;
        log_set_sink(log_to_buffer, NULL);
        ck_assert_int_eq(engine_release(&fx.e, "win10", 1), EXIT_INCOMPLETE);
        log_set_sink(NULL, NULL);
        ck_assert_msg(strstr(logged, "module nvidia is not loaded; 0000:01:00.0 is not back on nvidia"), "%s", logged);
        fixture_teardown(&fx);
}
END_TEST

/* ---- hosts with more than one GPU ------------------------------------------------------ */

/* The dual-GPU desktop: the NVIDIA card goes, console, desktop and i915
 * stay as they are throughout. */
START_TEST(test_dual_gpu_cycle) {
        Fixture fx = {};
        setup_host(&fx, "dual-gpu-desktop", NULL,
                   domain_new("win11", "", "0000:01:00.0", "0000:01:00.1", NULL));
        ck_assert_int_eq(fakekernel_unit_owns(fx.fk, "nvidia-persistenced.service", 1301), 0);

        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_OK);
        assert_driver(&fx, "0000:01:00.0", "vfio-pci");
        assert_driver(&fx, "0000:01:00.1", "vfio-pci");
        assert_driver(&fx, "0000:00:02.0", "i915");
        ck_assert_int_eq(sysroot_existsf(fx.e.sr, "sys/module/nvidia"), 0);
        ck_assert_int_gt(sysroot_existsf(fx.e.sr, "sys/module/i915"), 0);
        _cleanup_free_ char *bind = read_attr(&fx, "sys/class/vtconsole/vtcon1/bind");
        ck_assert_str_eq(bind, "1");
        ck_assert(unit_active(&fx, "display-manager.service"));
        ck_assert(!unit_active(&fx, "nvidia-persistenced.service"));
        ck_assert_int_gt(sysroot_existsf(fx.e.sr, "proc/1500"), 0); /* gnome-shell lives on */

        ck_assert_int_eq(engine_release(&fx.e, fx.d->name, 1), EXIT_OK);
        test_assert_tree_is(fx.root, fx.before);
        fixture_teardown(&fx);
}
END_TEST

/* The compositor holds the NVIDIA card: the display manager stops, and
 * its session with it. */
START_TEST(test_dual_gpu_shared_stops_the_desktop) {
        Fixture fx = {};
        setup_host(&fx, "dual-gpu-desktop-shared", NULL,
                   domain_new("win11", "", "0000:01:00.0", "0000:01:00.1", NULL));
        ck_assert_int_eq(fakekernel_unit_owns(fx.fk, "display-manager.service", 1500), 0);
        ck_assert_int_eq(fakekernel_unit_owns(fx.fk, "display-manager.service", 1620), 0);
        ck_assert_int_eq(fakekernel_unit_owns(fx.fk, "nvidia-persistenced.service", 1301), 0);

        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_OK);
        ck_assert(!unit_active(&fx, "display-manager.service"));
        ck_assert_int_eq(sysroot_existsf(fx.e.sr, "proc/1500"), 0);
        _cleanup_free_ char *bind = read_attr(&fx, "sys/class/vtconsole/vtcon1/bind");
        ck_assert_str_eq(bind, "1");
        ck_assert_int_eq(engine_release(&fx.e, fx.d->name, 1), EXIT_OK);
        test_assert_tree_is(fx.root, fx.before);
        fixture_teardown(&fx);
}
END_TEST

/* ... or, when the policy keeps the display manager, prepare refuses the
 * holder by name, with its unit, and changes nothing. */
START_TEST(test_dual_gpu_shared_refused_by_name) {
        Fixture fx = {};
        setup_host(&fx, "dual-gpu-desktop-shared", NULL,
                   domain_new("win11", "<display-manager>keep</display-manager>", "0000:01:00.0", "0000:01:00.1",
                              NULL));
        ck_assert_int_eq(fakekernel_unit_owns(fx.fk, "nvidia-persistenced.service", 1301), 0);
        fixture_logged_errors[0] = 0;
        log_set_sink(fixture_log_errors, NULL);
        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_FAILED);
        log_set_sink(NULL, NULL);
        ck_assert_msg(strstr(fixture_logged_errors, "/dev/dri/card1 is held by pid 1500 (gnome-shell, org.gnome.Shell@wayland.service)"),
                      "%s", fixture_logged_errors);
        test_assert_tree_is(fx.root, fx.before);
        ck_assert(!fixture_journal_exists(&fx, fx.d->name));
        fixture_teardown(&fx);
}
END_TEST

/* A process with the card's HDMI audio open: unbinding the audio function
 * would wait for it (test-vm's alsa-holder shows Linux doing so), so it is
 * a holder like any other. */
START_TEST(test_sound_node_holder) {
        Fixture fx = {};
        setup_host(&fx, "dual-gpu-desktop",
                   "proc 2200 speaker-test /dev/snd/pcmC1D3p /dev/snd/controlC1\n"
                   "file proc/2200/cgroup \"0::/system.slice/hdmi-test.service\\n\"\n",
                   domain_new("win11", "", "0000:01:00.0", "0000:01:00.1", NULL));
        ck_assert_int_eq(fakekernel_unit_owns(fx.fk, "nvidia-persistenced.service", 1301), 0);
        fixture_logged_errors[0] = 0;
        log_set_sink(fixture_log_errors, NULL);
        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_FAILED);
        log_set_sink(NULL, NULL);
        ck_assert_msg(strstr(fixture_logged_errors, "/dev/snd/controlC1 is held by pid 2200 (speaker-test, hdmi-test.service)"), "%s",
                      fixture_logged_errors);
        test_assert_tree_is(fx.root, fx.before);
        fixture_teardown(&fx);

        /* <holders>terminate</holders>: it goes, and so does the card. */
        setup_host(&fx, "dual-gpu-desktop", "proc 2200 speaker-test /dev/snd/controlC1\n",
                   domain_new("win11", "<holders>terminate</holders>", "0000:01:00.0", "0000:01:00.1", NULL));
        ck_assert_int_eq(fakekernel_unit_owns(fx.fk, "nvidia-persistenced.service", 1301), 0);
        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_OK);
        assert_driver(&fx, "0000:01:00.1", "vfio-pci");
        ck_assert_int_eq(sysroot_existsf(fx.e.sr, "proc/2200"), 0);
        ck_assert_int_eq(engine_release(&fx.e, fx.d->name, 1), EXIT_OK);
        fixture_teardown(&fx);
}
END_TEST

/* The server: two domains take one card each, one after the other, and
 * give them back in either order. i915 stays loaded all along, for the
 * other cards; the console on the BMC's VGA is never touched. */
static void server_two_domains(bool a_first) {
        Fixture fx = {};
        _cleanup_domain_ Domain *b = domain_new("vm-b", "", "0000:4e:00.0", NULL);
        setup_host(&fx, "server-bmc", NULL, domain_new("vm-a", "", "0000:4d:00.0", NULL));
        const char *vtcon = "sys/class/vtconsole/vtcon1/bind";

        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_OK);
        assert_driver(&fx, "0000:4d:00.0", "vfio-pci");
        ck_assert_int_eq(engine_prepare(&fx.e, b), EXIT_OK);
        assert_driver(&fx, "0000:4e:00.0", "vfio-pci");
        assert_driver(&fx, "0000:4f:00.0", "i915");
        assert_driver(&fx, "0000:50:00.0", "i915");
        ck_assert_int_gt(sysroot_existsf(fx.e.sr, "sys/module/i915"), 0);
        ck_assert_int_gt(sysroot_existsf(fx.e.sr, "proc/3100"), 0); /* the transcoder never noticed */
        ck_assert(unit_active(&fx, "display-manager.service"));
        _cleanup_free_ char *bind = read_attr(&fx, vtcon), *fb = NULL;
        ck_assert_str_eq(bind, "1");
        ck_assert_int_eq(sysroot_link_basenamef(fx.e.sr, &fb, "sys/bus/platform/devices/simple-framebuffer.0/driver"), 0);
        ck_assert_str_eq(fb, "simple-framebuffer");

        ck_assert_int_eq(engine_release(&fx.e, a_first ? fx.d->name : b->name, 1), EXIT_OK);
        ck_assert_int_gt(sysroot_existsf(fx.e.sr, "sys/module/i915"), 0);
        assert_driver(&fx, a_first ? "0000:4d:00.0" : "0000:4e:00.0", "i915");
        ck_assert_int_eq(engine_release(&fx.e, a_first ? b->name : fx.d->name, 1), EXIT_OK);
        test_assert_tree_is(fx.root, fx.before);
        fixture_teardown(&fx);
}

START_TEST(test_server_two_domains_a_first) {
        server_two_domains(true);
}
END_TEST

START_TEST(test_server_two_domains_b_first) {
        server_two_domains(false);
}
END_TEST

/* Two cards on one module, taken by two domains: the second one must not
 * unload the module the first card goes back to on its release. */
START_TEST(test_last_card_of_a_module) {
        Fixture fx = {};
        _cleanup_domain_ Domain *b = domain_new("vm-b", "", "0000:4e:00.0", NULL);
        setup_host(&fx, "server-bmc", "proc 3100 ffmpeg /dev/null\n", domain_new("vm-a", "", "0000:4d:00.0", NULL));
        /* Only two cards on i915 here. */
        ck_assert_int_eq(fakehost_pci_unbind(fx.root, "0000:4f:00.0"), 0);
        ck_assert_int_eq(fakehost_pci_unbind(fx.root, "0000:50:00.0"), 0);
        free(fx.before);
        fx.before = test_snapshot(fx.root);

        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_OK);
        ck_assert_int_eq(engine_prepare(&fx.e, b), EXIT_OK);
        ck_assert_int_gt(sysroot_existsf(fx.e.sr, "sys/module/i915"), 0);
        ck_assert_int_eq(engine_release(&fx.e, fx.d->name, 1), EXIT_OK);
        assert_driver(&fx, "0000:4d:00.0", "i915");
        ck_assert_int_eq(engine_release(&fx.e, b->name, 1), EXIT_OK);
        test_assert_tree_is(fx.root, fx.before);

        /* The last card on i915, with no other domain to give one back,
         * does take the module with it. */
        ck_assert_int_eq(fakehost_pci_unbind(fx.root, "0000:4d:00.0"), 0);
        ck_assert_int_eq(engine_prepare(&fx.e, b), EXIT_OK);
        ck_assert_int_eq(sysroot_existsf(fx.e.sr, "sys/module/i915"), 0);
        ck_assert_int_eq(engine_release(&fx.e, b->name, 1), EXIT_OK);
        assert_driver(&fx, "0000:4e:00.0", "i915");
        fixture_teardown(&fx);
}
END_TEST

/* A console unbound for a domain whose card was not the console's (two
 * cards, explicit <console>unbind</console>) cannot be bound again while
 * the console's own card is another domain's: fbcon has no frame buffer to
 * draw on and takes the console back by itself when one registers. That is
 * not a host left without its console; a frame buffer with no console bound
 * is. */
START_TEST(test_release_console_without_frame_buffer) {
        Fixture fx = {};
        setup(&fx, "qemu-bochs.host", "win10-nvidia.xml", NULL);
        ck_assert_int_eq(fakehost_vtcon_remove(fx.root, 1), 0); /* fbcon went with the last frame buffer */
        write_state_file(&fx, "win10.journal", JOURNAL_HEAD "step 1 unbind-vtconsole vtcon1\ndone 1\nprepared\n");
        ck_assert_int_eq(engine_release(&fx.e, "win10", 1), EXIT_OK);
        ck_assert(!fixture_journal_exists(&fx, fx.d->name));

        /* A frame buffer is there, and still no console on it: not restored. */
        ck_assert_int_eq(fakehost_graphics_add(fx.root, 0, "bochs-drmdrmfb", "0000:00:01.0"), 0);
        write_state_file(&fx, "win10.journal", JOURNAL_HEAD "step 1 unbind-vtconsole vtcon1\ndone 1\nprepared\n");
        logged[0] = 0;
        log_set_sink(log_to_buffer, NULL);
        ck_assert_int_eq(engine_release(&fx.e, "win10", 1), EXIT_INCOMPLETE);
        log_set_sink(NULL, NULL);
        ck_assert_msg(strstr(logged, "no frame buffer console is bound (vtcon1 was)"), "%s", logged);

        /* ... unless another domain holds a display controller, on which the
         * console may sit: it comes back with that card. */
        ck_assert_int_eq(fakehost_pci_unbind(fx.root, "0000:00:01.0"), 0);
        (void) fakehost_pci_driver_add(fx.root, "vfio-pci", NULL); /* -EEXIST when there */
        ck_assert_int_eq(fakehost_pci_bind(fx.root, "0000:00:01.0", "vfio-pci"), 0);
        write_state_file(&fx, "other.journal",
                         "vfio-hook-journal 1\ndomain other\nstarted 1763726400 pid 43\ndevice 0000:00:01.0\n"
                         "step 1 detach-device 0000:00:01.0 bochs-drm\ndone 1\nprepared\n");
        logged[0] = 0;
        log_set_quiet(false); /* the notice says why */
        log_set_sink(log_to_buffer, NULL);
        ck_assert_int_eq(engine_release(&fx.e, "win10", 1), EXIT_OK);
        log_set_sink(NULL, NULL);
        log_set_quiet(true);
        ck_assert_msg(strstr(logged, "vtcon1 is not back yet: domain other holds 0000:00:01.0"), "%s", logged);
        fixture_teardown(&fx);
}
END_TEST


/* ---- SR-IOV VFs made on prepare, and reset methods (sriov.h) ---- */

#define VFS_POLICY "<vfs pf='0000:3b:00.0' count='4'/>"
#define VFS_RESET_POLICY "<vfs pf='0000:3b:00.0' count='4' autoprobe='no'/><reset device='0000:3d:00.0' method='bus'/>"

static unsigned numvfs(const Fixture *fx) {
        _cleanup_free_ char *v = read_attr(fx, "sys/bus/pci/devices/0000:3b:00.0/sriov_numvfs");
        return (unsigned) atoi(v);
}

/* The domains of the SR-IOV tests: vm-a takes VF 1 (3b:02.1), with the
 * NVMe drive and its reset method when reset is set. */
static Domain *vfs_domain(const char *name, const char *vf, bool reset) {
        return reset ? domain_new(name, VFS_RESET_POLICY, vf, "0000:3d:00.0", NULL) : domain_new(name, VFS_POLICY, vf, NULL);
}

START_TEST(test_vfs_cycle) {
        Fixture fx = {};
        setup_host(&fx, "sriov-nic", NULL, vfs_domain("vm-a", "0000:3b:02.1", false));
        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_OK);
        ck_assert_uint_eq(numvfs(&fx), 4);
        assert_driver(&fx, "0000:3b:02.1", "vfio-pci");
        assert_driver(&fx, "0000:3b:02.0", "iavf"); /* autoprobe as the host has it */
        _cleanup_free_ char *phys = NULL;
        ck_assert_int_eq(sysroot_link_basenamef(fx.e.sr, &phys, "sys/bus/pci/devices/0000:3b:02.3/physfn"), 0);
        ck_assert_str_eq(phys, "0000:3b:00.0");
        ck_assert_int_gt(sysroot_existsf(fx.e.sr, "sys/bus/pci/devices/0000:3b:02.1/iommu_group"), 0);
        ck_assert_int_eq(engine_release(&fx.e, fx.d->name, 1), EXIT_OK);
        test_assert_tree_is(fx.root, fx.before);
        fixture_teardown(&fx);
}
END_TEST

START_TEST(test_vfs_reset_cycle) {
        Fixture fx = {};
        setup_host(&fx, "sriov-nic", NULL, vfs_domain("vm-a", "0000:3b:02.1", true));
        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_OK);
        assert_driver(&fx, "0000:3b:02.0", NULL); /* autoprobe='no' */
        assert_driver(&fx, "0000:3b:02.1", "vfio-pci");
        assert_driver(&fx, "0000:3d:00.0", "vfio-pci");
        _cleanup_free_ char *rm = read_attr(&fx, "sys/bus/pci/devices/0000:3d:00.0/reset_method"),
                            *ap = read_attr(&fx, "sys/bus/pci/devices/0000:3b:00.0/sriov_drivers_autoprobe");
        ck_assert_str_eq(rm, "bus");
        ck_assert_str_eq(ap, "1"); /* back on for later probes */
        _cleanup_free_ char *journal = NULL;
        char p[600];
        snprintf(p, sizeof p, "%s/vm-a.journal", fx.state);
        journal = test_read_file(p);
        ck_assert_msg(strstr(journal, "create-vfs 0000:3b:00.0 4+autoprobe\n"), "%s", journal);
        ck_assert_msg(strstr(journal, "reset-method 0000:3d:00.0 flr+bus\n"), "%s", journal);
        ck_assert_int_eq(engine_release(&fx.e, fx.d->name, 1), EXIT_OK);
        test_assert_tree_is(fx.root, fx.before);
        fixture_teardown(&fx);
}
END_TEST

static unsigned vfs_count_changes(bool reset) {
        Fixture fx = {};
        setup_host(&fx, "sriov-nic", NULL, vfs_domain("vm-a", "0000:3b:02.1", reset));
        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_OK);
        unsigned n = fx.fk->changes;
        fixture_teardown(&fx);
        return n;
}

/* As test_fault_at_every_change and test_kill_after_every_step, for the
 * new steps: with autoprobe left alone, and with autoprobe='no' and a reset
 * method. */
static void vfs_faults(bool reset) {
        unsigned n = vfs_count_changes(reset);
        ck_assert_uint_ge(n, reset ? 6 : 2); /* autoprobe 0, numvfs, autoprobe 1, reset_method, 2 detaches */
        for (unsigned k = 1; k <= n; k++) {
                Fixture fx = {};
                setup_host(&fx, "sriov-nic", NULL, vfs_domain("vm-a", "0000:3b:02.1", reset));
                fx.fk->fail_at = k;
                ck_assert_msg(engine_prepare(&fx.e, fx.d) == EXIT_FAILED, "fault at change %u", k);
                test_assert_tree_is(fx.root, fx.before);
                ck_assert_msg(!fixture_journal_exists(&fx, fx.d->name), "journal left after a fault at change %u", k);
                ck_assert_int_eq(engine_release(&fx.e, fx.d->name, 1), EXIT_OK);
                test_assert_tree_is(fx.root, fx.before);
                fixture_teardown(&fx);
        }
        for (unsigned k = 1; k <= n; k++) {
                Fixture fx = {};
                setup_host(&fx, "sriov-nic", NULL, vfs_domain("vm-a", "0000:3b:02.1", reset));
                pid_t pid = fork();
                ck_assert_int_ge(pid, 0);
                if (pid == 0) {
                        fx.e.abort_after = k;
                        _exit(engine_prepare(&fx.e, fx.d) == EXIT_OK ? 0 : 1);
                }
                int status;
                ck_assert_int_eq(waitpid(pid, &status, 0), pid);
                if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                        /* Fewer steps than changes: prepare finished. */
                        ck_assert_int_eq(engine_release(&fx.e, fx.d->name, 1), EXIT_OK);
                        test_assert_tree_is(fx.root, fx.before);
                        fixture_teardown(&fx);
                        continue;
                }
                ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "prepare was not killed after step %u", k);
                fakekernel_free(fx.fk);
                fixture_kernel_open(&fx);
                ck_assert_int_eq(engine_restore(&fx.e, fx.d->name, true), EXIT_OK);
                test_assert_tree_is(fx.root, fx.before);
                ck_assert(!fixture_journal_exists(&fx, fx.d->name));
                fixture_teardown(&fx);
        }
}

START_TEST(test_vfs_faults) {
        vfs_faults(false);
}
END_TEST

START_TEST(test_vfs_reset_faults) {
        vfs_faults(true);
}
END_TEST

/* Two domains take a VF each of one PF: the first makes the VFs, the
 * second shares them, and whichever goes last removes them. */
static void vfs_two_domains(bool a_first) {
        Fixture fx = {};
        _cleanup_domain_ Domain *b = vfs_domain("vm-b", "0000:3b:02.2", false);
        setup_host(&fx, "sriov-nic", NULL, vfs_domain("vm-a", "0000:3b:02.1", false));

        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_OK);
        ck_assert_int_eq(engine_prepare(&fx.e, b), EXIT_OK);
        assert_driver(&fx, "0000:3b:02.1", "vfio-pci");
        assert_driver(&fx, "0000:3b:02.2", "vfio-pci");
        ck_assert_uint_eq(numvfs(&fx), 4);

        ck_assert_int_eq(engine_release(&fx.e, a_first ? fx.d->name : b->name, 1), EXIT_OK);
        ck_assert_uint_eq(numvfs(&fx), 4); /* the other domain still holds one */
        assert_driver(&fx, a_first ? "0000:3b:02.1" : "0000:3b:02.2", "iavf");
        assert_driver(&fx, a_first ? "0000:3b:02.2" : "0000:3b:02.1", "vfio-pci");
        ck_assert_int_eq(engine_release(&fx.e, a_first ? b->name : fx.d->name, 1), EXIT_OK);
        ck_assert_uint_eq(numvfs(&fx), 0);
        test_assert_tree_is(fx.root, fx.before);
        fixture_teardown(&fx);
}

START_TEST(test_vfs_two_domains_a_first) {
        vfs_two_domains(true);
}
END_TEST

START_TEST(test_vfs_two_domains_b_first) {
        vfs_two_domains(false);
}
END_TEST

/* VFs made by hand stay as they are; another count is refused with who uses them. */
START_TEST(test_vfs_made_by_hand) {
        Fixture fx = {};
        setup_host(&fx, "sriov-nic", NULL, vfs_domain("vm-a", "0000:3b:02.1", false));
        ck_assert_int_eq(fakehost_sriov_set_numvfs(fx.root, "0000:3b:00.0", 2), 0);
        free(fx.before);
        fx.before = test_snapshot(fx.root);
        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_OK);
        assert_driver(&fx, "0000:3b:02.1", "vfio-pci");
        ck_assert_int_eq(engine_release(&fx.e, fx.d->name, 1), EXIT_OK);
        test_assert_tree_is(fx.root, fx.before);
        ck_assert_uint_eq(numvfs(&fx), 2);

        /* VF 3 does not exist with 2 VFs: the kernel changes 2 only through 0. */
        _cleanup_domain_ Domain *c = vfs_domain("vm-c", "0000:3b:02.3", false);
        fixture_logged_errors[0] = 0;
        log_set_sink(fixture_log_errors, NULL);
        ck_assert_int_eq(engine_prepare(&fx.e, c), EXIT_FAILED);
        log_set_sink(NULL, NULL);
        ck_assert_msg(strstr(fixture_logged_errors, "0000:3b:00.0 has 2 VFs already") &&
                              strstr(fixture_logged_errors, "0000:3b:02.0 (iavf), 0000:3b:02.1 (iavf)"),
                      "%s", fixture_logged_errors);
        test_assert_tree_is(fx.root, fx.before);
        fixture_teardown(&fx);
}
END_TEST

/* Bad <vfs> and <reset>: one error naming it, exit 2, nothing changed. */
START_TEST(test_vfs_bad_input) {
        static const struct {
                const char *policy, *dev, *dev2, *want;
        } cases[] = {
                { "<vfs pf='0000:3b:00.0' count='9'/>", "0000:3b:02.1", NULL, "0000:3b:00.0 offers at most 8 VFs" },
                { "<vfs pf='0000:3b:00.0' count='4'/>", "0000:3b:02.1", "0000:3b:03.1",
                  "hostdev 0000:3b:03.1 does not exist and is no VF" },
                { "<vfs pf='0000:3b:00.0' count='4'/>", "0000:3b:03.1", NULL,
                  "none of the domain's hostdevs is one of the VFs it makes (0000:3b:02.0 to 0000:3b:02.3)" },
                { "<vfs pf='0000:3e:00.0' count='2'/>", "0000:3b:02.1", NULL, "0000:3e:00.0 has no SR-IOV capability" },
                { "<vfs pf='0000:3b:00.0' count='1'/>", "0000:3b:02.1", NULL,
                  "none of the domain's hostdevs is one of the VFs it makes (0000:3b:02.0)" },
                { "<vfs pf='0000:3c:00.0' count='1'/>", "0000:3b:02.1", NULL, "there is no PCI device 0000:3c:00.0" },
                { "<vfs pf='0000:3b:00.0' count='1'/>", "0000:3b:00.0", NULL, "0000:3b:00.0 is a <hostdev> of the domain" },
                { "<reset device='0000:3d:00.0' method='device_specific'/>", "0000:3d:00.0", NULL,
                  "0000:3d:00.0 does not offer device_specific (it offers: flr bus)" },
                { "<reset device='0000:3e:00.0' method='flr'/>", "0000:3d:00.0", NULL, "0000:3e:00.0 is not a <hostdev>" },
                { "<reset device='0000:3e:00.0' method='flr'/>", "0000:3e:00.0", NULL, "0000:3e:00.0 has no reset_method" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Fixture fx = {};
                setup_host(&fx, "sriov-nic", NULL, domain_new("vm-a", cases[i].policy, cases[i].dev, cases[i].dev2, NULL));
                fixture_logged_errors[0] = 0;
                log_set_sink(fixture_log_errors, NULL);
                ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_BAD_INPUT);
                log_set_sink(NULL, NULL);
                const char *errors = fixture_logged_errors;
                ck_assert_msg(strstr(errors, cases[i].want), "case %zu: %s", i, errors);
                ck_assert_msg(!strchr(errors, '\n') || strchr(errors, '\n')[1] == 0, "case %zu: more than one line: %s", i,
                              errors);
                test_assert_tree_is(fx.root, fx.before);
                ck_assert(!fixture_journal_exists(&fx, fx.d->name));
                fixture_teardown(&fx);
        }
}
END_TEST

/* A journal of VFs that another domain's journal still holds one of. */
START_TEST(test_vfs_restore_keeps_shared) {
        Fixture fx = {};
        setup_host(&fx, "sriov-nic", NULL, vfs_domain("vm-a", "0000:3b:02.1", false));
        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_OK);
        write_state_file(&fx, "other.journal",
                         "vfio-hook-journal 1\ndomain other\nstarted 1763726400 pid 43\ndevice 0000:3b:02.3\nprepared\n");
        ck_assert_int_eq(engine_release(&fx.e, fx.d->name, 1), EXIT_OK);
        ck_assert_uint_eq(numvfs(&fx), 4);
        fixture_teardown(&fx);
}
END_TEST

static Suite *engine_suite(void) {
        Suite *s = suite_create("engine");
        TCase *tc = test_tcase("engine");
        tcase_add_test(tc, test_nvidia_cycle);
        tcase_add_test(tc, test_bochs_cycle);
        tcase_add_test(tc, test_fault_at_every_change);
        tcase_add_test(tc, test_kill_after_every_step);
        tcase_add_test(tc, test_release_twice_and_without_journal);
        tcase_add_test(tc, test_release_after_libvirt_reattached);
        tcase_add_test(tc, test_holders_refuse);
        tcase_add_test(tc, test_holders_terminate);
        tcase_add_test(tc, test_device_hangs);
        tcase_add_test(tc, test_conflict_with_other_domain);
        tcase_add_test(tc, test_problems_change_nothing);
        tcase_add_test(tc, test_group_member_on_stub_or_vfio_variant);
        tcase_add_test(tc, test_conflict_with_unreadable_journal);
        tcase_add_test(tc, test_status_unreadable_journal);
        tcase_add_test(tc, test_status);
        tcase_add_test(tc, test_state_dir_must_be_private);
        tcase_add_test(tc, test_state_dir_trailing_slash_symlink);
        tcase_add_test(tc, test_status_escapes);
        tcase_add_test(tc, test_release_checks_names_again);
        tcase_add_test(tc, test_release_module_names);
        tcase_add_test(tc, test_restore_running_domain);
        tcase_add_test(tc, test_release_says_host_restored);
        tcase_add_test(tc, test_release_says_what_is_missing);
        tcase_add_test(tc, test_release_checks_the_gpu_driver);
        tcase_add_test(tc, test_release_console_without_frame_buffer);
        tcase_add_test(tc, test_dual_gpu_cycle);
        tcase_add_test(tc, test_dual_gpu_shared_stops_the_desktop);
        tcase_add_test(tc, test_dual_gpu_shared_refused_by_name);
        tcase_add_test(tc, test_sound_node_holder);
        tcase_add_test(tc, test_server_two_domains_a_first);
        tcase_add_test(tc, test_server_two_domains_b_first);
        tcase_add_test(tc, test_last_card_of_a_module);
        tcase_add_test(tc, test_vfs_cycle);
        tcase_add_test(tc, test_vfs_reset_cycle);
        tcase_add_test(tc, test_vfs_faults);
        tcase_add_test(tc, test_vfs_reset_faults);
        tcase_add_test(tc, test_vfs_two_domains_a_first);
        tcase_add_test(tc, test_vfs_two_domains_b_first);
        tcase_add_test(tc, test_vfs_made_by_hand);
        tcase_add_test(tc, test_vfs_bad_input);
        tcase_add_test(tc, test_vfs_restore_keeps_shared);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(engine_suite());
}
