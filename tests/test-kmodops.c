/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kmodops.c on harmless names (no module is ever removed or loaded: these
 * tests may run as root), virt.c's dlopen() of libvirt, and nodedev.c's
 * errors and deadline against URIs that cannot touch a real device: an
 * unknown driver, libvirt's built-in test driver, a socket that nobody
 * serves and one that never answers. Never qemu:///system. */
#include <check.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>

#include "check-main.h"
#include "host/kmodops.h"
#include "host/nodedev.h"
#include "shared/subprocess.h"
#include "testutil.h"
#include "shared/util.h"
#include "host/virt.h"

#define GENEROUS (10 * USEC_PER_SEC)
#define LONG (20 * USEC_PER_SEC)

static const PciAddr gpu = { 0, 1, 0, 0 };

START_TEST(kmod_names) {
        _cleanup_kmodops_ KmodOps *k = NULL;
        _cleanup_free_ char *e = NULL;

        ck_assert_int_eq(kmodops_new(&k, NULL), 0);

        ck_assert(module_name_valid("nvidia_drm"));
        ck_assert(module_name_valid("snd-hda-intel"));
        ck_assert(!module_name_valid(""));
        ck_assert(!module_name_valid("../nvidia"));
        ck_assert(!module_name_valid("a b"));
        ck_assert(!module_name_valid("nvidia.ko"));
        ck_assert(!module_name_valid(NULL));
        ck_assert(!module_name_valid("a234567890123456789012345678901234567890123456789012345x"));
        ck_assert(module_name_valid("a23456789012345678901234567890123456789012345678901234"));

        ck_assert_int_eq(kmodops_remove(k, "bad/name", LONG, &e), -EINVAL);
        ck_assert_str_eq(e, "removing module: invalid module name");
        ck_assert_int_eq(kmodops_load(k, "bad name", LONG, NULL), -EINVAL);
}
END_TEST

START_TEST(kmod_not_loaded) {
        _cleanup_kmodops_ KmodOps *k = NULL;
        _cleanup_free_ char *e = NULL, *e2 = NULL;

        ck_assert_int_eq(kmodops_new(&k, NULL), 0);

        ck_assert_int_eq(kmodops_remove(k, "vfio_hook_no_such_module", LONG, &e), -ENOENT);
        ck_assert_str_eq(e, "removing module vfio_hook_no_such_module: not loaded");

        ck_assert_int_eq(kmodops_load(k, "vfio-hook-no-such-module", LONG, &e2), -ENOENT);
        ck_assert_msg(startswith(e2, "loading module vfio-hook-no-such-module: no such module for kernel "),
                      "got: %s", e2);
}
END_TEST

/* A built-in module of this kernel: from modules.builtin when there is one,
 * else a /sys/module directory without initstate (a built-in module with
 * parameters). */
static bool find_builtin(char *buf, size_t size) {
        struct utsname u;
        char path[512], line[512];

        ck_assert_int_eq(uname(&u), 0);
        snprintf(path, sizeof path, "/lib/modules/%s/modules.builtin", u.release);
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (f)
                while (fgets(line, sizeof line, f)) {
                        strstrip_trailing(line);
                        char *b = strrchr(line, '/');
                        b = b ? b + 1 : line;
                        char *dot = strstr(b, ".ko");
                        if (dot)
                                *dot = 0;
                        if (module_name_valid(b) && strlen(b) < size) {
                                strcpy(buf, b);
                                return true;
                        }
                }

        _cleanup_closedir_ DIR *d = opendir("/sys/module");
        struct dirent *de;
        if (!d)
                return false;
        while ((de = readdir(d))) {
                struct stat st;
                if (!module_name_valid(de->d_name) || strlen(de->d_name) >= size)
                        continue;
                snprintf(path, sizeof path, "/sys/module/%s/initstate", de->d_name);
                if (stat(path, &st) == 0)
                        continue;
                snprintf(path, sizeof path, "/sys/module/%s/parameters", de->d_name);
                if (stat(path, &st) < 0)
                        continue;
                strcpy(buf, de->d_name);
                return true;
        }
        return false;
}

START_TEST(kmod_builtin) {
        _cleanup_kmodops_ KmodOps *k = NULL;
        _cleanup_free_ char *e = NULL, *want = NULL;
        char name[64];

        if (!find_builtin(name, sizeof name)) {
                fprintf(stderr, "SKIP kmod_builtin: no built-in module found on this machine\n");
                return;
        }
        ck_assert_int_eq(kmodops_new(&k, NULL), 0);
        ck_assert_int_eq(kmodops_remove(k, name, LONG, &e), -EOPNOTSUPP);
        ck_assert_int_gt(asprintf(&want, "removing module %s: built into the kernel", name), 0);
        ck_assert_str_eq(e, want);
}
END_TEST

/* virt */

START_TEST(virt_dlopen) {
        VirtLib v;
        _cleanup_free_ char *e = NULL;

        ck_assert_int_eq(virt_load(NULL, &v, &e), 0);
        ck_assert_ptr_null(e);
        ck_assert_ptr_nonnull(v.dl);
        ck_assert_ptr_nonnull(v.virNodeDeviceDetachFlags);
        ck_assert_ptr_nonnull(v.virDomainGetXMLDesc);
        virt_unload(&v);
        ck_assert_ptr_null(v.dl);
}
END_TEST

START_TEST(virt_dlopen_missing) {
        VirtLib v;
        _cleanup_free_ char *e = NULL, *e2 = NULL;

        ck_assert_int_eq(virt_load("libvirt-vfio-hook-bogus.so.99", &v, &e), -EOPNOTSUPP);
        ck_assert_msg(startswith(e, "libvirt-vfio-hook-bogus.so.99 not found: install libvirt0 ("), "got: %s", e);
        ck_assert_ptr_null(strchr(e, '\n'));

        /* A library that is there but is not libvirt. */
        ck_assert_int_eq(virt_load("libc.so.6", &v, &e2), -EOPNOTSUPP);
        ck_assert_msg(startswith(e2, "libc.so.6 lacks virInitialize"), "got: %s", e2);
}
END_TEST

/* nodedev */

static void assert_one_line(const char *e, const char *prefix) {
        ck_assert_ptr_nonnull(e);
        ck_assert_msg(startswith(e, prefix), "got: %s", e);
        ck_assert_msg(!strchr(e, '\n'), "several lines: %s", e);
        ck_assert_uint_gt(strlen(e), strlen(prefix));
}

START_TEST(nodedev_bad_uri) {
        _cleanup_free_ char *e = NULL, *e2 = NULL;
        usec_t t0 = now_usec();

        ck_assert_int_lt(nodedev_detach("vfio-hook-bogus:///nowhere", &gpu, LONG, &e), 0);
        ck_assert_uint_lt(now_usec() - t0, GENEROUS);
        assert_one_line(e, "detaching 0000:01:00.0: ");

        ck_assert_int_lt(nodedev_reattach("vfio-hook-bogus:///nowhere", &gpu, LONG, &e2), 0);
        assert_one_line(e2, "reattaching 0000:01:00.0: ");
}
END_TEST

START_TEST(nodedev_no_daemon) {
        _cleanup_free_ char *e = NULL;
        usec_t t0 = now_usec();

        /* What qemu:///system gives when libvirtd/virtqemud is not running. */
        ck_assert_int_eq(nodedev_detach("qemu:///system?socket=/nonexistent/vfio-hook/libvirt-sock", &gpu, LONG, &e),
                         -ECONNREFUSED);
        ck_assert_uint_lt(now_usec() - t0, GENEROUS);
        assert_one_line(e, "detaching 0000:01:00.0: ");
        ck_assert_msg(strstr(e, "/nonexistent/vfio-hook/libvirt-sock"), "got: %s", e);
}
END_TEST

START_TEST(nodedev_unknown_device) {
        _cleanup_free_ char *e = NULL;

        /* libvirt's built-in test driver has no such PCI device: looked up
         * again until the deadline, then said. */
        ck_assert_int_eq(nodedev_detach("test:///default", &gpu, 2 * USEC_PER_SEC, &e), -ENODEV);
        assert_one_line(e, "detaching 0000:01:00.0: ");
        ck_assert_msg(strstr(e, "pci_0000_01_00_0"), "got: %s", e);
}
END_TEST

START_TEST(nodedev_hang) {
        char dir[] = "/tmp/vfio-hook-nodedev-XXXXXX";
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_free_ char *uri = NULL, *e = NULL;
        _cleanup_close_ int fd = -1;

#ifdef __SANITIZE_ADDRESS__
        /* ASan intercepts the xdr functions and resolves them at start-up,
         * before libtirpc is loaded with libvirt: libvirt's first RPC then
         * calls a NULL function. Not ours to fix; the plain build runs this. */
        fprintf(stderr, "SKIP nodedev_hang: libvirt RPC crashes under AddressSanitizer\n");
        return;
#endif
        /* A "daemon" that accepts connections and never answers. */
        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s/sock", dir);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        ck_assert_int_eq(listen(fd, 8), 0);
        ck_assert_int_gt(asprintf(&uri, "qemu:///system?socket=%s", sa.sun_path), 0);

        usec_t t0 = now_usec();
        int r = nodedev_detach(uri, &gpu, USEC_PER_SEC, &e);
        usec_t took = now_usec() - t0;
        (void) unlink(sa.sun_path);
        (void) rmdir(dir);

        ck_assert_int_eq(r, -ETIME);
        ck_assert_uint_lt(took, GENEROUS);
        ck_assert_str_eq(e, "detaching 0000:01:00.0: libvirt did not answer within 1 s");
}
END_TEST

/* Sessions, over tests/fakevirt.so: one connection for a hand-off's
 * devices, and a libvirt that hangs on the second device. */

#define FAKEVIRT TEST_BUILDDIR "/tests/fakevirt.so"

static const PciAddr audio = { 0, 1, 0, 1 };

static char *fakevirt_log(char path[static 64]) {
        snprintf(path, 64, "/tmp/vfio-hook-fakevirt-XXXXXX");
        int fd = mkstemp(path);
        ck_assert_int_ge(fd, 0);
        close(fd);
        ck_assert_int_eq(setenv("FAKEVIRT_LOG", path, 1), 0);
        return path;
}

static char *read_log(const char *path) {
        char *s = test_read_file(path);
        (void) unlink(path);
        return s;
}

START_TEST(nodedev_session_one_connection) {
        _cleanup_free_ char *e = NULL, *calls = NULL;
        char log[64];

        fakevirt_log(log);
        NodedevSession *s = nodedev_session_new("qemu:///system", FAKEVIRT);
        ck_assert_ptr_nonnull(s);
        ck_assert_int_eq(nodedev_session_detach(s, &gpu, LONG, &e), 0);
        ck_assert_int_eq(nodedev_session_detach(s, &audio, LONG, &e), 0);
        ck_assert_int_eq(nodedev_session_reattach(s, &audio, LONG, &e), 0);
        ck_assert_int_eq(nodedev_session_reattach(s, &gpu, LONG, &e), 0);
        ck_assert_ptr_null(e);
        nodedev_session_free(s);
        calls = read_log(log);
        ck_assert_str_eq(calls, "connect qemu:///system\n"
                                "detach pci_0000_01_00_0\n"
                                "detach pci_0000_01_00_1\n"
                                "reattach pci_0000_01_00_1\n"
                                "reattach pci_0000_01_00_0\n");
}
END_TEST

/* Begun early: libvirt loads and connects before the first device. */
START_TEST(nodedev_session_begun_early) {
        _cleanup_free_ char *e = NULL, *calls = NULL;
        char log[64];

        fakevirt_log(log);
        NodedevSession *s = nodedev_session_new(NULL, FAKEVIRT);
        ck_assert_int_eq(nodedev_session_begin(s), 0);
        for (usec_t t0 = now_usec(); now_usec() - t0 < GENEROUS; sleep_usec(USEC_PER_MSEC)) {
                free(calls);
                calls = test_read_file(log);
                if (calls && calls[0])
                        break;
        }
        ck_assert_str_eq(calls, "connect qemu:///system\n");
        ck_assert_int_eq(nodedev_session_detach(s, &gpu, LONG, &e), 0);
        ck_assert_int_eq(nodedev_session_begin(s), 0); /* once is enough */
        ck_assert_int_eq(nodedev_session_detach(s, &audio, LONG, &e), 0);
        nodedev_session_free(s);
        free(calls);
        calls = read_log(log);
        ck_assert_str_eq(calls, "connect qemu:///system\ndetach pci_0000_01_00_0\ndetach pci_0000_01_00_1\n");

        /* Without libvirt, the first device's call says why. */
        s = nodedev_session_new(NULL, "libvirt-vfio-hook-bogus.so.99");
        ck_assert_int_eq(nodedev_session_begin(s), 0);
        free(e);
        e = NULL;
        ck_assert_int_eq(nodedev_session_detach(s, &gpu, LONG, &e), -EOPNOTSUPP);
        assert_one_line(e, "detaching 0000:01:00.0: libvirt-vfio-hook-bogus.so.99 not found: install libvirt0 (");
        nodedev_session_free(s);
}
END_TEST

START_TEST(nodedev_session_unknown_device) {
        _cleanup_free_ char *e = NULL, *calls = NULL;
        const PciAddr other = { 0, 2, 0, 0 };
        char log[64];

        fakevirt_log(log);
        NodedevSession *s = nodedev_session_new(NULL, FAKEVIRT);
        /* Looked up again until the deadline (a device libvirt may learn of late). */
        usec_t t0 = now_usec();
        ck_assert_int_eq(nodedev_session_detach(s, &other, 300 * USEC_PER_MSEC, &e), -ENODEV);
        ck_assert_uint_ge(now_usec() - t0, 300 * USEC_PER_MSEC);
        ck_assert_str_eq(e, "detaching 0000:02:00.0: Node device not found: no node device with matching name");
        /* The worker stays: the next device uses the same connection. */
        ck_assert_int_eq(nodedev_session_detach(s, &gpu, LONG, NULL), 0);
        nodedev_session_free(s);
        calls = read_log(log);
        ck_assert_str_eq(calls, "connect qemu:///system\ndetach pci_0000_01_00_0\n");
}
END_TEST

START_TEST(nodedev_session_device_known_late) {
        _cleanup_free_ char *calls = NULL;
        char log[64];

        fakevirt_log(log);
        ck_assert_int_eq(setenv("FAKEVIRT_LATE", "pci_0000_01_00_1", 1), 0);
        NodedevSession *s = nodedev_session_new(NULL, FAKEVIRT);
        ck_assert_int_eq(nodedev_session_detach(s, &audio, LONG, NULL), 0);
        nodedev_session_free(s);
        ck_assert_int_eq(unsetenv("FAKEVIRT_LATE"), 0);
        calls = read_log(log);
        ck_assert_str_eq(calls, "connect qemu:///system\nlookup-missing pci_0000_01_00_1\nlookup-missing pci_0000_01_00_1\n"
                                "lookup-missing pci_0000_01_00_1\ndetach pci_0000_01_00_1\n");
}
END_TEST

START_TEST(nodedev_session_hang_second) {
        _cleanup_free_ char *e = NULL, *e2 = NULL, *calls = NULL;
        char log[64];

        fakevirt_log(log);
        ck_assert_int_eq(setenv("FAKEVIRT_HANG", "pci_0000_01_00_1", 1), 0);
        NodedevSession *s = nodedev_session_new(NULL, FAKEVIRT);
        ck_assert_int_eq(nodedev_session_detach(s, &gpu, LONG, &e), 0);

        usec_t t0 = now_usec();
        ck_assert_int_eq(nodedev_session_detach(s, &audio, USEC_PER_SEC, &e), -ETIME);
        usec_t took = now_usec() - t0;
        ck_assert_uint_ge(took, USEC_PER_SEC);
        ck_assert_uint_lt(took, GENEROUS);
        ck_assert_str_eq(e, "detaching 0000:01:00.1: libvirt did not answer within 1 s");

        /* The hung worker was killed; the rollback's reattach gets a new one. */
        ck_assert_int_eq(nodedev_session_reattach(s, &gpu, LONG, &e2), 0);
        ck_assert_ptr_null(e2);
        t0 = now_usec();
        nodedev_session_free(s);
        ck_assert_uint_lt(now_usec() - t0, GENEROUS);
        calls = read_log(log);
        ck_assert_str_eq(calls, "connect qemu:///system\n"
                                "detach pci_0000_01_00_0\n"
                                "detach pci_0000_01_00_1\n"
                                "connect qemu:///system\n"
                                "reattach pci_0000_01_00_0\n");
}
END_TEST

START_TEST(nodedev_session_no_libvirt) {
        _cleanup_free_ char *e = NULL, *e2 = NULL;

        NodedevSession *s = nodedev_session_new(NULL, "libvirt-vfio-hook-bogus.so.99");
        ck_assert_int_eq(nodedev_session_detach(s, &gpu, LONG, &e), -EOPNOTSUPP);
        assert_one_line(e, "detaching 0000:01:00.0: libvirt-vfio-hook-bogus.so.99 not found: install libvirt0 (");
        /* Each device says so, not a "worker process" riddle. */
        ck_assert_int_eq(nodedev_session_detach(s, &audio, LONG, &e2), -EOPNOTSUPP);
        assert_one_line(e2, "detaching 0000:01:00.1: libvirt-vfio-hook-bogus.so.99 not found: install libvirt0 (");
        nodedev_session_free(s);
}
END_TEST

START_TEST(nodedev_domain_xml) {
        _cleanup_free_ char *xml = NULL, *e = NULL, *none = NULL;

        ck_assert_int_eq(nodedev_fetch_domain_xml("test:///default", "test", LONG, &xml, NULL), 0);
        ck_assert_msg(strstr(xml, "<name>test</name>"), "got: %s", xml);
        ck_assert_msg(strstr(xml, "<domain"), "got: %s", xml);

        ck_assert_int_eq(nodedev_fetch_domain_xml("test:///default", "no-such-domain", LONG, &none, &e), -ENOENT);
        ck_assert_ptr_null(none);
        assert_one_line(e, "fetching the XML of domain no-such-domain: ");
}
END_TEST

/* libvirt's test driver runs a domain called "test". */
START_TEST(nodedev_domain_running) {
        _cleanup_free_ char *e = NULL;

        ck_assert_int_eq(nodedev_domain_active("test:///default", "test", LONG, NULL), 1);
        ck_assert_int_eq(nodedev_domain_active("test:///default", "no-such-domain", LONG, NULL), 0);
        ck_assert_int_eq(nodedev_domain_active("qemu:///system?socket=/nonexistent/vfio-hook/libvirt-sock", "test", LONG, &e),
                         -ECONNREFUSED);
        assert_one_line(e, "asking libvirt whether it runs domain test: ");
}
END_TEST

START_TEST(kmod_alias_lookup) {
        _cleanup_kmodops_ KmodOps *k = NULL;
        _cleanup_strv_free_ char **none = NULL, **bad = NULL;
        _cleanup_free_ char *e = NULL;

        ck_assert_int_eq(kmodops_new(&k, NULL), 0);
        /* No module claims this made-up device. */
        ck_assert_int_eq(kmodops_alias_modules(k, "pci:v0000FFFEd0000FFFEsv0000FFFEsd0000FFFEbcFEsc00i00", &none, NULL), 0);
        ck_assert_ptr_nonnull(none);
        ck_assert_ptr_null(none[0]);
        ck_assert_int_eq(kmodops_alias_modules(k, "pci:v0000 x", &bad, &e), -EINVAL);
        ck_assert_ptr_null(bad);
        ck_assert_str_eq(e, "invalid modalias");
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("kmodops");
        TCase *tc = test_tcase("kmod");

        tcase_add_test(tc, kmod_names);
        tcase_add_test(tc, kmod_not_loaded);
        tcase_add_test(tc, kmod_builtin);
        tcase_add_test(tc, kmod_alias_lookup);
        suite_add_tcase(s, tc);

        tc = test_tcase("libvirt");
        tcase_add_test(tc, virt_dlopen);
        tcase_add_test(tc, virt_dlopen_missing);
        tcase_add_test(tc, nodedev_bad_uri);
        tcase_add_test(tc, nodedev_no_daemon);
        tcase_add_test(tc, nodedev_unknown_device);
        tcase_add_test(tc, nodedev_hang);
        tcase_add_test(tc, nodedev_session_one_connection);
        tcase_add_test(tc, nodedev_session_begun_early);
        tcase_add_test(tc, nodedev_session_unknown_device);
        tcase_add_test(tc, nodedev_session_device_known_late);
        tcase_add_test(tc, nodedev_session_hang_second);
        tcase_add_test(tc, nodedev_session_no_libvirt);
        tcase_add_test(tc, nodedev_domain_running);
        tcase_add_test(tc, nodedev_domain_xml);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(suite());
}
