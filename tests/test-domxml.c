/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <check.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "check-main.h"
#include "model/domxml.h"
#include "shared/util.h"

#define NS "urn:vfio-hook:policy:1"
#define POLICY(body) "<vh:policy xmlns:vh='" NS "'>" body "</vh:policy>"
#define DOMAIN(name, metadata, devices)                                 \
        "<domain type='kvm'><name>" name "</name>"                      \
        "<metadata>" metadata "</metadata>"                             \
        "<devices>" devices "</devices></domain>"
#define PCI_HOSTDEV(managed, attrs)                                     \
        "<hostdev mode='subsystem' type='pci' managed='" managed "'>"   \
        "<source><address " attrs "/></source></hostdev>"
#define GPU PCI_HOSTDEV("yes", "domain='0x0000' bus='0x01' slot='0x00' function='0x0'")
#define WITH_POLICY(body) DOMAIN("win10", POLICY(body), GPU)

static Domain *parse_ok(const char *xml) {
        _cleanup_free_ char *err = NULL;
        Domain *d = NULL;

        int r = domxml_parse(xml, strlen(xml), &d, &err);
        ck_assert_msg(r == 0, "parse failed (%d): %s", r, err ? err : "(no message)");
        ck_assert_ptr_nonnull(d);
        ck_assert_ptr_null(err);
        return d;
}

static void expect_error_len(const char *xml, size_t len, const char *substr) {
        _cleanup_free_ char *err = NULL;
        Domain *d = NULL;

        int r = domxml_parse(xml, len, &d, &err);
        ck_assert_msg(r == -EINVAL, "expected -EINVAL for '%s', got %d", substr, r);
        ck_assert_ptr_null(d);
        ck_assert_ptr_nonnull(err);
        ck_assert_msg(strstr(err, substr), "error \"%s\" does not contain \"%s\"", err, substr);
        ck_assert_msg(!strchr(err, '\n'), "error is not one line: \"%s\"", err);
}

static void expect_error(const char *xml, const char *substr) {
        expect_error_len(xml, strlen(xml), substr);
}

static char *read_example(const char *name, size_t *ret_len) {
        _cleanup_free_ char *path = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        char *buf;
        size_t n;

        ck_assert_int_ge(asprintf(&path, "%s/examples/%s", TEST_SRCDIR, name), 0);
        f = fopen(path, "re");
        ck_assert_msg(f, "cannot open %s", path);
        buf = malloc(1024 * 1024);
        ck_assert_ptr_nonnull(buf);
        n = fread(buf, 1, 1024 * 1024 - 1, f);
        ck_assert_int_gt(n, 0);
        buf[n] = 0;
        *ret_len = n;
        return buf;
}

static void assert_addr(const HostDev *h, const char *want, bool managed) {
        char a[PCI_ADDR_STRLEN];

        ck_assert_str_eq(pci_addr_format(&h->addr, a), want);
        ck_assert(h->managed == managed);
}

/* ---- PCI addresses ---- */

START_TEST(test_pci_addr_parse_good) {
        PciAddr a;
        char buf[PCI_ADDR_STRLEN], node[sizeof("pci_0000_00_00_0")];

        ck_assert_int_eq(pci_addr_parse("0000:01:00.0", &a), 0);
        ck_assert_uint_eq(a.domain, 0);
        ck_assert_uint_eq(a.bus, 1);
        ck_assert_uint_eq(a.slot, 0);
        ck_assert_uint_eq(a.function, 0);
        ck_assert_str_eq(pci_addr_nodedev_name(&a, node), "pci_0000_01_00_0");

        ck_assert_int_eq(pci_addr_parse("FFFF:AB:1F.7", &a), 0);
        ck_assert_uint_eq(a.domain, 0xffff);
        ck_assert_uint_eq(a.bus, 0xab);
        ck_assert_uint_eq(a.slot, 0x1f);
        ck_assert_uint_eq(a.function, 7);
        ck_assert_str_eq(pci_addr_format(&a, buf), "ffff:ab:1f.7");
        ck_assert_str_eq(pci_addr_nodedev_name(&a, node), "pci_ffff_ab_1f_7");

        PciAddr b = { .domain = 0xffff, .bus = 0xab, .slot = 0x1f, .function = 7 };
        ck_assert(pci_addr_equal(&a, &b));
        b.function = 6;
        ck_assert(!pci_addr_equal(&a, &b));
}
END_TEST

static const char *const bad_pci_addrs[] = {
        "", "0000:01:00", "0000:01:00.", "0000:01:00.0x", "0000:01:00.0 ", " 0000:01:00.0",
        "0000:01:00.8", "0000:01:20.0", "000:01:00.0", "00000:01:00.0", "0000-01:00.0",
        "0000:01:00:0", "+000:01:00.0", "0000:+1:00.0", "0000:01:00.+", "0000:0g:00.0",
        "01:00.0", "0000:01:00.0\n", "0000:01.00.0", "pci_0000_01_00_0",
};

START_TEST(test_pci_addr_parse_bad) {
        PciAddr a = { .domain = 42 };

        for (size_t i = 0; i < ELEMENTSOF(bad_pci_addrs); i++) {
                ck_assert_msg(pci_addr_parse(bad_pci_addrs[i], &a) == -EINVAL, "accepted '%s'", bad_pci_addrs[i]);
                ck_assert_uint_eq(a.domain, 42); /* untouched on failure */
        }
        ck_assert_int_eq(pci_addr_parse(NULL, &a), -EINVAL);
}
END_TEST

/* ---- the examples ---- */

START_TEST(test_example_nvidia) {
        _cleanup_free_ char *xml = NULL;
        _cleanup_domain_ Domain *d = NULL;
        size_t len;

        xml = read_example("win10-nvidia.xml", &len);
        d = parse_ok(xml);
        ck_assert_str_eq(d->name, "win10");
        ck_assert_uint_eq(d->n_hostdevs, 2); /* the USB hostdev is not ours */
        assert_addr(&d->hostdevs[0], "0000:01:00.0", true);
        assert_addr(&d->hostdevs[1], "0000:01:00.1", true);
        ck_assert_ptr_nonnull(d->policy);
        ck_assert_int_eq(d->policy->stack, STACK_AUTO);
        ck_assert_uint_eq(strv_length(d->policy->services), 1);
        ck_assert_str_eq(d->policy->services[0], "nvidia-persistenced.service");
        ck_assert_ptr_null(d->policy->modules);
        ck_assert_uint_eq(d->policy->timeout_sec, 30);
        ck_assert_int_eq(d->policy->console, CHOICE_AUTO);
        ck_assert_int_eq(d->policy->framebuffer, CHOICE_AUTO);
        ck_assert_int_eq(d->policy->display_manager, CHOICE_AUTO);
        ck_assert_int_eq(policy_check_allowed(d->policy, NULL, NULL, NULL), 0);
}
END_TEST

START_TEST(test_example_dgpu) {
        _cleanup_free_ char *xml = NULL;
        _cleanup_domain_ Domain *d = NULL;
        size_t len;

        xml = read_example("win11-dgpu.xml", &len);
        d = parse_ok(xml);
        ck_assert_str_eq(d->name, "win11");
        ck_assert_uint_eq(d->n_hostdevs, 2);
        assert_addr(&d->hostdevs[1], "0000:01:00.1", true);
        ck_assert_int_eq(d->policy->stack, STACK_AUTO);
        ck_assert_int_eq(d->policy->console, CHOICE_AUTO);
        ck_assert_int_eq(d->policy->display_manager, CHOICE_AUTO);
}
END_TEST

START_TEST(test_example_amd) {
        _cleanup_free_ char *xml = NULL;
        _cleanup_domain_ Domain *d = NULL;
        size_t len;

        xml = read_example("win10-amd.xml", &len);
        d = parse_ok(xml);
        ck_assert_str_eq(d->name, "win10-amd");
        ck_assert_uint_eq(d->n_hostdevs, 2);
        assert_addr(&d->hostdevs[0], "0000:03:00.0", true);
        assert_addr(&d->hostdevs[1], "0000:03:00.1", true);
        ck_assert_ptr_nonnull(d->policy);
        ck_assert_int_eq(d->policy->stack, STACK_AMDGPU);
        ck_assert_int_eq(d->policy->holders, HOLDERS_TERMINATE);
        ck_assert_uint_eq(d->policy->timeout_sec, 60);
        ck_assert_int_eq(d->policy->console, CHOICE_AUTO);
}
END_TEST

START_TEST(test_example_intel) {
        _cleanup_free_ char *xml = NULL;
        _cleanup_domain_ Domain *d = NULL;
        size_t len;

        xml = read_example("win10-intel.xml", &len);
        d = parse_ok(xml);
        ck_assert_str_eq(d->name, "win10-intel");
        ck_assert_uint_eq(d->n_hostdevs, 1);
        assert_addr(&d->hostdevs[0], "0000:00:02.0", true);
        ck_assert_ptr_nonnull(d->policy);
        ck_assert_int_eq(d->policy->stack, STACK_I915);
        ck_assert_int_eq(d->policy->console, CHOICE_CHANGE);
        ck_assert_int_eq(d->policy->framebuffer, CHOICE_CHANGE);
        ck_assert_int_eq(d->policy->display_manager, CHOICE_CHANGE);
}
END_TEST

START_TEST(test_example_no_policy) {
        _cleanup_free_ char *xml = NULL;
        _cleanup_domain_ Domain *d = NULL;
        size_t len;

        xml = read_example("no-policy.xml", &len);
        d = parse_ok(xml);
        ck_assert_ptr_null(d->policy);
        ck_assert_uint_eq(d->n_hostdevs, 1);
        assert_addr(&d->hostdevs[0], "0000:01:00.0", true);
}
END_TEST

/* ---- the domain ---- */

START_TEST(test_full_policy) {
        _cleanup_domain_ Domain *d = parse_ok(WITH_POLICY(
                "<vh:stack>nvidia</vh:stack><vh:console>keep</vh:console>"
                "<vh:framebuffer>keep</vh:framebuffer><vh:display-manager>keep</vh:display-manager>"
                "<vh:holders>terminate</vh:holders><vh:service>a.service</vh:service>"
                "<vh:module>snd-hda-intel</vh:module><vh:timeout>600</vh:timeout>"));
        Policy *p = d->policy;

        ck_assert_ptr_nonnull(p);
        ck_assert_int_eq(p->stack, STACK_NVIDIA);
        ck_assert_int_eq(p->console, CHOICE_KEEP);
        ck_assert_int_eq(p->framebuffer, CHOICE_KEEP);
        ck_assert_int_eq(p->display_manager, CHOICE_KEEP);
        ck_assert_int_eq(p->holders, HOLDERS_TERMINATE);
        ck_assert_str_eq(p->services[0], "a.service");
        ck_assert_ptr_null(p->services[1]);
        ck_assert_str_eq(p->modules[0], "snd_hda_intel"); /* normalized */
        ck_assert_ptr_null(p->modules[1]);
        ck_assert_uint_eq(p->timeout_sec, 600);
}
END_TEST

START_TEST(test_policy_choices) {
        _cleanup_domain_ Domain *a = parse_ok(WITH_POLICY(
                "<console>auto</console><framebuffer>auto</framebuffer><display-manager>auto</display-manager>"));
        _cleanup_domain_ Domain *c = parse_ok(WITH_POLICY(
                "<console>unbind</console><framebuffer>unbind</framebuffer><display-manager>stop</display-manager>"));

        ck_assert_int_eq(a->policy->console, CHOICE_AUTO);
        ck_assert_int_eq(a->policy->framebuffer, CHOICE_AUTO);
        ck_assert_int_eq(a->policy->display_manager, CHOICE_AUTO);
        ck_assert_int_eq(c->policy->console, CHOICE_CHANGE);
        ck_assert_int_eq(c->policy->framebuffer, CHOICE_CHANGE);
        ck_assert_int_eq(c->policy->display_manager, CHOICE_CHANGE);
}
END_TEST

START_TEST(test_empty_policy_defaults) {
        _cleanup_domain_ Domain *d = parse_ok(DOMAIN("vm", "<vh:policy xmlns:vh='" NS "'/>", ""));
        Policy *p = d->policy;

        ck_assert_ptr_nonnull(p);
        ck_assert_int_eq(p->stack, STACK_AUTO);
        ck_assert_int_eq(p->console, CHOICE_AUTO);
        ck_assert_int_eq(p->framebuffer, CHOICE_AUTO);
        ck_assert_int_eq(p->display_manager, CHOICE_AUTO);
        ck_assert_int_eq(p->holders, HOLDERS_REFUSE);
        ck_assert_ptr_null(p->services);
        ck_assert_ptr_null(p->modules);
        ck_assert_uint_eq(p->timeout_sec, POLICY_TIMEOUT_DEFAULT);
        ck_assert_uint_eq(d->n_hostdevs, 0);
}
END_TEST

START_TEST(test_policy_namespace_spellings) {
        /* Default namespace: children inherit it. */
        _cleanup_domain_ Domain *a = parse_ok(DOMAIN("vm", "<policy xmlns='" NS "'><stack>xe</stack></policy>", ""));
        ck_assert_int_eq(a->policy->stack, STACK_XE);

        /* Prefix declared on <domain>, any prefix name. */
        _cleanup_domain_ Domain *b = parse_ok(
                "<domain xmlns:foo='" NS "'><name>vm</name><metadata>"
                "<other xmlns='urn:x'/><foo:policy><foo:stack>radeon</foo:stack><holders>terminate</holders>"
                "</foo:policy></metadata></domain>");
        ck_assert_int_eq(b->policy->stack, STACK_RADEON);
        ck_assert_int_eq(b->policy->holders, HOLDERS_TERMINATE);

        /* Another version of the namespace is not ours: no policy. */
        _cleanup_domain_ Domain *c = parse_ok(DOMAIN("vm", "<vh:policy xmlns:vh='urn:vfio-hook:policy:2'/>", ""));
        ck_assert_ptr_null(c->policy);
}
END_TEST

START_TEST(test_no_policy_any_name) {
        /* A name we could not use in a path is fine when we never use it. */
        _cleanup_domain_ Domain *d = parse_ok(DOMAIN("my vm/../x", "<app xmlns='urn:other'/>", GPU));

        ck_assert_ptr_null(d->policy);
        ck_assert_str_eq(d->name, "my vm/../x");
        ck_assert_uint_eq(d->n_hostdevs, 1);

        _cleanup_domain_ Domain *e = parse_ok("<domain><name>plain</name></domain>");
        ck_assert_ptr_null(e->policy);
        ck_assert_uint_eq(e->n_hostdevs, 0);
}
END_TEST

START_TEST(test_bad_domain_names) {
        expect_error(DOMAIN("a/b", POLICY(""), GPU), "domain name 'a/b' cannot be used");
        expect_error(DOMAIN("..", POLICY(""), GPU), "domain name '..' cannot be used");
        expect_error(DOMAIN("../../etc/x", POLICY(""), GPU), "domain name '../../etc/x'");
        expect_error(DOMAIN("", POLICY(""), GPU), "domain name ''");
        expect_error(DOMAIN(" win10", POLICY(""), GPU), "domain name ' win10'");
        expect_error("<domain><metadata>" POLICY("") "</metadata></domain>", "domain XML has no <name>");
        expect_error("<domain><name>a</name><name>b</name></domain>", "more than one <name>");
        expect_error("<domain><name>a<b/></name></domain>", "<name> must contain only text");

        char name[DOMAIN_NAME_MAX + 2];
        _cleanup_free_ char *xml = NULL;
        memset(name, 'a', DOMAIN_NAME_MAX + 1);
        name[DOMAIN_NAME_MAX + 1] = 0;
        ck_assert_int_ge(asprintf(&xml, DOMAIN("%s", POLICY(""), ""), name), 0);
        expect_error(xml, "cannot be used by vfio-hook");

        name[DOMAIN_NAME_MAX] = 0; /* exactly the maximum is fine */
        free(xml);
        ck_assert_int_ge(asprintf(&xml, DOMAIN("%s", POLICY(""), ""), name), 0);
        _cleanup_domain_ Domain *d = parse_ok(xml);
        ck_assert_uint_eq(strlen(d->name), DOMAIN_NAME_MAX);

        ck_assert(domain_name_valid("win10_gaming-2.0@host"));
        ck_assert(!domain_name_valid("win 10"));
        ck_assert(!domain_name_valid("."));
}
END_TEST

START_TEST(test_root_element) {
        expect_error("<domainx><name>a</name></domainx>", "root element is <domainx>, expected <domain>");
        expect_error("<d:domain xmlns:d='urn:x'><name>a</name></d:domain>",
                     "root element <d:domain> is in namespace 'urn:x', expected <domain> in none (libvirt's)");
        expect_error("<domain xmlns='urn:evil'><name>a</name></domain>",
                     "root element <domain> is in namespace 'urn:evil', expected <domain> in none (libvirt's)");
}
END_TEST

/* ---- hostdevs ---- */

START_TEST(test_hostdev_types_ignored) {
        _cleanup_domain_ Domain *d = parse_ok(DOMAIN("vm", POLICY(""),
                "<hostdev mode='subsystem' type='usb' managed='yes'><source><vendor id='0x046d'/>"
                "<product id='0xc52b'/></source></hostdev>"
                "<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source>"
                "<address uuid='c2177883-f1bb-47f0-914d-32a22e3a8804'/></source></hostdev>"
                "<hostdev mode='subsystem' type='scsi'><source><adapter name='scsi_host0'/>"
                "<address bus='0' target='0' unit='0'/></source></hostdev>"
                "<hostdev mode='capabilities' type='storage'><source><block>/dev/sdf1</block></source></hostdev>"
                "<hostdev mode='capabilities' type='pci'><source><address bus='zz'/></source></hostdev>"
                "<hostdev mode='subsystem' type='pci'><source>"
                "<address domain='0x0000' bus='0x06' slot='0x00' function='0x0'/></source></hostdev>"
                "<interface type='network'><source network='default'/></interface>"));

        ck_assert_uint_eq(d->n_hostdevs, 1);
        assert_addr(&d->hostdevs[0], "0000:06:00.0", false);
}
END_TEST

START_TEST(test_hostdev_managed) {
        _cleanup_domain_ Domain *d = parse_ok(DOMAIN("vm", "",
                PCI_HOSTDEV("yes", "domain='0x0000' bus='0x01' slot='0x00' function='0x0'")
                PCI_HOSTDEV("no", "domain='0x0000' bus='0x01' slot='0x00' function='0x1'")
                /* no mode: libvirt's default is subsystem; no managed: no */
                "<hostdev type='pci'><source><address domain='0' bus='1' slot='0' function='2'/></source></hostdev>"));

        ck_assert_uint_eq(d->n_hostdevs, 3);
        assert_addr(&d->hostdevs[0], "0000:01:00.0", true);
        assert_addr(&d->hostdevs[1], "0000:01:00.1", false);
        assert_addr(&d->hostdevs[2], "0000:01:00.2", false);

        expect_error(DOMAIN("vm", "", GPU PCI_HOSTDEV("true", "domain='0' bus='2' slot='0' function='0'")),
                     "hostdev 2: managed='true' is not 'yes' or 'no'");
}
END_TEST

START_TEST(test_hostdev_address_bases) {
        /* As libvirt reads them: hex with 0x, octal with a leading 0, else decimal. */
        _cleanup_domain_ Domain *d = parse_ok(DOMAIN("vm", "",
                PCI_HOSTDEV("yes", "domain='0xFFFF' bus='0XaB' slot='0x1F' function='0x7'")
                PCI_HOSTDEV("yes", "domain='0' bus='16' slot='31' function='7'")
                PCI_HOSTDEV("yes", "domain='00' bus='010' slot='07' function='0'")));

        ck_assert_uint_eq(d->n_hostdevs, 3);
        assert_addr(&d->hostdevs[0], "ffff:ab:1f.7", true);
        assert_addr(&d->hostdevs[1], "0000:10:1f.7", true);
        assert_addr(&d->hostdevs[2], "0000:08:07.0", true);
}
END_TEST

static const struct {
        const char *attrs;
        const char *error;
} bad_addresses[] = {
        { "domain='0x0000' bus='0x1g' slot='0x00' function='0x0'", "hostdev 1: <address bus='0x1g'> is not a valid PCI bus" },
        { "domain='0x0000' bus='0x100' slot='0x00' function='0x0'", "<address bus='0x100'> is not a valid PCI bus" },
        { "domain='0x10000' bus='0x01' slot='0x00' function='0x0'", "<address domain='0x10000'> is not a valid PCI domain" },
        { "domain='0x0000' bus='0x01' slot='0x20' function='0x0'", "<address slot='0x20'> is not a valid PCI slot" },
        { "domain='0x0000' bus='0x01' slot='0x00' function='0x8'", "<address function='0x8'> is not a valid PCI function" },
        { "domain='0x0000' bus='0x01' slot='0x00' function='8'", "<address function='8'> is not a valid PCI function" },
        { "domain='0x0000' bus='0x01' slot='0x00' function='0x0x'", "<address function='0x0x'>" },
        { "domain='0x0000' bus='0x01' slot='0x00' function='0 '", "<address function='0 '>" },
        { "domain='0x0000' bus=' 1' slot='0x00' function='0'", "<address bus=' 1'>" },
        { "domain='0x0000' bus='+1' slot='0x00' function='0'", "<address bus='+1'>" },
        { "domain='0x0000' bus='-1' slot='0x00' function='0'", "<address bus='-1'>" },
        { "domain='0x0000' bus='0x' slot='0x00' function='0'", "<address bus='0x'>" },
        { "domain='0x0000' bus='' slot='0x00' function='0'", "<address bus=''>" },
        { "domain='0x0000' bus='08' slot='0x00' function='0'", "<address bus='08'>" },
        { "domain='0x0000' bus='1' slot='0x00' function='0.0'", "<address function='0.0'>" },
        { "domain='0x0000' bus='99999999999999999999' slot='0' function='0'", "<address bus='99999999999999999999'>" },
        { "bus='0x01' slot='0x00' function='0x0'", "hostdev 1: <address> has no domain attribute" },
        { "domain='0x0000' bus='0x01' slot='0x00'", "hostdev 1: <address> has no function attribute" },
};

START_TEST(test_hostdev_bad_address) {
        _cleanup_free_ char *xml = NULL;

        ck_assert_int_ge(asprintf(&xml, DOMAIN("vm", "", PCI_HOSTDEV("yes", "%s")), bad_addresses[_i].attrs), 0);
        expect_error(xml, bad_addresses[_i].error);
}
END_TEST

START_TEST(test_hostdev_structure) {
        expect_error(DOMAIN("vm", "", "<hostdev mode='subsystem' type='pci'/>"), "hostdev 1: <source> is missing");
        expect_error(DOMAIN("vm", "", "<hostdev mode='subsystem' type='pci'><source/>"
                                      "<address type='pci' domain='0' bus='1' slot='0' function='0'/></hostdev>"),
                     "hostdev 1: <source> has no <address>");
        /* Counted among all hostdevs, as a user counts them. */
        expect_error(DOMAIN("vm", "", "<hostdev mode='subsystem' type='usb'/>" GPU
                                      PCI_HOSTDEV("yes", "domain='0' bus='0x1g' slot='0' function='0'")),
                     "hostdev 3: <address bus='0x1g'> is not a valid PCI bus");
        expect_error(DOMAIN("vm", "", GPU PCI_HOSTDEV("no", "domain='0' bus='1' slot='0' function='0'")),
                     "hostdev 2: PCI device 0000:01:00.0 is listed twice");
}
END_TEST

/* ---- malformed and hostile documents ---- */

static const struct {
        const char *xml;
        const char *error;
} hostile[] = {
        { "<domain><name>a</name>", "domain XML is not well-formed: line 1:" },
        { "<domain><name>a</nam></domain>", "domain XML is not well-formed: line 1:" },
        { "<domain>\n<name>a</name>\n<devices><hostdev></devices>\n</domain>", "domain XML is not well-formed: line 3:" },
        { "<domain><name>a</name></domain><domain/>", "domain XML is not well-formed" },
        { "just text", "domain XML is not well-formed" },
        { "<domain><name>&undefined;</name></domain>", "domain XML is not well-formed" },
        /* XXE: an external entity would read a file. */
        { "<?xml version='1.0'?>\n<!DOCTYPE domain [<!ENTITY xxe SYSTEM 'file:///etc/passwd'>]>\n"
          "<domain><name>&xxe;</name></domain>", "DOCTYPE" },
        /* An external DTD, fetched over the network if it were allowed. */
        { "<!DOCTYPE domain SYSTEM 'http://127.0.0.1:1/x.dtd'><domain><name>a</name></domain>", "DOCTYPE" },
        { "<!DOCTYPE domain><domain><name>a</name></domain>", "DOCTYPE" },
        /* Billion laughs. */
        { "<?xml version='1.0'?>\n<!DOCTYPE lolz [\n <!ENTITY lol 'lol'>\n"
          " <!ENTITY lol1 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>\n"
          " <!ENTITY lol2 '&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;'>\n"
          " <!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'>\n"
          " <!ENTITY lol4 '&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;'>\n"
          " <!ENTITY lol5 '&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;'>\n"
          " <!ENTITY lol6 '&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;'>\n"
          " <!ENTITY lol7 '&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;'>\n"
          " <!ENTITY lol8 '&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;'>\n"
          " <!ENTITY lol9 '&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;'>\n"
          "]>\n<domain><name>&lol9;</name><metadata>" POLICY("") "</metadata></domain>", "DOCTYPE" },
        /* A DOCTYPE after a comment, and in UTF-16 (no BOM tricks needed: libxml2 decodes first). */
        { "<!-- x --><!DOCTYPE domain [<!ENTITY a 'b'>]><domain><name>&a;</name></domain>", "DOCTYPE" },
};

START_TEST(test_hostile_documents) {
        expect_error(hostile[_i].xml, hostile[_i].error);
}
END_TEST

START_TEST(test_doctype_utf16) {
        const char *ascii = "<!DOCTYPE domain [<!ENTITY a 'b'>]><domain><name>&a;</name></domain>";
        size_t n = strlen(ascii);
        _cleanup_free_ char *buf = malloc(2 * n + 2);

        /* UTF-16LE with a BOM: a byte scan for "<!DOCTYPE" would miss it. */
        buf[0] = (char) 0xff;
        buf[1] = (char) 0xfe;
        for (size_t i = 0; i < n; i++) {
                buf[2 + 2 * i] = ascii[i];
                buf[3 + 2 * i] = 0;
        }
        expect_error_len(buf, 2 * n + 2, "DOCTYPE");
}
END_TEST

static char *nested(unsigned levels) {
        char *s = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&s, &size);

        ck_assert_ptr_nonnull(f);
        fputs("<domain><name>a</name><metadata>", f);
        for (unsigned i = 0; i < levels; i++)
                fputs("<x>", f);
        for (unsigned i = 0; i < levels; i++)
                fputs("</x>", f);
        fputs("</metadata></domain>", f);
        fclose(f);
        return s;
}

START_TEST(test_depth) {
        _cleanup_free_ char *ok = nested(62);    /* 64 levels with domain and metadata */
        _cleanup_free_ char *deep = nested(63);
        _cleanup_free_ char *hundred = nested(100);
        _cleanup_free_ char *libxml_limit = nested(300);

        _cleanup_domain_ Domain *d = parse_ok(ok);
        ck_assert_ptr_nonnull(d);
        expect_error(deep, "domain XML is nested more than 64 levels deep");
        expect_error(hundred, "domain XML is nested more than 64 levels deep");
        expect_error(libxml_limit, "domain XML is not well-formed");
}
END_TEST

/* A domain whose <metadata> holds one element with n attributes besides
 * its namespace declaration (which counts as one). */
static char *many_attributes(unsigned n, const char *value) {
        char *s = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&s, &size);

        ck_assert_ptr_nonnull(f);
        fputs("<domain><name>a</name><metadata>\n<x:y xmlns:x='urn:x'", f);
        for (unsigned i = 0; i < n; i++)
                fprintf(f, " a%u='%s'", i, value);
        fputs("/></metadata></domain>", f);
        fclose(f);
        return s;
}

/* libxml2 2.9 takes time quadratic in the attributes of one element
 * (40,000 took 25 s): more than 256 are refused before it sees them. */
START_TEST(test_attributes_per_element) {
        _cleanup_free_ char *ok = many_attributes(255, "v"), *over = many_attributes(256, "v");
        _cleanup_free_ char *huge = many_attributes(40000, "v");
        _cleanup_domain_ Domain *d = parse_ok(ok);
        ck_assert_ptr_nonnull(d);
        expect_error(over, "domain XML: an element at line 2 has more than 256 attributes");
        expect_error(huge, "domain XML: an element at line 2 has more than 256 attributes");

        /* '=' in values, comments, CDATA and processing instructions is no attribute. */
        _cleanup_free_ char *values = many_attributes(200, "a=b=c\" = \"");
        _cleanup_free_ char *text = NULL;
        ck_assert_int_ge(asprintf(&text, "<domain><name>a</name><!-- %0300d --><description><![CDATA[%0300d]]>"
                                         "<?pi %0300d?></description></domain>", 0, 0, 0), 0);
        for (char *p = text; *p; p++)
                if (*p == '0')
                        *p = '=';
        _cleanup_domain_ Domain *d2 = parse_ok(values), *d3 = parse_ok(text);
        ck_assert_ptr_nonnull(d2);
        ck_assert_ptr_nonnull(d3);
}
END_TEST

/* The total time of a parse is bounded too: the deadline stops it. */
START_TEST(test_parse_deadline) {
        char *s = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&s, &size);
        ck_assert_ptr_nonnull(f);
        fputs("<domain><name>a</name><metadata><x xmlns='urn:x'>", f);
        for (unsigned i = 0; i < 20000; i++)
                fputs("<y/>", f);
        fputs("</x></metadata></domain>", f);
        fclose(f);
        _cleanup_free_ char *xml = s, *err = NULL;

        Domain *d = NULL;
        ck_assert_int_eq(domxml_parse_timeout(xml, size, 1, &d, &err), -EINVAL);
        ck_assert_ptr_null(d);
        ck_assert_msg(err && strstr(err, "domain XML: parsing took longer than 1e-06 s"), "%s", err);
        free(err);
        err = NULL;
        ck_assert_int_eq(domxml_parse_timeout(xml, size, 60 * USEC_PER_SEC, &d, &err), 0);
        domain_free(d);
}
END_TEST

START_TEST(test_size) {
        size_t n = DOMXML_MAX_SIZE + 1;
        _cleanup_free_ char *big = malloc(n);

        ck_assert_ptr_nonnull(big);
        memset(big, ' ', n);
        memcpy(big, "<domain>", 8);
        expect_error_len(big, n, "domain XML is too large (16777217 bytes, at most 16777216)");
        expect_error_len("", 0, "domain XML is empty");
        expect_error_len(NULL, 0, "domain XML is empty");
        /* A NUL byte inside the buffer is not XML. */
        expect_error_len("<domain><name>a\0b</name></domain>", 33, "not well-formed");
}
END_TEST

START_TEST(test_libxml_is_silent) {
        char path[] = "/tmp/test-domxml-stderr.XXXXXX";
        int fd = mkstemp(path);
        struct stat st;

        ck_assert_int_ge(fd, 0);
        unlink(path);
        fflush(stderr);
        int saved = dup(STDERR_FILENO);
        ck_assert_int_ge(saved, 0);
        ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);

        for (size_t i = 0; i < ELEMENTSOF(hostile); i++) {
                _cleanup_free_ char *err = NULL;
                Domain *d = NULL;
                ck_assert_int_eq(domxml_parse(hostile[i].xml, strlen(hostile[i].xml), &d, &err), -EINVAL);
        }

        fflush(stderr);
        ck_assert_int_ge(dup2(saved, STDERR_FILENO), 0);
        close(saved);
        ck_assert_int_eq(fstat(fd, &st), 0);
        ck_assert_int_eq(st.st_size, 0);
        close(fd);
}
END_TEST

/* ---- the policy element ---- */

START_TEST(test_policy_duplicate) {
        expect_error(DOMAIN("vm", POLICY("") POLICY(""), GPU), "more than one <policy>");
        expect_error(DOMAIN("vm", POLICY("") "<policy xmlns='" NS "'/>", GPU), "more than one <policy>");
        expect_error(DOMAIN("vm", "<vh:polcy xmlns:vh='" NS "'/>", GPU),
                     "metadata: unknown element <vh:polcy> in namespace " NS);
}
END_TEST

START_TEST(test_policy_unknown_and_foreign_elements) {
        expect_error(WITH_POLICY("<stacks>auto</stacks>"), "policy: unknown element <stacks> (expected stack, console");
        expect_error(WITH_POLICY("<vh:modules>x</vh:modules>"), "policy: unknown element <vh:modules>");
        expect_error(WITH_POLICY("<x:stack xmlns:x='urn:other'>auto</x:stack>"),
                     "policy: <x:stack> is in namespace 'urn:other'");
        expect_error(DOMAIN("vm", "<policy xmlns='" NS "'><stack xmlns='urn:other'>auto</stack></policy>", ""),
                     "policy: <stack> is in namespace 'urn:other'");
}
END_TEST

START_TEST(test_policy_attributes) {
        expect_error(DOMAIN("vm", "<vh:policy xmlns:vh='" NS "' version='2'/>", ""),
                     "policy: <policy> takes no attributes (found 'version')");
        expect_error(WITH_POLICY("<stack force='yes'>auto</stack>"), "policy: <stack> takes no attributes (found 'force')");
        expect_error(WITH_POLICY("<module vh:x='1'>snd_hda_intel</module>"), "policy: <module> takes no attributes (found 'x')");
}
END_TEST

START_TEST(test_policy_structure) {
        expect_error(WITH_POLICY("<stack><auto/></stack>"), "policy: <stack> must contain only text");
        expect_error(WITH_POLICY("stray<stack>auto</stack>"), "policy: unexpected text 'stray' in <policy>");
        expect_error(WITH_POLICY("<![CDATA[x]]>"), "policy: unexpected text 'x' in <policy>");
}
END_TEST

static const char *const single_valued[] = {
        "stack>auto</stack", "console>keep</console", "framebuffer>keep</framebuffer",
        "display-manager>keep</display-manager", "holders>refuse</holders", "timeout>5</timeout",
};

START_TEST(test_policy_single_valued_twice) {
        _cleanup_free_ char *xml = NULL, *want = NULL;
        const char *e = single_valued[_i];
        int n = (int) strcspn(e, ">");

        ck_assert_int_ge(asprintf(&xml, DOMAIN("vm", POLICY("<%s><%s>"), ""), e, e), 0);
        ck_assert_int_ge(asprintf(&want, "policy: <%.*s> appears more than once", n, e), 0);
        expect_error(xml, want);
}
END_TEST

static const struct {
        const char *body;
        const char *error;
} bad_values[] = {
        { "<stack>foo</stack>", "policy: <stack> has unknown value 'foo' (expected auto, nvidia, amdgpu, i915, xe, nouveau, radeon or none)" },
        { "<stack>NVIDIA</stack>", "policy: <stack> has unknown value 'NVIDIA'" },
        { "<stack></stack>", "policy: <stack> has unknown value ''" },
        { "<console>off</console>", "policy: <console> has unknown value 'off' (expected auto, keep or unbind)" },
        { "<framebuffer>yes</framebuffer>", "policy: <framebuffer> has unknown value 'yes' (expected auto, keep or unbind)" },
        { "<display-manager>restart</display-manager>", "policy: <display-manager> has unknown value 'restart' (expected auto, keep or stop)" },
        { "<holders>kill</holders>", "policy: <holders> has unknown value 'kill' (expected terminate or refuse)" },
        { "<service>sshd</service>", "policy: <service> has invalid unit name 'sshd'" },
        { "<service>foo.socket</service>", "policy: <service> has invalid unit name 'foo.socket'" },
        { "<service>../../x.service</service>", "policy: <service> has invalid unit name '../../x.service'" },
        { "<service>/etc/x.service</service>", "policy: <service> has invalid unit name '/etc/x.service'" },
        { "<service>a..b.service</service>", "policy: <service> has invalid unit name 'a..b.service'" },
        { "<service>-x.service</service>", "policy: <service> has invalid unit name '-x.service'" },
        { "<service>getty@.service</service>", "policy: <service> has invalid unit name 'getty@.service'" },
        { "<service>a b.service</service>", "policy: <service> has invalid unit name 'a b.service'" },
        { "<module>Evil</module>", "policy: <module> has invalid module name 'Evil'" },
        { "<module>../evil</module>", "policy: <module> has invalid module name '../evil'" },
        { "<module></module>", "policy: <module> has invalid module name ''" },
        { "<module>a b</module>", "policy: <module> has invalid module name 'a b'" },
        { "<module>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa</module>",
          "policy: <module> has invalid module name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' (expected 1 to 55" },
        { "<timeout>0</timeout>", "policy: <timeout> has invalid value '0' (expected whole seconds from 1 to 600)" },
        { "<timeout>601</timeout>", "policy: <timeout> has invalid value '601'" },
        { "<timeout>-1</timeout>", "policy: <timeout> has invalid value '-1'" },
        { "<timeout>+5</timeout>", "policy: <timeout> has invalid value '+5'" },
        { "<timeout>1.5</timeout>", "policy: <timeout> has invalid value '1.5'" },
        { "<timeout>30s</timeout>", "policy: <timeout> has invalid value '30s'" },
        { "<timeout>4294967326</timeout>", "policy: <timeout> has invalid value '4294967326'" },
        { "<timeout></timeout>", "policy: <timeout> has invalid value ''" },
};

START_TEST(test_policy_bad_values) {
        _cleanup_free_ char *xml = NULL;

        ck_assert_int_ge(asprintf(&xml, DOMAIN("vm", POLICY("%s"), ""), bad_values[_i].body), 0);
        expect_error(xml, bad_values[_i].error);
}
END_TEST

START_TEST(test_policy_text_forms) {
        _cleanup_domain_ Domain *d = parse_ok(WITH_POLICY(
                "<stack>\n   amdgpu\t\n</stack>"
                "<console><!-- why --> keep </console>"
                "<framebuffer><![CDATA[keep]]></framebuffer>"
                "<timeout> 045 </timeout>"
                "<module> nvidia-drm </module><module>nvidia_drm</module><module>i915</module>"
                "<service>a.service</service><service> a.service </service><service>b@1.service</service>"
                "<?pi ignored?>"));
        Policy *p = d->policy;

        ck_assert_int_eq(p->stack, STACK_AMDGPU);
        ck_assert_int_eq(p->console, CHOICE_KEEP);
        ck_assert_int_eq(p->framebuffer, CHOICE_KEEP);
        ck_assert_uint_eq(p->timeout_sec, 45);
        /* Repeats collapse, document order is kept. */
        ck_assert_uint_eq(strv_length(p->modules), 2);
        ck_assert_str_eq(p->modules[0], "nvidia_drm");
        ck_assert_str_eq(p->modules[1], "i915");
        ck_assert_uint_eq(strv_length(p->services), 2);
        ck_assert_str_eq(p->services[0], "a.service");
        ck_assert_str_eq(p->services[1], "b@1.service");
}
END_TEST

START_TEST(test_error_values_sanitized) {
        _cleanup_free_ char *err = NULL;
        Domain *d = NULL;
        const char *xml = WITH_POLICY("<stack>a&#10;b&#9;[31m\\c&#x7f;&#xe9;</stack>");

        ck_assert_int_eq(domxml_parse(xml, strlen(xml), &d, &err), -EINVAL);
        ck_assert_str_eq(err, "policy: <stack> has unknown value 'a\\nb\\t[31m\\\\c\\x7f\\xc3\\xa9' "
                              "(expected auto, nvidia, amdgpu, i915, xe, nouveau, radeon or none)");

        /* Long values are cut. */
        _cleanup_free_ char *long_xml = NULL, *long_err = NULL;
        char v[201];
        memset(v, 'x', 200);
        v[200] = 0;
        ck_assert_int_ge(asprintf(&long_xml, DOMAIN("vm", POLICY("<holders>%s</holders>"), ""), v), 0);
        ck_assert_int_eq(domxml_parse(long_xml, strlen(long_xml), &d, &long_err), -EINVAL);
        ck_assert_ptr_null(strstr(long_err, v + 200 - VALUE_QUOTE_CHARS - 1));
        ck_assert_ptr_nonnull(strstr(long_err, "xxx...'"));
        ck_assert_uint_lt(strlen(long_err), 200);
}
END_TEST

START_TEST(test_no_error_argument) {
        Domain *d = NULL;
        const char *xml = WITH_POLICY("<stack>foo</stack>");

        /* The message is optional; the result is the same. */
        ck_assert_int_eq(domxml_parse(xml, strlen(xml), &d, NULL), -EINVAL);
        ck_assert_ptr_null(d);
}
END_TEST

START_TEST(test_vfs_and_reset) {
        _cleanup_domain_ Domain *d = parse_ok(WITH_POLICY("<vfs pf='0000:3B:00.0' count='4'/>"
                                                          "<vh:vfs pf='0000:3c:00.0' count='2' autoprobe='no'> </vh:vfs>"
                                                          "<reset device='0000:01:00.0' method='device_specific'/>"));
        char a[PCI_ADDR_STRLEN];
        ck_assert_uint_eq(d->policy->n_vfs, 2);
        ck_assert_str_eq(pci_addr_format(&d->policy->vfs[0].pf, a), "0000:3b:00.0");
        ck_assert_uint_eq(d->policy->vfs[0].count, 4);
        ck_assert(!d->policy->vfs[0].autoprobe_off);
        ck_assert(d->policy->vfs[1].autoprobe_off);
        ck_assert_uint_eq(d->policy->n_resets, 1);
        ck_assert_str_eq(pci_addr_format(&d->policy->resets[0].device, a), "0000:01:00.0");
        ck_assert_str_eq(d->policy->resets[0].method, "device_specific");

        expect_error(WITH_POLICY("<vfs pf='0000:3b:00.0'/>"), "policy: <vfs> needs pf= and count=");
        expect_error(WITH_POLICY("<vfs pf='3b:00.0' count='4'/>"), "<vfs pf='3b:00.0'> is not a PCI address");
        expect_error(WITH_POLICY("<vfs pf='0000:3b:00.0' count='0'/>"), "invalid count (expected 1 to 256)");
        expect_error(WITH_POLICY("<vfs pf='0000:3b:00.0' count='257'/>"), "invalid count");
        expect_error(WITH_POLICY("<vfs pf='0000:3b:00.0' count=' 4'/>"), "invalid count");
        expect_error(WITH_POLICY("<vfs pf='0000:3b:00.0' count='4' autoprobe='off'/>"),
                     "<vfs autoprobe> has unknown value 'off' (expected yes or no)");
        expect_error(WITH_POLICY("<vfs pf='0000:3b:00.0' count='4' max='8'/>"),
                     "<vfs> has unknown attribute 'max' (expected pf, count and autoprobe)");
        expect_error(WITH_POLICY("<vfs pf='0000:3b:00.0' count='4'>4</vfs>"), "<vfs> takes no content");
        expect_error(WITH_POLICY("<vfs pf='0000:3b:00.0' count='4'/><vfs pf='0000:3b:00.0' count='2'/>"),
                     "<vfs pf='0000:3b:00.0'> appears more than once");
        expect_error(WITH_POLICY("<reset device='0000:01:00.0' method='reboot'/>"),
                     "<reset device='0000:01:00.0' method='reboot'>: unknown reset method");
        expect_error(WITH_POLICY("<reset device='0000:01:00.0' method='flr bus'/>"), "unknown reset method");
        expect_error(WITH_POLICY("<reset method='flr'/>"), "<reset> needs device= and method=");
        expect_error(WITH_POLICY("<reset device='0000:01:00.0' method='flr'/><reset device='0000:01:00.0' method='bus'/>"),
                     "<reset device='0000:01:00.0'> appears more than once");
        expect_error(WITH_POLICY("<reset device='0000:01:00.0' method='flr&#9;'/>"),
                     "method='flr\\t'>: unknown reset method");
}
END_TEST

static Suite *domxml_suite(void) {
        Suite *s = suite_create("domxml");
        TCase *tc;

        tc = test_tcase("pciaddr");
        tcase_add_test(tc, test_pci_addr_parse_good);
        tcase_add_test(tc, test_pci_addr_parse_bad);
        suite_add_tcase(s, tc);

        tc = test_tcase("examples");
        tcase_add_test(tc, test_example_nvidia);
        tcase_add_test(tc, test_example_dgpu);
        tcase_add_test(tc, test_example_amd);
        tcase_add_test(tc, test_example_intel);
        tcase_add_test(tc, test_example_no_policy);
        suite_add_tcase(s, tc);

        tc = test_tcase("domain");
        tcase_add_test(tc, test_full_policy);
        tcase_add_test(tc, test_policy_choices);
        tcase_add_test(tc, test_empty_policy_defaults);
        tcase_add_test(tc, test_policy_namespace_spellings);
        tcase_add_test(tc, test_no_policy_any_name);
        tcase_add_test(tc, test_bad_domain_names);
        tcase_add_test(tc, test_root_element);
        suite_add_tcase(s, tc);

        tc = test_tcase("hostdev");
        tcase_add_test(tc, test_hostdev_types_ignored);
        tcase_add_test(tc, test_hostdev_managed);
        tcase_add_test(tc, test_hostdev_address_bases);
        tcase_add_loop_test(tc, test_hostdev_bad_address, 0, (int) ELEMENTSOF(bad_addresses));
        tcase_add_test(tc, test_hostdev_structure);
        suite_add_tcase(s, tc);

        tc = test_tcase("hostile");
        tcase_add_loop_test(tc, test_hostile_documents, 0, (int) ELEMENTSOF(hostile));
        tcase_add_test(tc, test_doctype_utf16);
        tcase_add_test(tc, test_depth);
        tcase_add_test(tc, test_size);
        tcase_add_test(tc, test_attributes_per_element);
        tcase_add_test(tc, test_parse_deadline);
        tcase_add_test(tc, test_libxml_is_silent);
        suite_add_tcase(s, tc);

        tc = test_tcase("policy");
        tcase_add_test(tc, test_policy_duplicate);
        tcase_add_test(tc, test_policy_unknown_and_foreign_elements);
        tcase_add_test(tc, test_policy_attributes);
        tcase_add_test(tc, test_policy_structure);
        tcase_add_loop_test(tc, test_policy_single_valued_twice, 0, (int) ELEMENTSOF(single_valued));
        tcase_add_loop_test(tc, test_policy_bad_values, 0, (int) ELEMENTSOF(bad_values));
        tcase_add_test(tc, test_policy_text_forms);
        tcase_add_test(tc, test_error_values_sanitized);
        tcase_add_test(tc, test_no_error_argument);
        tcase_add_test(tc, test_vfs_and_reset);
        suite_add_tcase(s, tc);

        return s;
}

int main(void) {
        return test_run_suite(domxml_suite());
}
