/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The trust boundary: whoever may edit a domain's XML writes its policy, and
 * the hook runs as root. Everything here goes through hook_prepare() (what
 * `prepare begin` runs) against a fake nvidia desktop and checks that bad
 * input is refused with one line naming the element or value, and that
 * nothing changed: the host's snapshot is as before, no state directory
 * and no journal were made. The same input made acceptable is accepted, so
 * that these tests would notice a hook that refuses everything. */
#include <check.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "check-main.h"
#include "model/domxml.h"
#include "engine/engine.h"
#include "fakehost.h"
#include "testutil.h"
#include "fakekernel.h"
#include "engine/hook.h"
#include "shared/log.h"
#include "shared/util.h"

/* ------------------------------------------------------------ log capture */

static char logbuf[16384];
static size_t loglen;

static void capture(int priority, const char *msg, void *userdata) {
        int n = snprintf(logbuf + loglen, sizeof logbuf - loglen, "%s\n", msg);
        if (n > 0)
                loglen += (size_t) n < sizeof logbuf - loglen ? (size_t) n : sizeof logbuf - loglen - 1;
}

static void log_clear(void) {
        loglen = 0;
        logbuf[0] = 0;
}

/* ---------------------------------------------------------------- fixture */

typedef struct Fixture {
        char top[512], root[600], state[600], config[600];
        FakeKernel *fk;
        Engine e;
        char *before;
} Fixture;

/* An nvidia desktop whose display manager owns Xorg, a missing state
 * directory and a missing config file. */
static void setup(Fixture *fx) {
        static unsigned counter;
        char spec[600];

        log_set_quiet(true);
        log_set_prefix(NULL);
        log_set_sink(capture, NULL);
        log_clear();

        snprintf(fx->top, sizeof fx->top, "%s/tests/tmp-trust-%d-%u", TEST_BUILDDIR, (int) getpid(), counter++);
        snprintf(fx->root, sizeof fx->root, "%s/host", fx->top);
        snprintf(fx->state, sizeof fx->state, "%s/state", fx->top);
        snprintf(fx->config, sizeof fx->config, "%s/vfio-hook.conf", fx->top);
        (void) fakehost_rm_rf(fx->top);
        ck_assert_int_eq(mkdir(fx->top, 0755), 0);
        snprintf(spec, sizeof spec, "%s/tests/data/nvidia-desktop.host", TEST_SRCDIR);
        ck_assert_msg(fakehost_build(spec, fx->root) == 0, "%s", fakehost_error());
        ck_assert_int_eq(fakekernel_new(fx->root, &fx->fk), 0);
        (void) fakekernel_unit_owns(fx->fk, "display-manager.service", 1234);
        (void) fakekernel_unit_owns(fx->fk, "nvidia-persistenced.service", 1301);
        fx->e = (Engine) { .sr = fx->fk->sr, .ops = &fx->fk->ops, .state_fd = -1 };
        fx->before = test_snapshot(fx->root);
}

static void teardown(Fixture *fx) {
        log_set_sink(NULL, NULL);
        if (fx->e.state_fd >= 0)
                close(fx->e.state_fd);
        fakekernel_free(fx->fk);
        free(fx->before);
        (void) chmod(fx->state, 0700);
        (void) fakehost_rm_rf(fx->top);
        *fx = (Fixture) {};
}

static void write_file(const char *path, const char *text, mode_t mode) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t) strlen(text));
        ck_assert_int_eq(fchmod(fd, mode), 0);
        close(fd);
}

/* ------------------------------------------------------------ domain XML */

/* The domain of examples/win10-nvidia.xml, reduced to what matters: NAME,
 * more policy elements (EXTRA), and the audio function's address attribute. */
static char *domain_xml(const char *name, const char *extra, const char *function) {
        char *s;
        ck_assert_int_ge(asprintf(&s,
                                  "<domain type='kvm'>\n"
                                  "  <name>%s</name>\n"
                                  "  <metadata>\n"
                                  "    <vh:policy xmlns:vh=\"urn:vfio-hook:policy:1\">\n"
                                  "      <vh:stack>auto</vh:stack>\n"
                                  "      <vh:service>nvidia-persistenced.service</vh:service>\n"
                                  "      <vh:timeout>5</vh:timeout>\n"
                                  "      %s\n"
                                  "    </vh:policy>\n"
                                  "  </metadata>\n"
                                  "  <devices>\n"
                                  "    <hostdev mode='subsystem' type='pci' managed='yes'>\n"
                                  "      <source><address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source>\n"
                                  "    </hostdev>\n"
                                  "    <hostdev mode='subsystem' type='pci' managed='yes'>\n"
                                  "      <source><address domain='0x0000' bus='0x01' slot='0x00' function='%s'/></source>\n"
                                  "    </hostdev>\n"
                                  "  </devices>\n"
                                  "</domain>\n",
                                  name, extra ? extra : "", function ? function : "0x1"),
                         0);
        return s;
}

/* hook_prepare() must refuse: EXIT_BAD_INPUT, an error naming each of
 * needles, the host as before, no state directory, no journal. */
static void expect_refused_len(Fixture *fx, const char *name, const char *xml, size_t len, const char *const *needles) {
        log_clear();
        int r = hook_prepare(&fx->e, fx->state, name, xml, len, fx->config, false);
        ck_assert_msg(r == EXIT_BAD_INPUT, "hook_prepare returned %d, expected %d (EXIT_BAD_INPUT); log:\n%s", r,
                      EXIT_BAD_INPUT, logbuf);
        ck_assert_msg(loglen > 0, "refused without a message");
        for (const char *const *n = needles; *n; n++)
                ck_assert_msg(strstr(logbuf, *n), "the error does not name '%s':\n%s", *n, logbuf);
        /* One line per problem: the first is the reason. */
        ck_assert_msg(strchr(logbuf, '\n') == logbuf + loglen - 1, "expected one line, got:\n%s", logbuf);
        test_assert_tree_is(fx->root, fx->before);
        ck_assert_msg(access(fx->state, F_OK) < 0 && errno == ENOENT, "the state directory was created");
        ck_assert_int_eq(fx->e.state_fd, -1);
}

#define expect_refused(fx, name, xml, ...)                                                              \
        expect_refused_len(fx, name, xml, strlen(xml), (const char *const[]) { __VA_ARGS__, NULL })

static bool journal_exists(const Fixture *fx, const char *domain) {
        char p[700];
        snprintf(p, sizeof p, "%s/%s.journal", fx->state, domain);
        return access(p, F_OK) == 0;
}

/* A whole prepare and release of the domain: accepted, journaled, undone. */
static void expect_accepted_and_undo(Fixture *fx, const char *xml) {
        char *err = NULL;

        log_clear();
        int r = hook_prepare(&fx->e, fx->state, "win10", xml, strlen(xml), fx->config, false);
        ck_assert_msg(r == EXIT_OK, "hook_prepare returned %d; log:\n%s", r, logbuf);
        ck_assert(journal_exists(fx, "win10"));

        /* Release checks the journal's names against the same config. */
        _cleanup_(config_done) Config cfg = {};
        ck_assert_int_eq(config_load(fx->config, true, &cfg, &err), 0);
        fx->e.cfg = &cfg;
        ck_assert_int_eq(engine_open_state_dir(fx->state, false, &fx->e.state_fd, &err), 0);
        ck_assert_int_eq(engine_release(&fx->e, "win10", 5), EXIT_OK);
        fx->e.cfg = NULL;
        close(fx->e.state_fd);
        fx->e.state_fd = -1;
        test_assert_tree_is(fx->root, fx->before);
        ck_assert(!journal_exists(fx, "win10"));
}

/* ------------------------------------------------------------ allowlist */

START_TEST(test_module_outside_allowlist) {
        Fixture fx = {};
        setup(&fx);
        _cleanup_free_ char *xml = domain_xml("win10", "<vh:module>e1000e</vh:module>", NULL);
        expect_refused(&fx, "win10", xml, "<module>e1000e</module> is not allowed", fx.config);

        /* usbcore would take the keyboard away; ext4 the root file system. */
        _cleanup_free_ char *xml2 = domain_xml("win10", "<module>snd_hda_intel</module><module>ext4</module>", NULL);
        expect_refused(&fx, "win10", xml2, "<module>ext4</module> is not allowed");
        teardown(&fx);
}
END_TEST

/* The same module, allowed in the config, is accepted and the hand-off runs
 * to the end (and is undone): the refusal above was the allowlist. */
START_TEST(test_config_allows_module) {
        Fixture fx = {};
        setup(&fx);
        _cleanup_free_ char *xml = domain_xml("win10", "<vh:module>e1000e</vh:module>", NULL);

        write_file(fx.config, "# test\nallow-module e1000e\n", 0644);
        expect_accepted_and_undo(&fx, xml);

        /* A config others can write widens nothing. */
        (void) fakehost_rm_rf(fx.state);
        write_file(fx.config, "allow-module e1000e\n", 0666);
        expect_refused(&fx, "win10", xml, fx.config, "writable by others");
        teardown(&fx);
}
END_TEST

START_TEST(test_service_outside_allowlist) {
        Fixture fx = {};
        setup(&fx);
        _cleanup_free_ char *xml = domain_xml("win10", "<vh:service>sshd.service</vh:service>", NULL);
        expect_refused(&fx, "win10", xml, "<service>sshd.service</service> is not allowed");

        /* Allowed by the config: accepted (the fake host has no such unit). */
        write_file(fx.config, "allow-service sshd.service\n", 0600);
        log_clear();
        _cleanup_domain_ Domain *d = NULL;
        ck_assert_int_eq(hook_load_domain(xml, strlen(xml), fx.config, false, &d), 0);
        ck_assert_str_eq(d->policy->services[1], "sshd.service");
        teardown(&fx);
}
END_TEST

START_TEST(test_unit_and_module_names_with_paths) {
        static const char *const services[] = {
                "../../../etc/shadow.service", "a/b.service", "foo/../display-manager.service",
                "..service", "x..y.service", "/display-manager.service", "display-manager.service/",
        };
        static const char *const modules[] = { "../nvidia", "a/b", "nvidia/..", ".." };
        Fixture fx = {};
        setup(&fx);

        /* Even allowed by name, a path is not a unit name. */
        write_file(fx.config, "allow-module nvidia\n", 0600);
        for (size_t i = 0; i < ELEMENTSOF(services); i++) {
                _cleanup_free_ char *extra = NULL, *xml = NULL;
                ck_assert_int_ge(asprintf(&extra, "<vh:service>%s</vh:service>", services[i]), 0);
                xml = domain_xml("win10", extra, NULL);
                expect_refused(&fx, "win10", xml, "<service> has invalid unit name", services[i]);
        }
        for (size_t i = 0; i < ELEMENTSOF(modules); i++) {
                _cleanup_free_ char *extra = NULL, *xml = NULL;
                ck_assert_int_ge(asprintf(&extra, "<module>%s</module>", modules[i]), 0);
                xml = domain_xml("win10", extra, NULL);
                expect_refused(&fx, "win10", xml, "<module> has invalid module name", modules[i]);
        }
        teardown(&fx);
}
END_TEST

/* --------------------------------------------------------- PCI addresses */

START_TEST(test_pci_address_extra_characters) {
        static const char *const bad[] = {
                "0x1 ", " 0x1", "0x1x", "0x1/../", "1;reboot", "0x1 x", "+1", "-1",
                "0x01.0", "8", "0x8", "99999999999999999999", "0x", "",
        };
        Fixture fx = {};
        setup(&fx);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *xml = domain_xml("win10", NULL, bad[i]);
                char quoted[VALUE_QUOTE_BUFSZ], needle[VALUE_QUOTE_BUFSZ + 64];
                /* As the message quotes it (value_quote). */
                snprintf(needle, sizeof needle, "hostdev 2: <address function='%s'> is not a valid PCI function",
                         value_quote(bad[i], quoted));
                expect_refused(&fx, "win10", xml, needle);
        }
        teardown(&fx);
}
END_TEST

/* ----------------------------------------------------------- size, depth */

START_TEST(test_huge_xml) {
        Fixture fx = {};
        setup(&fx);
        _cleanup_free_ char *xml = domain_xml("win10", NULL, NULL);
        size_t len = DOMXML_MAX_SIZE + 1, head = strlen(xml) - strlen("</domain>\n");
        _cleanup_free_ char *big = malloc(len + 1);
        ck_assert_ptr_nonnull(big);
        /* Well-formed: the domain, a 16 MiB comment, its end. */
        memcpy(big, xml, head);
        memcpy(big + head, "<!--", 4);
        memset(big + head + 4, 'x', len - head - 4);
        memcpy(big + len - strlen("--></domain>"), "--></domain>", strlen("--></domain>"));
        big[len] = 0;
        expect_refused_len(&fx, "win10", big, len, (const char *const[]) { "too large", "16777216", NULL });
        teardown(&fx);
}
END_TEST

static char *nested_xml(unsigned depth) {
        size_t cap = depth * 8 + 1024, o = 0;
        char *s = malloc(cap);
        ck_assert_ptr_nonnull(s);
        o += (size_t) snprintf(s + o, cap - o,
                               "<domain><name>win10</name><metadata><vh:policy xmlns:vh=\"urn:vfio-hook:policy:1\"/>"
                               "</metadata>");
        for (unsigned i = 0; i < depth; i++)
                o += (size_t) snprintf(s + o, cap - o, "<a>");
        for (unsigned i = 0; i < depth; i++)
                o += (size_t) snprintf(s + o, cap - o, "</a>");
        snprintf(s + o, cap - o, "</domain>");
        return s;
}

START_TEST(test_deeply_nested_xml) {
        Fixture fx = {};
        setup(&fx);
        /* Deeper than our limit, within libxml2's. */
        _cleanup_free_ char *xml = nested_xml(100);
        expect_refused(&fx, "win10", xml, "nested more than 64 levels deep");
        /* Far deeper: libxml2 stops it while parsing (its own limit). */
        _cleanup_free_ char *xml2 = nested_xml(100000);
        expect_refused(&fx, "win10", xml2, "not well-formed", "depth");
        teardown(&fx);
}
END_TEST

/* Counts that would make the parse quadratic, or a journal release cannot
 * read back, are refused with the rest of bad input. */
START_TEST(test_too_many_names_and_devices) {
        Fixture fx = {};
        setup(&fx);

        _cleanup_free_ char *services = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&services, &size);
        ck_assert_ptr_nonnull(f);
        for (unsigned i = 0; i <= POLICY_NAMES_MAX; i++)
                fprintf(f, "<service>s%u.service</service><service>s0.service</service>", i);
        ck_assert_int_eq(fclose(f), 0);
        _cleanup_free_ char *xml = domain_xml("win10", services, NULL);
        expect_refused(&fx, "win10", xml, "more than 64 different <service> elements");

        _cleanup_free_ char *big = NULL;
        f = open_memstream(&big, &size);
        ck_assert_ptr_nonnull(f);
        fprintf(f, "<domain><name>win10</name><metadata><vh:policy xmlns:vh=\"urn:vfio-hook:policy:1\"/></metadata><devices>");
        for (unsigned i = 0; i <= DOMXML_MAX_HOSTDEVS; i++)
                fprintf(f, "<hostdev mode='subsystem' type='pci'><source><address domain='0' bus='%u' slot='%u' "
                           "function='0'/></source></hostdev>", 0x10 + i / 32, i % 32);
        fprintf(f, "</devices></domain>");
        ck_assert_int_eq(fclose(f), 0);
        expect_refused(&fx, "win10", big, "hostdev 257: more than 256 PCI hostdevs");
        teardown(&fx);
}
END_TEST

/* ---------------------------------------------------------- domain names */

START_TEST(test_domain_name_with_path_characters) {
        static const char *const names[] = { "../x", "a/b", "..", ".", "/etc/passwd", "x/../../y" };
        Fixture fx = {};
        setup(&fx);
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_free_ char *xml = domain_xml(names[i], NULL, NULL);
                char needle[128];
                snprintf(needle, sizeof needle, "domain name '%s'", names[i]);
                expect_refused(&fx, names[i], xml, needle);
        }
        /* Escaped in the message: a newline cannot forge a second line. */
        _cleanup_free_ char *xml = domain_xml("a&#10;vfio-hook: ok", NULL, NULL);
        expect_refused(&fx, "a\nvfio-hook: ok", xml, "domain name 'a\\nvfio-hook: ok'");
        teardown(&fx);
}
END_TEST

START_TEST(test_hook_called_for_another_domain) {
        Fixture fx = {};
        setup(&fx);
        _cleanup_free_ char *xml = domain_xml("win10", NULL, NULL);
        expect_refused(&fx, "other", xml, "the domain XML is for 'win10', the hook was called for 'other'");
        /* The argument is not a path either. */
        expect_refused(&fx, "../win10", xml, "'win10'", "'../win10'");
        teardown(&fx);
}
END_TEST

/* -------------------------------------------------------- DTDs, entities */

START_TEST(test_xml_external_entity) {
        static const char *const docs[] = {
                /* A general entity with the contents of /etc/passwd. */
                "<?xml version=\"1.0\"?>\n"
                "<!DOCTYPE domain [ <!ENTITY xxe SYSTEM \"file:///etc/passwd\"> ]>\n"
                "<domain><name>win10</name><metadata><vh:policy xmlns:vh=\"urn:vfio-hook:policy:1\">"
                "<vh:service>&xxe;</vh:service></vh:policy></metadata></domain>\n",
                /* An external DTD. */
                "<!DOCTYPE domain SYSTEM \"file:///etc/passwd\">\n"
                "<domain><name>win10</name><metadata><vh:policy xmlns:vh=\"urn:vfio-hook:policy:1\"/>"
                "</metadata></domain>\n",
                /* A parameter entity, over the network. */
                "<!DOCTYPE domain [ <!ENTITY % p SYSTEM \"http://127.0.0.1:9/x.dtd\"> %p; ]>\n"
                "<domain><name>win10</name><metadata><vh:policy xmlns:vh=\"urn:vfio-hook:policy:1\"/>"
                "</metadata></domain>\n",
        };
        Fixture fx = {};
        setup(&fx);
        for (size_t i = 0; i < ELEMENTSOF(docs); i++) {
                expect_refused(&fx, "win10", docs[i], "DOCTYPE");
                ck_assert_msg(!strstr(logbuf, "root:"), "the file's contents leaked: %s", logbuf);
        }
        teardown(&fx);
}
END_TEST

START_TEST(test_billion_laughs) {
        Fixture fx = {};
        setup(&fx);
        _cleanup_free_ char *xml = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&xml, &size);
        ck_assert_ptr_nonnull(f);
        fprintf(f, "<?xml version=\"1.0\"?>\n<!DOCTYPE domain [\n <!ENTITY lol0 \"lol\">\n");
        for (int i = 1; i < 10; i++) {
                fprintf(f, " <!ENTITY lol%d \"", i);
                for (int k = 0; k < 10; k++)
                        fprintf(f, "&lol%d;", i - 1);
                fprintf(f, "\">\n");
        }
        fprintf(f, "]>\n<domain><name>win10&lol9;</name><metadata><vh:policy xmlns:vh=\"urn:vfio-hook:policy:1\">"
                   "<vh:module>&lol9;</vh:module></vh:policy></metadata></domain>\n");
        ck_assert_int_eq(fclose(f), 0);

        usec_t t0 = now_usec();
        expect_refused(&fx, "win10", xml, "DOCTYPE");
        ck_assert_msg(now_usec() - t0 < 5 * USEC_PER_SEC, "the entities were expanded");
        teardown(&fx);
}
END_TEST

/* ------------------------------------------------------ state directory */

/* A domain the hook would act on, refused because of the state directory:
 * nothing changed and no journal written. */
static void expect_state_dir_refused(Fixture *fx, const char *needle) {
        _cleanup_free_ char *xml = domain_xml("win10", NULL, NULL);

        log_clear();
        int r = hook_prepare(&fx->e, fx->state, "win10", xml, strlen(xml), fx->config, false);
        ck_assert_msg(r != EXIT_OK, "a bad state directory was accepted");
        ck_assert_msg(strstr(logbuf, needle), "the error does not say '%s':\n%s", needle, logbuf);
        ck_assert_msg(strstr(logbuf, fx->state), "the error does not name the directory:\n%s", logbuf);
        test_assert_tree_is(fx->root, fx->before);
        ck_assert(!journal_exists(fx, "win10"));
        ck_assert_int_eq(fx->e.state_fd, -1);
}

START_TEST(test_state_dir_writable_by_others) {
        static const mode_t modes[] = { 0770, 0730, 0707, 0702, 01777, 0720 };
        Fixture fx = {};
        setup(&fx);
        ck_assert_int_eq(mkdir(fx.state, 0700), 0);
        for (size_t i = 0; i < ELEMENTSOF(modes); i++) {
                ck_assert_int_eq(chmod(fx.state, modes[i]), 0);
                expect_state_dir_refused(&fx, "refusing the state directory");
        }
        teardown(&fx);
}
END_TEST

START_TEST(test_state_dir_owned_by_another_user) {
        if (geteuid() != 0) {
                fprintf(stderr, "test_state_dir_owned_by_another_user: skipped (chown needs root)\n");
                return;
        }
        Fixture fx = {};
        setup(&fx);
        ck_assert_int_eq(mkdir(fx.state, 0700), 0);
        ck_assert_int_eq(chown(fx.state, 65534, 65534), 0);
        expect_state_dir_refused(&fx, "must be owned by uid 0");
        teardown(&fx);
}
END_TEST

START_TEST(test_state_dir_symlink) {
        char real[700];
        Fixture fx = {};
        setup(&fx);
        snprintf(real, sizeof real, "%s/elsewhere", fx.top);
        ck_assert_int_eq(mkdir(real, 0700), 0);
        ck_assert_int_eq(symlink(real, fx.state), 0);
        expect_state_dir_refused(&fx, "it is a symbolic link");
        ck_assert_int_eq(unlink(fx.state), 0);
        teardown(&fx);
}
END_TEST

/* hook_prepare creates the missing state directory 0700 and the journal
 * 0600, whatever the umask. */
START_TEST(test_state_dir_and_journal_modes) {
        char *err = NULL;
        struct stat st;
        Fixture fx = {};
        setup(&fx);
        _cleanup_free_ char *xml = domain_xml("win10", NULL, NULL);

        mode_t old = umask(0);
        int r = hook_prepare(&fx.e, fx.state, "win10", xml, strlen(xml), fx.config, false);
        umask(old);
        ck_assert_msg(r == EXIT_OK, "hook_prepare returned %d; log:\n%s", r, logbuf);

        ck_assert_int_eq(lstat(fx.state, &st), 0);
        ck_assert(S_ISDIR(st.st_mode));
        ck_assert_msg((st.st_mode & 07777) == 0700, "state directory mode %04o", (unsigned) (st.st_mode & 07777));
        ck_assert_uint_eq(st.st_uid, geteuid());

        char journal[700];
        snprintf(journal, sizeof journal, "%s/win10.journal", fx.state);
        ck_assert_int_eq(lstat(journal, &st), 0);
        ck_assert(S_ISREG(st.st_mode));
        ck_assert_msg((st.st_mode & 07777) == 0600, "journal mode %04o", (unsigned) (st.st_mode & 07777));
        ck_assert_uint_eq(st.st_uid, geteuid());
        ck_assert_uint_eq(st.st_nlink, 1);

        ck_assert_int_eq(engine_open_state_dir(fx.state, false, &fx.e.state_fd, &err), 0);
        ck_assert_int_eq(engine_release(&fx.e, "win10", 5), EXIT_OK);
        close(fx.e.state_fd);
        fx.e.state_fd = -1;
        test_assert_tree_is(fx.root, fx.before);
        teardown(&fx);
}
END_TEST

static Suite *trust_suite(void) {
        Suite *s = suite_create("trust");
        TCase *tc = test_tcase("trust");
        tcase_add_test(tc, test_module_outside_allowlist);
        tcase_add_test(tc, test_config_allows_module);
        tcase_add_test(tc, test_service_outside_allowlist);
        tcase_add_test(tc, test_unit_and_module_names_with_paths);
        tcase_add_test(tc, test_pci_address_extra_characters);
        tcase_add_test(tc, test_huge_xml);
        tcase_add_test(tc, test_deeply_nested_xml);
        tcase_add_test(tc, test_too_many_names_and_devices);
        tcase_add_test(tc, test_domain_name_with_path_characters);
        tcase_add_test(tc, test_hook_called_for_another_domain);
        tcase_add_test(tc, test_xml_external_entity);
        tcase_add_test(tc, test_billion_laughs);
        tcase_add_test(tc, test_state_dir_writable_by_others);
        tcase_add_test(tc, test_state_dir_owned_by_another_user);
        tcase_add_test(tc, test_state_dir_symlink);
        tcase_add_test(tc, test_state_dir_and_journal_modes);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(trust_suite());
}
