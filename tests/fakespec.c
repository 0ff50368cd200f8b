/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The .host spec language (tests/data/README): a tree built line by line
 * with the fake host's calls (tests/fakespec.h). */
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "fakefs.h"
#include "fakehost.h"
#include "fakespec.h"
#include "shared/macro.h"
#include "shared/util.h"

static _Thread_local char last_error[512];

const char *fakehost_error(void) {
        return last_error;
}

typedef struct Bridge {
        char addr[16];
        unsigned secondary;
} Bridge;

typedef struct Spec {
        const char *root;
        const char *file;
        unsigned line;
        Bridge *bridges;
        size_t n_bridges;
        unsigned next_bus;
        unsigned depth;       /* of include */
} Spec;

static int spec_text(Spec *s, const char *text);

_printf_(2, 3) static int spec_error(Spec *s, const char *fmt, ...) {
        char msg[400];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        snprintf(last_error, sizeof last_error, "%s:%u: %s", s->file, s->line, msg);
        return -EINVAL;
}

static int spec_fail(Spec *s, const char *what, int r) {
        snprintf(last_error, sizeof last_error, "%s:%u: %s: %s", s->file, s->line, what, strerror(-r));
        return r;
}

/* Words, with "double quotes" (\" and \\ inside) and # comments. */
static int tokenize(const char *line, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        _cleanup_free_ char *word = malloc(strlen(line) + 1);
        const char *p = line;

        if (!l || !word)
                return -ENOMEM;
        for (;;) {
                size_t n = 0;
                while (*p && isspace((unsigned char) *p))
                        p++;
                if (!*p || *p == '#')
                        break;
                if (*p == '"') {
                        p++;
                        while (*p && *p != '"') {
                                if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
                                        p++;
                                word[n++] = *p++;
                        }
                        if (*p != '"')
                                return -EINVAL;
                        p++;
                        if (*p && !isspace((unsigned char) *p))
                                return -EINVAL;
                } else
                        while (*p && !isspace((unsigned char) *p))
                                word[n++] = *p++;
                word[n] = 0;
                if (strv_extend(&l, word) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* key=value options after the positional words. */
static const char *opt(char **words, const char *key) {
        size_t k = strlen(key);
        for (char **w = words; *w; w++)
                if (strncmp(*w, key, k) == 0 && (*w)[k] == '=')
                        return *w + k + 1;
        return NULL;
}

static int check_opts(Spec *s, char **words, const char *const *allowed) {
        for (char **w = words; *w; w++) {
                size_t k = strcspn(*w, "=");
                bool ok = false;
                if ((*w)[k] != '=')
                        return spec_error(s, "expected key=value, got \"%s\"", *w);
                for (const char *const *a = allowed; *a; a++)
                        if (strlen(*a) == k && strncmp(*w, *a, k) == 0)
                                ok = true;
                if (!ok)
                        return spec_error(s, "unknown option \"%.*s\"", (int) k, *w);
        }
        return 0;
}

static int parse_hex(const char *str, unsigned max, unsigned *ret) {
        char *end;
        if (!str || !isxdigit((unsigned char) str[0]))
                return -EINVAL;
        if (startswith(str, "0x"))
                str += 2;
        errno = 0;
        unsigned long v = strtoul(str, &end, 16);
        if (errno || *end || end == str || v > max)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

static int split_commas(const char *s, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        _cleanup_free_ char *copy = strdup(s ? s : "");
        char *save = NULL;
        if (!l || !copy)
                return -ENOMEM;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
                if (strv_extend(&l, t) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

static int spec_ensure_module(Spec *s, const char *module) {
        if (fakehost_module_loaded(s->root, module))
                return 0;
        int r = fakehost_module_add(s->root, module, -1, NULL);
        return r < 0 ? spec_fail(s, module, r) : 0;
}

static int spec_pci(Spec *s, char **w) {
        static const char *const allowed[] = { "driver", "module", "group", "drm", "parent", "secondary", "header", NULL };
        unsigned vendor, device, class, bus, domain, v;
        const char *parent, *driver, *module, *group, *header, *secondary;
        FakePci p = { .iommu_group = -1, .header_type = -1 };
        int r;

        if (strv_length(w) < 4)
                return spec_error(s, "pci: expected ADDR VVVV:DDDD CLASS [key=value...]");
        if (!fs_addr_ok(w[1]))
                return spec_error(s, "pci: bad address \"%s\" (want dddd:bb:ss.f, lower case)", w[1]);
        if (strlen(w[2]) != 9 || w[2][4] != ':')
                return spec_error(s, "pci: bad id \"%s\" (want vvvv:dddd)", w[2]);
        {
                char ven[5] = {}, dev[5] = {};
                memcpy(ven, w[2], 4);
                memcpy(dev, w[2] + 5, 4);
                if (parse_hex(ven, 0xffff, &vendor) < 0 || parse_hex(dev, 0xffff, &device) < 0)
                        return spec_error(s, "pci: bad id \"%s\"", w[2]);
        }
        if (parse_hex(w[3], 0xffffff, &class) < 0)
                return spec_error(s, "pci: bad class \"%s\"", w[3]);
        r = check_opts(s, w + 4, allowed);
        if (r < 0)
                return r;

        p.addr = w[1];
        p.vendor = vendor;
        p.device = device;
        p.class = class;
        if ((group = opt(w + 4, "group"))) {
                if (parse_uint(group, &v) < 0 || v > INT_MAX)
                        return spec_error(s, "pci: bad group \"%s\"", group);
                p.iommu_group = (int) v;
        }
        if ((header = opt(w + 4, "header"))) {
                if (parse_uint(header, &v) < 0 || v > 0xff)
                        return spec_error(s, "pci: bad header \"%s\"", header);
                p.header_type = (int) v;
        }

        /* Devices below bus 0 hang under the bridge whose secondary bus is theirs. */
        sscanf(w[1], "%x:%x", &domain, &bus);
        parent = opt(w + 4, "parent");
        if (!parent && bus != 0) {
                for (size_t i = 0; i < s->n_bridges; i++)
                        if (s->bridges[i].secondary == bus && strncmp(s->bridges[i].addr, w[1], 4) == 0)
                                parent = s->bridges[i].addr;
                if (!parent)
                        return spec_error(s, "pci: no bridge leads to bus %02x: declare one first or give parent=", bus);
        }
        p.parent = parent;

        r = fakehost_pci_add(s->root, &p);
        if (r < 0)
                return spec_fail(s, "pci", r);

        bool bridge = (class >> 8) == 0x0604 || p.header_type == 1 || p.header_type == 2;
        if (bridge) {
                unsigned sec = s->next_bus;
                if ((secondary = opt(w + 4, "secondary"))) {
                        if (parse_hex(secondary, 0xff, &sec) < 0)
                                return spec_error(s, "pci: bad secondary \"%s\" (hex bus)", secondary);
                } else if (sec > 0xff)
                        return spec_error(s, "pci: out of bus numbers");
                Bridge *nb = realloc(s->bridges, (s->n_bridges + 1) * sizeof *nb);
                if (!nb)
                        return -ENOMEM;
                s->bridges = nb;
                snprintf(s->bridges[s->n_bridges].addr, sizeof s->bridges[0].addr, "%s", w[1]);
                s->bridges[s->n_bridges++].secondary = sec;
                if (sec + 1 > s->next_bus)
                        s->next_bus = sec + 1;
        } else if (opt(w + 4, "secondary"))
                return spec_error(s, "pci: secondary= on a device that is not a bridge");

        driver = opt(w + 4, "driver");
        module = opt(w + 4, "module");
        if (module && !driver)
                return spec_error(s, "pci: module= needs driver=");
        if (driver) {
                if (!fs_name_ok(driver) || (module && !fakehost_module_name_ok(module)))
                        return spec_error(s, "pci: bad driver or module name");
                if (fs_existsf(s->root, "sys/bus/pci/drivers/%s", driver) > 0) {
                        _cleanup_free_ char *m = NULL;
                        (void) fs_link_basenamef(s->root, &m, "sys/bus/pci/drivers/%s/module", driver);
                        if (module && !streq_ptr(m, module))
                                return spec_error(s, "pci: driver %s was declared with module %s", driver,
                                                  m ? m : "(built in)");
                } else {
                        if (module) {
                                r = spec_ensure_module(s, module);
                                if (r < 0)
                                        return r;
                        }
                        r = fakehost_pci_driver_add(s->root, driver, module);
                        if (r < 0)
                                return spec_fail(s, driver, r);
                }
                r = fakehost_pci_bind(s->root, w[1], driver);
                if (r < 0)
                        return spec_fail(s, "bind", r);
        }

        const char *drm = opt(w + 4, "drm");
        if (drm) {
                _cleanup_strv_free_ char **nodes = NULL;
                r = split_commas(drm, &nodes);
                if (r < 0)
                        return r;
                for (char **n = nodes; *n; n++) {
                        r = fakehost_drm_add(s->root, w[1], *n);
                        if (r == -EINVAL)
                                return spec_error(s, "pci: bad DRM node \"%s\"", *n);
                        if (r < 0)
                                return spec_fail(s, *n, r);
                }
        }
        return 0;
}

/* file PATH CONTENT [mode=OCTAL]: CONTENT as written, with \n, \t and \xNN
 * standing for a newline, a tab and any byte. */
static int spec_file(Spec *s, char **w) {
        static const char *const allowed[] = { "mode", NULL };
        const char *mode_s, *in;
        unsigned long mode = 0644;
        size_t len = 0;
        int r;

        if (strv_length(w) < 3)
                return spec_error(s, "file: expected PATH CONTENT [mode=OCTAL]");
        r = check_opts(s, w + 3, allowed);
        if (r < 0)
                return r;
        if ((mode_s = opt(w + 3, "mode"))) {
                char *end;
                errno = 0;
                mode = strtoul(mode_s, &end, 8);
                if (errno || end == mode_s || *end || mode > 07777)
                        return spec_error(s, "file: bad mode \"%s\" (octal, like 0755)", mode_s);
        }

        _cleanup_free_ char *content = malloc(strlen(w[2]) + 1);
        if (!content)
                return -ENOMEM;
        for (in = w[2]; *in; in++) {
                if (in[0] == '\\' && in[1] == 'n') {
                        content[len++] = '\n';
                        in++;
                } else if (in[0] == '\\' && in[1] == 't') {
                        content[len++] = '\t';
                        in++;
                } else if (in[0] == '\\' && in[1] == 'x' && isxdigit((unsigned char) in[2]) &&
                           isxdigit((unsigned char) in[3])) {
                        char hex[3] = { in[2], in[3], 0 };
                        content[len++] = (char) strtoul(hex, NULL, 16);
                        in += 3;
                } else
                        content[len++] = *in;
        }

        r = fakehost_file_add(s->root, w[1], content, len, (mode_t) mode);
        if (r == -EINVAL)
                return spec_error(s, "file: bad path \"%s\"", w[1]);
        if (r < 0)
                return spec_fail(s, w[1], r);
        return 0;
}

/* include FILE: another spec, its name relative to this one's directory. */
static int spec_include(Spec *s, char **w) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        const char *slash = strrchr(s->file, '/');
        int r;

        if (strv_length(w) != 2)
                return spec_error(s, "include: expected FILE");
        if (s->depth >= 4)
                return spec_error(s, "include: nested too deep");
        if (w[1][0] == '/' || !slash)
                path = strdup(w[1]);
        else if (asprintf(&path, "%.*s/%s", (int) (slash - s->file), s->file, w[1]) < 0)
                path = NULL;
        if (!path)
                return -ENOMEM;
        r = fs_read_full_flags(path, 0, &text, NULL);
        if (r < 0)
                return spec_fail(s, path, r);

        const char *file = s->file;
        unsigned line = s->line;
        s->file = path;
        s->line = 0;
        s->depth++;
        r = spec_text(s, text);
        s->depth--;
        s->file = file;
        s->line = line;
        return r;
}

static int spec_line(Spec *s, char **w) {
        const char *cmd = w[0];
        size_t n = strv_length(w);
        unsigned v;
        int r = 0;

        if (streq(cmd, "kernel")) {
                if (n != 2)
                        return spec_error(s, "kernel: expected RELEASE");
                r = fakehost_set_kernel(s->root, w[1]);
        } else if (streq(cmd, "pci"))
                return spec_pci(s, w);
        else if (streq(cmd, "pcidriver")) {
                static const char *const allowed[] = { "module", NULL };
                if (n < 2)
                        return spec_error(s, "pcidriver: expected NAME [module=M]");
                r = check_opts(s, w + 2, allowed);
                if (r < 0)
                        return r;
                const char *module = opt(w + 2, "module");
                if (module) {
                        if (!fakehost_module_name_ok(module))
                                return spec_error(s, "pcidriver: bad module \"%s\"", module);
                        r = spec_ensure_module(s, module);
                        if (r < 0)
                                return r;
                }
                r = fakehost_pci_driver_add(s->root, w[1], module);
        } else if (streq(cmd, "module")) {
                static const char *const allowed[] = { "refcnt", "holders", NULL };
                _cleanup_strv_free_ char **holders = NULL;
                int refcnt = -1;
                if (n < 2)
                        return spec_error(s, "module: expected NAME [refcnt=N] [holders=a,b]");
                r = check_opts(s, w + 2, allowed);
                if (r < 0)
                        return r;
                if (!fakehost_module_name_ok(w[1]))
                        return spec_error(s, "module: bad name \"%s\"", w[1]);
                if (opt(w + 2, "refcnt")) {
                        if (parse_uint(opt(w + 2, "refcnt"), &v) < 0 || v > INT_MAX)
                                return spec_error(s, "module: bad refcnt");
                        refcnt = (int) v;
                }
                r = split_commas(opt(w + 2, "holders"), &holders);
                if (r < 0)
                        return r;
                for (char **h = holders; *h; h++) {
                        if (!fakehost_module_name_ok(*h))
                                return spec_error(s, "module: bad holder \"%s\"", *h);
                        r = spec_ensure_module(s, *h);
                        if (r < 0)
                                return r;
                }
                r = fakehost_module_add(s->root, w[1], refcnt, holders);
        } else if (streq(cmd, "builtin")) {
                static const char *const allowed[] = { "path", "sysfs", NULL };
                if (n < 2)
                        return spec_error(s, "builtin: expected NAME [path=P] [sysfs=yes|no]");
                r = check_opts(s, w + 2, allowed);
                if (r < 0)
                        return r;
                const char *sysfs = opt(w + 2, "sysfs");
                if (sysfs && !streq(sysfs, "yes") && !streq(sysfs, "no"))
                        return spec_error(s, "builtin: sysfs= is yes or no");
                r = fakehost_builtin_add(s->root, w[1], opt(w + 2, "path"), sysfs && streq(sysfs, "yes"));
                if (r == -ENOENT)
                        return spec_error(s, "builtin: needs a kernel line before it");
        } else if (streq(cmd, "sriov")) {
                static const char *const allowed[] = { "total", "offset", "stride", "vfdevice", "cap", "vfdriver", NULL };
                unsigned total, offset = 1, stride = 1, vfdev = 0;
                const char *cap = opt(w + 2, "cap");
                if (n < 3)
                        return spec_error(s, "sriov: expected PF total=N [offset=O] [stride=S] [vfdevice=HEX] [cap=yes|no] [vfdriver=D]");
                r = check_opts(s, w + 2, allowed);
                if (r < 0)
                        return r;
                if (!opt(w + 2, "total") || parse_uint(opt(w + 2, "total"), &total) < 0 ||
                    (opt(w + 2, "offset") && parse_uint(opt(w + 2, "offset"), &offset) < 0) ||
                    (opt(w + 2, "stride") && parse_uint(opt(w + 2, "stride"), &stride) < 0) ||
                    (opt(w + 2, "vfdevice") && parse_hex(opt(w + 2, "vfdevice"), 0xffff, &vfdev) < 0) ||
                    (cap && !streq(cap, "yes") && !streq(cap, "no")))
                        return spec_error(s, "sriov: bad total=, offset=, stride=, vfdevice= or cap=");
                r = fakehost_sriov_add(s->root, w[1], total, offset, stride, vfdev, !cap || streq(cap, "yes"),
                                       opt(w + 2, "vfdriver"));
        } else if (streq(cmd, "vtcon")) {
                unsigned b;
                if (n != 4 || parse_uint(w[1], &v) < 0 || parse_uint(w[3], &b) < 0 || b > 1)
                        return spec_error(s, "vtcon: expected N \"NAME\" 0|1");
                r = fakehost_vtcon_add(s->root, v, w[2], (int) b);
        } else if (streq(cmd, "fb")) {
                static const char *const allowed[] = { "driver", "parent", NULL };
                if (n < 2)
                        return spec_error(s, "fb: expected DEVICE [driver=D] [parent=ADDR]");
                r = check_opts(s, w + 2, allowed);
                if (r < 0)
                        return r;
                r = fakehost_fb_add_below(s->root, w[1], opt(w + 2, "driver"), opt(w + 2, "parent"));
        } else if (streq(cmd, "graphics")) {
                static const char *const allowed[] = { "device", NULL };
                if (n < 3 || parse_uint(w[1], &v) < 0)
                        return spec_error(s, "graphics: expected N \"NAME\" [device=ADDR|PLATFORM-DEVICE]");
                r = check_opts(s, w + 3, allowed);
                if (r < 0)
                        return r;
                r = fakehost_graphics_add(s->root, v, w[2], opt(w + 3, "device"));
        } else if (streq(cmd, "devnode")) {
                if (n != 4)
                        return spec_error(s, "devnode: expected ADDR SUBDIR DEVNAME");
                r = fakehost_devnode_add(s->root, w[1], w[2], w[3]);
        } else if (streq(cmd, "platform-driver")) {
                if (n != 2)
                        return spec_error(s, "platform-driver: expected NAME");
                r = fakehost_platform_driver_add(s->root, w[1]);
        } else if (streq(cmd, "proc")) {
                if (n < 3 || parse_uint(w[1], &v) < 0 || v == 0 || v > INT_MAX)
                        return spec_error(s, "proc: expected PID COMM [TARGET...]");
                /* Declaring a process again replaces it. */
                r = fakehost_process_remove(s->root, (pid_t) v);
                if (r >= 0 || r == -ENOENT)
                        r = fakehost_process_add(s->root, (pid_t) v, w[2], w + 3);
        } else if (streq(cmd, "dev")) {
                if (n < 2)
                        return spec_error(s, "dev: expected NODE...");
                for (char **d = w + 1; *d && r >= 0; d++)
                        r = fakehost_dev_add(s->root, *d);
        } else if (streq(cmd, "unit")) {
                if (n < 2)
                        return spec_error(s, "unit: expected UNIT...");
                for (char **u = w + 1; *u && r >= 0; u++)
                        r = fakehost_unit_add(s->root, *u);
        } else if (streq(cmd, "file"))
                return spec_file(s, w);
        else if (streq(cmd, "include"))
                return spec_include(s, w);
        else if (streq(cmd, "link")) {
                if (n != 3)
                        return spec_error(s, "link: expected PATH TARGET");
                r = fakehost_link_add(s->root, w[1], w[2]);
        } else if (streq(cmd, "dir")) {
                if (n < 2)
                        return spec_error(s, "dir: expected PATH...");
                for (char **d = w + 1; *d && r >= 0; d++)
                        r = fakehost_dir_add(s->root, *d);
        } else
                return spec_error(s, "unknown directive \"%s\"", cmd);

        if (r == -EINVAL)
                return spec_error(s, "%s: bad value", cmd);
        if (r < 0)
                return spec_fail(s, cmd, r);
        return 0;
}

static int spec_text(Spec *s, const char *text) {
        int r = 0;
        const char *p = text;
        while (*p) {
                _cleanup_strv_free_ char **words = NULL;
                _cleanup_free_ char *line = NULL;
                size_t len = strcspn(p, "\n");
                line = strndup(p, len);
                if (!line)
                        return -ENOMEM;
                p += len + (p[len] == '\n');
                s->line++;
                r = tokenize(line, &words);
                if (r == -EINVAL)
                        return spec_error(s, "unterminated quote");
                if (r < 0)
                        return r;
                if (!words[0])
                        continue;
                r = spec_line(s, words);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int build(const char *spec, const char *file, const char *root) {
        Spec s = { .root = root, .file = file, .next_bus = 1 };
        int r;

        last_error[0] = 0;
        r = fs_existsf(root, "%s", "");
        if (r > 0) {
                _cleanup_strv_free_ char **l = NULL;
                r = fs_listf(root, &l, "%s", "");
                if (r < 0)
                        return r;
                if (l[0]) {
                        snprintf(last_error, sizeof last_error, "%s: not empty", root);
                        return -EEXIST;
                }
        }
        r = fakehost_init(root);
        if (r < 0) {
                snprintf(last_error, sizeof last_error, "%s: %s", root, strerror(-r));
                return r;
        }

        r = spec_text(&s, spec);
        free(s.bridges);
        return r < 0 ? r : 0;
}

int fakehost_build_string(const char *spec, const char *root) {
        return build(spec, "<string>", root);
}

int fakehost_build(const char *spec_path, const char *root) {
        _cleanup_free_ char *text = NULL;
        /* A spec may be a link (examples/ shares one with tests/data/). */
        int r = fs_read_full_flags(spec_path, 0, &text, NULL);
        if (r < 0) {
                snprintf(last_error, sizeof last_error, "%s: %s", spec_path, strerror(-r));
                return r;
        }
        return build(text, spec_path, root);
}
