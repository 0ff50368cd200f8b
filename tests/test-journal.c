/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The journal's parser on good and bad input, and its writer round trip. */
#include <check.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "check-main.h"
#include "fakehost.h"
#include "model/journal.h"
#include "shared/util.h"

#define HEAD "vfio-hook-journal 1\ndomain win10\nstarted 1763726400 pid 42\ndevice 0000:01:00.0\n"

static int parse(const char *text, const char *domain, Journal *j, char **err) {
        *j = (Journal) {};
        *err = NULL;
        return journal_parse(text, strlen(text), domain, j, err);
}

START_TEST(test_good) {
        Journal j;
        char *err;
        ck_assert_int_eq(parse(HEAD "step 1 stop-unit display-manager.service\ndone 1\n"
                                    "step 2 unbind-framebuffer efi-framebuffer.0 efi-framebuffer\n"
                                    "step 3 detach-device 0000:01:00.0 nvidia\ndone 3\nkilled 1234 Xorg\nprepared\n",
                               "win10", &j, &err),
                         0);
        ck_assert_str_eq(j.domain, "win10");
        ck_assert_int_eq(j.pid, 42);
        ck_assert_uint_eq(j.n_devices, 1);
        ck_assert_uint_eq(j.n_steps, 3);
        ck_assert(j.steps[0].done);
        ck_assert(!j.steps[1].done);
        ck_assert_str_eq(j.steps[1].orig, "efi-framebuffer");
        ck_assert_str_eq(j.steps[2].target, "0000:01:00.0");
        ck_assert(j.prepared);
        ck_assert(!j.truncated);
        ck_assert_str_eq(j.killed[0], "1234 Xorg");
        journal_done(&j);
}
END_TEST

START_TEST(test_truncated_last_line_is_ignored) {
        Journal j;
        char *err;
        ck_assert_int_eq(parse(HEAD "step 1 stop-unit display-manager.service\ndone 1\nstep 2 unbind-vtc", "win10", &j,
                               &err),
                         0);
        ck_assert(j.truncated);
        ck_assert_uint_eq(j.n_steps, 1);
        journal_done(&j);
}
END_TEST

static const struct {
        const char *text, *error;
} bad[] = {
        { "", "empty journal" },
        { "garbage\n", "not a vfio-hook journal" },
        { "vfio-hook-journal 2\ndomain win10\n", "unsupported journal version" },
        { "vfio-hook-journal 1\n", "no domain record" },
        { "vfio-hook-journal 1\ndomain other\n", "not 'win10'" },
        { "vfio-hook-journal 1\ndevice 0000:01:00.0\n", "before the domain record" },
        { HEAD "frobnicate 1\n", "unknown record 'frobnicate'" },
        { HEAD "step 1 unbind-vtc\n", "malformed step record" },
        { HEAD "step 1 explode vtcon1\n", "unknown action 'explode'" },
        { HEAD "step 1 stop-unit ../../etc/passwd\n", "invalid target for stop-unit" },
        { HEAD "step 1 unbind-framebuffer ../../../x\n", "invalid target for unbind-framebuffer" },
        { HEAD "step 1 unload-module nv/idia\n", "invalid target for unload-module" },
        { HEAD "step 1 unbind-vtconsole vtcon1x\n", "invalid target for unbind-vtconsole" },
        { HEAD "step 1 detach-device 0000:01:00.0x\n", "invalid target for detach-device" },
        { HEAD "step 1 detach-device 0000:01:00.0 ../evil\n", "invalid original driver" },
        { HEAD "step 2 stop-unit a.service\nstep 1 stop-unit b.service\n", "out of order" },
        { HEAD "done 7\n", "done for unknown step 7" },
        { HEAD "device 0000:01:00\n", "malformed device record" },
        { HEAD "started soon pid 1\n", "malformed started record" },
        { HEAD "prepared now\n", "malformed prepared record" },
        { "vfio-hook-journal 1\ndomain ../etc\n", "malformed domain record" },
        { "vfio-hook-journal 1\r\ndomain win10\r\n", "journal line 1: ends with a carriage return (CRLF line endings" },
        { HEAD "killed 12 \x1b]0;x\x07\n", "malformed killed record" },
        { HEAD "killed 12 a\x7f\n", "malformed killed record" },
        /* Untrusted bytes in a message are escaped. */
        { HEAD "\x1b[2Jx 1\n", "unknown record '\\x1b[2Jx'" },
        { HEAD "step 1 \x1b[2J vtcon1\n", "unknown action '\\x1b[2J'" },
        { "vfio-hook-journal \x1b[2J\n", "unsupported journal version '\\x1b[2J'" },
};

START_TEST(test_bad) {
        Journal j;
        char *err;
        ck_assert_int_eq(parse(bad[_i].text, "win10", &j, &err), -EINVAL);
        ck_assert_msg(err && strstr(err, bad[_i].error), "case %d: got '%s', want '%s'", _i, err ? err : "(null)",
                      bad[_i].error);
        for (const char *c = err; *c; c++)
                ck_assert_msg((unsigned char) *c >= 0x20 && (unsigned char) *c < 0x7f, "case %d: raw byte 0x%02x in '%s'",
                              _i, (unsigned char) *c, err);
        free(err);
}
END_TEST

START_TEST(test_nul_byte) {
        Journal j = {};
        char *err = NULL;
        ck_assert_int_eq(journal_parse(HEAD "x\0y\n", sizeof(HEAD "x\0y\n") - 1, "win10", &j, &err), -EINVAL);
        ck_assert_ptr_nonnull(strstr(err, "NUL"));
        free(err);
}
END_TEST

START_TEST(test_write_read_back) {
        char dir[512], *err = NULL;
        snprintf(dir, sizeof dir, "%s/tests/tmp-journal-%d", TEST_BUILDDIR, (int) getpid());
        (void) fakehost_rm_rf(dir);
        ck_assert_int_eq(mkdir(dir, 0700), 0);
        int dfd = open(dir, O_RDONLY | O_DIRECTORY);
        ck_assert_int_ge(dfd, 0);

        PciAddr a[2];
        ck_assert_int_eq(pci_addr_parse("0000:01:00.0", &a[0]), 0);
        ck_assert_int_eq(pci_addr_parse("0000:01:00.1", &a[1]), 0);
        JournalWriter w;
        ck_assert_int_eq(journal_create(dfd, "win10", a, 2, &w), 0);
        ck_assert_int_eq(journal_create(dfd, "win10", a, 2, &(JournalWriter) {}), -EEXIST);
        ck_assert_int_eq(journal_append(&w, "step 1 unload-module nvidia_drm"), 0);
        ck_assert_int_eq(journal_append(&w, "done 1"), 0);
        journal_writer_close(&w);

        struct stat st;
        ck_assert_int_eq(fstatat(dfd, "win10.journal", &st, 0), 0);
        ck_assert_int_eq(st.st_mode & 0777, 0600);

        Journal j = {};
        ck_assert_int_eq(journal_load(dfd, "win10", &j, &err), 0);
        ck_assert_uint_eq(j.n_devices, 2);
        ck_assert_uint_eq(j.n_steps, 1);
        ck_assert(j.steps[0].done);
        journal_done(&j);

        char **l = NULL;
        ck_assert_int_eq(journal_list(dfd, &l), 0);
        ck_assert_str_eq(l[0], "win10");
        ck_assert_ptr_null(l[1]);
        strv_free(l);

        ck_assert_int_eq(journal_load(dfd, "other", &j, &err), -ENOENT);
        ck_assert_int_eq(journal_remove(dfd, "win10"), 0);
        ck_assert_int_eq(journal_remove(dfd, "win10"), 0);
        ck_assert_int_eq(journal_create(dfd, "../escape", a, 1, &w), -EINVAL);
        close(dfd);
        (void) fakehost_rm_rf(dir);
}
END_TEST

/* A FIFO (or anything but a regular file) where a journal should be is
 * refused at once: opening it must not wait for a writer. */
START_TEST(test_not_a_regular_file) {
        char dir[512], *err = NULL;
        snprintf(dir, sizeof dir, "%s/tests/tmp-journal-fifo-%d", TEST_BUILDDIR, (int) getpid());
        (void) fakehost_rm_rf(dir);
        ck_assert_int_eq(mkdir(dir, 0700), 0);
        int dfd = open(dir, O_RDONLY | O_DIRECTORY);
        ck_assert_int_ge(dfd, 0);
        ck_assert_int_eq(mkfifoat(dfd, "win10.journal", 0600), 0);
        ck_assert_int_eq(mkdirat(dfd, "dir.journal", 0700), 0);

        Journal j = {};
        ck_assert_int_eq(journal_load(dfd, "win10", &j, &err), -EINVAL);
        ck_assert_msg(strstr(err, "win10.journal is not a regular file (a FIFO)"), "%s", err);
        free(err);
        err = NULL;
        ck_assert_int_eq(journal_load(dfd, "dir", &j, &err), -EINVAL);
        ck_assert_msg(strstr(err, "dir.journal is not a regular file (a directory)"), "%s", err);
        free(err);
        close(dfd);
        (void) fakehost_rm_rf(dir);
}
END_TEST

START_TEST(test_release_record) {
        char dir[512], *err = NULL;
        snprintf(dir, sizeof dir, "%s/tests/tmp-journal-rel-%d", TEST_BUILDDIR, (int) getpid());
        (void) fakehost_rm_rf(dir);
        ck_assert_int_eq(mkdir(dir, 0700), 0);
        int dfd = open(dir, O_RDONLY | O_DIRECTORY);
        ck_assert_int_ge(dfd, 0);

        JournalStep m[] = {
                { .action = STEP_STOP_UNIT, .target = (char *) "display-manager.service" },
                { .action = STEP_DETACH_DEVICE, .target = (char *) "0000:01:00.0", .orig = (char *) "nvidia" },
        };
        ReleaseRecord w = { .domain = (char *) "win10", .finished = 1763726400, .msec = 1234, .missing = m, .n_missing = 2 };
        ck_assert_int_eq(release_record_write(dfd, &w), 0);
        ReleaseRecord r = {};
        ck_assert_int_eq(release_record_load(dfd, "win10", &r, &err), 0);
        ck_assert_str_eq(r.domain, "win10");
        ck_assert_int_eq(r.finished, 1763726400);
        ck_assert_uint_eq(r.msec, 1234);
        ck_assert_uint_eq(r.n_missing, 2);
        ck_assert_str_eq(r.missing[1].target, "0000:01:00.0");
        ck_assert_str_eq(r.missing[1].orig, "nvidia");
        release_record_done(&r);
        char **l = NULL;
        ck_assert_int_eq(release_record_list(dfd, &l), 0);
        ck_assert_str_eq(l[0], "win10");
        ck_assert_ptr_null(l[1]);
        strv_free(l);
        ck_assert_int_eq(release_record_load(dfd, "other", &r, &err), -ENOENT);

        static const struct {
                const char *text, *error;
        } bad_records[] = {
                { "vfio-hook-release 1\ndomain win10\nmissing stop-unit ../x\n", "malformed missing record" },
                { "vfio-hook-release 1\ndomain win10\nmissing explode x\n", "malformed missing record" },
                { "vfio-hook-release 1\ndomain other\n", "malformed domain record" },
                { "vfio-hook-release 1\ndomain win10\nfinished 1", "cut short" },
                { "vfio-hook-journal 1\n", "not a vfio-hook release record" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad_records); i++) {
                err = NULL;
                ck_assert_int_eq(release_record_parse(bad_records[i].text, strlen(bad_records[i].text), "win10", &r, &err), -EINVAL);
                ck_assert_msg(strstr(err, bad_records[i].error), "case %zu: %s", i, err);
                free(err);
        }
        close(dfd);
        (void) fakehost_rm_rf(dir);
}
END_TEST

int main(void) {
        Suite *s = suite_create("journal");
        TCase *tc = test_tcase("journal");
        tcase_add_test(tc, test_good);
        tcase_add_test(tc, test_truncated_last_line_is_ignored);
        tcase_add_loop_test(tc, test_bad, 0, (int) ELEMENTSOF(bad));
        tcase_add_test(tc, test_nul_byte);
        tcase_add_test(tc, test_write_read_back);
        tcase_add_test(tc, test_not_a_regular_file);
        tcase_add_test(tc, test_release_record);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}
