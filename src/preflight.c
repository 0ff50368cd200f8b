/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <sys/stat.h>

#include <pci/pci.h>

#include "lifetime-steps.h"
#include "preflight.h"
#include "console.h"
#include "decide.h"
#include "dump.h"
#include "exitcode.h"
#include "facts.h"
#include "holders.h"
#include "json.h"
#include "log.h"
#include "modules.h"
#include "util.h"

/* Every read goes through the Sysroot, and every read that fails makes a
 * check say "cannot tell" rather than abort the report: a preflight is
 * most useful on the machines where something is odd. */

#define SMALL_FILE_MAX (64U * 1024U)
#define CPUINFO_MAX (8U * 1024U * 1024U)
#define INTERRUPTS_MAX (8U * 1024U * 1024U)
#define KMSG_MAX (16U * 1024U * 1024U)
#define MODULES_DEP_MAX (32U * 1024U * 1024U)
#define HOOK_MAX (64U * 1024U * 1024U)
#define HOOK_PATH "etc/libvirt/hooks/qemu"
#define HOOK_DIR "etc/libvirt/hooks/qemu.d"
#define HOOK_INSTALLED SBINDIR "/vfio-hook"
#define DM_LINK "etc/systemd/system/" DISPLAY_MANAGER_UNIT

/* ---- the report --------------------------------------------------------------- */

static const char *const status_names[_CHECK_STATUS_MAX] = {
        [CHECK_PASS] = "pass",
        [CHECK_WARN] = "warn",
        [CHECK_FAIL] = "fail",
};

const char *check_status_to_string(CheckStatus s) {
        return s < _CHECK_STATUS_MAX ? status_names[s] : NULL;
}

static void groups_free(IommuGroup *l, size_t n) {
        for (size_t i = 0; l && i < n; i++) {
                for (size_t j = 0; j < l[i].n_devices; j++) {
                        free(l[i].devices[j].name);
                        free(l[i].devices[j].driver);
                }
                free(l[i].devices);
        }
        free(l);
}

void check_report_done(CheckReport *r) {
        if (!r)
                return;
        free(r->domain);
        for (size_t i = 0; i < r->n_results; i++) {
                free(r->results[i].id);
                free(r->results[i].message);
                free(r->results[i].hint);
        }
        free(r->results);
        groups_free(r->groups, r->n_groups);
        *r = (CheckReport) {};
}

const CheckResult *check_report_find(const CheckReport *r, const char *id) {
        for (size_t i = 0; i < r->n_results; i++)
                if (streq(r->results[i].id, id))
                        return &r->results[i];
        return NULL;
}

size_t check_report_count(const CheckReport *r, CheckStatus s) {
        size_t n = 0;
        for (size_t i = 0; i < r->n_results; i++)
                n += r->results[i].status == s;
        return n;
}

/* Takes message and hint (either may be NULL after a failed strf(): that
 * is -ENOMEM, since a warning or a failure always says how to fix it). */
static int report_add(CheckReport *r, CheckStatus status, const char *id, char *message, char *hint) {
        _cleanup_free_ char *m = message, *h = hint, *i = strdup(id);

        if (!m || !i || (status != CHECK_PASS && !h))
                return -ENOMEM;
        if (status == CHECK_PASS) {
                free(h);
                h = NULL;
        }
        CheckResult *n = realloc(r->results, (r->n_results + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        r->results = n;
        r->results[r->n_results++] = (CheckResult) {
                .id = TAKE_PTR(i),
                .status = status,
                .message = TAKE_PTR(m),
                .hint = TAKE_PTR(h),
        };
        return 0;
}

#define PASS(r, id, ...) report_add((r), CHECK_PASS, (id), strf(__VA_ARGS__), NULL)

/* A list written piece by piece: "a, b, c". */
typedef struct Buf {
        char *s;
        size_t len;
        FILE *f;
} Buf;

static int buf_open(Buf *b) {
        *b = (Buf) {};
        b->f = open_memstream(&b->s, &b->len);
        return b->f ? 0 : -ENOMEM;
}

/* Returns the text (the caller frees it), NULL on -ENOMEM. */
static char *buf_take(Buf *b) {
        if (!b->f)
                return NULL;
        bool bad = ferror(b->f);
        fclose(b->f);
        b->f = NULL;
        if (bad) {
                free(b->s);
                b->s = NULL;
        }
        return TAKE_PTR(b->s);
}

static void buf_done(Buf *b) {
        free(buf_take(b));
}

/* Untrusted text (comm of a process, a link target) for a one-line message. */
static const char *q(const char *s, char buf[static VALUE_QUOTE_BUFSZ]) {
        return value_quote(s ? s : "", buf);
}

/* ---- names, from libpci as lspci shows them --------------------------------------- */

/* libpci reports errors (a malformed pci.ids) through a callback that must
 * not return: it jumps back here, and names are numbers from then on. */
static jmp_buf names_jmp;

_noreturn_ _printf_(1, 2) static void names_error(char *msg, ...) {
        longjmp(names_jmp, 1);
}

_printf_(1, 2) static void names_quiet(char *msg, ...) {
}

typedef struct Names {
        struct pci_access *pacc;
        int flags;     /* extra lookup flags: PCI_LOOKUP_NO_HWDB for a tree */
        int ids_fd;    /* a tree's pci.ids, open while libpci may read it; -1 */
        bool broken;
} Names;

static void names_done(Names *n) {
        /* Also after a jump out of libpci: its only error after pci_init()
         * is a bad pci.ids, reported once the file is closed and the names
         * read so far are in place. */
        if (n->pacc)
                pci_cleanup(n->pacc);
        if (n->ids_fd >= 0)
                close(n->ids_fd);
        *n = (Names) { .ids_fd = -1 };
}

static int names_init_pacc(Names *n) {
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

static void names_init(Sysroot *sr, Names *n) {
        static const char *const ids[] = {
                "usr/share/misc/pci.ids",
                "usr/share/hwdata/pci.ids",
                "usr/share/pci.ids",
        };

        *n = (Names) { .ids_fd = -1 };
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

static int names_lookup(Names *n, char *buf, int size, int flags, unsigned a, unsigned b) {
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

/* "VGA compatible controller [0300]: NVIDIA Corporation AD102 [GeForce RTX 4090] [10de:2684]",
 * the way `lspci -nn` names a device. */
static char *names_describe(Names *n, const PciDevice *d) {
        char cls[256], vd[512], tail[16];
        unsigned cc = d->class >> 8;

        if (names_lookup(n, cls, sizeof cls, PCI_LOOKUP_CLASS, cc, 0) < 0)
                snprintf(cls, sizeof cls, "Class");
        /* Only the class, not the subclass, was known: libpci appends the number. */
        snprintf(tail, sizeof tail, " [%04x]", cc);
        size_t lc = strlen(cls), lt = strlen(tail);
        if (lc > lt && streq(cls + lc - lt, tail))
                cls[lc - lt] = 0;

        if (names_lookup(n, vd, sizeof vd, PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE, d->vendor, d->device) < 0) {
                if (names_lookup(n, vd, sizeof vd - sizeof " Device", PCI_LOOKUP_VENDOR, d->vendor, 0) >= 0)
                        strcat(vd, " Device");
                else
                        snprintf(vd, sizeof vd, "Device");
        }
        return strf("%s [%04x]: %s [%04x:%04x]", cls, cc, vd, d->vendor, d->device);
}

/* A pci.ids of the functions under sr with the names names_describe() gives
 * them here: `vfio-hook dump` ships it, so that a dump is checked with this
 * host's names wherever it is read. */
int check_pci_ids(Sysroot *sr, char **ret) {
        _cleanup_strv_free_ char **names = NULL, **vendors = NULL, **classes = NULL;
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        Names n;
        int r;

        r = sysroot_list_dirf(sr, &names, "sys/bus/pci/devices");
        if (r < 0 && r != -ENOENT)
                return r;
        names_init(sr, &n);
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
                char tail[16];
                snprintf(tail, sizeof tail, " [%04x]", cc);
                size_t lb = strlen(buf), lt = strlen(tail);
                if (lb > lt && streq(buf + lb - lt, tail)) {
                        buf[lb - lt] = 0;
                        line = strf("C %02x  %s", cc >> 8, buf);
                } else
                        line = strf("C %02x %02x  %s", cc >> 8, cc & 0xff, buf);
                r = line ? strv_extend_unique(&classes, line) : -ENOMEM;
                free(line);
        }
        names_done(&n);
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

/* ---- what the host checks share ------------------------------------------------------ */

typedef enum CpuVendor {
        CPU_UNKNOWN,
        CPU_INTEL,
        CPU_AMD,
} CpuVendor;

typedef struct Host {
        Sysroot *sr;
        CpuVendor cpu;
        bool hypervisor;        /* cpuinfo's "hypervisor" flag: this is a VM */
        char **cmdline;         /* kernel parameters before "--"; NULL: unreadable */
        char *kmsg;             /* the kernel log; NULL: unreadable */
        char *interrupts;       /* proc/interrupts; NULL: unreadable */
        int n_groups;
        char **units;           /* sys/class/iommu entries */
        bool acpi_dmar, acpi_ivrs;
} Host;

static void host_done(Host *h) {
        strv_free(h->cmdline);
        free(h->kmsg);
        free(h->interrupts);
        strv_free(h->units);
        *h = (Host) {};
}

/* Is token one of the comma-separated options of value? */
static bool value_has(const char *value, const char *token) {
        size_t n = strlen(token);
        for (const char *p = value; p && *p;) {
                size_t len = strcspn(p, ",");
                if (len == n && strncmp(p, token, n) == 0)
                        return true;
                p += len + (p[len] == ',');
        }
        return false;
}

static void read_cpuinfo(Host *h) {
        _cleanup_free_ char *text = NULL;
        char *save = NULL;

        if (sysroot_read_file(h->sr, "proc/cpuinfo", CPUINFO_MAX, &text) < 0)
                return;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *colon = strchr(line, ':');
                if (!colon)
                        continue;
                *colon = 0;
                strstrip_trailing(line);
                const char *value = colon + 1 + strspn(colon + 1, " \t");
                if (streq(line, "vendor_id") && h->cpu == CPU_UNKNOWN) {
                        if (startswith(value, "GenuineIntel"))
                                h->cpu = CPU_INTEL;
                        else if (startswith(value, "AuthenticAMD") || startswith(value, "HygonGenuine"))
                                h->cpu = CPU_AMD;
                } else if (streq(line, "flags")) {
                        _cleanup_free_ char *padded = strf(" %s ", value);
                        if (padded && strstr(padded, " hypervisor "))
                                h->hypervisor = true;
                }
        }
}

/* The kernel log, from dev/kmsg: one record per read(2) on a live host
 * (until EAGAIN), a plain file in a tree. Needs CAP_SYSLOG where
 * dmesg_restrict is set: unreadable is fine, it is only evidence. */
static int read_kmsg(Sysroot *sr, char **ret) {
        _cleanup_close_ int fd = sysroot_openf(sr, O_RDONLY | O_NONBLOCK, NULL, "dev/kmsg");
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, alloc = 0;
        char rec[8192];

        if (fd < 0)
                return fd;
        for (;;) {
                ssize_t n = read(fd, rec, sizeof rec);
                if (n < 0) {
                        if (errno == EINTR || errno == EPIPE) /* EPIPE: records were overwritten */
                                continue;
                        if (errno == EAGAIN || len > 0)
                                break;
                        return -errno;
                }
                if (n == 0)
                        break;
                if (len + (size_t) n + 1 > alloc) {
                        if (alloc >= KMSG_MAX)
                                break;
                        size_t na = alloc ? alloc * 2 : 64 * 1024;
                        char *nb = realloc(buf, na);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                        alloc = na;
                }
                memcpy(buf + len, rec, (size_t) n);
                len += (size_t) n;
        }
        if (!buf)
                return -ENODATA;
        buf[len] = 0;
        *ret = TAKE_PTR(buf);
        return 0;
}

static bool kmsg_has(const Host *h, const char *s) {
        return h->kmsg && strstr(h->kmsg, s);
}

static size_t units_count(const Host *h, const char *prefix) {
        size_t n = 0;
        for (char **u = h->units; u && *u; u++)
                n += startswith(*u, prefix);
        return n;
}

static int host_init(Sysroot *sr, Host *h) {
        _cleanup_free_ char *cmdline = NULL;
        int r;

        *h = (Host) { .sr = sr };
        read_cpuinfo(h);

        if (sysroot_read_file(sr, "proc/cmdline", SMALL_FILE_MAX, &cmdline) >= 0) {
                r = cmdline_split(cmdline, &h->cmdline);
                if (r < 0)
                        return r;
        }
        r = read_kmsg(sr, &h->kmsg);
        if (r == -ENOMEM)
                return r;
        r = sysroot_read_file(sr, "proc/interrupts", INTERRUPTS_MAX, &h->interrupts);
        if (r == -ENOMEM)
                return r;

        r = pci_iommu_group_count(sr);
        h->n_groups = r < 0 ? 0 : r;
        r = sysroot_list_dirf(sr, &h->units, "sys/class/iommu");
        if (r == -ENOMEM)
                return r;
        h->acpi_dmar = sysroot_existsf(sr, "sys/firmware/acpi/tables/DMAR") > 0;
        h->acpi_ivrs = sysroot_existsf(sr, "sys/firmware/acpi/tables/IVRS") > 0;

        /* No cpuinfo (a partial dump): the IOMMU's own kind says. */
        if (h->cpu == CPU_UNKNOWN) {
                if (h->acpi_dmar || units_count(h, "dmar") > 0)
                        h->cpu = CPU_INTEL;
                else if (h->acpi_ivrs || units_count(h, "ivhd") > 0)
                        h->cpu = CPU_AMD;
        }
        return 0;
}

/* The parameter on the kernel command line that turns the IOMMU off, if any. */
static const char *iommu_off_param(const Host *h) {
        const char *v;
        if ((v = cmdline_get(h->cmdline, "iommu")) && value_has(v, "off"))
                return "iommu=off";
        if (h->cpu != CPU_AMD && (v = cmdline_get(h->cmdline, "intel_iommu")) && value_has(v, "off"))
                return "intel_iommu=off";
        if (h->cpu != CPU_INTEL && (v = cmdline_get(h->cmdline, "amd_iommu")) && value_has(v, "off"))
                return "amd_iommu=off";
        return NULL;
}

#define GRUB_HOW "(GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub or grub2-mkconfig -o /boot/grub2/grub.cfg) and reboot"

/* ---- host checks ---------------------------------------------------------------------- */

static char *units_list(const Host *h) {
        Buf b;
        if (buf_open(&b) < 0)
                return NULL;
        for (char **u = h->units; u && *u; u++)
                fprintf(b.f, "%s%s", u == h->units ? "" : ", ", *u);
        return buf_take(&b);
}

static int check_iommu_hardware(Host *h, CheckReport *r) {
        const char *kind = h->acpi_dmar || units_count(h, "dmar") ? "Intel VT-d"
                           : h->acpi_ivrs || units_count(h, "ivhd") ? "AMD-Vi"
                                                                    : "IOMMU";
        bool log_intel = kmsg_has(h, "DMAR: Intel(R) Virtualization Technology for Directed I/O");
        bool log_amd = kmsg_has(h, "AMD-Vi: Found IOMMU");

        if (!h->acpi_dmar && !h->acpi_ivrs && !(h->units && h->units[0]) && !log_intel && !log_amd &&
            h->n_groups > 0)
                return PASS(r, "iommu-hardware", "an IOMMU is on (IOMMU groups exist), of a kind not seen in ACPI "
                            "tables, /sys/class/iommu or the kernel log");
        if (h->acpi_dmar || h->acpi_ivrs || (h->units && h->units[0]) || log_intel || log_amd) {
                _cleanup_free_ char *units = units_list(h);
                if (!units)
                        return -ENOMEM;
                if (!h->acpi_dmar && !h->acpi_ivrs && !(h->units && h->units[0]))
                        kind = log_intel ? "Intel VT-d" : "AMD-Vi";
                return PASS(r, "iommu-hardware", "%s: %s%s%s%s%s", kind,
                            h->acpi_dmar   ? "ACPI DMAR table"
                            : h->acpi_ivrs ? "ACPI IVRS table"
                                           : "no ACPI table seen",
                            units[0] ? "; units " : "; no unit registered by the kernel", units,
                            log_intel || log_amd ? "; kernel log: " : "",
                            log_intel ? "DMAR initialized" : log_amd ? "AMD-Vi found" : "");
        }

        const char *where = h->cpu == CPU_INTEL ? "VT-d (Intel Virtualization Technology for Directed I/O)"
                            : h->cpu == CPU_AMD ? "the IOMMU (\"IOMMU\" or \"AMD-Vi\", often under AMD CBS/NBIO)"
                                                : "the IOMMU (VT-d on Intel, AMD-Vi on AMD)";
        return report_add(r, CHECK_FAIL, "iommu-hardware",
                          strf("no IOMMU seen: no ACPI DMAR or IVRS table, nothing in /sys/class/iommu%s",
                               h->kmsg ? ", nothing in the kernel log" : ""),
                          strf("enable %s in the firmware setup%s; without an IOMMU no device can be given to a guest",
                               where,
                               h->hypervisor ? " (this is a virtual machine: give it a virtual IOMMU, e.g. QEMU's "
                                               "-device intel-iommu,intremap=on)"
                                             : ""));
}

static int check_iommu_enabled(Host *h, CheckReport *r) {
        bool hardware = h->acpi_dmar || h->acpi_ivrs || (h->units && h->units[0]);
        const char *off = iommu_off_param(h);
        char *hint;

        if (h->n_groups > 0)
                return PASS(r, "iommu-enabled", "%d IOMMU group%s in /sys/kernel/iommu_groups", h->n_groups,
                            h->n_groups == 1 ? "" : "s");

        if (off)
                hint = strf("remove %s from the kernel command line%s " GRUB_HOW, off,
                            h->cpu == CPU_INTEL ? " and add intel_iommu=on" : "");
        else if (h->cpu == CPU_INTEL)
                hint = strf("add intel_iommu=on to the kernel command line " GRUB_HOW "%s",
                            hardware ? "" : "; enable VT-d in the firmware setup too");
        else if (h->cpu == CPU_AMD && hardware)
                hint = strf("the firmware describes AMD-Vi but the kernel left it off: see `dmesg | grep -i AMD-Vi` "
                            "(a kernel without CONFIG_AMD_IOMMU cannot use it)");
        else if (h->cpu == CPU_AMD)
                hint = strf("enable the IOMMU (AMD-Vi) in the firmware setup: the kernel then turns it on by itself, "
                            "no kernel parameter is needed (amd_iommu=on is not one; iommu=pt is an optional "
                            "addition)");
        else
                hint = strf("enable the IOMMU in the firmware setup; on Intel, also add intel_iommu=on to the kernel "
                            "command line " GRUB_HOW);
        return report_add(r, CHECK_FAIL, "iommu-enabled",
                          strf("no IOMMU groups in /sys/kernel/iommu_groups: the kernel has not turned an IOMMU on"),
                          hint);
}

static int check_kernel_cmdline(Host *h, CheckReport *r) {
        const char *off = iommu_off_param(h), *intel, *amd, *iommu;
        _cleanup_free_ char *seen = NULL;
        char qb[VALUE_QUOTE_BUFSZ];
        Buf b;

        if (!h->cmdline)
                return report_add(r, CHECK_WARN, "kernel-cmdline", strf("cannot read /proc/cmdline"),
                                  strf("run on the host itself, or give --sysroot a tree with proc/cmdline"));

        intel = cmdline_get(h->cmdline, "intel_iommu");
        amd = cmdline_get(h->cmdline, "amd_iommu");
        iommu = cmdline_get(h->cmdline, "iommu");
        if (buf_open(&b) < 0)
                return -ENOMEM;
        if (intel)
                fprintf(b.f, " intel_iommu=%s", q(intel, qb));
        if (amd)
                fprintf(b.f, " amd_iommu=%s", q(amd, qb));
        if (iommu)
                fprintf(b.f, " iommu=%s", q(iommu, qb));
        seen = buf_take(&b);
        if (!seen)
                return -ENOMEM;
        const char *has = seen[0] ? seen + 1 : "no IOMMU parameter";
        const char *pt = iommu && value_has(iommu, "pt") ? "" : "; iommu=pt is optional";

        if (off)
                return report_add(r, CHECK_FAIL, "kernel-cmdline", strf("%s turns the IOMMU off (%s)", off, has),
                                  strf("remove %s from the kernel command line%s " GRUB_HOW, off,
                                       h->cpu == CPU_INTEL ? " and add intel_iommu=on" : ""));

        switch (h->cpu) {
        case CPU_INTEL:
                if (intel && value_has(intel, "on"))
                        return PASS(r, "kernel-cmdline", "%s", has);
                if (h->n_groups > 0)
                        return PASS(r, "kernel-cmdline", "%s: this kernel turns VT-d on without intel_iommu=on", has);
                return report_add(r, CHECK_FAIL, "kernel-cmdline", strf("intel_iommu=on is missing (%s)", has),
                                  strf("add intel_iommu=on%s to the kernel command line " GRUB_HOW,
                                       iommu && value_has(iommu, "pt") ? "" : " iommu=pt"));
        case CPU_AMD:
                return PASS(r, "kernel-cmdline", "%s: nothing turns AMD-Vi off (it needs no parameter%s)", has, pt);
        default:
                return PASS(r, "kernel-cmdline", "%s: nothing turns the IOMMU off", has);
        }
}

/* The IR bit (3) of a VT-d unit's extended capability register. */
#define VTD_ECAP_IR (UINT64_C(1) << 3)

static int dmar_ecap(Sysroot *sr, const char *unit, uint64_t *ret) {
        _cleanup_free_ char *s = NULL;
        char *end;
        int r = sysroot_read_linef(sr, &s, "sys/class/iommu/%s/intel-iommu/ecap", unit);
        if (r < 0)
                return r;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 16);
        if (errno || end == s || *end)
                return -EINVAL;
        *ret = v;
        return 0;
}

static int check_interrupt_remapping(Host *h, CheckReport *r) {
        const char *intremap = cmdline_get(h->cmdline, "intremap");
        _cleanup_free_ char *unsafe = NULL;
        const char *unsafe_hint = "vfio_iommu_type1 refuses devices without it unless loaded with "
                                  "allow_unsafe_interrupts=1 (vfio_iommu_type1.allow_unsafe_interrupts=1 on the "
                                  "kernel command line), which lets a guest send interrupts it should not: only on "
                                  "a machine you trust";
        bool allowed;

        (void) sysroot_read_line(h->sr, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", &unsafe);
        allowed = unsafe && (streq(unsafe, "Y") || streq(unsafe, "1"));

        if (intremap && value_has(intremap, "off"))
                return report_add(r, allowed ? CHECK_WARN : CHECK_FAIL, "interrupt-remapping",
                                  strf("intremap=off turns interrupt remapping off%s",
                                       allowed ? " (vfio_iommu_type1 allows unsafe interrupts)" : ""),
                                  strf("remove intremap=off from the kernel command line: %s", unsafe_hint));

        /* With remapping on, the kernel's MSI and IO-APIC interrupt chips are
         * the remapping ones: "IR-PCI-MSI", "IR-IO-APIC" in proc/interrupts. */
        if (h->interrupts && (strstr(h->interrupts, " IR-") || strstr(h->interrupts, "\tIR-")))
                return PASS(r, "interrupt-remapping", "on: interrupts go through IR-* chips in /proc/interrupts");
        if (kmsg_has(h, "DMAR-IR: Enabled IRQ remapping") || kmsg_has(h, "AMD-Vi: Interrupt remapping enabled"))
                return PASS(r, "interrupt-remapping", "on: the kernel log says it enabled IRQ remapping");

        if (h->n_groups == 0 && !(h->units && h->units[0]))
                return report_add(r, CHECK_WARN, "interrupt-remapping",
                                  strf("cannot be on while the IOMMU is off"),
                                  strf("turn the IOMMU on first (see iommu-enabled)"));

        /* Intel says per unit whether it can remap at all. */
        size_t n_dmar = 0, n_ir = 0;
        _cleanup_free_ char *without = NULL;
        for (char **u = h->units; u && *u; u++) {
                uint64_t ecap;
                if (!startswith(*u, "dmar") || dmar_ecap(h->sr, *u, &ecap) < 0)
                        continue;
                n_dmar++;
                if (ecap & VTD_ECAP_IR)
                        n_ir++;
                else if (!without && !(without = strdup(*u)))
                        return -ENOMEM;
        }
        if (without)
                return report_add(r, allowed ? CHECK_WARN : CHECK_FAIL, "interrupt-remapping",
                                  strf("%s cannot remap interrupts (the IR bit of its ecap is clear)%s", without,
                                       allowed ? "; vfio_iommu_type1 allows unsafe interrupts" : ""),
                                  strf("%s", unsafe_hint));
        if (n_dmar > 0)
                return report_add(r, CHECK_WARN, "interrupt-remapping",
                                  strf("the IOMMU can remap interrupts (IR bit of %zu dmar unit%s) but there is no sign "
                                       "that it does: no IR-* chip in /proc/interrupts%s",
                                       n_ir, n_ir == 1 ? "" : "s", h->kmsg ? " nor in the kernel log" : ""),
                                  strf("look for DMAR-IR in `dmesg`; do not boot with intremap=off or nointremap"));
        return report_add(r, CHECK_WARN, "interrupt-remapping",
                          strf("no sign of interrupt remapping: no IR-* chip in /proc/interrupts%s%s",
                               h->interrupts ? "" : " (unreadable)",
                               h->kmsg ? ", nothing in the kernel log" : ", kernel log unreadable"),
                          strf("look for \"remapping\" in `dmesg`; if it is off, %s", unsafe_hint));
}

/* ---- modules ---------------------------------------------------------------------------- */

/* Finds the module file of NAME in lib/modules/RELEASE/modules.dep:
 * 1 with its path, 0 when not listed; -ENOENT without modules.dep. */
static int modules_dep_find(Sysroot *sr, const char *release, const char *name, char **ret_path) {
        _cleanup_free_ char *text = NULL, *path = NULL;
        char *save = NULL;
        int r;

        if (asprintf(&path, "lib/modules/%s/modules.dep", release) < 0)
                return -ENOMEM;
        r = sysroot_read_file(sr, path, MODULES_DEP_MAX, &text);
        if (r < 0)
                return r;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *colon = strchr(line, ':');
                if (!colon)
                        continue;
                *colon = 0;
                const char *base = strrchr(line, '/');
                base = base ? base + 1 : line;
                _cleanup_free_ char *m = strdup(base);
                if (!m)
                        return -ENOMEM;
                char *ko = strstr(m, ".ko");
                if (!ko || !(ko[3] == 0 || streq(ko + 3, ".xz") || streq(ko + 3, ".zst") || streq(ko + 3, ".gz")))
                        continue;
                *ko = 0;
                module_name_normalize(m);
                if (streq(m, name)) {
                        *ret_path = strdup(line);
                        return *ret_path ? 1 : -ENOMEM;
                }
        }
        return 0;
}

static int check_module(Host *h, const char *name, const char *id, const char *config, CheckReport *r) {
        _cleanup_(module_info_done) ModuleInfo m = { .refcnt = -1 };
        _cleanup_free_ char *release = NULL, *file = NULL;
        char qb[VALUE_QUOTE_BUFSZ];
        int k;

        k = module_info_read(h->sr, name, &m);
        if (k == -ENOMEM)
                return k;
        if (k >= 0 && m.state == MODULE_LOADED)
                return PASS(r, id, "%s is loaded", name);
        if (k >= 0 && m.state == MODULE_BUILTIN)
                return PASS(r, id, "%s is built into the kernel", name);

        k = sysroot_read_line(h->sr, "proc/sys/kernel/osrelease", &release);
        if (k == -ENOMEM)
                return k;
        if (k < 0 || !filename_is_safe(release, 128))
                return report_add(r, CHECK_WARN, id,
                                  strf("%s is not loaded, and the kernel release is unknown (no "
                                       "/proc/sys/kernel/osrelease): cannot tell whether it is installed",
                                       name),
                                  strf("check with `modinfo %s`", name));

        k = modules_dep_find(h->sr, release, name, &file);
        if (k == -ENOMEM)
                return k;
        if (k > 0)
                return PASS(r, id, "%s is not loaded; it is installed (lib/modules/%s/%s) and is loaded when a device "
                            "is detached", name, release, q(file, qb));
        if (k == 0)
                return report_add(r, CHECK_FAIL, id,
                                  strf("%s is not loaded, not built in, and not among the modules of kernel %s", name,
                                       release),
                                  strf("install the modules package of kernel %s, or use a kernel built with %s", release,
                                       config));
        if (sysroot_existsf(h->sr, "lib/modules/%s", release) > 0)
                return report_add(r, CHECK_WARN, id,
                                  strf("%s is not loaded, and lib/modules/%s has no modules.dep: cannot tell whether it "
                                       "is installed", name, release),
                                  strf("run `depmod %s`, then check again", release));
        return report_add(r, CHECK_FAIL, id,
                          strf("%s is not loaded, not built in, and kernel %s has no /lib/modules/%s: it cannot be "
                               "loaded", name, release, release),
                          strf("install the modules of kernel %s, or use a kernel built with %s", release, config));
}

/* ---- the hook and the daemon ------------------------------------------------------------------ */

/* Is the file at path vfio-hook, or a program that runs it? 1 yes, 0 no. */
static int file_runs_vfio_hook(Sysroot *sr, const char *path) {
        _cleanup_free_ char *target = NULL, *text = NULL;
        int r = sysroot_link_basenamef(sr, &target, "%s", path);
        if (r == -ENOMEM)
                return r;
        if (r >= 0 && streq(target, "vfio-hook"))
                return 1;
        r = sysroot_read_file(sr, path, HOOK_MAX, &text);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;
        /* A script that calls it, or a copy of the binary (which names its engine). */
        return memmem(text, (size_t) r, "vfio-hook", strlen("vfio-hook")) != NULL;
}

/* 1: a regular executable file; 0: exists, is not; -ENOENT. */
static int file_executable(Sysroot *sr, const char *path, mode_t *ret_mode) {
        struct stat st;
        _cleanup_close_ int fd = sysroot_openf(sr, O_PATH, NULL, "%s", path);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        *ret_mode = st.st_mode;
        return S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

static int check_hook_dir(Host *h, char **ret) {
        _cleanup_strv_free_ char **names = NULL;
        int r = sysroot_list_dirf(h->sr, &names, HOOK_DIR);
        if (r < 0)
                return r == -ENOMEM ? r : 0;
        for (char **n = names; *n; n++) {
                _cleanup_free_ char *path = strf(HOOK_DIR "/%s", *n);
                mode_t mode;
                if (!path)
                        return -ENOMEM;
                r = file_runs_vfio_hook(h->sr, path);
                if (r < 0)
                        return r;
                if (r > 0 && file_executable(h->sr, path, &mode) > 0) {
                        *ret = TAKE_PTR(path);
                        return 1;
                }
        }
        return 0;
}

static int check_hook(Host *h, CheckReport *r) {
        _cleanup_free_ char *target = NULL, *chained = NULL;
        char qb[VALUE_QUOTE_BUFSZ];
        const char *restart = "; libvirt looks for hooks when it starts: restart the daemon after installing";
        mode_t mode = 0;
        int k, ours, exec;

        k = check_hook_dir(h, &chained);
        if (k < 0)
                return k;

        k = sysroot_readlinkf(h->sr, &target, HOOK_PATH);
        if (k == -ENOMEM)
                return k;
        exec = file_executable(h->sr, HOOK_PATH, &mode);
        if (exec < 0 && chained)
                return PASS(r, "hook", "/%s runs vfio-hook", chained);
        if (exec == -ENOENT && target)
                return report_add(r, CHECK_FAIL, "hook",
                                  strf("/" HOOK_PATH " points to %s, which does not exist", q(target, qb)),
                                  strf("reinstall (`make install`), or ln -sf " HOOK_INSTALLED " /" HOOK_PATH "%s",
                                       restart));
        if (exec < 0) {
                if (exec != -ENOENT)
                        return report_add(r, CHECK_WARN, "hook", strf("cannot read /" HOOK_PATH ": %s", strerror(-exec)),
                                          strf("run as root"));
                return report_add(r, CHECK_FAIL, "hook",
                                  strf("no hook at /" HOOK_PATH ": libvirt will not call vfio-hook"),
                                  strf("`make install` links /" HOOK_PATH " to vfio-hook; or ln -s " HOOK_INSTALLED
                                       " /" HOOK_PATH "%s",
                                       restart));
        }

        ours = file_runs_vfio_hook(h->sr, HOOK_PATH);
        if (ours < 0)
                return ours;
        if (ours && exec)
                return target ? PASS(r, "hook", "/" HOOK_PATH " -> %s", q(target, qb))
                              : PASS(r, "hook", "/" HOOK_PATH " runs vfio-hook");
        if (ours)
                return report_add(r, CHECK_FAIL, "hook",
                                  strf("/" HOOK_PATH "%s%s is not executable (mode %04o): libvirt skips it",
                                       target ? " -> " : "", target ? q(target, qb) : "", (unsigned) (mode & 07777)),
                                  strf("chmod 755 %s", target && target[0] == '/' ? q(target, qb) : "/" HOOK_PATH));
        if (chained)
                return PASS(r, "hook", "/%s runs vfio-hook (/" HOOK_PATH " is another program)", chained);
        return report_add(r, CHECK_FAIL, "hook",
                          strf("/" HOOK_PATH " is %s that does not run vfio-hook",
                               exec ? "another program" : "a file, not executable,"),
                          strf("chain: link vfio-hook into /" HOOK_DIR "/ (libvirt >= 6.5 runs each program there), or "
                               "call " HOOK_INSTALLED " \"$@\" from your hook%s",
                               restart));
}

static int check_libvirt_daemon(Host *h, CheckReport *r) {
        static const struct {
                const char *path, *daemon;
        } sockets[] = {
                { "run/libvirt/libvirt-sock", "libvirtd" },
                { "run/libvirt/virtqemud-sock", "virtqemud" },
        };
        for (size_t i = 0; i < ELEMENTSOF(sockets); i++)
                if (sysroot_existsf(h->sr, "%s", sockets[i].path) > 0)
                        return PASS(r, "libvirt-daemon", "%s: /%s", sockets[i].daemon, sockets[i].path);
        return report_add(r, CHECK_WARN, "libvirt-daemon",
                          strf("no libvirt daemon socket (/run/libvirt/libvirt-sock or virtqemud-sock): the daemon "
                               "that runs the hook is not running"),
                          strf("systemctl enable --now libvirtd.socket (or virtqemud.socket with the modular daemons)"));
}

static int check_host(Host *h, CheckReport *r) {
        static const struct {
                const char *name, *id, *config;
        } modules[] = {
                { "vfio", "module-vfio", "CONFIG_VFIO" },
                { "vfio_pci", "module-vfio-pci", "CONFIG_VFIO_PCI" },
                { "vfio_iommu_type1", "module-vfio-iommu-type1", "CONFIG_VFIO_IOMMU_TYPE1" },
        };
        int k;

        if ((k = check_iommu_hardware(h, r)) < 0 || (k = check_iommu_enabled(h, r)) < 0 ||
            (k = check_interrupt_remapping(h, r)) < 0 || (k = check_kernel_cmdline(h, r)) < 0)
                return k;
        for (size_t i = 0; i < ELEMENTSOF(modules); i++)
                if ((k = check_module(h, modules[i].name, modules[i].id, modules[i].config, r)) < 0)
                        return k;
        if ((k = check_hook(h, r)) < 0 || (k = check_libvirt_daemon(h, r)) < 0)
                return k;
        return 0;
}

/* ---- the domain --------------------------------------------------------------------------------- */

typedef struct DomainCtx {
        Sysroot *sr;
        Names *names;
        const Domain *d;
        const Policy *policy;   /* the domain's, or the defaults */
        HostFacts f;
        Decisions ds;           /* what prepare would do, and why */
        Decisions auto_ds;      /* the same with console, framebuffer, display manager on auto */
        int n_groups;
} DomainCtx;

static bool is_hostdev(const Domain *d, const PciAddr *a) {
        for (size_t i = 0; i < d->n_hostdevs; i++)
                if (pci_addr_equal(&d->hostdevs[i].addr, a))
                        return true;
        return false;
}

static bool driver_is_vfio(const char *driver) {
        return streq_ptr(driver, "vfio-pci") || streq_ptr(driver, "pci-stub");
}

static int check_policy(DomainCtx *c, CheckReport *r) {
        const Policy *p = c->d->policy;
        char qb[VALUE_QUOTE_BUFSZ];
        if (!p)
                return report_add(r, CHECK_WARN, "policy",
                                  strf("domain %s has no vfio-hook policy: the hook leaves it alone (checked with the "
                                       "defaults of an empty policy)",
                                       q(c->d->name, qb)),
                                  strf("virsh metadata %s --uri " POLICY_NAMESPACE " --key vh --config --set "
                                       "'<policy/>'",
                                       q(c->d->name, qb)));
        return PASS(r, "policy", "stack %s, console %s, framebuffer %s, display manager %s, holders %s, timeout %us",
                    stack_to_string(p->stack), choice_to_string(p->console, "unbind"),
                    choice_to_string(p->framebuffer, "unbind"), choice_to_string(p->display_manager, "stop"),
                    p->holders == HOLDERS_TERMINATE ? "terminate" : "refuse", p->timeout_sec);
}

static int check_device(DomainCtx *c, size_t i, CheckReport *r) {
        const PciDevice *dev = i < c->f.n_hostdevs ? c->f.hostdevs[i] : NULL;
        char addr[PCI_ADDR_STRLEN], qb[VALUE_QUOTE_BUFSZ];
        _cleanup_free_ char *id = NULL, *name = NULL, *driver = NULL;

        pci_addr_format(&c->d->hostdevs[i].addr, addr);
        id = strf("device:%s", addr);
        if (!id)
                return -ENOMEM;
        ssize_t v = dev ? -1 : sriov_planned_vfs(c->d, c->f.sriov, c->f.n_sriov, &c->d->hostdevs[i].addr);
        if (v >= 0) {
                char pf[PCI_ADDR_STRLEN];
                const SriovFact *s = &c->f.sriov[v];
                return PASS(r, id, "hostdev %s does not exist yet: VF %d of %s, created by prepare (<vfs count='%u'>)",
                            addr,
                            sriov_vf_index(&s->pf, s->offset, s->stride, c->policy->vfs[v].count,
                                           &c->d->hostdevs[i].addr),
                            pci_addr_format(&s->pf, pf), c->policy->vfs[v].count);
        }
        if (!dev)
                return report_add(r, CHECK_FAIL, id, strf("hostdev %s does not exist on this host", addr),
                                  strf("find the device's address with `lspci -D` and fix the domain's <hostdev> "
                                       "(virsh edit %s)",
                                       q(c->d->name, qb)));
        name = names_describe(c->names, dev);
        if (!name)
                return -ENOMEM;
        if (dev->is_bridge)
                return report_add(r, CHECK_FAIL, id, strf("%s %s is a PCI bridge, not an endpoint", addr, name),
                                  strf("remove it from the domain and give the devices behind it instead"));

        if (!dev->driver)
                driver = strdup("no driver");
        else if (driver_is_vfio(dev->driver))
                driver = strf("driver %s (handed over already)", dev->driver);
        else if (dev->driver_module && !streq(dev->driver_module, dev->driver))
                driver = strf("driver %s (module %s)", dev->driver, dev->driver_module);
        else
                driver = strf("driver %s", dev->driver);
        if (!driver)
                return -ENOMEM;

        if (dev->iommu_group < 0)
                return report_add(r, CHECK_FAIL, id,
                                  strf("%s %s, %s, is in no IOMMU group%s", addr, name, driver,
                                       c->n_groups == 0 ? " (the IOMMU is off)" : ""),
                                  strf("%s", c->n_groups == 0 ? "turn the IOMMU on: see iommu-enabled"
                                                              : "the kernel's IOMMU does not cover this device: it "
                                                                "cannot be given to a guest"));
        return PASS(r, id, "%s %s, %s, IOMMU group %d", addr, name, driver, dev->iommu_group);
}

static int check_group(DomainCtx *c, int group, CheckReport *r) {
        _cleanup_free_ PciAddr *members = NULL;
        _cleanup_free_ char *id = strf("iommu-group:%d", group), *ours = NULL, *fine = NULL, *blocking = NULL,
                                *blockers = NULL;
        Buf b_ours = {}, b_fine = {}, b_block = {}, b_addrs = {};
        size_t n = 0, n_block = 0;
        int k;

        if (!id)
                return -ENOMEM;
        k = pci_iommu_group_members(c->sr, group, &members, &n);
        if (k == -ENOMEM)
                return k;
        if (k < 0)
                return report_add(r, CHECK_WARN, id, strf("cannot list IOMMU group %d: %s", group, strerror(-k)),
                                  strf("run as root"));

        if (buf_open(&b_ours) < 0 || buf_open(&b_fine) < 0 || buf_open(&b_block) < 0 || buf_open(&b_addrs) < 0) {
                k = -ENOMEM;
                goto finish;
        }
        for (size_t j = 0; j < n; j++) {
                _cleanup_pci_device_ PciDevice *m = NULL;
                _cleanup_free_ char *name = NULL;
                char addr[PCI_ADDR_STRLEN];

                pci_addr_format(&members[j], addr);
                if (is_hostdev(c->d, &members[j])) {
                        fprintf(b_ours.f, "%s%s", ftell(b_ours.f) ? ", " : "", addr);
                        continue;
                }
                k = pci_device_read(c->sr, &members[j], &m);
                if (k == -ENOMEM)
                        goto finish;
                if (k < 0)
                        continue; /* gone meanwhile */
                if (m->is_bridge) {
                        fprintf(b_fine.f, "%s%s (bridge)", ftell(b_fine.f) ? ", " : "", addr);
                        continue;
                }
                if (!pci_member_blocks_vfio(m)) {
                        fprintf(b_fine.f, "%s%s (%s)", ftell(b_fine.f) ? ", " : "", addr,
                                m->driver ? m->driver : "no driver");
                        continue;
                }
                name = names_describe(c->names, m);
                if (!name) {
                        k = -ENOMEM;
                        goto finish;
                }
                fprintf(b_block.f, "%s%s %s on %s", ftell(b_block.f) ? "; " : "", addr, name, m->driver);
                fprintf(b_addrs.f, "%s%s", ftell(b_addrs.f) ? ", " : "", addr);
                n_block++;
        }
        ours = buf_take(&b_ours);
        fine = buf_take(&b_fine);
        blocking = buf_take(&b_block);
        blockers = buf_take(&b_addrs);
        if (!ours || !fine || !blocking || !blockers) {
                k = -ENOMEM;
                goto finish;
        }

        if (n_block > 0)
                k = report_add(r, CHECK_FAIL, id,
                               strf("IOMMU group %d also holds %s, not in the domain: VFIO takes a group whole", group,
                                    blocking),
                               strf("add %s to the domain as <hostdev> too (%s leave%s the host with it), or move the "
                                    "card to a slot with its own IOMMU group",
                                    blockers, n_block == 1 ? "it" : "they", n_block == 1 ? "s" : ""));
        else
                k = PASS(r, id, "IOMMU group %d: %s in the domain%s%s", group, ours, fine[0] ? "; also " : "", fine);

finish:
        buf_done(&b_ours);
        buf_done(&b_fine);
        buf_done(&b_block);
        buf_done(&b_addrs);
        return k;
}

/* A card of a family vendor-reset covers: is it loaded, does the kernel
 * offer its device_specific reset, does the policy select it. */
static int check_vendor_reset(DomainCtx *c, const PciDevice *dev, const char *family, const char *methods,
                              CheckReport *r) {
        _cleanup_free_ char *id = strf("reset:%s", dev->name),
                            *line = strf("<reset device='%s' method='device_specific'/>", dev->name);
        bool loaded = vendor_reset_loaded(c->sr), selected = false;
        char qb[VALUE_QUOTE_BUFSZ];

        if (!id || !line)
                return -ENOMEM;
        for (size_t i = 0; i < c->policy->n_resets; i++)
                selected = selected || (pci_addr_equal(&c->policy->resets[i].device, &dev->addr) &&
                                        streq(c->policy->resets[i].method, "device_specific"));
        if (!loaded)
                return report_add(r, CHECK_WARN, id,
                                  strf("%s is an AMD %s card: its bus reset often leaves it unusable until a host reboot; "
                                       "vendor-reset is not loaded (reset_method: %s)",
                                       dev->name, family, methods ? q(methods, qb) : "none, Linux < 5.15"),
                                  strf("install vendor-reset (github.com/gnif/vendor-reset), load it at boot "
                                       "(/etc/modules-load.d), and add to the domain's policy: %s",
                                       line));
        if (!methods)
                return report_add(r, CHECK_WARN, id,
                                  strf("%s is an AMD %s card and vendor-reset is loaded, but this kernel has no "
                                       "reset_method (Linux < 5.15) to select its reset with",
                                       dev->name, family),
                                  strf("use Linux 5.15 or later, then add to the domain's policy: %s", line));
        if (selected || startswith(methods, "device_specific"))
                return PASS(r, id, "%s (AMD %s) resets with device_specific: vendor-reset is loaded and %s "
                                   "(reset_method now: %s)",
                            dev->name, family, selected ? "the policy selects it" : "the kernel tries it first",
                            q(methods, qb));
        return report_add(r, CHECK_WARN, id,
                          strf("%s is an AMD %s card and vendor-reset is loaded, but reset_method is '%s'%s: the "
                               "kernel does not use its device_specific reset",
                               dev->name, family, q(methods, qb),
                               word_list_contains(methods, "device_specific") ? " (device_specific is offered)" : ""),
                          strf("add to the domain's policy: %s", line));
}

/* reset_method lists the resets the kernel will try, best first (Linux >= 5.15). */
static int check_reset(DomainCtx *c, const PciDevice *dev, CheckReport *r) {
        _cleanup_free_ char *id = strf("reset:%s", dev->name), *methods = NULL;
        char qb[VALUE_QUOTE_BUFSZ];
        _cleanup_free_ char *vendor_reset = strf(
                "if the guest cannot start a second time without a host reboot, install the vendor-reset module (it "
                "adds a device_specific reset for Polaris, Vega and Navi 10/12/14 cards) and, on Linux >= 5.15, "
                "select it: echo device_specific > /sys/bus/pci/devices/%s/reset_method",
                dev->name);
        int k;

        if (!id || !vendor_reset)
                return -ENOMEM;
        k = sysroot_read_linef(c->sr, &methods, "sys/bus/pci/devices/%s/reset_method", dev->name);
        if (k == -ENOMEM)
                return k;
        const char *family = vendor_reset_family(dev->vendor, dev->device);
        if (family)
                return check_vendor_reset(c, dev, family, k >= 0 ? methods : NULL, r);
        if (k < 0) {
                if (sysroot_existsf(c->sr, "sys/bus/pci/devices/%s/reset", dev->name) > 0)
                        return report_add(r, CHECK_WARN, id,
                                          strf("%s can be reset, but this kernel does not say how (no reset_method, "
                                               "Linux < 5.15): many AMD GPUs do not come back from a bus reset",
                                               dev->name),
                                          strf("%s", vendor_reset));
                return report_add(r, CHECK_WARN, id,
                                  strf("%s has no reset method at all: it cannot be reset between guest starts",
                                       dev->name),
                                  strf("%s", vendor_reset));
        }
        _cleanup_free_ char *padded = strf(" %s ", methods);
        if (!padded)
                return -ENOMEM;
        if (strstr(padded, " device_specific "))
                return PASS(r, id, "%s resets with: %s (a device-specific reset is registered)", dev->name,
                            q(methods, qb));
        if (strstr(padded, " flr ") || strstr(padded, " af_flr "))
                return PASS(r, id, "%s resets with: %s (function-level reset)", dev->name, q(methods, qb));
        if (!methods[0])
                return report_add(r, CHECK_WARN, id, strf("%s has no reset method enabled (reset_method is empty)",
                                                          dev->name),
                                  strf("re-enable one (echo default > /sys/bus/pci/devices/%s/reset_method); %s",
                                       dev->name, vendor_reset));
        return report_add(r, CHECK_WARN, id,
                          strf("%s resets only with: %s; no function-level or device-specific reset. Many AMD GPUs "
                               "(Polaris, Vega, Navi 10/12/14) do not come back from such a reset; this check cannot "
                               "tell whether this card is one of them",
                               dev->name, q(methods, qb)),
                          strf("%s", vendor_reset));
}

/* SR-IOV facts of a PF: the policy's <vfs> (v), or a hostdev's own or its
 * PF's. Not capable without <vfs>: nothing to say. */
static int check_sriov_pf(DomainCtx *c, const PciAddr *pf, const VfsRequest *v, CheckReport *r) {
        _cleanup_(sriov_fact_done) SriovFact s = {};
        _cleanup_free_ char *id = NULL, *vfs = NULL, *where = NULL;
        char a[PCI_ADDR_STRLEN];
        int k;

        pci_addr_format(pf, a);
        id = strf("sriov:%s", a);
        if (!id)
                return -ENOMEM;
        k = sriov_fact_read(c->sr, pf, &s);
        if (k == -ENOMEM)
                return k;
        if (k < 0)
                return report_add(r, CHECK_WARN, id, strf("cannot read the SR-IOV state of %s: %s", a, strerror(-k)),
                                  strf("run as root"));
        if (v && !s.exists)
                return report_add(r, CHECK_FAIL, id, strf("<vfs pf='%s'>: there is no PCI device %s", a, a),
                                  strf("find the PF's address with `lspci -D` and fix the <vfs> element"));
        if (!s.capable)
                return v ? report_add(r, CHECK_FAIL, id, strf("<vfs pf='%s'>: %s has no SR-IOV capability", a, a),
                                      strf("remove the <vfs> element, or name the device's physical function"))
                         : 0;
        const char *vf_driver = NULL;
        for (size_t i = 0; i < s.n_vfs && !vf_driver; i++)
                vf_driver = s.vf_drivers[i];
        vfs = sriov_vfs_describe(&s, NULL, NULL, 0);
        if (s.layout_known && s.total > 0) {
                PciAddr first, last;
                char b[PCI_ADDR_STRLEN];
                if (sriov_vf_addr(pf, s.offset, s.stride, 0, &first) >= 0 &&
                    sriov_vf_addr(pf, s.offset, s.stride, s.total - 1, &last) >= 0)
                        where = strf("; its VFs are at %s to %s (First VF Offset %u, VF Stride %u)",
                                     pci_addr_format(&first, a), pci_addr_format(&last, b), s.offset, s.stride);
        } else
                where = strdup("; where its VFs go is unknown (run as root to read its SR-IOV capability)");
        pci_addr_format(pf, a);
        if (!vfs || !where)
                return -ENOMEM;
        _cleanup_free_ char *msg = strf("%s: SR-IOV, %u of %u VFs (sriov_numvfs, sriov_totalvfs), PF driver %s, VF "
                                        "driver %s, autoprobe %s%s%s%s",
                                        a, s.num, s.total, s.pf_driver ? s.pf_driver : "none",
                                        vf_driver ? vf_driver : s.n_vfs ? "none" : "unknown (no VFs now)",
                                        s.autoprobe < 0 ? "unknown" : s.autoprobe ? "on" : "off", where,
                                        s.n_vfs ? "; now: " : "", vfs);
        if (!msg)
                return -ENOMEM;
        if (v && v->count > s.total)
                return report_add(r, CHECK_FAIL, id, strf("<vfs count='%u'>: %s", v->count, msg),
                                  strf("count='%u' at most", s.total));
        if (v && s.num == 0 && !s.pf_driver)
                return report_add(r, CHECK_FAIL, id, strf("%s", msg),
                                  strf("bind %s to its driver: the kernel makes VFs through it", a));
        return PASS(r, id, "%s%s", msg, v ? (s.num == 0 ? "; prepare makes the VFs" : "") : "");
}

static int check_sriov(DomainCtx *c, CheckReport *r) {
        _cleanup_free_ PciAddr *done = calloc(c->d->n_hostdevs + c->policy->n_vfs + 1, sizeof *done);
        size_t n = 0;
        int k = 0;

        if (!done)
                return -ENOMEM;
        for (size_t i = 0; k >= 0 && i < c->policy->n_vfs; i++) {
                done[n++] = c->policy->vfs[i].pf;
                k = check_sriov_pf(c, &c->policy->vfs[i].pf, &c->policy->vfs[i], r);
        }
        for (size_t i = 0; k >= 0 && i < c->f.n_hostdevs; i++) {
                const PciDevice *dev = c->f.hostdevs[i];
                _cleanup_free_ char *phys = NULL;
                PciAddr pf;
                if (!dev)
                        continue;
                pf = dev->addr;
                if (sysroot_link_basenamef(c->sr, &phys, "sys/bus/pci/devices/%s/physfn", dev->name) >= 0 &&
                    pci_addr_parse(phys, &pf) < 0)
                        continue;
                bool seen = false;
                for (size_t j = 0; j < n; j++)
                        seen = seen || pci_addr_equal(&done[j], &pf);
                if (seen)
                        continue;
                done[n++] = pf;
                k = check_sriov_pf(c, &pf, NULL, r);
        }
        /* The policy's <reset>s (AMD cards have theirs from check_reset()). */
        for (size_t i = 0; k >= 0 && i < c->policy->n_resets; i++) {
                const ResetRequest *x = &c->policy->resets[i];
                const char *now = i < c->f.n_reset_methods ? c->f.reset_methods[i] : NULL;
                char a[PCI_ADDR_STRLEN], qb[VALUE_QUOTE_BUFSZ];
                _cleanup_free_ char *id = strf("reset:%s", pci_addr_format(&x->device, a));
                if (!id)
                        return -ENOMEM;
                if (check_report_find(r, id))
                        continue;
                if (!now)
                        k = report_add(r, CHECK_FAIL, id, strf("<reset device='%s'>: %s has no reset_method", a, a),
                                       strf("Linux >= 5.15 selects reset methods; remove the <reset> element otherwise"));
                else if (!word_list_contains(now, x->method) &&
                         !(c->f.vendor_reset && streq(x->method, "device_specific")))
                        k = report_add(r, CHECK_FAIL, id, strf("<reset device='%s' method='%s'>: %s offers %s", a,
                                                               x->method, a, now[0] ? q(now, qb) : "no method"),
                                       strf("choose one of them"));
                else
                        k = PASS(r, id, "%s resets with: %s; prepare selects %s, release puts it back", a,
                                 now[0] ? q(now, qb) : "none", x->method);
        }
        return k;
}

/* The reasons of the decisions of one kind the plan keeps, "; "-joined. */
static char *kept_reasons(const Decisions *ds, StepAction kind) {
        Buf b;
        if (buf_open(&b) < 0)
                return NULL;
        for (size_t i = 0; i < ds->n; i++)
                if (ds->list[i].kind == kind && !ds->list[i].take)
                        fprintf(b.f, "%s%s", ftell(b.f) ? "; " : "", ds->list[i].reason);
        return buf_take(&b);
}

static bool decided_take(const Decisions *ds, StepAction kind, const char *resource) {
        const Decision *x = decisions_find(ds, kind, resource);
        return x && x->take;
}

static int check_driver_stack(DomainCtx *c, CheckReport *r) {
        const HostFacts *f = &c->f;
        _cleanup_free_ char *order = NULL, *busy = NULL, *builtin = NULL, *roots = NULL, *kept = NULL, *stays = NULL;
        Buf b_order = {}, b_busy = {}, b_builtin = {}, b_roots = {};
        const char *stack = stack_to_string(f->stack);
        int k = 0;

        if (buf_open(&b_order) < 0 || buf_open(&b_busy) < 0 || buf_open(&b_builtin) < 0 || buf_open(&b_roots) < 0) {
                k = -ENOMEM;
                goto finish;
        }
        for (char **m = f->stack_roots; m && *m; m++)
                fprintf(b_roots.f, "%s%s", m == f->stack_roots ? "" : ", ", *m);
        for (char **m = f->builtin_modules; m && *m; m++)
                fprintf(b_builtin.f, "%s%s", m == f->builtin_modules ? "" : ", ", *m);
        for (char **m = f->unload_order; m && *m; m++) {
                _cleanup_(module_info_done) ModuleInfo mi = { .refcnt = -1 };
                if (!decided_take(&c->ds, STEP_UNLOAD_MODULE, *m))
                        continue; /* other devices still need it: below */
                fprintf(b_order.f, "%s%s", ftell(b_order.f) ? ", " : "", *m);
                k = module_info_read(c->sr, *m, &mi);
                if (k == -ENOMEM)
                        goto finish;
                if (k < 0 || mi.refcnt < 0)
                        continue;
                /* Each holding module takes one reference; the rest are open
                 * files and other kernel users. */
                int extra = mi.refcnt - (int) strv_length(mi.holders);
                if (extra > 0)
                        fprintf(b_busy.f, "%s%s (%d)", ftell(b_busy.f) ? ", " : "", *m, extra);
        }
        k = 0;
        order = buf_take(&b_order);
        busy = buf_take(&b_busy);
        builtin = buf_take(&b_builtin);
        roots = buf_take(&b_roots);
        kept = kept_reasons(&c->ds, STEP_UNLOAD_MODULE);
        if (!order || !busy || !builtin || !roots || !kept) {
                k = -ENOMEM;
                goto finish;
        }
        stays = strf("%s%s", kept[0] ? "; other devices still need what stays: " : "", kept);
        if (!stays) {
                k = -ENOMEM;
                goto finish;
        }

        if (!roots[0])
                k = PASS(r, "driver-stack", "stack %s: no module to unload%s", stack,
                         c->policy->stack == STACK_AUTO ? " (no host driver is bound to the display device)" : "");
        else if (builtin[0])
                k = report_add(r, CHECK_WARN, "driver-stack",
                               strf("stack %s: %s built into the kernel and cannot be unloaded%s%s%s%s%s", stack,
                                    builtin, order[0] ? "; unloads " : "", order, busy[0] ? "; in use now: " : "", busy,
                                    stays),
                               strf("detaching still unbinds the device from it, which is usually enough; if the host "
                                    "hangs or the console does not come back, use a kernel that builds %s as a module",
                                    builtin));
        else if (!order[0] && kept[0])
                k = PASS(r, "driver-stack", "stack %s (%s): unloads nothing, the detach unbinds the devices%s", stack,
                         roots, stays);
        else if (!order[0])
                k = PASS(r, "driver-stack", "stack %s (%s): not loaded, nothing to unload", stack, roots);
        else if (busy[0])
                k = report_add(r, CHECK_WARN, "driver-stack",
                               strf("stack %s: unloads %s (holders first); in use now beyond their holders: %s%s",
                                    stack, order, busy, stays),
                               strf("expected while the desktop runs: prepare first stops what holds the devices "
                                    "(see gpu-holders, vtconsole, display-manager); a module still in use then stops "
                                    "the hand-off (`lsof /dev/dri/* /dev/nvidia*` shows who)"));
        else
                k = PASS(r, "driver-stack", "stack %s: unloads %s (holders first); none in use%s", stack, order, stays);

finish:
        buf_done(&b_order);
        buf_done(&b_busy);
        buf_done(&b_builtin);
        buf_done(&b_roots);
        return k;
}

/* "efi-framebuffer.0 (efi-framebuffer)", "simple-framebuffer.0 (simpledrm, DRM card0, held by ...)". */
static char *framebuffer_describe(DomainCtx *c, const Framebuffer *fb) {
        _cleanup_strv_free_ char **drm = NULL, **paths = NULL;
        _cleanup_free_ char *module = NULL;
        Holder *holders = NULL;
        size_t n_holders = 0;
        char qb[VALUE_QUOTE_BUFSZ];
        Buf b;

        if (buf_open(&b) < 0)
                return NULL;
        (void) sysroot_list_dirf(c->sr, &drm, "sys/bus/platform/devices/%s/drm", fb->device);
        if (drm && drm[0]) {
                /* A DRM driver on the firmware framebuffer: simpledrm (or ofdrm, ...). */
                (void) sysroot_link_basenamef(c->sr, &module, "sys/bus/platform/drivers/%s/module", fb->driver);
                fprintf(b.f, "%s (%s, DRM", fb->device,
                        module                                      ? module
                        : streq(fb->driver, "simple-framebuffer") ? "simpledrm"
                                                                   : fb->driver);
                for (char **n = drm; *n; n++) {
                        _cleanup_free_ char *path = strf("/dev/dri/%s", *n);
                        if (!path || strv_extend(&paths, path) < 0) {
                                buf_done(&b);
                                return NULL;
                        }
                        fprintf(b.f, " %s", *n);
                }
                if (holders_find(c->sr, paths, NULL, &holders, &n_holders) >= 0)
                        for (size_t i = 0; i < n_holders; i++)
                                fprintf(b.f, "%s %s pid %d", i ? "," : ", held by", q(holders[i].command, qb),
                                        (int) holders[i].pid);
                holders_free(holders, n_holders);
                fputc(')', b.f);
        } else
                fprintf(b.f, "%s (%s)", fb->device, fb->driver);
        return buf_take(&b);
}

/* Console, framebuffer and display manager: a kept resource is worth a
 * warning when the policy keeps it explicitly and `auto` would change it
 * (it depends on a device the domain takes). */
static bool kept_against_auto(const DomainCtx *c, Choice choice, StepAction kind, const char *resource) {
        return choice == CHOICE_KEEP && decided_take(&c->auto_ds, kind, resource);
}

static int check_framebuffer(DomainCtx *c, CheckReport *r) {
        _cleanup_free_ char *bound = NULL, *present = NULL;
        Buf b_bound = {}, b_present = {};
        bool warn = false;
        int k = 0;

        if (buf_open(&b_bound) < 0 || buf_open(&b_present) < 0) {
                k = -ENOMEM;
                goto finish;
        }
        for (size_t i = 0; i < c->f.n_framebuffers; i++) {
                const Framebuffer *fb = &c->f.framebuffers[i];
                const Decision *x = decisions_find(&c->ds, STEP_UNBIND_FRAMEBUFFER, fb->device),
                               *a = decisions_find(&c->auto_ds, STEP_UNBIND_FRAMEBUFFER, fb->device);
                if (!fb->driver) {
                        fprintf(b_present.f, "%s%s", ftell(b_present.f) ? ", " : "", fb->device);
                        continue;
                }
                _cleanup_free_ char *desc = framebuffer_describe(c, fb);
                if (!desc || !x || !a) {
                        k = -ENOMEM;
                        goto finish;
                }
                bool w = kept_against_auto(c, c->policy->framebuffer, STEP_UNBIND_FRAMEBUFFER, fb->device);
                /* "simple-framebuffer.0 (simpledrm, ...): it sits on ...: prepare unbinds it" */
                fprintf(b_bound.f, "%s%s: %s: prepare %s", ftell(b_bound.f) ? "; " : "", desc, x->why,
                        x->take ? "unbinds it" : "leaves it");
                if (w)
                        fprintf(b_bound.f, " (with auto it would go: %s)", a->why);
                warn = warn || w;
        }
        bound = buf_take(&b_bound);
        present = buf_take(&b_present);
        if (!bound || !present) {
                k = -ENOMEM;
                goto finish;
        }

        if (!bound[0])
                k = PASS(r, "framebuffer", "no firmware framebuffer is bound%s%s%s", present[0] ? " (" : "", present,
                         present[0] ? " present, unbound)" : "");
        else if (warn)
                k = report_add(r, CHECK_WARN, "framebuffer", strf("%s", bound),
                               strf("set <framebuffer>unbind</framebuffer> or auto: a firmware framebuffer left on the "
                                    "card keeps part of its memory, which vfio-pci then cannot map for the guest"));
        else
                k = PASS(r, "framebuffer", "%s", bound);
finish:
        buf_done(&b_bound);
        buf_done(&b_present);
        return k;
}

static int check_vtconsole(DomainCtx *c, CheckReport *r) {
        _cleanup_free_ char *bound = NULL;
        const Decision *x = NULL;
        bool warn = false;
        Buf b;

        if (buf_open(&b) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < c->f.n_vtconsoles; i++) {
                const VtConsole *v = &c->f.vtconsoles[i];
                if (!vtconsole_is_fbcon(v) || v->bind != 1)
                        continue;
                fprintf(b.f, "%s%s", ftell(b.f) ? ", " : "", v->id);
                x = x ? x : decisions_find(&c->ds, STEP_UNBIND_VTCONSOLE, v->id);
                warn = warn || kept_against_auto(c, c->policy->console, STEP_UNBIND_VTCONSOLE, v->id);
        }
        bound = buf_take(&b);
        if (!bound)
                return -ENOMEM;
        if (!bound[0])
                return PASS(r, "vtconsole", "no frame buffer console is bound%s%s",
                            c->ds.console ? "; the frame buffers: " : "", c->ds.console ? c->ds.console : "");
        if (!x)
                return -ENOMEM;
        if (warn)
                return report_add(r, CHECK_WARN, "vtconsole",
                                  strf("the frame buffer console is bound to %s, and the policy keeps it, but it draws "
                                       "on what the domain takes: it keeps the GPU's driver in use",
                                       bound),
                                  strf("set <console>unbind</console> or auto"));
        return PASS(r, "vtconsole", "the frame buffer console is bound to %s: %s: prepare %s", bound, x->why,
                    x->take ? "unbinds it" : "leaves it");
}

static int check_gpu_holders(DomainCtx *c, CheckReport *r) {
        _cleanup_free_ char *list = NULL;
        const Holder *prev = NULL;
        char qb[VALUE_QUOTE_BUFSZ];
        Buf b;

        if (buf_open(&b) < 0)
                return -ENOMEM;
        /* Sorted by pid: one entry per process. */
        for (size_t i = 0; i < c->f.n_holders; i++) {
                const Holder *hd = &c->f.holders[i];
                if (!decisions_holder_counts(&c->ds, hd->path))
                        continue;
                if (prev && hd->pid == prev->pid)
                        fprintf(b.f, ", %s", hd->path);
                else
                        fprintf(b.f, "%spid %d (%s%s%s) holds %s", prev ? "; " : "", (int) hd->pid,
                                q(hd->command, qb), hd->unit ? ", " : "", hd->unit ? hd->unit : "", hd->path);
                prev = hd;
        }
        list = buf_take(&b);
        if (!list)
                return -ENOMEM;
        if (!list[0])
                return PASS(r, "gpu-holders", "no process holds the devices' nodes%s",
                            c->f.stack == STACK_NVIDIA ? " (theirs and /dev/nvidia*)" : "");
        bool terminate = c->policy->holders == HOLDERS_TERMINATE;
        Buf b_units;
        if (buf_open(&b_units) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < c->ds.n; i++)
                if (c->ds.list[i].kind == STEP_STOP_UNIT && c->ds.list[i].take)
                        fprintf(b_units.f, "%s%s", ftell(b_units.f) ? ", " : "", c->ds.list[i].resource);
        _cleanup_free_ char *units = buf_take(&b_units);
        if (!units)
                return -ENOMEM;
        if (units[0])
                return report_add(r, CHECK_WARN, "gpu-holders", strf("%s", list),
                                  strf("prepare first stops %s; it then looks again and %s (<holders>%s</holders>)",
                                       units, terminate ? "terminates what is left" : "refuses to go on if any is left",
                                       terminate ? "terminate" : "refuse"));
        return report_add(r, CHECK_WARN, "gpu-holders", strf("%s", list),
                          strf("prepare stops no unit that holds them: close these programs before starting the "
                               "guest%s",
                               c->policy->display_manager == CHOICE_KEEP
                                       ? ", or set <display-manager>stop</display-manager>"
                                       : terminate ? " (prepare terminates them: <holders>terminate</holders>)"
                                                   : ", or set <holders>terminate</holders>"));
}

static int check_display_manager(DomainCtx *c, CheckReport *r) {
        _cleanup_free_ char *target = NULL;
        char qb[VALUE_QUOTE_BUFSZ];
        int k;

        k = sysroot_readlinkf(c->sr, &target, DM_LINK);
        if (k == -ENOMEM)
                return k;
        if (k == -ENOENT)
                return PASS(r, "display-manager", "no " DISPLAY_MANAGER_UNIT ": no display manager to stop");
        if (k < 0 && k != -EINVAL) /* -EINVAL: a unit file, not a link */
                return report_add(r, CHECK_WARN, "display-manager",
                                  strf("cannot read /" DM_LINK ": %s", strerror(-k)), strf("run as root"));
        if (k >= 0 && sysroot_existsf(c->sr, DM_LINK) <= 0)
                return report_add(r, CHECK_WARN, "display-manager",
                                  strf(DISPLAY_MANAGER_UNIT " points to %s, which does not exist", q(target, qb)),
                                  strf("enable the display manager you use (e.g. systemctl enable --force gdm) or "
                                       "remove the stale link"));
        const char *base = target ? strrchr(target, '/') : NULL;
        base = base ? base + 1 : target;
        _cleanup_free_ char *what = base ? strf(DISPLAY_MANAGER_UNIT " -> %s", q(base, qb)) : strdup(DISPLAY_MANAGER_UNIT);
        if (!what)
                return -ENOMEM;
        if (kept_against_auto(c, c->policy->display_manager, STEP_STOP_UNIT, DISPLAY_MANAGER_UNIT))
                return report_add(r, CHECK_WARN, "display-manager",
                                  strf("%s runs on the GPU, and the policy keeps it", what),
                                  strf("set <display-manager>stop</display-manager> or auto, or stop it yourself "
                                       "before starting the guest"));
        const Decision *x = decisions_find(&c->ds, STEP_STOP_UNIT, DISPLAY_MANAGER_UNIT);
        if (!x)
                return PASS(r, "display-manager", "%s: %s", what,
                            c->policy->display_manager == CHOICE_KEEP ? "the policy keeps it"
                                                                        : "the domain takes no display controller");
        if (x->take)
                return PASS(r, "display-manager", "%s: prepare stops it, release starts it again: %s", what, x->why);
        return PASS(r, "display-manager", "%s: prepare leaves it running: %s", what, x->why);
}

static bool group_listed(const DomainCtx *c, size_t upto, int group) {
        for (size_t i = 0; i < upto; i++)
                if (c->f.hostdevs[i] && c->f.hostdevs[i]->iommu_group == group)
                        return true;
        return false;
}

/* <inhibit>, <isolate>, <hugepages>: each step and what it changes, or
 * what stops it (lifetime-steps.h). */
static int check_lifetime(DomainCtx *c, CheckReport *r) {
        _cleanup_(plan_done) Plan p = {};
        int k = lifetime_plan(c->d, &c->f.lifetime, &p);
        for (size_t i = 0; k >= 0 && i < p.decisions.n; i++) {
                const Decision *x = &p.decisions.list[i];
                _cleanup_free_ char *id = strf("%s:%s", decision_kind_to_string(x->kind), x->resource);
                k = id ? report_add(r, CHECK_PASS, id, strdup(x->reason), NULL) : -ENOMEM;
        }
        for (size_t i = 0; k >= 0 && i < p.n_problems; i++)
                k = report_add(r, CHECK_FAIL, p.problems[i].code, strdup(p.problems[i].message),
                               strf("change the policy, or root's limits in vfio-hook.conf(5)"));
        return k;
}

static int check_domain(Sysroot *sr, Names *names, const Domain *d, int n_groups, CheckReport *r) {
        _cleanup_(policy_done) Policy defaults = {};
        DomainCtx c = { .sr = sr, .names = names, .d = d, .policy = d->policy, .n_groups = n_groups };
        char qb[VALUE_QUOTE_BUFSZ];
        int k;

        if (!c.policy) {
                policy_init(&defaults);
                c.policy = &defaults;
        }
        k = check_policy(&c, r);
        if (k < 0)
                return k;

        /* Units count as running when their unit file is there: a check
         * asks no daemon, and says what prepare would do if they ran. */
        k = host_facts_gather(sr, d, unit_state_from_tree, sr, &c.f);
        if (k == -ENOMEM)
                return k;
        if (k < 0)
                return report_add(r, CHECK_FAIL, "host-state",
                                  strf("cannot read the host's state: %s", strerror(-k)),
                                  strf("run as root; with --sysroot, check the tree"));
        Policy automatic = *c.policy;
        automatic.console = automatic.framebuffer = automatic.display_manager = CHOICE_AUTO;
        k = decide(d, c.policy, &c.f, &c.ds);
        if (k >= 0)
                k = decide(d, &automatic, &c.f, &c.auto_ds);
        if (k < 0) {
                host_facts_done(&c.f);
                decisions_done(&c.ds);
                return k;
        }

        if (d->n_hostdevs == 0)
                k = report_add(r, CHECK_WARN, "hostdevs", strf("domain %s has no PCI <hostdev>", q(d->name, qb)),
                               strf("add the GPU and its audio function: virsh attach-device %s FILE --config, or "
                                    "virt-manager's Add Hardware > PCI Host Device",
                                    q(d->name, qb)));
        for (size_t i = 0; k >= 0 && i < d->n_hostdevs; i++)
                k = check_device(&c, i, r);
        for (size_t i = 0; k >= 0 && i < c.f.n_hostdevs; i++) {
                const PciDevice *dev = c.f.hostdevs[i];
                if (dev && dev->iommu_group >= 0 && !group_listed(&c, i, dev->iommu_group))
                        k = check_group(&c, dev->iommu_group, r);
        }
        for (size_t i = 0; k >= 0 && i < c.f.n_hostdevs; i++) {
                const PciDevice *dev = c.f.hostdevs[i];
                if (dev && dev->vendor == 0x1002 && pci_device_is_display(dev))
                        k = check_reset(&c, dev, r);
        }
        if (k >= 0)
                k = check_sriov(&c, r);
        if (k >= 0 && (c.f.has_display || (c.f.stack_roots && c.f.stack_roots[0])))
                k = check_driver_stack(&c, r);
        if (k >= 0 && c.f.has_display) {
                if ((k = check_framebuffer(&c, r)) >= 0 && (k = check_vtconsole(&c, r)) >= 0 &&
                    (k = check_gpu_holders(&c, r)) >= 0)
                        k = check_display_manager(&c, r);
        }
        if (k >= 0 && d->policy)
                k = check_lifetime(&c, r);
        host_facts_done(&c.f);
        decisions_done(&c.ds);
        decisions_done(&c.auto_ds);
        return k;
}

/* ---- the IOMMU groups, without a domain --------------------------------------------------------- */

static int cmp_group(const void *x, const void *y) {
        const IommuGroup *a = x, *b = y;
        return a->number < b->number ? -1 : a->number > b->number;
}

static int list_groups(Sysroot *sr, Names *names, CheckReport *r) {
        _cleanup_strv_free_ char **dirs = NULL;
        int k;

        r->listed_groups = true;
        k = sysroot_list_dirf(sr, &dirs, "sys/kernel/iommu_groups");
        if (k == -ENOMEM)
                return k;
        if (k < 0)
                return 0;

        for (char **g = dirs; *g; g++) {
                _cleanup_free_ PciAddr *members = NULL;
                size_t n = 0;
                unsigned number;

                if (parse_uint(*g, &number) < 0 || number > INT_MAX)
                        continue;
                k = pci_iommu_group_members(sr, (int) number, &members, &n);
                if (k == -ENOMEM)
                        return k;
                if (k < 0)
                        continue;

                IommuGroup *ng = realloc(r->groups, (r->n_groups + 1) * sizeof *ng);
                if (!ng)
                        return -ENOMEM;
                r->groups = ng;
                IommuGroup *grp = &r->groups[r->n_groups++];
                *grp = (IommuGroup) { .number = number, .devices = calloc(n + 1, sizeof(GroupDevice)) };
                if (!grp->devices)
                        return -ENOMEM;

                for (size_t j = 0; j < n; j++) {
                        _cleanup_pci_device_ PciDevice *dev = NULL;
                        k = pci_device_read(sr, &members[j], &dev);
                        if (k == -ENOMEM)
                                return k;
                        if (k < 0)
                                continue;
                        GroupDevice *gd = &grp->devices[grp->n_devices];
                        memcpy(gd->addr, dev->name, sizeof gd->addr);
                        gd->vendor = dev->vendor;
                        gd->device = dev->device;
                        gd->class = dev->class;
                        gd->name = names_describe(names, dev);
                        if (!gd->name)
                                return -ENOMEM;
                        gd->driver = TAKE_PTR(dev->driver);
                        grp->n_devices++;
                }
        }
        if (r->n_groups > 0)
                qsort(r->groups, r->n_groups, sizeof *r->groups, cmp_group);
        return 0;
}

/* ---- running and printing ------------------------------------------------------------------------ */

int check_run(Sysroot *sr, const Domain *d, CheckReport *ret) {
        _cleanup_(check_report_done) CheckReport r = {};
        _cleanup_(host_done) Host h = {};
        Names names;
        int k;

        if (d && !(r.domain = strdup(d->name ? d->name : "")))
                return -ENOMEM;

        k = host_init(sr, &h);
        if (k < 0)
                return k;
        k = check_host(&h, &r);
        if (k < 0)
                return k;
        r.n_host_results = r.n_results;

        names_init(sr, &names);
        k = d ? check_domain(sr, &names, d, h.n_groups, &r) : list_groups(sr, &names, &r);
        names_done(&names);
        if (k < 0)
                return k;

        *ret = r;
        r = (CheckReport) {};
        return 0;
}

#define ANSI_RESET "\033[0m"

static const char *status_color(CheckStatus s) {
        return s == CHECK_PASS ? "\033[32m" : s == CHECK_WARN ? "\033[33m" : "\033[1;31m";
}

static void print_result(const CheckResult *c, int width, FILE *out, bool color) {
        const char *label = c->status == CHECK_PASS ? "PASS" : c->status == CHECK_WARN ? "WARN" : "FAIL";
        fprintf(out, "  %s%s%s  %-*s  %s\n", color ? status_color(c->status) : "", label, color ? ANSI_RESET : "",
                width, c->id, c->message);
        if (c->hint)
                fprintf(out, "  %*s  %*s  %shint:%s %s\n", 4, "", width, "", color ? "\033[1m" : "",
                        color ? ANSI_RESET : "", c->hint);
}

void check_print_text(const CheckReport *r, FILE *out, bool color) {
        int width = 0;
        for (size_t i = 0; i < r->n_results; i++)
                if ((int) strlen(r->results[i].id) > width)
                        width = (int) strlen(r->results[i].id);

        fputs("Host:\n", out);
        for (size_t i = 0; i < r->n_host_results; i++)
                print_result(&r->results[i], width, out, color);
        if (r->domain) {
                char qb[VALUE_QUOTE_BUFSZ];
                fprintf(out, "Domain %s:\n", value_quote(r->domain, qb));
                for (size_t i = r->n_host_results; i < r->n_results; i++)
                        print_result(&r->results[i], width, out, color);
        }
        if (r->listed_groups) {
                if (r->n_groups == 0)
                        fputs("IOMMU groups: none (the IOMMU is off)\n", out);
                else
                        fputs("IOMMU groups:\n", out);
                for (size_t i = 0; i < r->n_groups; i++) {
                        fprintf(out, "  group %u\n", r->groups[i].number);
                        for (size_t j = 0; j < r->groups[i].n_devices; j++) {
                                const GroupDevice *gd = &r->groups[i].devices[j];
                                fprintf(out, "    %s %s (%s%s)\n", gd->addr, gd->name, gd->driver ? "driver " : "",
                                        gd->driver ? gd->driver : "no driver");
                        }
                }
        }

        size_t fail = check_report_count(r, CHECK_FAIL), warn = check_report_count(r, CHECK_WARN),
               pass = check_report_count(r, CHECK_PASS);
        fprintf(out, "%zu passed, %zu warning%s, %zu failed%s\n", pass, warn, warn == 1 ? "" : "s", fail,
                fail > 0 ? ": fix the failures before handing devices over" : "");
}

void check_print_domain_text(const CheckReport *r, FILE *out) {
        int width = 0;
        for (size_t i = r->n_host_results; i < r->n_results; i++)
                if ((int) strlen(r->results[i].id) > width)
                        width = (int) strlen(r->results[i].id);
        for (size_t i = r->n_host_results; i < r->n_results; i++)
                print_result(&r->results[i], width, out, false);
}

void check_print_json(const CheckReport *r, FILE *out) {
        fputs("{\"domain\": ", out);
        json_write_string_or_null(out, r->domain);
        fputs(", \"checks\": [", out);
        for (size_t i = 0; i < r->n_results; i++) {
                const CheckResult *c = &r->results[i];
                fputs(i ? ", {\"id\": " : "{\"id\": ", out);
                json_write_string(out, c->id);
                fprintf(out, ", \"status\": \"%s\", \"message\": ", check_status_to_string(c->status));
                json_write_string(out, c->message);
                fputs(", \"hint\": ", out);
                json_write_string_or_null(out, c->hint);
                fputc('}', out);
        }
        fputc(']', out);
        if (r->listed_groups) {
                fputs(", \"groups\": [", out);
                for (size_t i = 0; i < r->n_groups; i++) {
                        fprintf(out, "%s{\"group\": %u, \"devices\": [", i ? ", " : "", r->groups[i].number);
                        for (size_t j = 0; j < r->groups[i].n_devices; j++) {
                                const GroupDevice *gd = &r->groups[i].devices[j];
                                fprintf(out, "%s{\"address\": \"%s\", \"ids\": \"%04x:%04x\", \"class\": \"%06x\", "
                                             "\"name\": ",
                                        j ? ", " : "", gd->addr, gd->vendor, gd->device, gd->class);
                                json_write_string(out, gd->name);
                                fputs(", \"driver\": ", out);
                                json_write_string_or_null(out, gd->driver);
                                fputc('}', out);
                        }
                        fputs("]}", out);
                }
                fputc(']', out);
        }
        fputs("}\n", out);
}

static bool want_color(FILE *out) {
        const char *term = getenv("TERM");
        /* https://no-color.org: any NO_COLOR turns colour off. */
        if (getenv("NO_COLOR") || (term && streq(term, "dumb")))
                return false;
        return isatty(fileno(out));
}

int check_command(const char *sysroot, const Domain *d, bool json, FILE *out) {
        _cleanup_(check_report_done) CheckReport r = {};
        _cleanup_sysroot_ Sysroot *sr = NULL;
        int k;

        k = sysroot_open(sysroot, &sr);
        if (k < 0) {
                log_error("cannot open the sysroot %s: %s%s", sysroot, strerror(-k), dump_sysroot_hint(k));
                return EXIT_BAD_INPUT;
        }
        k = check_run(sr, d, &r);
        if (k < 0) {
                log_error("checking: %s", strerror(-k));
                return EXIT_FAILED;
        }
        if (json)
                check_print_json(&r, out);
        else
                check_print_text(&r, out, want_color(out));
        fflush(out);
        return check_report_count(&r, CHECK_FAIL) > 0 ? EXIT_FAILED : EXIT_OK;
}
