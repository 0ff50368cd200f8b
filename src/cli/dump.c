/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <limits.h>
#include <search.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>

#include "check/preflight.h"
#include "cli/dump.h"
#include "engine/engine.h"
#include "host/console.h"
#include "host/kmsg.h"
#include "host/modules.h"
#include "host/pci.h"
#include "shared/cmdline.h"
#include "shared/log.h"
#include "shared/tarfile.h"
#include "shared/util.h"

/* `vfio-hook dump`: what the readers over the Sysroot (pci.c, console.c,
 * modules.c, holders.c, facts.c, kmsg.c, check/) read, gathered into a tree
 * in memory, then written as one tar archive. Every path is walked inside
 * the root one component at a time: a symlink met on the way is kept as a
 * symlink, with the target the kernel gave it, and the walk goes on at that
 * target, so the tree resolves as the host does without a symlink ever
 * being followed out of it. Files that say nothing the readers use stand in
 * as empty files (a socket, an ACPI table, a unit file); a few are cut to
 * the lines the readers use (see docs/design.md, "The dump"). */

#define DUMP_FILE_MAX (16U * 1024U * 1024U)
#define DUMP_HOOK_MAX (64U * 1024U * 1024U)
#define DUMP_LINKS_MAX 40U
/* As pci.c's walk of a function's directory for its device nodes. */
#define DUMP_WALK_DEPTH_MAX 8U
#define DUMP_WALK_ENTRIES_MAX 20000U
/* Standard PCI header: the readers use the header type at 0x0e. */
#define PCI_CONFIG_HEADER_SIZE 64U

typedef enum EntryType {
        ENTRY_DIR,
        ENTRY_FILE,
        ENTRY_LINK,
} EntryType;

typedef struct Entry {
        char *path;
        EntryType type;
        char *data;       /* a file's content, a link's target */
        size_t len;
        mode_t mode;
} Entry;

typedef struct Dump {
        Sysroot *sr;
        void *index;      /* tsearch() tree of Entry *, by path */
        Entry **entries;
        size_t n, alloc;
        char **notes;     /* what could not be read, for the info file */
} Dump;

static int entry_cmp(const void *a, const void *b) {
        return strcmp(((const Entry *) a)->path, ((const Entry *) b)->path);
}

static void entry_free(Entry *e) {
        if (!e)
                return;
        free(e->path);
        free(e->data);
        free(e);
}

static void dump_done(Dump *d) {
        tdestroy(d->index, (void (*)(void *)) entry_free);
        free(d->entries);
        strv_free(d->notes);
        *d = (Dump) {};
}

static int dump_note(Dump *d, const char *path, int error) {
        _cleanup_free_ char *s = strf("unreadable %s: %s", path, strerror(-error));
        return s ? strv_extend_unique(&d->notes, s) : -ENOMEM;
}

static int add_entry(Dump *d, const char *path, EntryType type, const char *data, size_t len, mode_t mode);

static int add_parents(Dump *d, const char *path) {
        for (const char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
                _cleanup_free_ char *p = strndup(path, (size_t) (s - path));
                if (!p)
                        return -ENOMEM;
                int r = add_entry(d, p, ENTRY_DIR, NULL, 0, 0755);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Adds path once: the same path again is fine when it is the same kind of
 * entry (the first content stays), anything else is -EEXIST. */
static int add_entry(Dump *d, const char *path, EntryType type, const char *data, size_t len, mode_t mode) {
        Entry key = { .path = (char *) path };
        Entry **found = tfind(&key, &d->index, entry_cmp);
        if (found)
                return (*found)->type == type ? 0 : -EEXIST;

        int r = add_parents(d, path);
        if (r < 0)
                return r;

        Entry *e = calloc(1, sizeof *e);
        if (!e)
                return -ENOMEM;
        *e = (Entry) { .path = strdup(path), .type = type, .len = len, .mode = mode };
        if (data) {
                e->data = malloc(len + 1);
                if (e->data) {
                        memcpy(e->data, data, len);
                        e->data[len] = 0;
                }
        }
        if (!e->path || (data && !e->data) || d->n == SIZE_MAX / sizeof(Entry *) - 1) {
                entry_free(e);
                return -ENOMEM;
        }
        if (d->n == d->alloc) {
                size_t na = d->alloc ? d->alloc * 2 : 256;
                Entry **nl = realloc(d->entries, na * sizeof *nl);
                if (!nl) {
                        entry_free(e);
                        return -ENOMEM;
                }
                d->entries = nl;
                d->alloc = na;
        }
        if (!tsearch(e, &d->index, entry_cmp)) {
                entry_free(e);
                return -ENOMEM;
        }
        d->entries[d->n++] = e;
        return 0;
}

static int add_file(Dump *d, const char *path, const char *data, size_t len, mode_t mode) {
        return add_entry(d, path, ENTRY_FILE, data ? data : "", len, mode & 0111 ? 0755 : 0644);
}

static int add_link(Dump *d, const char *path, const char *target) {
        return add_entry(d, path, ENTRY_LINK, target, strlen(target), 0777);
}

/* ---- walking inside the root ------------------------------------------------ */

/* Resolves path inside the root as the kernel would, recording every
 * directory passed and every symlink met (as a link, its target as read);
 * a final symlink is followed only with follow_last. *ret: the path with
 * no symlink in it ("" for the root), *ret_st what it is. */
static int resolve(Dump *d, const char *path, bool follow_last, char **ret, struct stat *ret_st) {
        _cleanup_free_ char *phys = strdup(""), *rest = strdup(path);
        unsigned links = 0;
        struct stat st = {};
        int r;

        if (!phys || !rest)
                return -ENOMEM;
        for (;;) {
                const char *p = rest + strspn(rest, "/");
                if (!*p)
                        break;
                size_t clen = strcspn(p, "/");
                const char *after = p + clen;
                bool last = after[strspn(after, "/")] == 0;
                _cleanup_free_ char *comp = strndup(p, clen), *next = NULL, *cand = NULL;
                if (!comp)
                        return -ENOMEM;

                if (streq(comp, ".") || streq(comp, "..")) {
                        if (streq(comp, "..")) {
                                char *slash = strrchr(phys, '/');
                                if (slash)
                                        *slash = 0;
                                else
                                        phys[0] = 0; /* ".." of the root is the root */
                        }
                        if (!(next = strdup(after)))
                                return -ENOMEM;
                        free(rest);
                        rest = TAKE_PTR(next);
                        if (last) {
                                _cleanup_close_ int fd = sysroot_openf(d->sr, O_PATH, NULL, "%s", phys);
                                if (fd < 0)
                                        return fd;
                                if (fstat(fd, &st) < 0)
                                        return -errno;
                        }
                        continue;
                }

                cand = phys[0] ? strf("%s/%s", phys, comp) : strdup(comp);
                if (!cand)
                        return -ENOMEM;
                _cleanup_close_ int fd = sysroot_openf(d->sr, O_PATH | O_NOFOLLOW, NULL, "%s", cand);
                if (fd < 0)
                        return fd;
                if (fstat(fd, &st) < 0)
                        return -errno;

                if (S_ISLNK(st.st_mode) && (!last || follow_last)) {
                        _cleanup_free_ char *target = NULL;
                        if (++links > DUMP_LINKS_MAX)
                                return -ELOOP;
                        r = sysroot_readlinkf(d->sr, &target, "%s", cand);
                        if (r < 0)
                                return r;
                        r = add_link(d, cand, target);
                        if (r < 0)
                                return r;
                        if (target[0] == '/')
                                phys[0] = 0;
                        if (!(next = strf("%s%s", target, after)))
                                return -ENOMEM;
                        free(rest);
                        rest = TAKE_PTR(next);
                        continue;
                }
                if (!last && !S_ISDIR(st.st_mode))
                        return -ENOTDIR;
                if (S_ISDIR(st.st_mode)) {
                        r = add_entry(d, cand, ENTRY_DIR, NULL, 0, 0755);
                        if (r < 0)
                                return r;
                }
                free(phys);
                phys = TAKE_PTR(cand);
                if (!(next = strdup(after)))
                        return -ENOMEM;
                free(rest);
                rest = TAKE_PTR(next);
        }
        *ret = TAKE_PTR(phys);
        if (ret_st)
                *ret_st = st;
        return 0;
}

/* A read that fails for the host's reasons (gone, not allowed, an attribute
 * the device refuses) leaves the file out and a note; only -ENOMEM and a
 * conflict in the tree stop the dump. */
static int soft(Dump *d, const char *path, int r) {
        if (r >= 0 || r == -ENOMEM || r == -EEXIST || r == -ELOOP)
                return r;
        if (r == -ENOENT || r == -ENOTDIR)
                return 0;
        return dump_note(d, path, r);
}

typedef int (*Filter)(const char *text, size_t len, char **ret, size_t *ret_len);

/* A file as the readers see it (following links), its content as read, or
 * as a filter cuts it. */
static int dump_file_filtered(Dump *d, const char *path, size_t max, Filter filter) {
        _cleanup_free_ char *phys = NULL, *text = NULL, *cut = NULL;
        struct stat st;
        size_t cut_len = 0;

        int r = resolve(d, path, true, &phys, &st);
        if (r < 0)
                return soft(d, path, r);
        if (!S_ISREG(st.st_mode))
                return soft(d, path, -EINVAL);
        r = sysroot_read_file(d->sr, phys, max, &text);
        if (r < 0)
                return soft(d, path, r);
        size_t len = (size_t) r;
        if (filter) {
                r = filter(text, len, &cut, &cut_len);
                if (r < 0)
                        return r;
        }
        return add_file(d, phys, cut ? cut : text, cut ? cut_len : len, st.st_mode);
}

static int dump_file(Dump *d, const char *path) {
        return dump_file_filtered(d, path, DUMP_FILE_MAX, NULL);
}

/* A symlink as it is, not followed (the readers take its target's name). */
static int dump_link(Dump *d, const char *path) {
        _cleanup_free_ char *phys = NULL, *target = NULL;
        struct stat st;

        int r = resolve(d, path, false, &phys, &st);
        if (r < 0)
                return soft(d, path, r);
        if (!S_ISLNK(st.st_mode))
                return 0;
        r = sysroot_readlinkf(d->sr, &target, "%s", phys);
        if (r < 0)
                return soft(d, path, r);
        return add_link(d, phys, target);
}

/* What only exists for the readers (a socket, an ACPI table, a unit file,
 * write-only "reset"): an empty file, with its x bits, where it resolves. */
static int dump_exists(Dump *d, const char *path) {
        _cleanup_free_ char *phys = NULL;
        struct stat st;

        int r = resolve(d, path, true, &phys, &st);
        if (r < 0)
                return soft(d, path, r);
        if (S_ISDIR(st.st_mode))
                return 0;
        return add_file(d, phys, "", 0, st.st_mode);
}

/* A directory (recorded) and its names, NULL in *ret when it is not there. */
static int dump_list(Dump *d, const char *path, char ***ret) {
        _cleanup_free_ char *phys = NULL;
        struct stat st;

        *ret = NULL;
        int r = resolve(d, path, true, &phys, &st);
        if (r < 0)
                return soft(d, path, r);
        if (!S_ISDIR(st.st_mode))
                return 0;
        r = sysroot_list_dirf(d->sr, ret, "%s", phys);
        return r < 0 ? soft(d, path, r) : 0;
}

/* The link of each entry of the directory dir that keep() accepts (NULL:
 * all): the functions bound to a driver, an IOMMU group's members. */
static int dump_links_in(Dump *d, const char *dir, bool (*keep)(const char *name)) {
        _cleanup_strv_free_ char **names = NULL;
        int r = dump_list(d, dir, &names);
        for (char **n = names; r >= 0 && n && *n; n++) {
                if (keep && !keep(*n))
                        continue;
                _cleanup_free_ char *p = strf("%s/%s", dir, *n);
                r = p ? dump_link(d, p) : -ENOMEM;
        }
        return r;
}

static bool is_pci_addr(const char *name) {
        PciAddr a;
        return pci_addr_parse(name, &a) >= 0;
}

static bool is_pci_addr_or_module(const char *name) {
        return streq(name, "module") || is_pci_addr(name);
}

static int dump_filef(Dump *d, const char *fmt, ...) _printf_(2, 3);
static int dump_filef(Dump *d, const char *fmt, ...) {
        _cleanup_free_ char *p = NULL;
        va_list ap;
        va_start(ap, fmt);
        p = vstrf(fmt, ap);
        va_end(ap);
        if (!p)
                return -ENOMEM;
        return dump_file(d, p);
}

static int dump_linkf(Dump *d, const char *fmt, ...) _printf_(2, 3);
static int dump_linkf(Dump *d, const char *fmt, ...) {
        _cleanup_free_ char *p = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&p, fmt, ap);
        va_end(ap);
        if (r < 0) {
                p = NULL;
                return -ENOMEM;
        }
        return dump_link(d, p);
}

static bool name_is_numbered(const char *s, const char *prefix) {
        unsigned v;
        return startswith(s, prefix) && strlen(s) <= strlen(prefix) + 6 && parse_uint(s + strlen(prefix), &v) >= 0;
}

/* ---- filters ------------------------------------------------------------------- */

static int keep_lines(const char *text, size_t len, bool (*keep)(const char *line, size_t n), char **ret,
                      size_t *ret_len) {
        _cleanup_free_ char *out = malloc(len + 1);
        size_t n = 0;

        if (!out)
                return -ENOMEM;
        for (const char *p = text, *end = text + len; p < end;) {
                const char *eol = memchr(p, '\n', (size_t) (end - p));
                size_t l = eol ? (size_t) (eol - p) + 1 : (size_t) (end - p);
                if (keep(p, l)) {
                        memcpy(out + n, p, l);
                        n += l;
                }
                p += l;
        }
        out[n] = 0;
        *ret = TAKE_PTR(out);
        *ret_len = n;
        return 0;
}

static bool has(const char *s, size_t n, const char *needle) {
        return memmem(s, n, needle, strlen(needle)) != NULL;
}

/* NVIDIA's per-GPU information: only the minor (the GPU's UUID and serial
 * stay on the host). */
static bool nvidia_keep(const char *line, size_t n) {
        return n >= strlen("Device Minor:") && startswith(line, "Device Minor:");
}

static int nvidia_filter(const char *text, size_t len, char **ret, size_t *ret_len) {
        return keep_lines(text, len, nvidia_keep, ret, ret_len);
}

/* modules.dep: the vfio modules' lines, the only ones `check` looks up. */
static bool dep_keep(const char *line, size_t n) {
        const char *colon = memchr(line, ':', n);
        if (!colon)
                return false;
        const char *base = line;
        for (const char *s = line; s < colon; s++)
                if (*s == '/')
                        base = s + 1;
        return startswith(base, "vfio");
}

static int dep_filter(const char *text, size_t len, char **ret, size_t *ret_len) {
        return keep_lines(text, len, dep_keep, ret, ret_len);
}

/* proc/modules with each load address zeroed, as a user who is not root
 * reads it: the readers use the name, refcount and holders. */
static int modules_filter(const char *text, size_t len, char **ret, size_t *ret_len) {
        _cleanup_free_ char *out = malloc(len + 1);
        size_t n = 0;

        if (!out)
                return -ENOMEM;
        memcpy(out, text, len);
        out[len] = 0;
        for (char *p = out; p < out + len;) {
                char *eol = memchr(p, '\n', (size_t) (out + len - p));
                size_t l = eol ? (size_t) (eol - p) : (size_t) (out + len - p);
                char *addr = memmem(p, l, " 0x", 3);
                if (addr)
                        for (char *c = addr + 3; c < p + l && *c != ' '; c++)
                                if (*c != '0')
                                        *c = '0';
                p += l + 1;
        }
        n = len;
        *ret = TAKE_PTR(out);
        *ret_len = n;
        return 0;
}

/* The kernel log: the records about the IOMMU, interrupt remapping and VFIO
 * (all that `check` looks for), each with its dictionary lines. */
static bool kmsg_record_wanted(const char *line, size_t n) {
        static const char *const words[] = { "DMAR", "AMD-Vi", "IOMMU", "iommu", "remapping", "vfio", "VFIO" };
        const char *msg = memchr(line, ';', n);
        if (!msg)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(words); i++)
                if (has(msg, n - (size_t) (msg - line), words[i]))
                        return true;
        return false;
}

static int kmsg_filter(const char *text, size_t len, char **ret, size_t *ret_len) {
        _cleanup_free_ char *out = malloc(len + 1);
        bool keeping = false;
        size_t n = 0;

        if (!out)
                return -ENOMEM;
        for (const char *p = text, *end = text + len; p < end;) {
                const char *eol = memchr(p, '\n', (size_t) (end - p));
                size_t l = eol ? (size_t) (eol - p) + 1 : (size_t) (end - p);
                if (p[0] != ' ') /* a record; " KEY=value" lines belong to it */
                        keeping = kmsg_record_wanted(p, l);
                if (keeping) {
                        memcpy(out + n, p, l);
                        n += l;
                }
                p += l;
        }
        out[n] = 0;
        *ret = TAKE_PTR(out);
        *ret_len = n;
        return 0;
}

/* ---- what is dumped ---------------------------------------------------------------- */

/* The kernel log: on a host one record per read(2), until EAGAIN; in a
 * tree a plain file. */
/* What <isolate> and <hugepages> read (src/host/lifetime.c): the CPUs, the
 * memory's size and the huge-page pools, the host's and each node's. */
static bool meminfo_keep(const char *line, size_t n) {
        return startswith(line, "MemTotal:") || startswith(line, "MemFree:") || startswith(line, "MemAvailable:") ||
               startswith(line, "Hugepagesize:");
}

static int meminfo_filter(const char *text, size_t len, char **ret, size_t *ret_len) {
        return keep_lines(text, len, meminfo_keep, ret, ret_len);
}

static int dump_pools(Dump *d, const char *dir) {
        _cleanup_strv_free_ char **pools = NULL;
        int r = sysroot_list_dirf(d->sr, &pools, "%s", dir);
        if (r < 0)
                return soft(d, dir, r);
        for (char **p = pools; p && *p; p++) {
                if (!startswith(*p, "hugepages-") || !filename_is_safe(*p, NAME_MAX))
                        continue;
                r = dump_filef(d, "%s/%s/nr_hugepages", dir, *p);
                if (r >= 0)
                        r = dump_filef(d, "%s/%s/free_hugepages", dir, *p);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int dump_lifetime(Dump *d) {
        _cleanup_strv_free_ char **nodes = NULL;
        int r;

        r = dump_file(d, "sys/devices/system/cpu/online");
        if (r >= 0)
                r = dump_file(d, "sys/devices/system/cpu/present");
        if (r >= 0)
                r = dump_file_filtered(d, "proc/meminfo", 64 * 1024, meminfo_filter);
        if (r >= 0)
                r = dump_pools(d, "sys/kernel/mm/hugepages");
        if (r < 0)
                return r;
        r = sysroot_list_dirf(d->sr, &nodes, "sys/devices/system/node");
        if (r < 0)
                return soft(d, "sys/devices/system/node", r);
        for (char **n = nodes; n && *n; n++) {
                if (!startswith(*n, "node") || !filename_is_safe(*n, NAME_MAX))
                        continue;
                _cleanup_free_ char *dir = strf("sys/devices/system/node/%s/hugepages", *n);
                if (!dir)
                        return -ENOMEM;
                r = dump_pools(d, dir);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int dump_kmsg(Dump *d) {
        _cleanup_free_ char *buf = NULL, *cut = NULL;
        size_t len = 0, cut_len = 0;
        int r;

        r = kmsg_read(d->sr, DUMP_FILE_MAX, &buf, &len);
        if (r == -ENODATA)
                return 0;
        if (r < 0)
                return soft(d, "dev/kmsg", r);
        r = kmsg_filter(buf, len, &cut, &cut_len);
        if (r < 0)
                return r;
        return add_file(d, "dev/kmsg", cut, cut_len, 0644);
}

/* pci.c's walk of a function's directory for its device nodes: the
 * directories on the way to each uevent that names one, and that uevent
 * cut to its DEVNAME= line (the rest is the walk's business only). */
static int dump_dev_walk(Dump *d, const char *dir, unsigned depth, unsigned *entries) {
        _cleanup_free_ char *uevent = NULL, *text = NULL;
        _cleanup_closedir_ DIR *dd = NULL;
        struct dirent *de;
        int r;

        if (!(uevent = strf("%s/uevent", dir)))
                return -ENOMEM;
        r = sysroot_read_file(d->sr, uevent, 64 * 1024, &text);
        if (r >= 0)
                for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
                        if (startswith(line, "DEVNAME=")) {
                                _cleanup_free_ char *s = strf("%s\n", line);
                                if (!s)
                                        return -ENOMEM;
                                r = add_file(d, uevent, s, strlen(s), 0644);
                                if (r < 0)
                                        return r;
                                break;
                        }
        if (depth >= DUMP_WALK_DEPTH_MAX)
                return 0;

        r = sysroot_opendirf(d->sr, &dd, "%s", dir);
        if (r < 0)
                return soft(d, dir, r);
        while ((errno = 0, de = readdir(dd))) {
                _cleanup_free_ char *sub = NULL;
                struct stat st;
                PciAddr a;

                if (++*entries > DUMP_WALK_ENTRIES_MAX)
                        return 0;
                if (!filename_is_safe(de->d_name, NAME_MAX) || pci_addr_parse(de->d_name, &a) >= 0)
                        continue;
                if (fstatat(dirfd(dd), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                if (!(sub = strf("%s/%s", dir, de->d_name)))
                        return -ENOMEM;
                r = dump_dev_walk(d, sub, depth + 1, entries);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* SR-IOV (src/host/sriov.c): a PF's counts, VF layout and links to its VFs, a
 * VF's link to its PF. Absent on other devices. */
static int dump_sriov(Dump *d, const char *phys) {
        static const char *const files[] = { "sriov_totalvfs", "sriov_numvfs", "sriov_offset", "sriov_stride",
                                             "sriov_drivers_autoprobe" };
        _cleanup_strv_free_ char **names = NULL;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                r = dump_filef(d, "%s/%s", phys, files[i]);
                if (r < 0)
                        return r;
        }
        r = dump_linkf(d, "%s/physfn", phys);
        if (r < 0)
                return r;
        r = sysroot_list_dirf(d->sr, &names, "%s", phys);
        if (r < 0)
                return soft(d, phys, r);
        for (char **n = names; n && *n; n++)
                if (startswith(*n, "virtfn") && filename_is_safe(*n, NAME_MAX)) {
                        r = dump_linkf(d, "%s/%s", phys, *n);
                        if (r < 0)
                                return r;
                }
        return 0;
}

static int dump_pci_device(Dump *d, const char *name) {
        static const char *const files[] = { "vendor", "device", "class", "boot_vga", "reset_method", "resource", "modalias" };
        _cleanup_free_ char *dev = strf("sys/bus/pci/devices/%s", name), *phys = NULL, *driver = NULL;
        _cleanup_free_ char *path = NULL, *config = NULL;
        struct stat st;
        unsigned entries = 0;
        int r;

        if (!dev)
                return -ENOMEM;
        r = dump_link(d, dev);
        if (r < 0)
                return r;
        r = resolve(d, dev, true, &phys, &st);
        if (r < 0)
                return soft(d, dev, r);
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *f = strf("%s/%s", phys, files[i]);
                if (!f)
                        return -ENOMEM;
                r = dump_file(d, f);
                if (r < 0)
                        return r;
        }
        if (!(path = strf("%s/config", phys)))
                return -ENOMEM;
        r = sysroot_read_file(d->sr, path, 64 * 1024, &config);
        if (r >= 0) {
                r = add_file(d, path, config, (size_t) r < PCI_CONFIG_HEADER_SIZE ? (size_t) r : PCI_CONFIG_HEADER_SIZE, 0644);
                if (r < 0)
                        return r;
        } else if ((r = soft(d, path, r)) < 0)
                return r;
        _cleanup_free_ char *reset = strf("%s/reset", phys);
        if (!reset)
                return -ENOMEM;
        r = dump_exists(d, reset);
        if (r < 0)
                return r;
        r = dump_sriov(d, phys);
        if (r < 0)
                return r;
        r = dump_linkf(d, "%s/driver", phys);
        if (r < 0)
                return r;
        r = dump_linkf(d, "%s/iommu_group", phys);
        if (r < 0)
                return r;
        r = dump_dev_walk(d, phys, 0, &entries);
        if (r < 0)
                return r;

        /* NVIDIA's "Device Minor" names the GPU's /dev/nvidiaN. */
        if (sysroot_link_basenamef(d->sr, &driver, "%s/driver", phys) >= 0 && streq(driver, "nvidia")) {
                _cleanup_free_ char *info = strf("proc/driver/nvidia/gpus/%s/information", name);
                if (!info)
                        return -ENOMEM;
                r = dump_file_filtered(d, info, 64 * 1024, nvidia_filter);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int dump_pci(Dump *d) {
        _cleanup_strv_free_ char **devices = NULL, **drivers = NULL;
        int r;

        r = dump_list(d, "sys/bus/pci/devices", &devices);
        if (r < 0)
                return r;
        for (char **i = devices; i && *i; i++) {
                PciAddr a;
                if (pci_addr_parse(*i, &a) < 0)
                        continue;
                r = dump_pci_device(d, *i);
                if (r < 0)
                        return r;
        }

        /* Every driver: its module, and the functions bound to it. */
        r = dump_list(d, "sys/bus/pci/drivers", &drivers);
        if (r < 0)
                return r;
        for (char **i = drivers; i && *i; i++) {
                if (!filename_is_safe(*i, NAME_MAX))
                        continue;
                _cleanup_free_ char *dir = strf("sys/bus/pci/drivers/%s", *i);
                r = dir ? dump_links_in(d, dir, is_pci_addr_or_module) : -ENOMEM;
                if (r < 0)
                        return r;
        }
        return 0;
}

static int dump_iommu(Dump *d) {
        _cleanup_strv_free_ char **groups = NULL, **units = NULL;
        int r;

        r = dump_list(d, "sys/kernel/iommu_groups", &groups);
        if (r < 0)
                return r;
        for (char **g = groups; g && *g; g++) {
                unsigned n;
                if (parse_uint(*g, &n) < 0)
                        continue;
                _cleanup_free_ char *dir = strf("sys/kernel/iommu_groups/%s/devices", *g);
                r = dir ? dump_links_in(d, dir, is_pci_addr) : -ENOMEM;
                if (r < 0)
                        return r;
        }

        r = dump_list(d, "sys/class/iommu", &units);
        if (r < 0)
                return r;
        for (char **u = units; u && *u; u++) {
                if (!filename_is_safe(*u, NAME_MAX))
                        continue;
                r = dump_linkf(d, "sys/class/iommu/%s", *u);
                if (r >= 0 && startswith(*u, "dmar"))
                        r = dump_filef(d, "sys/class/iommu/%s/intel-iommu/ecap", *u);
                if (r < 0)
                        return r;
        }
        r = dump_exists(d, "sys/firmware/acpi/tables/DMAR");
        if (r >= 0)
                r = dump_exists(d, "sys/firmware/acpi/tables/IVRS");
        return r;
}

static int dump_consoles(Dump *d) {
        static const char *const fb_drivers[] = { "efi-framebuffer", "simple-framebuffer", "vesa-framebuffer" };
        _cleanup_strv_free_ char **vtcons = NULL, **platform = NULL, **graphics = NULL;
        int r;

        r = dump_list(d, "sys/class/vtconsole", &vtcons);
        if (r < 0)
                return r;
        for (char **v = vtcons; v && *v; v++) {
                if (!name_is_numbered(*v, "vtcon"))
                        continue;
                r = dump_filef(d, "sys/class/vtconsole/%s/name", *v);
                if (r >= 0)
                        r = dump_filef(d, "sys/class/vtconsole/%s/bind", *v);
                if (r < 0)
                        return r;
        }

        /* Firmware framebuffers: the device's link (its target names the PCI
         * function it sits below), driver, DRM minors and the driver's module. */
        r = dump_list(d, "sys/bus/platform/devices", &platform);
        if (r < 0)
                return r;
        for (char **p = platform; p && *p; p++) {
                _cleanup_strv_free_ char **drm = NULL;
                _cleanup_free_ char *dev = NULL, *driver = NULL, *drmdir = NULL;
                if (!framebuffer_name_valid(*p))
                        continue;
                if (!(dev = strf("sys/bus/platform/devices/%s", *p)) || !(drmdir = strf("%s/drm", dev)))
                        return -ENOMEM;
                r = dump_link(d, dev);
                if (r >= 0)
                        r = dump_linkf(d, "%s/driver", dev);
                if (r >= 0)
                        r = dump_list(d, drmdir, &drm);
                for (char **n = drm; r >= 0 && n && *n; n++) {
                        _cleanup_free_ char *sub = strf("%s/%s", drmdir, *n), *phys = NULL;
                        r = sub ? resolve(d, sub, false, &phys, NULL) : -ENOMEM;
                        r = soft(d, sub ? sub : drmdir, r);
                }
                if (r < 0)
                        return r;
                if (sysroot_link_basenamef(d->sr, &driver, "%s/driver", dev) >= 0 && filename_is_safe(driver, NAME_MAX)) {
                        r = dump_linkf(d, "sys/bus/platform/drivers/%s/module", driver);
                        if (r < 0)
                                return r;
                }
        }
        for (size_t i = 0; i < ELEMENTSOF(fb_drivers); i++) {
                _cleanup_strv_free_ char **names = NULL;
                _cleanup_free_ char *dir = strf("sys/bus/platform/drivers/%s", fb_drivers[i]);
                r = dir ? dump_list(d, dir, &names) : -ENOMEM;
                if (r >= 0 && names)
                        r = dump_linkf(d, "%s/module", dir);
                if (r < 0)
                        return r;
        }

        r = dump_list(d, "sys/class/graphics", &graphics);
        if (r < 0)
                return r;
        for (char **g = graphics; g && *g; g++) {
                if (!name_is_numbered(*g, "fb"))
                        continue;
                r = dump_filef(d, "sys/class/graphics/%s/name", *g);
                if (r >= 0)
                        r = dump_linkf(d, "sys/class/graphics/%s/device", *g);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int dump_modules(Dump *d) {
        _cleanup_free_ char *release = NULL;
        _cleanup_strv_free_ char **modules = NULL;
        int r;

        r = dump_file_filtered(d, "proc/modules", DUMP_FILE_MAX, modules_filter);
        if (r < 0)
                return r;
        r = dump_list(d, "sys/module", &modules);
        if (r < 0)
                return r;
        for (char **m = modules; m && *m; m++) {
                static const char *const lists[] = { "holders", "drivers" };
                if (!module_name_valid(*m))
                        continue;
                r = dump_filef(d, "sys/module/%s/initstate", *m);
                if (r >= 0)
                        r = dump_filef(d, "sys/module/%s/refcnt", *m);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < ELEMENTSOF(lists); i++) {
                        _cleanup_free_ char *dir = strf("sys/module/%s/%s", *m, lists[i]);
                        r = dir ? dump_links_in(d, dir, NULL) : -ENOMEM;
                        if (r < 0)
                                return r;
                }
        }
        r = dump_file(d, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts");
        if (r < 0)
                return r;

        r = dump_file(d, "proc/sys/kernel/osrelease");
        if (r < 0)
                return r;
        if (sysroot_read_line(d->sr, "proc/sys/kernel/osrelease", &release) < 0 || !filename_is_safe(release, 128))
                return 0;
        r = dump_filef(d, "lib/modules/%s/modules.builtin", release);
        if (r < 0)
                return r;
        _cleanup_free_ char *dep = strf("lib/modules/%s/modules.dep", release);
        return dep ? dump_file_filtered(d, dep, 64U * 1024U * 1024U, dep_filter) : -ENOMEM;
}

/* The nodes whose holders the readers look for: those of each display
 * function and of the functions that share its IOMMU group (its audio,
 * its USB-C controller), DRM's, NVIDIA's and amdgpu's /dev/kfd. */
static int gpu_nodes(Sysroot *sr, char ***ret) {
        _cleanup_strv_free_ char **nodes = calloc(1, sizeof(char *)), **names = NULL;
        int r;

        if (!nodes)
                return -ENOMEM;
        r = sysroot_list_dirf(sr, &names, "sys/bus/pci/devices");
        if (r < 0 && r != -ENOENT)
                return r;
        for (char **i = names; i && *i; i++) {
                _cleanup_pci_device_ PciDevice *dev = NULL;
                _cleanup_free_ PciAddr *members = NULL;
                size_t n = 0;
                PciAddr a;

                if (pci_addr_parse(*i, &a) < 0 || pci_device_read(sr, &a, &dev) < 0 || !pci_device_is_display(dev))
                        continue;
                if (dev->iommu_group < 0 || pci_iommu_group_members(sr, dev->iommu_group, &members, &n) < 0) {
                        free(members);
                        members = calloc(1, sizeof *members);
                        if (!members)
                                return -ENOMEM;
                        members[0] = a;
                        n = 1;
                }
                for (size_t j = 0; j < n; j++)
                        if (pci_device_add_dev_nodes(sr, &members[j], &nodes) == -ENOMEM)
                                return -ENOMEM;
        }
        *ret = TAKE_PTR(nodes);
        return 0;
}

static bool is_gpu_node(const char *target, char *const *nodes) {
        return strv_contains(nodes, target) || startswith(target, "/dev/dri/") || startswith(target, "/dev/nvidia") ||
               streq(target, "/dev/kfd");
}

/* For each process holding a GPU node: its pid, comm, cgroup (which unit
 * holds the node) and those fds, as links. Nothing else of it. */
static int dump_holders(Dump *d) {
        _cleanup_strv_free_ char **nodes = NULL;
        _cleanup_closedir_ DIR *proc = NULL;
        struct dirent *de;
        int r;

        r = gpu_nodes(d->sr, &nodes);
        if (r < 0)
                return r;
        r = sysroot_opendirf(d->sr, &proc, "proc");
        if (r < 0)
                return soft(d, "proc", r);
        while ((errno = 0, de = readdir(proc))) {
                _cleanup_closedir_ DIR *fds = NULL;
                struct dirent *fe;
                bool holds = false;
                unsigned pid;

                if (strlen(de->d_name) > 10 || parse_uint(de->d_name, &pid) < 0 || pid == 0 || pid > INT_MAX)
                        continue;
                if (sysroot_opendirf(d->sr, &fds, "proc/%u/fd", pid) < 0)
                        continue; /* gone, or not ours to see */
                while ((errno = 0, fe = readdir(fds))) {
                        char target[PATH_MAX];
                        unsigned fd;
                        if (parse_uint(fe->d_name, &fd) < 0)
                                continue;
                        ssize_t n = readlinkat(dirfd(fds), fe->d_name, target, sizeof target - 1);
                        if (n < 0)
                                continue;
                        target[n] = 0;
                        if (!is_gpu_node(target, nodes))
                                continue;
                        _cleanup_free_ char *p = strf("proc/%u/fd/%u", pid, fd);
                        if (!p)
                                return -ENOMEM;
                        r = add_link(d, p, target);
                        if (r < 0)
                                return r;
                        holds = true;
                }
                if (!holds)
                        continue;
                _cleanup_free_ char *comm = strf("proc/%u/comm", pid), *cgroup = strf("proc/%u/cgroup", pid);
                if (!comm || !cgroup)
                        return -ENOMEM;
                r = dump_file(d, comm);
                if (r >= 0)
                        r = dump_file(d, cgroup);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A hook file: where it resolves, its mode, and whether it names vfio-hook
 * (what `check` reads), as a one-line stand-in: another program's hook is
 * not ours to copy. */
static int dump_hook(Dump *d, const char *path) {
        _cleanup_free_ char *phys = NULL, *text = NULL;
        struct stat st;

        int r = dump_link(d, path);
        if (r < 0)
                return r;
        r = resolve(d, path, true, &phys, &st);
        if (r < 0)
                return soft(d, path, r);
        if (!S_ISREG(st.st_mode))
                return 0;
        r = sysroot_read_file(d->sr, phys, DUMP_HOOK_MAX, &text);
        bool ours = r >= 0 && memmem(text, (size_t) r, "vfio-hook", strlen("vfio-hook"));
        const char *s = ours ? "# a stand-in written by vfio-hook dump: this file runs vfio-hook\n"
                             : "# a stand-in written by vfio-hook dump: another program\n";
        return add_entry(d, phys, ENTRY_FILE, s, strlen(s), st.st_mode & 0777);
}

static int dump_libvirt(Dump *d) {
        _cleanup_strv_free_ char **chained = NULL;
        int r;

        r = dump_hook(d, "etc/libvirt/hooks/qemu");
        if (r >= 0)
                r = dump_list(d, "etc/libvirt/hooks/qemu.d", &chained);
        for (char **c = chained; r >= 0 && c && *c; c++) {
                _cleanup_free_ char *p = strf("etc/libvirt/hooks/qemu.d/%s", *c);
                r = p ? dump_hook(d, p) : -ENOMEM;
        }
        if (r >= 0)
                r = dump_exists(d, "run/libvirt/libvirt-sock");
        if (r >= 0)
                r = dump_exists(d, "run/libvirt/virtqemud-sock");
        return r;
}

/* The units a plan may ask about: the display manager, the stacks'
 * services and those root allows. Their state as systemd gives it goes to
 * the info file; their unit files (what `check` looks at) stand in empty,
 * display-manager.service's link kept as it is. */
static int gather_units(Dump *d, const Config *cfg, UnitStateFn fn, void *userdata, FILE *info) {
        _cleanup_strv_free_ char **units = NULL;
        int r;

        r = strv_extend(&units, DISPLAY_MANAGER_UNIT);
        for (Stack s = 0; r >= 0 && s < _STACK_MAX; s++)
                for (const char *const *u = stack_services(s); r >= 0 && u && *u; u++)
                        r = strv_extend_unique(&units, *u);
        for (char **u = cfg ? cfg->allowed_services : NULL; r >= 0 && u && *u; u++)
                r = strv_extend_unique(&units, *u);
        if (r < 0)
                return r;

        for (char **u = units; *u; u++) {
                static const char *const names[] = {
                        [UNIT_ABSENT] = "absent", [UNIT_INACTIVE] = "inactive",
                        [UNIT_ACTIVE] = "active", [UNIT_UNKNOWN] = "unknown",
                };
                UnitState state = UNIT_UNKNOWN;
                if (!unit_name_valid(*u))
                        continue;
                if (fn(*u, &state, userdata) < 0 || (unsigned) state >= ELEMENTSOF(names))
                        state = UNIT_UNKNOWN;
                fprintf(info, "unit %s %s\n", *u, names[state]);
                for (size_t i = 0; i < n_unit_dirs; i++) {
                        if (!unit_dirs[i].in_tree)
                                continue;
                        _cleanup_free_ char *p = strf("%s/%s", unit_dirs[i].path, *u);
                        if (!p)
                                return -ENOMEM;
                        if (streq(*u, DISPLAY_MANAGER_UNIT) && (r = dump_link(d, p)) < 0)
                                return r;
                        if (sysroot_existsf(d->sr, "%s", p) > 0 && (r = dump_exists(d, p)) < 0)
                                return r;
                }
        }
        return 0;
}

/* The journals of the domains that hold devices: a plan counts the devices
 * they hold. Read where a plan reads them (engine_open_state_dir() refuses
 * what it refuses), written where a plan on the dump looks: run/vfio-hook. */
static int dump_journals(Dump *d, const char *state_dir) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_sysroot_ Sysroot *dir = NULL;
        _cleanup_free_ char *err = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        if (!state_dir || engine_open_state_dir(state_dir, false, &fd, &err) < 0 || sysroot_open(state_dir, &dir) < 0)
                return 0;
        r = sysroot_list_dirf(dir, &names, "%s", "");
        if (r < 0)
                return soft(d, state_dir, r);
        for (char **n = names; *n; n++) {
                _cleanup_free_ char *text = NULL, *path = NULL;
                size_t len = strlen(*n);
                if (len <= strlen(".journal") || !streq(*n + len - strlen(".journal"), ".journal"))
                        continue;
                r = sysroot_read_file(dir, *n, DUMP_FILE_MAX, &text);
                if (r < 0) {
                        r = soft(d, *n, r);
                        if (r < 0)
                                return r;
                        continue;
                }
                size_t text_len = (size_t) r;
                if (!(path = strf(STATE_DIR_IN_TREE "/%s", *n)))
                        return -ENOMEM;
                /* 0700 and 0600 as the hook makes them: the plan checks the directory. */
                r = add_entry(d, STATE_DIR_IN_TREE, ENTRY_DIR, NULL, 0, 0700);
                if (r >= 0)
                        r = add_entry(d, path, ENTRY_FILE, text, text_len, 0600);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int gather(Dump *d, const Config *cfg, UnitStateFn fn, void *userdata, const char *state_dir, char **ret_info,
                  size_t *ret_info_len) {
        static const char *const proc_files[] = { "proc/cmdline", "proc/iomem", "proc/interrupts", "proc/cpuinfo" };
        _cleanup_free_ char *info = NULL, *ids = NULL;
        size_t info_len = 0;
        char date[64];
        time_t now = time(NULL);
        struct tm tm;
        int r;

        _cleanup_fclose_ FILE *f = open_memstream(&info, &info_len);
        if (!f)
                return -ENOMEM;
        strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
        fprintf(f,
                "# vfio-hook dump: what vfio-hook %s read at %s; extract it and pass its directory\n"
                "# to --sysroot (see vfio-hook(8)). \"unit NAME STATE\": systemd's answer for NAME.\n",
                PACKAGE_VERSION, date);
        if (sysroot_is_host(d->sr) && geteuid() != 0)
                fprintf(f, "# made as uid %u, not root: what only root may read (other users' processes, config\n"
                           "# space beyond 64 bytes, the kernel log where dmesg_restrict is set) may be missing\n",
                        (unsigned) geteuid());

        r = dump_pci(d);
        if (r >= 0)
                r = dump_iommu(d);
        if (r >= 0)
                r = dump_consoles(d);
        if (r >= 0)
                r = dump_modules(d);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(proc_files); i++)
                r = dump_file(d, proc_files[i]);
        if (r >= 0)
                r = dump_lifetime(d);
        if (r >= 0)
                r = dump_kmsg(d);
        if (r >= 0)
                r = dump_holders(d);
        if (r >= 0)
                r = dump_libvirt(d);
        if (r >= 0)
                r = gather_units(d, cfg, fn, userdata, f);
        if (r >= 0)
                r = dump_journals(d, state_dir);
        if (r < 0)
                return r;

        /* The devices' names as this host's `check` gives them. */
        r = check_pci_ids(d->sr, &ids);
        if (r < 0)
                return r;
        r = add_file(d, "usr/share/misc/pci.ids", ids, strlen(ids), 0644);
        if (r < 0)
                return r;

        for (char **n = d->notes; n && *n; n++)
                fprintf(f, "# %s\n", *n);
        if (fflush(f) != 0 || ferror(f))
                return -ENOMEM;
        fclose(TAKE_PTR(f));
        *ret_info = TAKE_PTR(info);
        *ret_info_len = info_len;
        return 0;
}

/* ---- writing ------------------------------------------------------------------------ */

static int entry_ptr_cmp(const void *a, const void *b) {
        return strcmp((*(Entry *const *) a)->path, (*(Entry *const *) b)->path);
}

static int write_tar(Dump *d, int fd, const char *top, const char *info, size_t info_len) {
        TarWriter t;
        int r;

        tar_writer_init(&t, fd, (uint64_t) time(NULL));
        qsort(d->entries, d->n, sizeof *d->entries, entry_ptr_cmp);
        r = tar_add_dir(&t, top, 0755);
        if (r >= 0) {
                _cleanup_free_ char *p = strf("%s/" DUMP_INFO_FILE, top);
                r = p ? tar_add_file(&t, p, info, info_len, 0644) : -ENOMEM;
        }
        for (size_t i = 0; r >= 0 && i < d->n; i++) {
                const Entry *e = d->entries[i];
                _cleanup_free_ char *p = strf("%s/%s", top, e->path);
                if (!p)
                        return -ENOMEM;
                r = e->type == ENTRY_DIR    ? tar_add_dir(&t, p, e->mode)
                    : e->type == ENTRY_FILE ? tar_add_file(&t, p, e->data, e->len, e->mode)
                                            : tar_add_symlink(&t, p, e->data);
        }
        if (r >= 0)
                r = tar_finish(&t);
        return r;
}

/* The archive's top directory: the file's name without ".tar", when that is
 * a plain name; else "vfio-hook-dump". */
static char *top_dir(const char *file) {
        const char *base = file ? strrchr(file, '/') : NULL;
        base = base ? base + 1 : file;
        if (!base || streq(base, "-"))
                return strdup("vfio-hook-dump");
        size_t n = strlen(base);
        if (n > 4 && streq(base + n - 4, ".tar"))
                n -= 4;
        _cleanup_free_ char *s = strndup(base, n);
        if (s && filename_is_safe(s, 200))
                return TAKE_PTR(s);
        return strdup("vfio-hook-dump");
}

int dump_command(Sysroot *sr, const Config *cfg, UnitStateFn unit_state, void *userdata, const char *state_dir,
                 const char *file) {
        _cleanup_(dump_done) Dump d = { .sr = sr };
        _cleanup_free_ char *info = NULL, *top = NULL, *name = NULL;
        size_t info_len = 0;
        int r, fd;

        if (!file) {
                char date[32];
                time_t now = time(NULL);
                struct tm tm;
                strftime(date, sizeof date, "%Y%m%d-%H%M%S", localtime_r(&now, &tm));
                name = strf("vfio-hook-dump-%s.tar", date);
                if (!name)
                        return EXIT_FAILED;
                file = name;
        }
        bool to_stdout = streq(file, "-");
        if (to_stdout && isatty(STDOUT_FILENO)) {
                log_error("refusing to write the dump, a tar archive, to a terminal: redirect it, or name a FILE");
                return EXIT_BAD_INPUT;
        }

        r = gather(&d, cfg, unit_state, userdata, state_dir, &info, &info_len);
        if (r < 0) {
                log_error("reading the host under %s: %s", sysroot_path(sr), strerror(-r));
                return EXIT_FAILED;
        }
        top = top_dir(to_stdout ? NULL : file);
        if (!top)
                return EXIT_FAILED;

        if (to_stdout)
                fd = STDOUT_FILENO;
        else {
                /* Never over what is there, never through a link; only root reads it. */
                fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600);
                if (fd < 0) {
                        r = -errno;
                        if (r == -EEXIST)
                                log_error("%s exists: vfio-hook dump never replaces a file (name another one)", file);
                        else
                                log_error("cannot create %s: %s", file, strerror(-r));
                        return r == -EEXIST ? EXIT_BAD_INPUT : EXIT_FAILED;
                }
        }
        r = write_tar(&d, fd, top, info, info_len);
        if (r >= 0 && !to_stdout && fsync(fd) < 0)
                r = -errno;
        if (!to_stdout && close(fd) < 0 && r >= 0)
                r = -errno;
        if (r < 0) {
                log_error("writing %s: %s", to_stdout ? "the dump to stdout" : file, strerror(-r));
                if (!to_stdout)
                        (void) unlink(file);
                return EXIT_FAILED;
        }
        if (!to_stdout)
                fprintf(stderr, "Wrote %s: %zu entries under %s/ (extract it, then: vfio-hook plan --sysroot %s --xml "
                                "DOMAIN.xml)\n",
                        file, d.n, top, top);
        return EXIT_OK;
}

/* ---- reading a dump back -------------------------------------------------------------- */

int dump_unit_state(const char *unit, UnitState *ret, void *userdata) {
        static const struct {
                const char *name;
                UnitState state;
        } states[] = {
                { "absent", UNIT_ABSENT },
                { "inactive", UNIT_INACTIVE },
                { "active", UNIT_ACTIVE },
                { "unknown", UNIT_UNKNOWN },
        };
        _cleanup_free_ char *text = NULL;
        Sysroot *sr = userdata;

        int r = sysroot_read_file(sr, DUMP_INFO_FILE, 1024 * 1024, &text);
        if (r == -ENOENT)
                return unit_state_from_tree(unit, ret, userdata);
        if (r < 0)
                return r;
        for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *sp;
                if (!startswith(line, "unit "))
                        continue;
                line += strlen("unit ");
                sp = strchr(line, ' ');
                if (!sp)
                        continue;
                *sp = 0;
                if (!streq(line, unit))
                        continue;
                for (size_t i = 0; i < ELEMENTSOF(states); i++)
                        if (streq(sp + 1, states[i].name)) {
                                *ret = states[i].state;
                                return 0;
                        }
                return -EINVAL;
        }
        *ret = UNIT_UNKNOWN; /* the dump did not ask systemd about it */
        return 0;
}
