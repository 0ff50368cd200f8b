/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pure parts of src/model/sriov.c: the SR-IOV capability in config space, VF
 * addresses as the kernel computes them, and the journal's forms. */
#include <check.h>

#include "check-main.h"
#include "host/sriov.h"
#include "shared/util.h"

static void put16(uint8_t *c, size_t at, unsigned v) {
        c[at] = (uint8_t) (v & 0xff);
        c[at + 1] = (uint8_t) (v >> 8);
}

/* An extended capability header: id, version 1, next. */
static void put_cap(uint8_t *c, size_t at, unsigned id, unsigned next) {
        uint32_t h = id | 1U << 16 | (uint32_t) next << 20;
        for (int i = 0; i < 4; i++)
                c[at + (size_t) i] = (uint8_t) (h >> (8 * i));
}

START_TEST(test_cap_parse) {
        static uint8_t c[4096];
        SriovCap cap = {};

        memset(c, 0, sizeof c);
        ck_assert_int_eq(sriov_cap_parse(c, 64, &cap), -ENOENT);   /* what non-root reads */
        ck_assert_int_eq(sriov_cap_parse(c, 4096, &cap), -ENOENT); /* no extended capability */

        /* AER at 0x100, ARI at 0x148, SR-IOV at 0x160, as an X710 has them. */
        put_cap(c, 0x100, 0x0001, 0x148);
        put_cap(c, 0x148, 0x000e, 0x160);
        put_cap(c, 0x160, 0x0010, 0);
        put16(c, 0x160 + 0x0e, 64);
        put16(c, 0x160 + 0x10, 0);
        put16(c, 0x160 + 0x14, 16);
        put16(c, 0x160 + 0x16, 1);
        put16(c, 0x160 + 0x1a, 0x154c);
        ck_assert_int_eq(sriov_cap_parse(c, 4096, &cap), 0);
        ck_assert_uint_eq(cap.total, 64);
        ck_assert_uint_eq(cap.num, 0);
        ck_assert_uint_eq(cap.offset, 16);
        ck_assert_uint_eq(cap.stride, 1);
        ck_assert_uint_eq(cap.vf_device, 0x154c);
        ck_assert_int_eq(sriov_cap_parse(c, 0x170, &cap), -EINVAL); /* cut inside the capability */
        ck_assert_int_eq(sriov_cap_parse(c, 0x150, &cap), -EINVAL); /* next points past the end */

        /* A loop, and a pointer back into the legacy space. */
        put_cap(c, 0x160, 0x000b, 0x148);
        ck_assert_int_eq(sriov_cap_parse(c, 4096, &cap), -EINVAL);
        put_cap(c, 0x160, 0x000b, 0x040);
        ck_assert_int_eq(sriov_cap_parse(c, 4096, &cap), -EINVAL);
        put_cap(c, 0x160, 0x000b, 0);
        ck_assert_int_eq(sriov_cap_parse(c, 4096, &cap), -ENOENT);
        memset(c + 0x100, 0xff, 4);
        ck_assert_int_eq(sriov_cap_parse(c, 4096, &cap), -ENOENT);
}
END_TEST

static void expect_vf(const char *pf, unsigned offset, unsigned stride, unsigned n, const char *want) {
        PciAddr a, v;
        char s[PCI_ADDR_STRLEN];
        ck_assert_int_eq(pci_addr_parse(pf, &a), 0);
        ck_assert_int_eq(sriov_vf_addr(&a, offset, stride, n, &v), 0);
        ck_assert_str_eq(pci_addr_format(&v, s), want);
        ck_assert_int_eq(sriov_vf_index(&a, offset, stride, n + 1, &v), (int) n);
        ck_assert_int_eq(sriov_vf_index(&a, offset, stride, n, &v), -ENOENT);
}

START_TEST(test_vf_addr) {
        expect_vf("0000:3b:00.0", 16, 1, 0, "0000:3b:02.0");
        expect_vf("0000:3b:00.0", 16, 1, 7, "0000:3b:02.7");
        expect_vf("0000:3b:00.0", 16, 1, 8, "0000:3b:03.0");
        expect_vf("0000:3b:00.1", 16, 1, 0, "0000:3b:02.1"); /* offset from the PF's own routing ID */
        expect_vf("0000:01:00.0", 1, 1, 0, "0000:01:00.1");   /* QEMU's nvme: VFs right after the PF */
        expect_vf("0000:40:00.0", 254, 2, 1, "0000:41:00.0");  /* past the end of the bus: the next one */
        expect_vf("0001:05:00.0", 0x80, 4, 3, "0001:05:11.4");
        PciAddr a, v;
        ck_assert_int_eq(pci_addr_parse("0000:ff:00.0", &a), 0);
        ck_assert_int_eq(sriov_vf_addr(&a, 256, 1, 0, &v), -ERANGE);
}
END_TEST

START_TEST(test_journal_forms) {
        _cleanup_free_ char *a = reset_methods_to_journal("flr bus"), *b = reset_methods_to_journal(""),
                            *c = reset_methods_to_journal(" device_specific  bus "), *d = reset_methods_from_journal("flr+bus"),
                            *e = reset_methods_from_journal("none");
        ck_assert_str_eq(a, "flr+bus");
        ck_assert_str_eq(b, "none");
        ck_assert_str_eq(c, "device_specific+bus");
        ck_assert_str_eq(d, "flr bus");
        ck_assert_str_eq(e, "");
        ck_assert(reset_methods_journal_valid("flr+bus"));
        ck_assert(reset_methods_journal_valid("none"));
        ck_assert(!reset_methods_journal_valid("flr+"));
        ck_assert(!reset_methods_journal_valid("+flr"));
        ck_assert(!reset_methods_journal_valid("flr++bus"));
        ck_assert(!reset_methods_journal_valid("reboot"));
        ck_assert(!reset_methods_journal_valid(""));
        ck_assert(!reset_methods_journal_valid(NULL));

        unsigned n = 0;
        bool ap = true;
        ck_assert_int_eq(create_vfs_orig_parse("4", &n, &ap), 0);
        ck_assert_uint_eq(n, 4);
        ck_assert(!ap);
        ck_assert_int_eq(create_vfs_orig_parse("256+autoprobe", &n, &ap), 0);
        ck_assert_uint_eq(n, 256);
        ck_assert(ap);
        static const char *const bad[] = { "0", "257", "4+", "4+autoprob", "+autoprobe", "x", "", "-1", "4 " };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ck_assert_msg(create_vfs_orig_parse(bad[i], NULL, NULL) == -EINVAL, "%s", bad[i]);
        ck_assert_int_eq(create_vfs_orig_parse(NULL, NULL, NULL), -EINVAL);

        ck_assert(word_list_contains("flr bus", "bus"));
        ck_assert(word_list_contains("flr bus", "flr"));
        ck_assert(!word_list_contains("af_flr bus", "flr"));
        ck_assert(!word_list_contains("", "flr"));
}
END_TEST

int main(void) {
        Suite *s = suite_create("sriov");
        TCase *tc = test_tcase("sriov");
        tcase_add_test(tc, test_cap_parse);
        tcase_add_test(tc, test_vf_addr);
        tcase_add_test(tc, test_journal_forms);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}
