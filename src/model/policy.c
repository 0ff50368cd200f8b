/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "model/policy.h"
#include "shared/util.h"

#define CONFIG_LINE_MAX 4096

static const char *const stack_names[_STACK_MAX] = {
        [STACK_AUTO] = "auto",
        [STACK_NVIDIA] = "nvidia",
        [STACK_AMDGPU] = "amdgpu",
        [STACK_I915] = "i915",
        [STACK_XE] = "xe",
        [STACK_NOUVEAU] = "nouveau",
        [STACK_RADEON] = "radeon",
        [STACK_NONE] = "none",
};

/* Holders first: the order modprobe -r would take. */
static const char *const nvidia_modules[] = { "nvidia_drm", "nvidia_modeset", "nvidia_uvm", "nvidia", NULL };
static const char *const amdgpu_modules[] = { "amdgpu", NULL };
static const char *const i915_modules[] = { "i915", NULL };
static const char *const xe_modules[] = { "xe", NULL };
static const char *const nouveau_modules[] = { "nouveau", NULL };
static const char *const radeon_modules[] = { "radeon", NULL };
static const char *const no_names[] = { NULL };

static const char *const nvidia_services[] = { "nvidia-persistenced.service", NULL };

static const char *const *const stack_module_table[_STACK_MAX] = {
        [STACK_AUTO] = no_names,
        [STACK_NVIDIA] = nvidia_modules,
        [STACK_AMDGPU] = amdgpu_modules,
        [STACK_I915] = i915_modules,
        [STACK_XE] = xe_modules,
        [STACK_NOUVEAU] = nouveau_modules,
        [STACK_RADEON] = radeon_modules,
        [STACK_NONE] = no_names,
};

/* Besides the stacks' own modules: the HDMI/DP audio function that sits
 * next to almost every discrete GPU. */
static const char *const extra_builtin_modules[] = { "snd_hda_intel", NULL };
static const char *const builtin_services[] = { DISPLAY_MANAGER_UNIT, "nvidia-persistenced.service", NULL };

static bool names_contain(const char *const *l, const char *s) {
        for (; *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

void policy_init(Policy *p) {
        *p = (Policy) {
                .stack = STACK_AUTO,
                .console = CHOICE_AUTO,
                .framebuffer = CHOICE_AUTO,
                .display_manager = CHOICE_AUTO,
                .holders = HOLDERS_REFUSE,
                .timeout_sec = POLICY_TIMEOUT_DEFAULT,
        };
}

void policy_done(Policy *p) {
        if (!p)
                return;
        p->services = strv_free(p->services);
        p->modules = strv_free(p->modules);
        free(p->vfs);
        p->vfs = NULL;
        p->n_vfs = 0;
        for (size_t i = 0; i < p->n_resets; i++)
                free(p->resets[i].method);
        free(p->resets);
        p->resets = NULL;
        p->n_resets = 0;
        lifetime_policy_done(&p->lifetime);
}

const char *const reset_method_names[] = { "device_specific", "acpi", "flr", "af_flr", "pm", "bus", "cxl_bus", NULL };

bool reset_method_name_valid(const char *s) {
        return s && names_contain(reset_method_names, s);
}

const char *choice_to_string(Choice c, const char *change_word) {
        switch (c) {
        case CHOICE_AUTO:
                return "auto";
        case CHOICE_KEEP:
                return "keep";
        case CHOICE_CHANGE:
                return change_word;
        default:
                return NULL;
        }
}

int choice_from_string(const char *s, const char *change_word, Choice *ret) {
        if (!s)
                return -EINVAL;
        for (Choice c = 0; c < _CHOICE_MAX; c++)
                if (streq(s, choice_to_string(c, change_word))) {
                        *ret = c;
                        return 0;
                }
        return -EINVAL;
}

const char *stack_to_string(Stack s) {
        if ((unsigned) s >= _STACK_MAX)
                return NULL;
        return stack_names[s];
}

int stack_from_string(const char *s, Stack *ret) {
        if (!s)
                return -EINVAL;
        for (unsigned i = 0; i < _STACK_MAX; i++)
                if (streq(stack_names[i], s)) {
                        *ret = (Stack) i;
                        return 0;
                }
        return -EINVAL;
}

const char *const *stack_modules(Stack s) {
        if ((unsigned) s >= _STACK_MAX)
                return no_names;
        return stack_module_table[s];
}

const char *const *stack_services(Stack s) {
        return s == STACK_NVIDIA ? nvidia_services : no_names;
}

bool unit_name_valid(const char *name) {
        static const char suffix[] = ".service";
        size_t n, ns = strlen(suffix);

        if (!name)
                return false;
        n = strlen(name);
        if (n <= ns || n > 255)
                return false;
        if (!streq(name + n - ns, suffix))
                return false;
        /* A leading '-' could read as an option to some tool; '.' as hidden. */
        if (name[0] == '-' || name[0] == '.' || name[0] == '@')
                return false;
        if (strstr(name, ".."))
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = name[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      strchr(":_.@-", c)))
                        return false;
        }
        const char *at = strchr(name, '@');
        if (at) {
                if (strchr(at + 1, '@'))
                        return false;
                /* A template cannot be started or stopped. */
                if (at + 1 == name + n - ns)
                        return false;
        }
        return true;
}

int policy_module_name_parse(const char *name, char **ret) {
        /* The kernel's rule, and lower case as the schema has it. */
        if (!module_name_valid(name))
                return -EINVAL;
        for (const char *p = name; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        return -EINVAL;

        char *copy = strdup(name);
        if (!copy)
                return -ENOMEM;
        module_name_normalize(copy);
        *ret = copy;
        return 0;
}

char *value_quote(const char *s, char buf[static VALUE_QUOTE_BUFSZ]) {
        size_t o = 0, i;

        if (!s)
                s = "";
        for (i = 0; s[i] && i < VALUE_QUOTE_CHARS; i++)
                o += escape_byte((unsigned char) s[i], buf + o);
        if (s[i]) {
                memcpy(buf + o, "...", 3);
                o += 3;
        }
        buf[o] = 0;
        return buf;
}

void config_done(Config *c) {
        if (!c)
                return;
        c->allowed_modules = strv_free(c->allowed_modules);
        c->allowed_services = strv_free(c->allowed_services);
        free(c->allowed_vfs);
        c->allowed_vfs = NULL;
        c->n_allowed_vfs = 0;
        free(c->path);
        c->path = NULL;
        lifetime_config_done(&c->lifetime);
}

static void config_donep(Config *c) {
        config_done(c);
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Splits off the next blank-separated word in place; NULL at the end. */
static char *next_word(char **p) {
        char *s = *p, *w;

        while (is_blank(*s))
                s++;
        if (!*s) {
                *p = s;
                return NULL;
        }
        w = s;
        while (*s && !is_blank(*s))
                s++;
        if (*s)
                *s++ = 0;
        *p = s;
        return w;
}

/* "allow-vfs PF MAX": the rest of the line after the directive. */
static int config_parse_vfs(Config *c, const char *path, unsigned line, char *p, char **ret_error) {
        char q[VALUE_QUOTE_BUFSZ];
        char *pf = next_word(&p), *max = next_word(&p), *extra = next_word(&p);
        VfsAllowance a;

        if (!pf || !max)
                return errorf(ret_error, -EINVAL, "%s:%u: allow-vfs needs a PF address and a maximum count", path, line);
        if (extra)
                return errorf(ret_error, -EINVAL, "%s:%u: unexpected '%s' after allow-vfs PF MAX", path, line,
                              value_quote(extra, q));
        if (pci_addr_parse(pf, &a.pf) < 0)
                return errorf(ret_error, -EINVAL, "%s:%u: invalid PCI address '%s' (expected DDDD:BB:SS.F)", path, line,
                              value_quote(pf, q));
        if (parse_uint(max, &a.max) < 0 || a.max < 1 || a.max > POLICY_VF_COUNT_MAX)
                return errorf(ret_error, -EINVAL, "%s:%u: invalid VF count '%s' (expected 1 to %u)", path, line,
                              value_quote(max, q), POLICY_VF_COUNT_MAX);
        for (size_t i = 0; i < c->n_allowed_vfs; i++)
                if (pci_addr_equal(&c->allowed_vfs[i].pf, &a.pf)) {
                        c->allowed_vfs[i].max = a.max; /* the last line counts */
                        return 0;
                }
        VfsAllowance *n = reallocarray(c->allowed_vfs, c->n_allowed_vfs + 1, sizeof *n);
        if (!n)
                return -ENOMEM;
        c->allowed_vfs = n;
        c->allowed_vfs[c->n_allowed_vfs++] = a;
        return 0;
}

/* allow-inhibit, allow-isolate, allow-hugepages: one value each. */
static int config_parse_lifetime(Config *c, const char *path, unsigned line, const char *directive, char *p,
                                 char **ret_error) {
        _cleanup_free_ char *why = NULL;
        char q[VALUE_QUOTE_BUFSZ];
        char *value = next_word(&p), *extra = next_word(&p);

        if (value && !extra) {
                int r = lifetime_config_directive(&c->lifetime, directive, value, &why);
                if (r == -EINVAL)
                        return errorf(ret_error, r, "%s:%u: %s", path, line, why);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
        if (streq(directive, "allow-inhibit") || streq(directive, "allow-isolate") || streq(directive, "allow-hugepages"))
                return errorf(ret_error, -EINVAL, "%s:%u: %s takes one value", path, line, directive);
        return errorf(ret_error, -EINVAL,
                      "%s:%u: unknown directive '%s' (expected allow-module, allow-service, allow-vfs, "
                      "allow-inhibit, allow-isolate or allow-hugepages)",
                      path, line, value_quote(directive, q));
}

static int config_parse_line(Config *c, const char *path, unsigned line, char *text, char **ret_error) {
        char q[VALUE_QUOTE_BUFSZ];
        char *p = text, *directive, *name, *extra;
        int r;

        directive = next_word(&p);
        if (!directive || directive[0] == '#')
                return 0;

        if (streq(directive, "allow-vfs"))
                return config_parse_vfs(c, path, line, p, ret_error);
        bool is_module = streq(directive, "allow-module");
        if (!is_module && !streq(directive, "allow-service"))
                return config_parse_lifetime(c, path, line, directive, p, ret_error);

        name = next_word(&p);
        if (!name)
                return errorf(ret_error, -EINVAL, "%s:%u: %s needs a name", path, line, directive);
        extra = next_word(&p);
        if (extra)
                return errorf(ret_error, -EINVAL, "%s:%u: unexpected '%s' after the name (one name per line)",
                              path, line, value_quote(extra, q));

        if (is_module) {
                _cleanup_free_ char *m = NULL;

                r = policy_module_name_parse(name, &m);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return errorf(ret_error, -EINVAL,
                                      "%s:%u: invalid module name '%s' (expected 1 to %u characters of a-z, 0-9, _ and -)",
                                      path, line, value_quote(name, q), MODULE_NAME_MAX);
                r = strv_extend_unique(&c->allowed_modules, m);
        } else {
                if (!unit_name_valid(name))
                        return errorf(ret_error, -EINVAL, "%s:%u: invalid service name '%s' (expected a systemd .service unit)",
                                      path, line, value_quote(name, q));
                r = strv_extend_unique(&c->allowed_services, name);
        }
        return r < 0 ? r : 0;
}

int config_load(const char *path, bool missing_ok, Config *ret, char **ret_error) {
        _cleanup_(config_donep) Config c = {};
        _cleanup_close_ int fd = -1;
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        size_t size = 0;
        unsigned lineno = 0;
        struct stat st;
        int r;

        if (!path)
                path = CONFIG_PATH_DEFAULT;
        c.path = strdup(path);
        if (!c.path)
                return -ENOMEM;

        /* O_NONBLOCK: a FIFO planted at the path must not hang the hook. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                r = -errno;
                if (r == -ENOENT && missing_ok) {
                        *ret = c;
                        c = (Config) {};
                        return 0;
                }
                return errorf(ret_error, r, "%s: %s", path, strerror(-r));
        }
        if (fstat(fd, &st) < 0) {
                r = -errno;
                return errorf(ret_error, r, "%s: %s", path, strerror(-r));
        }
        if (!S_ISREG(st.st_mode))
                return errorf(ret_error, -EPERM, "%s: not a regular file", path);
        /* Only root (or whoever runs us) may decide what root allows. */
        if (st.st_uid != 0 && st.st_uid != geteuid())
                return errorf(ret_error, -EPERM, "%s: refusing it: owned by uid %u, not by root", path,
                              (unsigned) st.st_uid);
        if (st.st_mode & S_IWOTH)
                return errorf(ret_error, -EPERM, "%s: refusing it: writable by others (mode %04o)", path,
                              (unsigned) (st.st_mode & 07777));
        if ((st.st_mode & S_IWGRP) && st.st_gid != 0)
                return errorf(ret_error, -EPERM, "%s: refusing it: writable by group %u (mode %04o)", path,
                              (unsigned) st.st_gid, (unsigned) (st.st_mode & 07777));

        f = fdopen(fd, "r");
        if (!f)
                return -errno;
        TAKE_FD(fd);

        for (;;) {
                errno = 0;
                ssize_t n = getline(&line, &size, f);
                if (n < 0) {
                        if (errno != 0)
                                return errorf(ret_error, -errno, "%s: %s", path, strerror(errno));
                        break;
                }
                lineno++;
                if (n > CONFIG_LINE_MAX)
                        return errorf(ret_error, -EINVAL, "%s:%u: line too long", path, lineno);
                if (memchr(line, 0, (size_t) n))
                        return errorf(ret_error, -EINVAL, "%s:%u: NUL byte in line", path, lineno);
                r = config_parse_line(&c, path, lineno, line, ret_error);
                if (r < 0)
                        return r;
        }

        *ret = c;
        c = (Config) {};
        return 0;
}

bool config_module_allowed(const Config *c, const char *module) {
        if (!module)
                return false;
        for (unsigned s = 0; s < _STACK_MAX; s++)
                if (names_contain(stack_modules((Stack) s), module))
                        return true;
        if (names_contain(extra_builtin_modules, module))
                return true;
        return c && strv_contains(c->allowed_modules, module);
}

bool config_service_allowed(const Config *c, const char *unit) {
        if (!unit)
                return false;
        if (names_contain(builtin_services, unit))
                return true;
        return c && strv_contains(c->allowed_services, unit);
}

unsigned config_vfs_allowed(const Config *c, const PciAddr *pf) {
        for (size_t i = 0; c && i < c->n_allowed_vfs; i++)
                if (pci_addr_equal(&c->allowed_vfs[i].pf, pf))
                        return c->allowed_vfs[i].max;
        return 0;
}

int policy_check_allowed(const Policy *p, const Config *c, const char *config_path, char **ret_error) {
        const char *path = config_path ? config_path : c && c->path ? c->path : CONFIG_PATH_DEFAULT;
        char q[VALUE_QUOTE_BUFSZ];

        if (p->modules)
                for (char **m = p->modules; *m; m++)
                        if (!config_module_allowed(c, *m))
                                return errorf(ret_error, -EPERM,
                                              "policy: <module>%s</module> is not allowed "
                                              "(allowed: built-in GPU stacks and allow-module lines of %s)",
                                              value_quote(*m, q), path);
        if (p->services)
                for (char **s = p->services; *s; s++)
                        if (!config_service_allowed(c, *s))
                                return errorf(ret_error, -EPERM,
                                              "policy: <service>%s</service> is not allowed "
                                              "(allowed: %s, nvidia-persistenced.service and allow-service lines of %s)",
                                              value_quote(*s, q), DISPLAY_MANAGER_UNIT, path);
        /* Making VFs changes a device the domain may not otherwise touch. */
        for (size_t i = 0; i < p->n_vfs; i++) {
                char a[PCI_ADDR_STRLEN];
                unsigned max = config_vfs_allowed(c, &p->vfs[i].pf);
                pci_addr_format(&p->vfs[i].pf, a);
                if (max == 0)
                        return errorf(ret_error, -EPERM,
                                      "policy: <vfs pf='%s'> is not allowed: no allow-vfs line for %s in %s "
                                      "(root adds 'allow-vfs %s %u' to allow it)",
                                      a, a, path, a, p->vfs[i].count);
                if (p->vfs[i].count > max)
                        return errorf(ret_error, -EPERM,
                                      "policy: <vfs pf='%s' count='%u'> is not allowed: %s allows at most %u VFs of %s",
                                      a, p->vfs[i].count, path, max, a);
        }
        return 0;
}
