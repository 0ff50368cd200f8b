/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The lifetime steps against the fake kernel: a whole cycle with an
 * inhibitor, isolated CPUs and huge pages; a fault at every change and a
 * kill after every step, each leaving the host exactly as before once
 * restored; pools that fall short, need compaction, or are shared. */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "check-main.h"
#include "model/domxml.h"
#include "engine/engine.h"
#include "fakehost.h"
#include "fakekernel.h"
#include "engine/hook.h"
#include "model/journal.h"
#include "engine/lifetime-steps.h"
#include "shared/log.h"
#include "model/plan.h"
#include "testengine.h"
#include "testutil.h"
#include "shared/util.h"

/* Four CPUs, 2000 MiB, a pool of 2 MiB pages with 4 (2 free), a 1 GiB
 * pool, and node 0 with its own share of the 2 MiB pool. */
#define HOST_EXTRA                                                                                                 \
        "file sys/devices/system/cpu/online \"0-3\\n\"\n"                                                           \
        "file proc/meminfo \"MemTotal:        2048000 kB\\nMemFree:         1024000 kB\\n\"\n"                      \
        "file sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages \"4\\n\"\n"                                     \
        "file sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages \"2\\n\"\n"                                   \
        "file sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages \"0\\n\"\n"                                  \
        "file sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages \"0\\n\"\n"                                \
        "file sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages \"4\\n\"\n"                     \
        "file sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages \"2\\n\"\n"

#define POLICY_ALL "<inhibit>sleep</inhibit><isolate cpus='2-3'/><hugepages size='2M'/>"

static Domain *domain_make(const char *name, const char *policy, const char *extra_xml) {
        _cleanup_free_ char *xml = NULL, *err = NULL;
        Domain *d = NULL;
        ck_assert_int_ge(asprintf(&xml,
                                  "<domain type='kvm'><name>%s</name><memory unit='MiB'>64</memory>"
                                  "<memoryBacking><hugepages/></memoryBacking>%s"
                                  "<metadata><vh:policy xmlns:vh='urn:vfio-hook:policy:1'><timeout>1</timeout>%s"
                                  "</vh:policy></metadata><devices><hostdev mode='subsystem' type='pci' managed='yes'>"
                                  "<source><address domain='0' bus='0' slot='1' function='0'/></source></hostdev>"
                                  "</devices></domain>",
                                  name, extra_xml ? extra_xml : "", policy),
                         0);
        ck_assert_msg(domxml_parse(xml, strlen(xml), &d, &err) == 0, "%s", err);
        d->policy->lifetime.hugepages_percent = 50; /* as root's allow-hugepages 50 would */
        return d;
}

static void setup(Fixture *fx, Domain *d) {
        _cleanup_free_ char *spec = NULL;

        ck_assert_int_ge(asprintf(&spec, "include %s/tests/data/qemu-bochs.host\n" HOST_EXTRA, TEST_SRCDIR), 0);
        fixture_setup(fx, spec, d);
}

static char *attr(const Fixture *fx, const char *path) {
        char *v = NULL;
        int r = sysroot_read_linef(fx->e.sr, &v, "%s", path);
        return r < 0 ? strdup("(none)") : v;
}

static void assert_attr(const Fixture *fx, const char *path, const char *want) {
        _cleanup_free_ char *v = attr(fx, path);
        ck_assert_msg(streq(v, want), "%s is '%s', expected '%s'", path, v, want);
}

#define POOL "sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"

START_TEST(test_cycle) {
        Fixture fx = {};
        setup(&fx, domain_make("win10", POLICY_ALL, NULL));
        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_OK);

        _cleanup_free_ char *lock = attr(&fx, "run/fakekernel/inhibitors/vfio-hook-inhibit-win10.service");
        ck_assert_str_eq(lock, "sleep");
        _cleanup_free_ char *all = NULL;
        ck_assert_int_ge(sysroot_read_file(fx.e.sr, "run/fakekernel/inhibitors/vfio-hook-inhibit-win10.service", 4096, &all), 0);
        ck_assert_msg(strstr(all, "vfio-hook: win10 has the GPU"), "%s", all);
        for (size_t i = 0; isolate_units[i]; i++) {
                char p[128];
                snprintf(p, sizeof p, "run/fakekernel/allowedcpus/%s", isolate_units[i]);
                assert_attr(&fx, p, "0-1");
        }
        assert_attr(&fx, POOL, "34"); /* 32 pages needed, 2 were free */
        assert_attr(&fx, "sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "32");

        /* status tells what the domain holds */
        char *out = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&out, &size);
        ck_assert_int_eq(engine_status(&fx.e, false, f), EXIT_OK);
        fclose(f);
        ck_assert_msg(strstr(out, "start-inhibitor     vfio-hook-inhibit-win10.service: inhibitor lock (sleep)"), "%s", out);
        ck_assert_msg(strstr(out, "isolate-cpus        system.slice: AllowedCPUs narrowed (was all)"), "%s", out);
        ck_assert_msg(strstr(out, "raise-hugepages     2048kB: 30 huge pages added (nr_hugepages was 4)"), "%s", out);
        free(out);

        ck_assert_int_eq(engine_release(&fx.e, "win10", 1), EXIT_OK);
        test_assert_tree_is(fx.root, fx.before);
        ck_assert(!fixture_journal_exists(&fx, "win10"));
        fixture_teardown(&fx);
}
END_TEST

static unsigned count_changes(void) {
        Fixture fx = {};
        setup(&fx, domain_make("win10", POLICY_ALL, NULL));
        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_OK);
        unsigned n = fx.fk->changes;
        fixture_teardown(&fx);
        return n;
}

START_TEST(test_fault_at_every_change) {
        unsigned n = count_changes();
        /* inhibitor, 3 slices, the pool; then the hand-off's own */
        ck_assert_uint_ge(n, 5 + 4);
        for (unsigned k = 1; k <= n; k++) {
                Fixture fx = {};
                setup(&fx, domain_make("win10", POLICY_ALL, NULL));
                fx.fk->fail_at = k;
                ck_assert_msg(engine_prepare(&fx.e, fx.d) == EXIT_FAILED, "fault at change %u", k);
                test_assert_tree_is(fx.root, fx.before);
                ck_assert_msg(!fixture_journal_exists(&fx, "win10"), "journal left after a fault at change %u", k);
                fixture_teardown(&fx);
        }
}
END_TEST

START_TEST(test_kill_after_every_step) {
        unsigned n = count_changes();
        for (unsigned k = 1; k <= n; k++) {
                Fixture fx = {};
                setup(&fx, domain_make("win10", POLICY_ALL, NULL));
                pid_t pid = fork();
                ck_assert_int_ge(pid, 0);
                if (pid == 0) {
                        fx.e.abort_after = k;
                        _exit(engine_prepare(&fx.e, fx.d) == EXIT_OK ? 0 : 1);
                }
                int status;
                ck_assert_int_eq(waitpid(pid, &status, 0), pid);
                if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                        fixture_teardown(&fx); /* fewer steps than changes: done */
                        break;
                }
                ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "prepare was not killed after step %u", k);
                ck_assert(fixture_journal_exists(&fx, "win10"));
                fakekernel_free(fx.fk);
                fixture_kernel_open(&fx);
                ck_assert_int_eq(engine_restore(&fx.e, "win10", true), EXIT_OK);
                test_assert_tree_is(fx.root, fx.before);
                ck_assert(!fixture_journal_exists(&fx, "win10"));
                fixture_teardown(&fx);
        }
}
END_TEST

/* The kernel cannot find the pages: prepare fails, saying how many could be
 * had, and gives back the ones it got. */
START_TEST(test_pool_short) {
        Fixture fx = {};
        setup(&fx, domain_make("win10", POLICY_ALL, NULL));
        fx.fk->huge_max = 20;
        fixture_logged_errors[0] = 0;
        log_set_sink(fixture_log_errors, NULL);
        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_FAILED);
        log_set_sink(NULL, NULL);
        ck_assert_msg(strstr(fixture_logged_errors, "the pool 2048kB reached 20 of 34 pages even after compacting memory: 18 of the 32 "
                                     "pages of 2048 kB the domain needs could be had"),
                      "%s", fixture_logged_errors);
        test_assert_tree_is(fx.root, fx.before);
        ck_assert(!fixture_journal_exists(&fx, "win10"));
        fixture_teardown(&fx);
}
END_TEST

/* Free memory too fragmented at first: compaction, then the pages. */
START_TEST(test_pool_needs_compaction) {
        Fixture fx = {};
        setup(&fx, domain_make("win10", "<hugepages size='2M'/>", NULL));
        fx.fk->huge_max = 40;
        fx.fk->huge_fragmented = 10;
        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_OK);
        assert_attr(&fx, POOL, "34");
        char p[700];
        snprintf(p, sizeof p, "%s/compacted", fx.fk->memdir);
        ck_assert_msg(access(p, F_OK) == 0, "memory was not compacted");
        ck_assert_int_eq(engine_release(&fx.e, "win10", 1), EXIT_OK);
        test_assert_tree_is(fx.root, fx.before);
        fixture_teardown(&fx);
}
END_TEST

/* Root's share of RAM: a problem before any change. */
START_TEST(test_pool_limit) {
        Fixture fx = {};
        setup(&fx, domain_make("win10", POLICY_ALL, NULL));
        fx.d->policy->lifetime.hugepages_percent = 3; /* 60 MiB of 2000 */
        fixture_logged_errors[0] = 0;
        log_set_sink(fixture_log_errors, NULL);
        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_FAILED);
        log_set_sink(NULL, NULL);
        ck_assert_msg(strstr(fixture_logged_errors, "huge pages would take 68 MiB of the host's 2000 MiB, more than the 3% root allows"),
                      "%s", fixture_logged_errors);
        ck_assert_uint_eq(fx.fk->changes, 0);
        test_assert_tree_is(fx.root, fx.before);
        fixture_teardown(&fx);
}
END_TEST

/* QEMU taking (n > 0) or freeing (n < 0) pages of the 2 MiB pool. */
static void qemu_pages(Fixture *fx, int n) {
        _cleanup_free_ char *v = attr(fx, "sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages");
        char buf[32];
        snprintf(buf, sizeof buf, "%d\n", atoi(v) - n);
        ck_assert_int_eq(fakehost_file_add(fx->root, "sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", buf,
                                           strlen(buf), 0644),
                         0);
}

/* Two domains in one pool, released in either order: each gives back its own. */
static void two_domains(bool a_first) {
        Fixture fx = {};
        setup(&fx, domain_make("a", "<hugepages size='2M'/>", NULL));
        _cleanup_domain_ Domain *b = domain_make("b", "<hugepages size='2M'/><inhibit>sleep:idle</inhibit>", NULL);
        free(b->hostdevs);
        b->hostdevs = NULL;
        b->n_hostdevs = 0;
        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_OK);
        assert_attr(&fx, POOL, "34");
        qemu_pages(&fx, 32); /* a runs */
        ck_assert_int_eq(engine_prepare(&fx.e, b), EXIT_OK);
        assert_attr(&fx, POOL, "66"); /* a's pages are a's: b adds all its own */
        qemu_pages(&fx, 32); /* b runs */
        assert_attr(&fx, "run/fakekernel/inhibitors/vfio-hook-inhibit-b.service", "sleep:idle");
        qemu_pages(&fx, -32); /* the first stops */
        ck_assert_int_eq(engine_release(&fx.e, a_first ? "a" : "b", 1), EXIT_OK);
        assert_attr(&fx, POOL, a_first ? "36" : "34"); /* a added 30, b 32 */
        qemu_pages(&fx, -32);
        ck_assert_int_eq(engine_release(&fx.e, a_first ? "b" : "a", 1), EXIT_OK);
        test_assert_tree_is(fx.root, fx.before);
        fixture_teardown(&fx);
}

START_TEST(test_two_domains_a_first) {
        two_domains(true);
}
END_TEST

START_TEST(test_two_domains_b_first) {
        two_domains(false);
}
END_TEST

/* A slice narrowed by root already: narrowed further, and put back exactly. */
START_TEST(test_isolate_keeps_roots_setting) {
        Fixture fx = {};
        setup(&fx, domain_make("win10", "<isolate cpus='2'/>", NULL));
        ck_assert_int_eq(fx.fk->ops.allowed_cpus_set(&fx.fk->ops, "user.slice", "1-2", 0, NULL), 0);
        free(fx.before);
        fx.before = test_snapshot(fx.root);
        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_OK);
        assert_attr(&fx, "run/fakekernel/allowedcpus/user.slice", "1");
        assert_attr(&fx, "run/fakekernel/allowedcpus/system.slice", "0-1,3");
        ck_assert_int_eq(engine_release(&fx.e, "win10", 1), EXIT_OK);
        test_assert_tree_is(fx.root, fx.before);

        /* A slice left no CPU: refused, nothing changed. */
        ck_assert_int_eq(fx.fk->ops.allowed_cpus_set(&fx.fk->ops, "user.slice", "2", 0, NULL), 0);
        free(fx.before);
        fx.before = test_snapshot(fx.root);
        fixture_logged_errors[0] = 0;
        log_set_sink(fixture_log_errors, NULL);
        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_FAILED);
        log_set_sink(NULL, NULL);
        ck_assert_msg(strstr(fixture_logged_errors, "user.slice may use CPUs 2 only: isolating would leave it none"), "%s", fixture_logged_errors);
        test_assert_tree_is(fx.root, fx.before);
        fixture_teardown(&fx);
}
END_TEST

/* One domain at a time isolates: two could not be undone apart. */
START_TEST(test_isolate_one_domain_at_a_time) {
        Fixture fx = {};
        setup(&fx, domain_make("a", "<isolate cpus='2'/>", NULL));
        _cleanup_domain_ Domain *b = domain_make("b", "<isolate cpus='3'/>", NULL);
        free(b->hostdevs);
        b->hostdevs = NULL;
        b->n_hostdevs = 0;
        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_OK);
        _cleanup_free_ char *mid = test_snapshot(fx.root);
        fixture_logged_errors[0] = 0;
        log_set_sink(fixture_log_errors, NULL);
        ck_assert_int_eq(engine_prepare(&fx.e, b), EXIT_FAILED);
        log_set_sink(NULL, NULL);
        ck_assert_msg(strstr(fixture_logged_errors, "domain a keeps system.slice off CPUs already"), "%s", fixture_logged_errors);
        test_assert_tree_is(fx.root, mid);
        ck_assert_int_eq(engine_release(&fx.e, "a", 1), EXIT_OK);
        test_assert_tree_is(fx.root, fx.before);
        fixture_teardown(&fx);
}
END_TEST

/* <numatune>: the node's pool, which moves the host's with it. */
START_TEST(test_numa_node_pool) {
        Fixture fx = {};
        setup(&fx, domain_make("win10", "<hugepages size='2M'/>", "<numatune><memory mode='strict' nodeset='0'/></numatune>"));
        ck_assert_int_eq(engine_prepare(&fx.e, fx.d), EXIT_OK);
        assert_attr(&fx, "sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages", "34");
        assert_attr(&fx, POOL, "34");
        ck_assert_int_eq(engine_release(&fx.e, "win10", 1), EXIT_OK);
        test_assert_tree_is(fx.root, fx.before);
        fixture_teardown(&fx);
}
END_TEST

/* A journal naming another domain's inhibitor, or a slice of its own
 * choosing, is not acted on. */
START_TEST(test_journal_checked) {
        Fixture fx = {};
        setup(&fx, domain_make("win10", POLICY_ALL, NULL));
        static const char *const bad[] = {
                "step 1 start-inhibitor vfio-hook-inhibit-other.service sleep\n",
                "step 1 start-inhibitor vfio-hook-inhibit-win10.service nap\n",
                "step 1 isolate-cpus machine.slice -\n",
                "step 1 isolate-cpus system.slice 0-3;x\n",
                "step 1 raise-hugepages ../2048kB 0+1\n",
                "step 1 raise-hugepages 2048kB 1\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *text = NULL, *err = NULL;
                Journal j = {};
                ck_assert_int_ge(asprintf(&text, "vfio-hook-journal 1\ndomain win10\nstarted 1 pid 2\n%s", bad[i]), 0);
                ck_assert_msg(journal_parse(text, strlen(text), "win10", &j, &err) == -EINVAL, "accepted: %s", bad[i]);
                journal_done(&j);
        }
        fixture_teardown(&fx);
}
END_TEST

/* The plan: the lifetime steps first, each with what it changes. */
START_TEST(test_plan_text) {
        Fixture fx = {};
        setup(&fx, domain_make("win10", POLICY_ALL, NULL));
        _cleanup_(host_facts_done) HostFacts f = {};
        _cleanup_(plan_done) Plan p = {};
        ck_assert_int_eq(host_facts_gather(fx.e.sr, fx.d, unit_state_from_tree, fx.e.sr, &f), 0);
        ck_assert_int_eq(plan_build(fx.d, &f, &p), 0);
        ck_assert_uint_eq(p.n_problems, 0);
        ck_assert_uint_ge(p.n_steps, 5);
        ck_assert_int_eq(p.steps[0].action, STEP_START_INHIBITOR);
        ck_assert_int_eq(p.steps[1].action, STEP_RAISE_HUGEPAGES);
        ck_assert_int_eq(p.steps[2].action, STEP_ISOLATE_CPUS);
        char *out = NULL;
        size_t size = 0;
        FILE *o = open_memstream(&out, &size);
        plan_print_text(&p, &f, o);
        fclose(o);
        ck_assert_msg(strstr(out, "   1. start-inhibitor     vfio-hook-inhibit-win10.service\n"
                                  "      vfio-hook-inhibit-win10.service: holds a logind inhibitor lock (sleep, "
                                  "\"vfio-hook: win10 has the GPU\") until release: <inhibit>\n"
                                  "   2. raise-hugepages     2048kB\n"
                                  "      2048kB: nr_hugepages 4 -> 34 (2 free, the domain needs 32 pages of 2M), the 30 "
                                  "added given back on release: <hugepages>\n"
                                  "   3. isolate-cpus        system.slice\n"),
                      "%s", out);
        free(out);

        /* A CPU the host lacks: a problem, and the hook refuses with exit 2. */
        plan_done(&p);
        free(fx.d->policy->lifetime.isolate);
        fx.d->policy->lifetime.isolate = calloc(1, sizeof(CpuSet));
        ck_assert_int_eq(cpuset_parse("3-4", false, fx.d->policy->lifetime.isolate), 0);
        ck_assert_int_eq(plan_build(fx.d, &f, &p), 0);
        ck_assert_uint_eq(p.n_problems, 1);
        ck_assert_str_eq(p.problems[0].code, "isolate-cpus");
        fixture_teardown(&fx);
}
END_TEST

/* What libvirt runs: CPUs the host lacks, or none left to it, are bad
 * input (exit 2), checked before anything changes; so is a policy root's
 * config does not allow. */
START_TEST(test_hook_refuses_cpus) {
        Fixture fx = {};
        char conf[700];
        setup(&fx, domain_make("win10", "<isolate cpus='1'/>", NULL));
        snprintf(conf, sizeof conf, "%s.conf", fx.state);
        static const struct {
                const char *conf, *cpus, *want;
        } cases[] = {
                { "allow-isolate 0-7\n", "4-5", "names CPUs this host does not have (it has 0-3)" },
                { "allow-isolate 0-7\n", "0-3", "would leave the host no CPU" },
                { "allow-isolate 2\n", "1-2", "lets a domain take CPUs 2 only" },
                { "", "2", "<isolate> is not allowed" },
                { "allow-isolate 2-\n", "2", "allow-isolate: '2-' is not a CPU list" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *xml = NULL;
                FILE *f = fopen(conf, "we");
                ck_assert_ptr_nonnull(f);
                fputs(cases[i].conf, f);
                fclose(f);
                ck_assert_int_ge(asprintf(&xml,
                                          "<domain><name>win10</name><metadata><vh:policy xmlns:vh='urn:vfio-hook:policy:1'>"
                                          "<isolate cpus='%s'/></vh:policy></metadata></domain>",
                                          cases[i].cpus),
                                 0);
                fixture_logged_errors[0] = 0;
                log_set_sink(fixture_log_errors, NULL);
                int r = hook_prepare(&fx.e, fx.state, "win10", xml, strlen(xml), conf, true);
                log_set_sink(NULL, NULL);
                ck_assert_msg(r == EXIT_BAD_INPUT, "case %zu: exit %d", i, r);
                ck_assert_msg(strstr(fixture_logged_errors, cases[i].want), "case %zu: %s", i, fixture_logged_errors);
                ck_assert_uint_eq(fx.fk->changes, 0);
                test_assert_tree_is(fx.root, fx.before);
        }
        unlink(conf);
        fixture_teardown(&fx);
}
END_TEST

static Suite *lifetime_engine_suite(void) {
        Suite *s = suite_create("lifetime-engine");
        TCase *tc = test_tcase("lifetime-engine");
        tcase_add_test(tc, test_cycle);
        tcase_add_test(tc, test_fault_at_every_change);
        tcase_add_test(tc, test_kill_after_every_step);
        tcase_add_test(tc, test_pool_short);
        tcase_add_test(tc, test_pool_needs_compaction);
        tcase_add_test(tc, test_pool_limit);
        tcase_add_test(tc, test_two_domains_a_first);
        tcase_add_test(tc, test_two_domains_b_first);
        tcase_add_test(tc, test_isolate_keeps_roots_setting);
        tcase_add_test(tc, test_isolate_one_domain_at_a_time);
        tcase_add_test(tc, test_numa_node_pool);
        tcase_add_test(tc, test_journal_checked);
        tcase_add_test(tc, test_plan_text);
        tcase_add_test(tc, test_hook_refuses_cpus);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(lifetime_engine_suite());
}
