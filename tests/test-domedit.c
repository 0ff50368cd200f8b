/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The XML editing of `vfio-hook enable` and `disable` (src/model/domedit.c) on
 * the domains in tests/data/domains/, and the diff of --dry-run (src/shared/udiff.c). */
#include <check.h>

#include "check-main.h"
#include "model/domedit.h"
#include "model/domxml.h"
#include "shared/udiff.h"
#include "shared/util.h"

#define RNG TEST_SRCDIR "/src/policy.rng"

static char *read_fixture(const char *name) {
        _cleanup_free_ char *path = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        char *buf = calloc(1, 256 * 1024);

        ck_assert_int_ge(asprintf(&path, "%s/tests/data/domains/%s", TEST_SRCDIR, name), 0);
        f = fopen(path, "re");
        ck_assert_msg(f, "cannot open %s", path);
        ck_assert_ptr_nonnull(buf);
        ck_assert_int_gt(fread(buf, 1, 256 * 1024 - 1, f), 0);
        return buf;
}

static PciAddr A(const char *s) {
        PciAddr a;
        ck_assert_int_eq(pci_addr_parse(s, &a), 0);
        return a;
}

static size_t count(const char *hay, const char *needle) {
        size_t n = 0;
        for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

static char *add(const char *xml, const PciAddr *devs, size_t n, size_t expect_added) {
        _cleanup_free_ char *err = NULL;
        _cleanup_free_ PciAddr *added = NULL;
        size_t n_added = 99;
        char *out = NULL;

        int r = domedit_add_hostdevs(xml, strlen(xml), devs, n, &out, &added, &n_added, &err);
        ck_assert_msg(r == 0, "add failed (%d): %s", r, err ? err : "");
        ck_assert_uint_eq(n_added, expect_added);
        return out;
}

#define HOSTDEV_SRC(bus, slot, fn) "<address domain=\"0x0000\" bus=\"" bus "\" slot=\"" slot "\" function=\"" fn "\"/>"
#define GUEST(slot, fn) "<address type=\"pci\" domain=\"0x0000\" bus=\"0x00\" slot=\"" slot "\" function=\"" fn "\""

START_TEST(test_one_function) {
        _cleanup_free_ char *xml = read_fixture("q35-plain.xml");
        PciAddr devs[] = { A("0000:01:00.0") };
        _cleanup_free_ char *out = add(xml, devs, 1, 1);

        ck_assert_uint_eq(count(out, "<hostdev mode=\"subsystem\" type=\"pci\" managed=\"yes\">"), 1);
        ck_assert_ptr_nonnull(strstr(out, HOSTDEV_SRC("0x01", "0x00", "0x0")));
        /* slots 0x01, 0x02 and 0x1f are taken: 0x03, one function, no multifunction */
        ck_assert_ptr_nonnull(strstr(out, GUEST("0x03", "0x0") "/>"));
        ck_assert_ptr_null(strstr(out, "multifunction=\"on\"/>\n      </hostdev>"));
        /* indented as libvirt does, where libvirt writes hostdevs: after the video, before the memballoon */
        ck_assert_ptr_nonnull(strstr(out, "    </video>\n    <hostdev mode=\"subsystem\" "
                                          "type=\"pci\" managed=\"yes\">\n      <source>\n        <address domain="));
        ck_assert_ptr_nonnull(strstr(out, "\"/>\n    </hostdev>\n    <memballoon model=\"none\"/>\n  </devices>\n</domain>\n"));
}
END_TEST

START_TEST(test_two_functions) {
        _cleanup_free_ char *xml = read_fixture("q35-plain.xml");
        PciAddr devs[] = { A("0000:01:00.1"), A("0000:01:00.0") };
        _cleanup_free_ char *out = add(xml, devs, 2, 2);
        _cleanup_domain_ Domain *d = NULL;
        _cleanup_free_ char *err = NULL;

        ck_assert_ptr_nonnull(strstr(out, HOSTDEV_SRC("0x01", "0x00", "0x0") "\n      </source>\n      " GUEST("0x03", "0x0")
                                          " multifunction=\"on\"/>"));
        ck_assert_ptr_nonnull(strstr(out, HOSTDEV_SRC("0x01", "0x00", "0x1") "\n      </source>\n      " GUEST("0x03", "0x1") "/>"));
        /* function 0 first, as libvirt wants it */
        ck_assert(strstr(out, HOSTDEV_SRC("0x01", "0x00", "0x0")) < strstr(out, HOSTDEV_SRC("0x01", "0x00", "0x1")));
        ck_assert_int_eq(domxml_parse(out, strlen(out), &d, &err), 0);
        ck_assert_uint_eq(d->n_hostdevs, 2);
        ck_assert(d->hostdevs[0].managed);
}
END_TEST

START_TEST(test_four_functions) {
        _cleanup_free_ char *xml = read_fixture("q35-plain.xml");
        /* A Turing card: VGA, HD audio, USB 3, USB-C UCSI */
        PciAddr devs[] = { A("0000:01:00.0"), A("0000:01:00.1"), A("0000:01:00.2"), A("0000:01:00.3") };
        _cleanup_free_ char *out = add(xml, devs, 4, 4);

        ck_assert_uint_eq(count(out, "<hostdev "), 4);
        ck_assert_uint_eq(count(out, "multifunction=\"on\""), 2); /* the root port's and ours */
        ck_assert_ptr_nonnull(strstr(out, GUEST("0x03", "0x0") " multifunction=\"on\"/>"));
        for (const char *f = "0123"; *f; f++) {
                char src[128], guest[128];
                snprintf(src, sizeof src, HOSTDEV_SRC("0x01", "0x00", "0x%c"), *f);
                snprintf(guest, sizeof guest, GUEST("0x03", "0x%c"), *f);
                ck_assert_ptr_nonnull(strstr(out, src));
                ck_assert_ptr_nonnull(strstr(out, guest));
        }
}
END_TEST

START_TEST(test_two_devices_in_group) {
        _cleanup_free_ char *xml = read_fixture("q35-plain.xml");
        PciAddr devs[] = { A("0000:02:00.0"), A("0000:01:00.1"), A("0000:01:00.0") };
        _cleanup_free_ char *out = add(xml, devs, 3, 3);

        ck_assert_ptr_nonnull(strstr(out, HOSTDEV_SRC("0x01", "0x00", "0x1") "\n      </source>\n      " GUEST("0x03", "0x1")));
        ck_assert_ptr_nonnull(strstr(out, HOSTDEV_SRC("0x02", "0x00", "0x0") "\n      </source>\n      " GUEST("0x04", "0x0") "/>"));
}
END_TEST

START_TEST(test_without_function_0) {
        _cleanup_free_ char *xml = read_fixture("q35-plain.xml");
        PciAddr devs[] = { A("0000:01:00.2"), A("0000:01:00.3") };
        _cleanup_free_ char *out = add(xml, devs, 2, 2);

        /* A guest slot without function 0 is not scanned: they become 0 and 1. */
        ck_assert_ptr_nonnull(strstr(out, HOSTDEV_SRC("0x01", "0x00", "0x2") "\n      </source>\n      " GUEST("0x03", "0x0")
                                          " multifunction=\"on\"/>"));
        ck_assert_ptr_nonnull(strstr(out, HOSTDEV_SRC("0x01", "0x00", "0x3") "\n      </source>\n      " GUEST("0x03", "0x1") "/>"));
}
END_TEST

START_TEST(test_usb_at_first_slot) {
        _cleanup_free_ char *xml = read_fixture("pc-usb.xml");
        PciAddr devs[] = { A("0000:01:00.0"), A("0000:01:00.1") };
        _cleanup_free_ char *out = add(xml, devs, 2, 2);

        /* 0x02 holds the USB controllers (functions 0 and 7), 0x03 the video: 0x04 */
        ck_assert_uint_eq(count(out, "slot=\"0x02\""), 2);
        ck_assert_ptr_nonnull(strstr(out, GUEST("0x04", "0x0") " multifunction=\"on\"/>"));
        ck_assert_ptr_nonnull(strstr(out, GUEST("0x04", "0x1") "/>"));
}
END_TEST

START_TEST(test_existing_hostdev) {
        _cleanup_free_ char *xml = read_fixture("q35-hostdev.xml");
        PciAddr devs[] = { A("0000:01:00.0"), A("0000:01:00.1") };
        _cleanup_free_ char *out = add(xml, devs, 2, 1);
        _cleanup_free_ char *again = add(out, devs, 2, 0);

        ck_assert_uint_eq(count(out, HOSTDEV_SRC("0x01", "0x00", "0x0")), 1);
        ck_assert_uint_eq(count(out, HOSTDEV_SRC("0x01", "0x00", "0x1")), 1);
        ck_assert_ptr_nonnull(strstr(out, GUEST("0x04", "0x0") "/>"));
        ck_assert_uint_eq(count(out, "managed=\"no\""), 1);
        ck_assert_str_eq(again, out);
}
END_TEST

START_TEST(test_no_free_slot) {
        _cleanup_free_ char *full = read_fixture("q35-plain.xml");
        /* 28 devices fill 0x03..0x1e (0x01, 0x02 and 0x1f are taken): the 29th has no slot */
        PciAddr devs[29];
        for (unsigned i = 0; i < 29; i++)
                devs[i] = (PciAddr) { 0, 0x10 + i, 0, 0 };
        _cleanup_free_ char *out = add(full, devs, 28, 28);
        ck_assert_uint_eq(count(out, "<hostdev "), 28);
        ck_assert_ptr_nonnull(strstr(out, "slot=\"0x1e\" function=\"0x0\"/>"));
        _cleanup_free_ char *err = NULL, *out2 = NULL;
        _cleanup_free_ PciAddr *added = NULL;
        size_t n_added = 0;
        ck_assert_int_eq(domedit_add_hostdevs(full, strlen(full), devs, 29, &out2, &added, &n_added, &err), -ENOSPC);
        ck_assert_ptr_nonnull(strstr(err, "no free slot"));
        ck_assert_ptr_nonnull(strstr(err, "0000:2c:00.0"));
}
END_TEST

/* enable as the command does it, in XML: hostdevs, then the policy and the
 * record as virDomainSetMetadata() puts them. */
static char *enable(const char *xml, const PciAddr *devs, size_t n, const char *policy) {
        _cleanup_free_ char *err = NULL, *a = NULL, *b = NULL, *rec = NULL;
        _cleanup_free_ PciAddr *added = NULL;
        size_t n_added = 0;
        char *c = NULL;

        ck_assert_int_eq(domedit_add_hostdevs(xml, strlen(xml), devs, n, &a, &added, &n_added, &err), 0);
        ck_assert_int_eq(domedit_record_xml(added, n_added, &rec), 0);
        ck_assert_int_eq(domedit_set_metadata(a, strlen(a), POLICY_NAMESPACE, POLICY_KEY, policy, &b, &err), 0);
        ck_assert_int_eq(domedit_set_metadata(b, strlen(b), ENABLED_NAMESPACE, ENABLED_KEY, rec, &c, &err), 0);
        return c;
}

static char *disable(const char *xml) {
        _cleanup_free_ char *err = NULL, *a = NULL, *b = NULL;
        _cleanup_(domedit_state_done) DomEditState s = {};
        size_t n_removed = 0;
        char *c = NULL;

        ck_assert_int_eq(domedit_read_state(xml, strlen(xml), &s, &err), 0);
        ck_assert_int_eq(domedit_remove_hostdevs(xml, strlen(xml), s.recorded, s.n_recorded, &a, &n_removed, &err), 0);
        ck_assert_uint_eq(n_removed, s.n_recorded);
        ck_assert_int_eq(domedit_set_metadata(a, strlen(a), POLICY_NAMESPACE, POLICY_KEY, NULL, &b, &err), 0);
        ck_assert_int_eq(domedit_set_metadata(b, strlen(b), ENABLED_NAMESPACE, ENABLED_KEY, NULL, &c, &err), 0);
        return c;
}

static void round_trip(const char *fixture, const PciAddr *devs, size_t n) {
        _cleanup_free_ char *xml = read_fixture(fixture), *norm = NULL, *err = NULL;
        _cleanup_free_ char *on = enable(xml, devs, n, "<policy/>");
        _cleanup_free_ char *off = disable(on);
        _cleanup_(domedit_state_done) DomEditState s = {};
        _cleanup_domain_ Domain *d = NULL;

        ck_assert_int_eq(domedit_normalize(xml, strlen(xml), &norm, &err), 0);
        ck_assert_str_eq(off, norm);
        /* The enabled domain is one the hook acts on, with the policy it was given. */
        ck_assert_int_eq(domxml_parse(on, strlen(on), &d, &err), 0);
        ck_assert_ptr_nonnull(d->policy);
        ck_assert_int_eq(domedit_read_state(on, strlen(on), &s, &err), 0);
        ck_assert(s.has_policy);
}

START_TEST(test_round_trip) {
        PciAddr one[] = { A("0000:01:00.0") };
        PciAddr two[] = { A("0000:01:00.0"), A("0000:01:00.1") };
        PciAddr four[] = { A("0000:01:00.0"), A("0000:01:00.1"), A("0000:01:00.2"), A("0000:01:00.3") };

        round_trip("q35-plain.xml", one, 1);
        round_trip("q35-plain.xml", two, 2);
        round_trip("q35-plain.xml", four, 4);
        round_trip("pc-usb.xml", two, 2);
        /* It had a policy: disable takes it away (it is enable's to remove). */
        _cleanup_free_ char *xml = read_fixture("q35-hostdev.xml");
        _cleanup_free_ char *on = enable(xml, two, 2, "<policy><stack>nvidia</stack></policy>");
        _cleanup_free_ char *off = disable(on);
        ck_assert_uint_eq(count(off, "<hostdev "), 2);
        ck_assert_ptr_null(strstr(off, "metadata"));
        ck_assert_ptr_null(strstr(off, "0x01\" slot=\"0x00\" function=\"0x1\""));
}
END_TEST

START_TEST(test_metadata) {
        _cleanup_free_ char *xml = read_fixture("q35-plain.xml"), *on = NULL, *err = NULL;
        PciAddr two[] = { A("0000:01:00.0"), A("0000:01:00.1") };
        _cleanup_(domedit_state_done) DomEditState s = {};

        on = enable(xml, two, 2, "<policy><stack>auto</stack><timeout>20</timeout></policy>");
        /* Where libvirt puts <metadata>, indented, with the namespaces libvirt gives them */
        ck_assert_ptr_nonnull(strstr(on, "</uuid>\n  <metadata>\n    <vh:policy xmlns:vh=\"urn:vfio-hook:policy:1\">\n      "
                                         "<vh:stack>auto</vh:stack>\n      <vh:timeout>20</vh:timeout>\n    </vh:policy>\n    "
                                         "<vhe:enabled xmlns:vhe=\"urn:vfio-hook:enabled:1\">\n      <vhe:hostdev "
                                         "address=\"0000:01:00.0\"/>\n      <vhe:hostdev address=\"0000:01:00.1\"/>\n    "
                                         "</vhe:enabled>\n  </metadata>\n  <memory"));
        ck_assert_int_eq(domedit_read_state(on, strlen(on), &s, &err), 0);
        ck_assert_uint_eq(s.n_recorded, 2);
        ck_assert(pci_addr_equal(&s.recorded[1], &two[1]));
        ck_assert_uint_eq(s.n_hostdevs, 2);

        /* Setting it again replaces it. */
        _cleanup_free_ char *again = NULL;
        ck_assert_int_eq(domedit_set_metadata(on, strlen(on), POLICY_NAMESPACE, POLICY_KEY, "<policy/>", &again, &err), 0);
        ck_assert_uint_eq(count(again, "<vh:policy"), 1);
        ck_assert_ptr_null(strstr(again, "<vh:timeout>"));

        /* A broken record is an error naming it, not hostdevs taken at random. */
        _cleanup_free_ char *broken = NULL;
        _cleanup_(domedit_state_done) DomEditState s2 = {};
        ck_assert_int_eq(domedit_set_metadata(on, strlen(on), ENABLED_NAMESPACE, ENABLED_KEY,
                                              "<enabled><hostdev address='1:2'/></enabled>", &broken, &err),
                         0);
        free(err);
        err = NULL;
        ck_assert_int_eq(domedit_read_state(broken, strlen(broken), &s2, &err), -EINVAL);
        ck_assert_ptr_nonnull(strstr(err, "address='1:2'"));
}
END_TEST

START_TEST(test_bad_domain) {
        _cleanup_free_ char *out = NULL, *err = NULL;
        _cleanup_free_ PciAddr *added = NULL;
        size_t n = 0;
        PciAddr one[] = { A("0000:01:00.0") };
        const char *doctype = "<!DOCTYPE d [<!ENTITY e 'x'>]><domain><name>&e;</name></domain>";

        ck_assert_int_eq(domedit_add_hostdevs("<notadomain/>", 13, one, 1, &out, &added, &n, &err), -EINVAL);
        free(err);
        err = NULL;
        ck_assert_int_eq(domedit_add_hostdevs(doctype, strlen(doctype), one, 1, &out, &added, &n, &err), -EINVAL);
        ck_assert_ptr_nonnull(strstr(err, "DOCTYPE"));
}
END_TEST

static int policy(const char *xml, char **ret, char **err) {
        return domedit_policy_element(xml, strlen(xml), RNG, ret, err);
}

START_TEST(test_policy_from_file) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *err = NULL;

        ck_assert_int_eq(policy("<policy>\n  <stack>nvidia</stack>\n  <service>nvidia-persistenced.service</service>\n</policy>\n", &a, &err), 0);
        ck_assert_str_eq(a, "<policy><stack>nvidia</stack><service>nvidia-persistenced.service</service></policy>");
        ck_assert_int_eq(policy("<vh:policy xmlns:vh='urn:vfio-hook:policy:1'><vh:holders>terminate</vh:holders></vh:policy>", &b, &err), 0);
        ck_assert_str_eq(b, "<policy><holders>terminate</holders></policy>");
        ck_assert_int_eq(policy("<policy xmlns='urn:vfio-hook:policy:1'/>", &c, &err), 0);
        ck_assert_str_eq(c, "<policy/>");

        static const struct {
                const char *xml, *error;
        } bad[] = {
                { "<policy><stack>nvidia-open</stack></policy>", "schema" },
                { "<policy><color>red</color></policy>", "schema" },
                { "<policy xmlns='urn:other'/>", "root element must be <policy>" },
                { "<domain/>", "root element must be <policy>" },
                { "<policy>", "not well-formed" },
                { "<!DOCTYPE policy [<!ENTITY a 'auto'>]><policy><stack>&a;</stack></policy>", "DOCTYPE" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *out = NULL, *e = NULL;
                ck_assert_int_eq(policy(bad[i].xml, &out, &e), -EINVAL);
                ck_assert_msg(e && strstr(e, bad[i].error), "%s: error '%s' lacks '%s'", bad[i].xml, e, bad[i].error);
                ck_assert_msg(!strchr(e, '\n'), "error is not one line: %s", e);
        }
        _cleanup_free_ char *out = NULL, *e = NULL;
        ck_assert_int_eq(domedit_policy_element("<policy/>", 9, "/nonexistent/policy.rng", &out, &e), -ENOENT);
}
END_TEST

/* ---- udiff ---------------------------------------------------------------------------------- */

static char *diff(const char *a, const char *b, unsigned ctx) {
        char *out = NULL;
        ck_assert_int_eq(udiff(a, b, "a", "b", ctx, &out), 0);
        return out;
}

START_TEST(test_udiff_simple) {
        _cleanup_free_ char *same = diff("x\ny\n", "x\ny\n", 3);
        ck_assert_str_eq(same, "");

        _cleanup_free_ char *d1 = diff("1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\nfive\n6\n7\n8\n9\n", 3);
        ck_assert_str_eq(d1, "--- a\n+++ b\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");

        /* An insertion at the end, and one at the start, with no context. */
        _cleanup_free_ char *d2 = diff("a\nb\n", "a\nb\nc\n", 3);
        ck_assert_str_eq(d2, "--- a\n+++ b\n@@ -1,2 +1,3 @@\n a\n b\n+c\n");
        _cleanup_free_ char *d3 = diff("a\nb\n", "z\na\nb\n", 0);
        ck_assert_str_eq(d3, "--- a\n+++ b\n@@ -0,0 +1 @@\n+z\n");

        /* Two changes far apart: two hunks; close together: one. */
        _cleanup_free_ char *d4 = diff("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", "0\n2\n3\n4\n5\n6\n7\n8\n9\nX\n", 1);
        ck_assert_str_eq(d4, "--- a\n+++ b\n@@ -1,2 +1,2 @@\n-1\n+0\n 2\n@@ -9,2 +9,2 @@\n 9\n-10\n+X\n");
        _cleanup_free_ char *d5 = diff("1\n2\n3\n4\n", "0\n2\n3\nX\n", 1);
        ck_assert_str_eq(d5, "--- a\n+++ b\n@@ -1,4 +1,4 @@\n-1\n+0\n 2\n 3\n-4\n+X\n");

        _cleanup_free_ char *d6 = diff("a\nb", "a\nc", 3);
        ck_assert_str_eq(d6, "--- a\n+++ b\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n");
        _cleanup_free_ char *d7 = diff("", "a\n", 3);
        ck_assert_str_eq(d7, "--- a\n+++ b\n@@ -0,0 +1 @@\n+a\n");
}
END_TEST

static char **split_lines(const char *s) {
        char **l = NULL;
        for (const char *p = s; *p;) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t) (nl - p) : strlen(p);
                _cleanup_free_ char *line = strndup(p, len);
                ck_assert_int_ge(strv_extend(&l, line), 0);
                p += len + (nl ? 1 : 0);
        }
        if (!l)
                l = calloc(1, sizeof(char *));
        return l;
}

/* Applies a unified diff (as patch would, trusting the line numbers) to a. */
static char *apply(const char *a, const char *d) {
        _cleanup_strv_free_ char **la = NULL, **ld = NULL;
        char *out = NULL;
        size_t size = 0, pos = 0, na;
        FILE *f = open_memstream(&out, &size);

        la = split_lines(a);
        ld = split_lines(d);
        na = strv_length(la);
        for (char **l = ld; *l; l++) {
                unsigned as, ac = 1;
                if (startswith(*l, "---") || startswith(*l, "+++"))
                        continue;
                if (sscanf(*l, "@@ -%u,%u", &as, &ac) >= 1) {
                        size_t start = ac == 0 ? as : as - 1;
                        for (; pos < start; pos++)
                                fprintf(f, "%s\n", la[pos]);
                        continue;
                }
                if (**l == ' ' || **l == '-') {
                        ck_assert_str_eq(*l + 1, la[pos]);
                        pos++;
                }
                if (**l == ' ' || **l == '+')
                        fprintf(f, "%s\n", *l + 1);
        }
        for (; pos < na; pos++)
                fprintf(f, "%s\n", la[pos]);
        fclose(f);
        return out;
}

START_TEST(test_udiff_random) {
        unsigned seed = 14;
        for (int round = 0; round < 300; round++) {
                char a[512] = "", b[512] = "";
                int n = rand_r(&seed) % 30, m = rand_r(&seed) % 30;
                for (int i = 0; i < n; i++)
                        snprintf(a + strlen(a), sizeof a - strlen(a), "%c\n", 'a' + rand_r(&seed) % 4);
                for (int i = 0; i < m; i++)
                        snprintf(b + strlen(b), sizeof b - strlen(b), "%c\n", 'a' + rand_r(&seed) % 4);
                for (unsigned ctx = 0; ctx < 4; ctx++) {
                        _cleanup_free_ char *d = diff(a, b, ctx);
                        _cleanup_free_ char *got = apply(a, d);
                        ck_assert_msg(streq(got, b), "round %d ctx %u:\n%s---\n%s---diff\n%s", round, ctx, a, b, d);
                }
        }
}
END_TEST

START_TEST(test_udiff_enable) {
        _cleanup_free_ char *xml = read_fixture("q35-plain.xml"), *norm = NULL, *err = NULL;
        PciAddr two[] = { A("0000:01:00.0"), A("0000:01:00.1") };
        _cleanup_free_ char *on = enable(xml, two, 2, "<policy/>");
        ck_assert_int_eq(domedit_normalize(xml, strlen(xml), &norm, &err), 0);
        _cleanup_free_ char *d = diff(norm, on, 3);
        /* only added lines, in two hunks: the metadata and the hostdevs */
        ck_assert_uint_eq(count(d, "\n-"), 0);
        ck_assert_uint_eq(count(d, "@@ -"), 2);
        ck_assert_ptr_nonnull(strstr(d, "@@ -1,6 +1,13 @@\n <domain type=\"kvm\">\n   <name>win10</name>\n   <uuid>"));
        _cleanup_free_ char *got = apply(norm, d);
        ck_assert_str_eq(got, on);
}
END_TEST

int main(void) {
        Suite *s = suite_create("domedit");
        TCase *tc = test_tcase("domedit");
        tcase_add_test(tc, test_one_function);
        tcase_add_test(tc, test_two_functions);
        tcase_add_test(tc, test_four_functions);
        tcase_add_test(tc, test_two_devices_in_group);
        tcase_add_test(tc, test_without_function_0);
        tcase_add_test(tc, test_usb_at_first_slot);
        tcase_add_test(tc, test_existing_hostdev);
        tcase_add_test(tc, test_no_free_slot);
        tcase_add_test(tc, test_round_trip);
        tcase_add_test(tc, test_metadata);
        tcase_add_test(tc, test_bad_domain);
        tcase_add_test(tc, test_policy_from_file);
        tcase_add_test(tc, test_udiff_simple);
        tcase_add_test(tc, test_udiff_random);
        tcase_add_test(tc, test_udiff_enable);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}
