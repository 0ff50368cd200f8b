/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "model/pci.h"
#include "shared/util.h"

/* PCI addresses end up in sysfs paths and in libvirt node device names, so
 * the parser accepts exactly one spelling and nothing around it. */

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Exactly n hex digits at s. */
static int parse_hex_fixed(const char *s, size_t n, unsigned *ret) {
        unsigned v = 0;

        for (size_t i = 0; i < n; i++) {
                int d = hexval(s[i]);
                if (d < 0)
                        return -EINVAL;
                v = v << 4 | (unsigned) d;
        }
        *ret = v;
        return 0;
}

int pci_addr_parse(const char *s, PciAddr *ret) {
        PciAddr a;

        /* strlen() first: every index below is then inside the string. */
        if (!s || strlen(s) != PCI_ADDR_STRLEN - 1)
                return -EINVAL;
        if (s[4] != ':' || s[7] != ':' || s[10] != '.')
                return -EINVAL;
        if (parse_hex_fixed(s, 4, &a.domain) < 0 ||
            parse_hex_fixed(s + 5, 2, &a.bus) < 0 ||
            parse_hex_fixed(s + 8, 2, &a.slot) < 0 ||
            parse_hex_fixed(s + 11, 1, &a.function) < 0)
                return -EINVAL;
        if (a.slot > 0x1f || a.function > 7)
                return -EINVAL;

        *ret = a;
        return 0;
}

char *pci_addr_format(const PciAddr *a, char buf[static PCI_ADDR_STRLEN]) {
        /* Masks keep the output inside the buffer even for a bad struct. */
        snprintf(buf, PCI_ADDR_STRLEN, "%04x:%02x:%02x.%x",
                 a->domain & 0xffffU, a->bus & 0xffU, a->slot & 0x1fU, a->function & 7U);
        return buf;
}

bool pci_addr_equal(const PciAddr *a, const PciAddr *b) {
        return a->domain == b->domain && a->bus == b->bus &&
               a->slot == b->slot && a->function == b->function;
}

char *pci_addr_nodedev_name(const PciAddr *a, char buf[static sizeof("pci_0000_00_00_0")]) {
        snprintf(buf, sizeof("pci_0000_00_00_0"), "pci_%04x_%02x_%02x_%x",
                 a->domain & 0xffffU, a->bus & 0xffU, a->slot & 0x1fU, a->function & 7U);
        return buf;
}

PciDevice *pci_device_free(PciDevice *d) {
        if (!d)
                return NULL;
        free(d->driver);
        free(d->driver_module);
        free(d);
        return NULL;
}

bool pci_driver_is_vfio(const char *driver) {
        static const char *const variant_suffixes[] = { "_vfio_pci", "-vfio-pci" };

        if (!driver)
                return false;
        if (streq(driver, "vfio-pci"))
                return true;
        size_t n = strlen(driver);
        for (size_t i = 0; i < ELEMENTSOF(variant_suffixes); i++) {
                size_t k = strlen(variant_suffixes[i]);
                if (n > k && streq(driver + n - k, variant_suffixes[i]))
                        return true;
        }
        return false;
}

bool pci_member_blocks_vfio(const PciDevice *m) {
        return !m->is_bridge && m->driver && !pci_driver_is_vfio(m->driver) && !streq(m->driver, "pci-stub");
}

void pci_devices_free(PciDevice **l, size_t n) {
        for (size_t i = 0; l && i < n; i++)
                pci_device_free(l[i]);
        free(l);
}
