/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>

#include <pci/pci.h>

#include "check/pcinames.h"
#include "shared/util.h"

/* libpci reports errors (a malformed pci.ids) through a callback that must
 * not return: it jumps back here, and names are numbers from then on. */
static jmp_buf names_jmp;

_noreturn_ _printf_(1, 2) static void names_error(char *msg, ...) {
        longjmp(names_jmp, 1);
}

_printf_(1, 2) static void names_quiet(char *msg, ...) {
}

void pci_names_done(PciNames *n) {
        /* Also after a jump out of libpci: its only error after pci_init()
         * is a bad pci.ids, reported once the file is closed and the names
         * read so far are in place. */
        if (n->pacc)
                pci_cleanup(n->pacc);
        if (n->ids_fd >= 0)
                close(n->ids_fd);
        *n = (PciNames) { .ids_fd = -1 };
}

static int names_init_pacc(PciNames *n) {
        if (setjmp(names_jmp) != 0)
                return -EIO;
        /* A fixed method: pci_init() then probes nothing (no port I/O, no
         * scan); only the name lookups are used. */
        n->pacc->method = PCI_ACCESS_SYS_BUS_PCI;
        n->pacc->error = names_error;
        n->pacc->warning = names_quiet;
        n->pacc->debug = names_quiet;
        n->pacc->id_lookup_mode = 0; /* no ~/.pciids-cache, no DNS */
        pci_init(n->pacc);
        return 0;
}

void pci_names_init(Sysroot *sr, PciNames *n) {
        static const char *const ids[] = {
                "usr/share/misc/pci.ids",
                "usr/share/hwdata/pci.ids",
                "usr/share/pci.ids",
        };

        *n = (PciNames) { .ids_fd = -1 };
        n->pacc = pci_alloc();
        if (!n->pacc)
                return;
        if (names_init_pacc(n) < 0) {
                n->broken = true;
                return;
        }
        if (sysroot_is_host(sr))
                return; /* as lspci: udev's hwdb, then the system's pci.ids */

        /* A tree: its own pci.ids when it has one (read through the
         * sysroot, handed to libpci as /proc/self/fd/N), else the system's;
         * never this host's hwdb. */
        n->flags = PCI_LOOKUP_NO_HWDB;
        for (size_t i = 0; i < ELEMENTSOF(ids); i++) {
                int fd = sysroot_openf(sr, O_RDONLY, NULL, "%s", ids[i]);
                if (fd < 0)
                        continue;
                char *path = strf("/proc/self/fd/%d", fd);
                if (!path) {
                        close(fd);
                        return;
                }
                pci_set_name_list_path(n->pacc, path, 1);
                n->ids_fd = fd;
                return;
        }
}

static int names_lookup(PciNames *n, char *buf, int size, int flags, unsigned a, unsigned b) {
        if (!n->pacc || n->broken)
                return -ENOENT;
        if (setjmp(names_jmp) != 0) {
                n->broken = true;
                return -EIO;
        }
        const char *s = pci_lookup_name(n->pacc, buf, size, flags | n->flags | PCI_LOOKUP_NO_NUMBERS, (int) a, (int) b);
        if (!s)
                return -ENOENT;
        if (s != buf)
                snprintf(buf, (size_t) size, "%s", s);
        return 0;
}

/* Only the class, not the subclass, was known: libpci appends the number
 * (" [CCSS]"), which is cut off here. True when it was. */
static bool class_name_strip_number(char *name, unsigned cc) {
        char tail[16];
        snprintf(tail, sizeof tail, " [%04x]", cc);
        size_t ln = strlen(name), lt = strlen(tail);
        if (ln > lt && streq(name + ln - lt, tail)) {
                name[ln - lt] = 0;
                return true;
        }
        return false;
}

/* "VGA compatible controller [0300]: NVIDIA Corporation AD102 [GeForce RTX 4090] [10de:2684]",
 * the way `lspci -nn` names a device. */
char *pci_names_describe(PciNames *n, const PciDevice *d) {
        char cls[256], vd[512];
        unsigned cc = d->class >> 8;

        if (names_lookup(n, cls, sizeof cls, PCI_LOOKUP_CLASS, cc, 0) < 0)
                snprintf(cls, sizeof cls, "Class");
        (void) class_name_strip_number(cls, cc);

        if (names_lookup(n, vd, sizeof vd, PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE, d->vendor, d->device) < 0) {
                if (names_lookup(n, vd, sizeof vd - sizeof " Device", PCI_LOOKUP_VENDOR, d->vendor, 0) >= 0)
                        strcat(vd, " Device");
                else
                        snprintf(vd, sizeof vd, "Device");
        }
        return strf("%s [%04x]: %s [%04x:%04x]", cls, cc, vd, d->vendor, d->device);
}

/* A pci.ids of the functions under sr with the names pci_names_describe() gives
 * them here: `vfio-hook dump` ships it, so that a dump is checked with this
 * host's names wherever it is read. */
int check_pci_ids(Sysroot *sr, char **ret) {
        _cleanup_strv_free_ char **names = NULL, **vendors = NULL, **classes = NULL;
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        PciNames n;
        int r;

        r = sysroot_list_dirf(sr, &names, "sys/bus/pci/devices");
        if (r < 0 && r != -ENOENT)
                return r;
        pci_names_init(sr, &n);
        /* One line per name, sorted below: "VVVV", "VVVV DDDD", "C CC", "C CC SS". */
        r = 0;
        for (char **i = names; r >= 0 && i && *i; i++) {
                _cleanup_pci_device_ PciDevice *dev = NULL;
                char buf[512], *line = NULL;
                unsigned cc;
                PciAddr a;

                if (pci_addr_parse(*i, &a) < 0 || pci_device_read(sr, &a, &dev) < 0)
                        continue;
                cc = dev->class >> 8;
                /* A device's line only below its vendor's. */
                if (names_lookup(&n, buf, sizeof buf, PCI_LOOKUP_VENDOR, dev->vendor, 0) >= 0) {
                        line = strf("%04x  %s", dev->vendor, buf);
                        r = line ? strv_extend_unique(&vendors, line) : -ENOMEM;
                        free(line);
                        line = NULL;
                        if (r >= 0 &&
                            names_lookup(&n, buf, sizeof buf, PCI_LOOKUP_DEVICE, dev->vendor, dev->device) >= 0) {
                                line = strf("%04x %04x  %s", dev->vendor, dev->device, buf);
                                r = line ? strv_extend_unique(&vendors, line) : -ENOMEM;
                                free(line);
                                line = NULL;
                        }
                }
                if (r < 0 || names_lookup(&n, buf, sizeof buf, PCI_LOOKUP_CLASS, cc, 0) < 0)
                        continue;
                /* "Name [CCSS]": only the class is known, by that name. */
                if (class_name_strip_number(buf, cc))
                        line = strf("C %02x  %s", cc >> 8, buf);
                else
                        line = strf("C %02x %02x  %s", cc >> 8, cc & 0xff, buf);
                r = line ? strv_extend_unique(&classes, line) : -ENOMEM;
                free(line);
        }
        pci_names_done(&n);
        if (r < 0)
                return r;

        _cleanup_fclose_ FILE *f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        fputs("# The names of this host's PCI functions, as `vfio-hook check` gave them (vfio-hook dump)\n", f);
        strv_sort(vendors);
        /* Sorted, "VVVV  vendor" comes before "VVVV DDDD  device", and
         * "C CC  class" before "C CC SS  subclass". */
        for (char **v = vendors; v && *v; v++) {
                bool device = (*v)[5] != ' ';
                fprintf(f, "%s%s\n", device ? "\t" : "", device ? *v + 5 : *v);
        }
        strv_sort(classes);
        unsigned last = UINT_MAX;
        for (char **c = classes; c && *c; c++) {
                unsigned cls = (unsigned) strtoul(*c + 2, NULL, 16);
                if ((*c)[5] == ' ')
                        fprintf(f, "%s\n", *c);
                else {
                        /* A class whose subclasses all have names: its own is never shown. */
                        if (cls != last)
                                fprintf(f, "C %02x  Class %02x\n", cls, cls);
                        fprintf(f, "\t%s\n", *c + 5);
                }
                last = cls;
        }
        if (fflush(f) != 0 || ferror(f))
                return -ENOMEM;
        fclose(TAKE_PTR(f));
        *ret = TAKE_PTR(text);
        return 0;
}
