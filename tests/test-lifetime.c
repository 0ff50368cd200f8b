/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The lifetime elements, pure: CPU lists, <inhibit>, <isolate>,
 * <hugepages> with the domain's memory, root's limits in the config file,
 * and the names the steps derive. */
#include <check.h>
#include <sys/stat.h>

#include "model/lifetime-plan.h"
#include "check-main.h"
#include "model/domxml.h"
#include "engine/lifetime-steps.h"
#include "model/policy.h"
#include "shared/util.h"

static void expect_cpus(const char *s, bool blanks, int want_r, const char *want) {
        CpuSet set;
        int r = cpuset_parse(s, blanks, &set);
        ck_assert_msg(r == want_r, "cpuset_parse(\"%s\") = %d, expected %d", s, r, want_r);
        if (r < 0)
                return;
        _cleanup_free_ char *f = cpuset_format(&set);
        ck_assert_str_eq(f, want);
}

START_TEST(test_cpuset_parse) {
        expect_cpus("0", false, 0, "0");
        expect_cpus("2-7,10-15", false, 0, "2-7,10-15");
        expect_cpus("3,1,2", false, 0, "1-3");
        expect_cpus("0-1,1-2", false, 0, "0-2");
        expect_cpus("", false, 0, "");
        expect_cpus("8191", false, 0, "8191");
        expect_cpus("0-1 4", true, 0, "0-1,4");
        expect_cpus("0-1 4", false, -EINVAL, NULL);
        expect_cpus("8192", false, -ERANGE, NULL);
        expect_cpus("99999999999999999999", false, -ERANGE, NULL);
        const char *bad[] = { "3-1", "1,", ",1", "1,,2", "-1", "1-", "a", "1-2-3", " 1", "1 ", "01", "+1", "0x1",
                              "1;2", "1-2,^1", "1\n" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                expect_cpus(bad[i], false, -EINVAL, NULL);

        CpuSet a, b;
        ck_assert_int_eq(cpuset_parse("0-3", false, &a), 0);
        ck_assert_int_eq(cpuset_parse("2-3", false, &b), 0);
        ck_assert(cpuset_subset(&b, &a));
        ck_assert(!cpuset_subset(&a, &b));
        cpuset_remove_all(&a, &b);
        _cleanup_free_ char *f = cpuset_format(&a);
        ck_assert_str_eq(f, "0-1");
        ck_assert_uint_eq(cpuset_count(&a), 2);
}
END_TEST

/* systemd's AllowedCPUs on D-Bus: CPU n is bit n % 8 of byte n / 8. */
START_TEST(test_cpuset_mask) {
        uint8_t buf[CPUSET_MAX / 8];
        CpuSet s;

        ck_assert_int_eq(cpuset_parse("0-1,4,9", false, &s), 0);
        ck_assert_uint_eq(cpuset_to_mask(&s, buf), 2);
        ck_assert_uint_eq(buf[0], 0x13);
        ck_assert_uint_eq(buf[1], 0x02);
        ck_assert_uint_eq(buf[2], 0);

        ck_assert_int_eq(cpuset_parse("", false, &s), 0);
        ck_assert_uint_eq(cpuset_to_mask(&s, buf), 0);
        ck_assert_int_eq(cpuset_parse("8191", false, &s), 0);
        ck_assert_uint_eq(cpuset_to_mask(&s, buf), CPUSET_MAX / 8);
        ck_assert_uint_eq(buf[CPUSET_MAX / 8 - 1], 0x80);

        const uint8_t m[] = { 0x0f, 0x00, 0x81 };
        ck_assert_int_eq(cpuset_from_mask(m, sizeof m, &s), 0);
        _cleanup_free_ char *f = cpuset_format(&s);
        ck_assert_str_eq(f, "0-3,16,23");
        ck_assert_int_eq(cpuset_from_mask(m, 0, &s), 0);
        ck_assert_uint_eq(cpuset_count(&s), 0);
        /* Trailing zero bytes are fine; a CPU past CPUSET_MAX is not. */
        uint8_t big[CPUSET_MAX / 8 + 1] = { [0] = 1 };
        ck_assert_int_eq(cpuset_from_mask(big, sizeof big, &s), 0);
        big[CPUSET_MAX / 8] = 1;
        ck_assert_int_eq(cpuset_from_mask(big, sizeof big, &s), -ERANGE);
}
END_TEST

START_TEST(test_inhibit_parse) {
        _cleanup_strv_free_ char **l = NULL;
        ck_assert_int_eq(inhibit_parse("sleep:idle:sleep", &l), 0);
        ck_assert_uint_eq(strv_length(l), 2);
        ck_assert_str_eq(l[0], "sleep");
        ck_assert_str_eq(l[1], "idle");
        const char *bad[] = { "", "sleep:", ":sleep", "suspend", "sleep idle", "Sleep", "sleep,idle" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char **x = NULL;
                ck_assert_msg(inhibit_parse(bad[i], &x) == -EINVAL, "'%s' accepted", bad[i]);
        }
}
END_TEST

START_TEST(test_memory_units) {
        uint64_t k;
        ck_assert_int_eq(memory_to_kib("65536", NULL, &k), 0);
        ck_assert_uint_eq(k, 65536);
        ck_assert_int_eq(memory_to_kib("64", "MiB", &k), 0);
        ck_assert_uint_eq(k, 65536);
        ck_assert_int_eq(memory_to_kib("1", "G", &k), 0);
        ck_assert_uint_eq(k, 1048576);
        ck_assert_int_eq(memory_to_kib("1", "GB", &k), 0);
        ck_assert_uint_eq(k, 976563); /* 10^9 bytes, rounded up */
        ck_assert_int_eq(memory_to_kib("1025", "bytes", &k), 0);
        ck_assert_uint_eq(k, 2);
        ck_assert_int_eq(memory_to_kib("16", "EiB", &k), 0);
        ck_assert_int_eq(memory_to_kib("1", "XB", &k), -EINVAL);
        ck_assert_int_eq(memory_to_kib("-1", "KiB", &k), -EINVAL);
        ck_assert_int_eq(memory_to_kib("", "KiB", &k), -EINVAL);
        ck_assert_int_eq(memory_to_kib("18446744073709551615", "MiB", &k), -ERANGE);
}
END_TEST

START_TEST(test_hugepage_need) {
        LifetimePolicy p = { .hugepage_kib = 2048 };
        DomainMemory m = { .memory = (char *) "65536", .hugepages = true };
        HugepageNeed n;
        _cleanup_free_ char *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL;

        ck_assert_int_eq(hugepage_need(&p, &m, &n, NULL), 0);
        ck_assert_uint_eq(n.pages, 32);
        ck_assert_uint_eq(cpuset_count(&n.nodes), 0);
        m.memory = (char *) "65537"; /* a page more for the last KiB */
        ck_assert_int_eq(hugepage_need(&p, &m, &n, NULL), 0);
        ck_assert_uint_eq(n.pages, 33);
        m.numa_mode = (char *) "strict";
        m.numa_nodeset = (char *) "0-1";
        ck_assert_int_eq(hugepage_need(&p, &m, &n, NULL), 0);
        ck_assert_uint_eq(n.pages_per_node, 17);
        m.numa_mode = (char *) "preferred"; /* may come from anywhere */
        ck_assert_int_eq(hugepage_need(&p, &m, &n, NULL), 0);
        ck_assert_uint_eq(cpuset_count(&n.nodes), 0);
        m.numa_mode = (char *) "strict";
        m.numa_nodeset = (char *) "0,^1";
        ck_assert_int_eq(hugepage_need(&p, &m, &n, &e1), -EINVAL);
        ck_assert_msg(strstr(e1, "nodeset='0,^1'"), "%s", e1);
        m.numa_nodeset = NULL;
        m.page_size = (char *) "1";
        m.page_unit = (char *) "G";
        ck_assert_int_eq(hugepage_need(&p, &m, &n, &e2), -EINVAL);
        ck_assert_msg(strstr(e2, "asks for pages of 1048576 KiB"), "%s", e2);
        m.page_unit = (char *) "Z";
        ck_assert_int_eq(hugepage_need(&p, &m, &n, &e3), -EINVAL);
        m.page_size = NULL;
        m.hugepages = false;
        ck_assert_int_eq(hugepage_need(&p, &m, &n, &e4), -EINVAL);
        ck_assert_msg(strstr(e4, "<memoryBacking><hugepages/>"), "%s", e4);
}
END_TEST

START_TEST(test_inhibit_unit_name) {
        char u[INHIBIT_UNIT_MAX], u2[INHIBIT_UNIT_MAX], longname[201];
        inhibit_unit_name("win10", u);
        ck_assert_str_eq(u, "vfio-hook-inhibit-win10.service");
        inhibit_unit_name("my-vm+1@x.y", u);
        ck_assert_str_eq(u, "vfio-hook-inhibit-my\\x2dvm\\x2b1\\x40x.y.service");
        inhibit_unit_name(".hidden", u);
        ck_assert_str_eq(u, "vfio-hook-inhibit-\\x2ehidden.service");
        memset(longname, '-', 200);
        longname[200] = 0;
        inhibit_unit_name(longname, u);
        ck_assert(startswith(u, "vfio-hook-inhibit-hash-"));
        ck_assert_uint_le(strlen(u), 255);
        longname[199] = 'a';
        inhibit_unit_name(longname, u2);
        ck_assert_str_ne(u, u2);

        /* What it gives is what the adapter and the journal take. */
        inhibit_unit_name("my-vm+1@x.y", u);
        ck_assert(inhibit_unit_valid(u));
        ck_assert(inhibit_unit_valid(u2));
        ck_assert(!inhibit_unit_valid(NULL));
        ck_assert(!inhibit_unit_valid("vfio-hook-inhibit-.service"));
        ck_assert(!inhibit_unit_valid("vfio-hook-inhibit-a b.service"));
        ck_assert(!inhibit_unit_valid("vfio-hook-inhibit-x.socket"));
        ck_assert(!inhibit_unit_valid("other-x.service"));
        ck_assert(!inhibit_unit_valid("vfio-hook-inhibit-../x.service"));
}
END_TEST

START_TEST(test_pool_names) {
        int node;
        uint64_t kib, before, added;
        char buf[64];
        ck_assert_int_eq(hugepage_pool_parse("2048kB", &node, &kib), 0);
        ck_assert_int_eq(node, -1);
        ck_assert_int_eq(hugepage_pool_parse("node1:1048576kB", &node, &kib), 0);
        ck_assert_int_eq(node, 1);
        ck_assert_uint_eq(kib, 1048576);
        hugepage_pool_format(1, 1048576, buf);
        ck_assert_str_eq(buf, "node1:1048576kB");
        const char *bad[] = { "4kB", "2048", "node:2048kB", "node1/2048kB", "../2048kB", "2048kB/x", "node99999:2048kB" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ck_assert_msg(hugepage_pool_parse(bad[i], &node, &kib) < 0, "%s", bad[i]);
        ck_assert_int_eq(hugepage_orig_parse("0+32", &before, &added), 0);
        ck_assert_uint_eq(added, 32);
        ck_assert_int_lt(hugepage_orig_parse("0+", &before, &added), 0);
        ck_assert_int_lt(hugepage_orig_parse("-1+2", &before, &added), 0);
        ck_assert(lifetime_orig_valid(STEP_ISOLATE_CPUS, "-"));
        ck_assert(lifetime_orig_valid(STEP_ISOLATE_CPUS, "0-3,8"));
        ck_assert(!lifetime_orig_valid(STEP_ISOLATE_CPUS, "0-3;rm"));
        ck_assert(!lifetime_orig_valid(STEP_ISOLATE_CPUS, NULL));
        ck_assert(lifetime_orig_valid(STEP_START_INHIBITOR, "sleep:idle"));
        ck_assert(!lifetime_orig_valid(STEP_START_INHIBITOR, "sleep:nap"));
        ck_assert(isolate_unit_valid("init.scope"));
        ck_assert(!isolate_unit_valid("machine.slice"));
}
END_TEST

/* ---- the policy elements through the domain XML parser ---- */

#define DOMAIN(policy, rest)                                                                                  \
        "<domain type='kvm'><name>win10</name><memory unit='MiB'>64</memory>" rest                            \
        "<metadata><vh:policy xmlns:vh='urn:vfio-hook:policy:1'>" policy "</vh:policy></metadata></domain>"
#define BACKED "<memoryBacking><hugepages/></memoryBacking>"

static void expect_parse_error(const char *xml, const char *want) {
        Domain *d = NULL;
        _cleanup_free_ char *err = NULL;
        ck_assert_int_eq(domxml_parse(xml, strlen(xml), &d, &err), -EINVAL);
        ck_assert_msg(err && strstr(err, want), "error \"%s\" does not contain \"%s\"", err ? err : "(none)", want);
        ck_assert(!strchr(err, '\n'));
}

START_TEST(test_policy_elements) {
        const char *xml = DOMAIN("<inhibit> sleep:idle </inhibit><vh:isolate cpus='2-3'/><hugepages size='2M'/>", BACKED);
        _cleanup_domain_ Domain *d = NULL;
        _cleanup_free_ char *err = NULL;
        ck_assert_msg(domxml_parse(xml, strlen(xml), &d, &err) == 0, "%s", err);
        ck_assert_uint_eq(strv_length(d->policy->lifetime.inhibit), 2);
        _cleanup_free_ char *cpus = cpuset_format(d->policy->lifetime.isolate);
        ck_assert_str_eq(cpus, "2-3");
        ck_assert_uint_eq(d->policy->lifetime.hugepage_kib, 2048);

        expect_parse_error(DOMAIN("<inhibit>nap</inhibit>", ""), "policy: <inhibit> has invalid value 'nap'");
        expect_parse_error(DOMAIN("<inhibit>sleep</inhibit><inhibit>idle</inhibit>", ""), "<inhibit> appears more than once");
        expect_parse_error(DOMAIN("<inhibit what='x'>sleep</inhibit>", ""), "<inhibit> takes no attributes");
        expect_parse_error(DOMAIN("<isolate cpus='2-'/>", ""), "policy: <isolate cpus='2-'/> is not a CPU list");
        expect_parse_error(DOMAIN("<isolate cpus=''/>", ""), "is not a CPU list");
        expect_parse_error(DOMAIN("<isolate/>", ""), "<isolate> needs cpus=");
        expect_parse_error(DOMAIN("<isolate cpus='1' mode='x'/>", ""), "<isolate> takes only the attribute cpus (found 'mode')");
        expect_parse_error(DOMAIN("<isolate cpus='1'>x</isolate>", ""), "<isolate> must be empty");
        expect_parse_error(DOMAIN("<hugepages size='4K'/>", BACKED), "<hugepages size='4K'/> (expected size='2M' or '1G')");
        expect_parse_error(DOMAIN("<hugepages size='2M'/>", ""), "add <memoryBacking><hugepages/></memoryBacking>");
        expect_parse_error(DOMAIN("<hugepages size='1G'/>",
                                  "<memoryBacking><hugepages><page size='2048' unit='KiB'/></hugepages></memoryBacking>"),
                           "asks for pages of 2048 KiB");
}
END_TEST

/* A domain without our policy never fails on its memory elements. */
START_TEST(test_no_policy_memory_ignored) {
        const char *xml = "<domain><name>x</name><memory unit='parsecs'>many</memory><numatune><memory nodeset='^^'/>"
                          "</numatune></domain>";
        _cleanup_domain_ Domain *d = NULL;
        ck_assert_int_eq(domxml_parse(xml, strlen(xml), &d, NULL), 0);
        ck_assert_ptr_null(d->policy);
}
END_TEST

/* ---- root's limits ---- */

static char *write_conf(const char *content) {
        char *path = NULL;
        ck_assert_int_ge(asprintf(&path, "%s/tests/tmp-lifetime-%d.conf", TEST_BUILDDIR, (int) getpid()), 0);
        FILE *f = fopen(path, "we");
        ck_assert_ptr_nonnull(f);
        fputs(content, f);
        fclose(f);
        chmod(path, 0644);
        return path;
}

static void expect_conf_error(const char *content, const char *want) {
        _cleanup_free_ char *path = write_conf(content), *err = NULL;
        Config c = {};
        ck_assert_int_eq(config_load(path, false, &c, &err), -EINVAL);
        ck_assert_msg(err && strstr(err, want), "error \"%s\" does not contain \"%s\"", err ? err : "", want);
        unlink(path);
}

START_TEST(test_config_limits) {
        _cleanup_free_ char *path = write_conf("allow-inhibit shutdown\nallow-isolate 2-3\nallow-isolate 6\n"
                                               "allow-hugepages 25\n"),
                            *err = NULL;
        _cleanup_(config_done) Config c = {};
        ck_assert_msg(config_load(path, false, &c, &err) == 0, "%s", err);
        unlink(path);
        ck_assert(strv_contains(c.lifetime.allowed_inhibit, "shutdown"));
        _cleanup_free_ char *iso = cpuset_format(c.lifetime.isolate_cpus);
        ck_assert_str_eq(iso, "2-3,6");
        ck_assert_uint_eq(c.lifetime.hugepages_percent, 25);

        expect_conf_error("allow-inhibit nap\n", ":1: allow-inhibit: 'nap' is not one of logind's What=");
        expect_conf_error("allow-isolate 2-\n", ":1: allow-isolate: '2-' is not a CPU list");
        expect_conf_error("allow-hugepages 95\n", ":1: allow-hugepages: '95' is not a percentage of RAM from 1 to 90");
        expect_conf_error("allow-hugepages\n", ":1: allow-hugepages takes one value");
        expect_conf_error("allow-isolate 1 2\n", ":1: allow-isolate takes one value");
}
END_TEST

START_TEST(test_check_allowed) {
        LifetimeConfig c = {};
        CpuSet iso, may;
        char *sleep_only[] = { (char *) "sleep", NULL }, *shutdown[] = { (char *) "shutdown", NULL };
        LifetimePolicy p = { .inhibit = sleep_only };
        _cleanup_free_ char *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL;

        ck_assert_int_eq(lifetime_check_allowed(&p, NULL, "/etc/vfio-hook.conf", NULL), 0);
        p.inhibit = shutdown;
        ck_assert_int_eq(lifetime_check_allowed(&p, &c, "/etc/vfio-hook.conf", &e1), -EPERM);
        ck_assert_msg(strstr(e1, "<inhibit>shutdown</inhibit> is not allowed"), "%s", e1);
        c.allowed_inhibit = shutdown;
        ck_assert_int_eq(lifetime_check_allowed(&p, &c, "/etc/vfio-hook.conf", NULL), 0);

        ck_assert_int_eq(cpuset_parse("2-3", false, &iso), 0);
        p.isolate = &iso;
        ck_assert_int_eq(lifetime_check_allowed(&p, &c, "/etc/vfio-hook.conf", &e2), -EPERM);
        ck_assert_msg(strstr(e2, "no allow-isolate line"), "%s", e2);
        ck_assert_int_eq(cpuset_parse("3-7", false, &may), 0);
        c.isolate_cpus = &may;
        ck_assert_int_eq(lifetime_check_allowed(&p, &c, "/etc/vfio-hook.conf", &e3), -EPERM);
        ck_assert_msg(strstr(e3, "lets a domain take CPUs 3-7 only"), "%s", e3);
        ck_assert_int_eq(cpuset_parse("2-7", false, &may), 0);
        ck_assert_int_eq(lifetime_check_allowed(&p, &c, "/etc/vfio-hook.conf", NULL), 0);

        p.hugepage_kib = 2048;
        ck_assert_int_eq(lifetime_check_allowed(&p, &c, "/etc/vfio-hook.conf", &e4), -EPERM);
        ck_assert_msg(strstr(e4, "no allow-hugepages line"), "%s", e4);
        c.hugepages_percent = 40;
        ck_assert_int_eq(lifetime_check_allowed(&p, &c, "/etc/vfio-hook.conf", NULL), 0);
        ck_assert_uint_eq(p.hugepages_percent, 40);
}
END_TEST

/* ---- the CPU list against the host ---- */

START_TEST(test_check_host) {
        const char *xml = DOMAIN("<isolate cpus='2-3'/>", "");
        _cleanup_domain_ Domain *d = NULL;
        _cleanup_free_ char *e1 = NULL, *e2 = NULL, *e3 = NULL;
        LifetimeFacts f = { .have_cpus = true };
        ck_assert_int_eq(domxml_parse(xml, strlen(xml), &d, NULL), 0);

        ck_assert_int_eq(cpuset_parse("0-3", false, &f.cpus), 0);
        ck_assert_int_eq(lifetime_check_host(d, &f, NULL), 0);
        ck_assert_int_eq(cpuset_parse("0-2", false, &f.cpus), 0);
        ck_assert_int_eq(lifetime_check_host(d, &f, &e1), -EINVAL);
        ck_assert_msg(strstr(e1, "names CPUs this host does not have (it has 0-2)"), "%s", e1);
        ck_assert_int_eq(cpuset_parse("2-3", false, &f.cpus), 0);
        ck_assert_int_eq(lifetime_check_host(d, &f, &e2), -EINVAL);
        ck_assert_msg(strstr(e2, "would leave the host no CPU"), "%s", e2);
        f.have_cpus = false;
        ck_assert_int_eq(lifetime_check_host(d, &f, &e3), -EINVAL);
}
END_TEST

static Suite *lifetime_suite(void) {
        Suite *s = suite_create("lifetime");
        TCase *tc = test_tcase("lifetime");
        tcase_add_test(tc, test_cpuset_parse);
        tcase_add_test(tc, test_cpuset_mask);
        tcase_add_test(tc, test_inhibit_parse);
        tcase_add_test(tc, test_memory_units);
        tcase_add_test(tc, test_hugepage_need);
        tcase_add_test(tc, test_inhibit_unit_name);
        tcase_add_test(tc, test_pool_names);
        tcase_add_test(tc, test_policy_elements);
        tcase_add_test(tc, test_no_policy_memory_ignored);
        tcase_add_test(tc, test_config_limits);
        tcase_add_test(tc, test_check_allowed);
        tcase_add_test(tc, test_check_host);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(lifetime_suite());
}
