/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "model/console.h"
#include "model/domxml.h"
#include "model/journal.h"
#include "model/lifetime-plan.h"
#include "model/modules.h"
#include "model/policy.h"
#include "shared/util.h"

#define JOURNAL_MAX_SIZE (1024U * 1024U)

void journal_done(Journal *j) {
        free(j->domain);
        free(j->devices);
        for (size_t i = 0; i < j->n_steps; i++) {
                free(j->steps[i].target);
                free(j->steps[i].orig);
        }
        free(j->steps);
        strv_free(j->killed);
        *j = (Journal) {};
}

int journal_steps_append(JournalStep **steps, size_t *n, unsigned num, StepAction a, const char *target,
                         const char *orig) {
        JournalStep *ns = reallocarray(*steps, *n + 1, sizeof *ns);
        if (!ns)
                return -ENOMEM;
        *steps = ns;
        JournalStep s = { .n = num, .action = a, .target = strdup(target), .orig = orig ? strdup(orig) : NULL };
        if (!s.target || (orig && !s.orig)) {
                free(s.target);
                free(s.orig);
                return -ENOMEM;
        }
        ns[(*n)++] = s;
        return 0;
}

static bool vtcon_name_valid(const char *s) {
        unsigned n;
        return startswith(s, "vtcon") && parse_uint(s + 5, &n) >= 0 && n < 64;
}

/* Targets end up in sysfs paths and argv: check them as untrusted input. */
static bool target_valid(StepAction a, const char *t) {
        PciAddr addr;

        switch (a) {
        case STEP_STOP_UNIT:
                return unit_name_valid(t);
        case STEP_UNBIND_VTCONSOLE:
                return vtcon_name_valid(t);
        case STEP_UNBIND_FRAMEBUFFER:
                return framebuffer_name_valid(t);
        case STEP_UNLOAD_MODULE:
                return module_name_valid(t);
        case STEP_DETACH_DEVICE:
        case STEP_CREATE_VFS:
        case STEP_RESET_METHOD:
                return pci_addr_parse(t, &addr) >= 0;
        case STEP_START_INHIBITOR:
                /* Whose it is, parse_step() checks against the domain. */
                return inhibit_unit_valid(t);
        case STEP_ISOLATE_CPUS:
                return isolate_unit_valid(t);
        case STEP_RAISE_HUGEPAGES: {
                int node;
                uint64_t kib;
                return hugepage_pool_parse(t, &node, &kib) >= 0;
        }
        default:
                return false;
        }
}

/* The original value, where a step must have one of its own form. */
static bool orig_valid(StepAction a, const char *o) {
        switch (a) {
        case STEP_CREATE_VFS:
                return create_vfs_orig_parse(o, NULL, NULL) >= 0;
        case STEP_RESET_METHOD:
                return reset_methods_journal_valid(o);
        default:
                if (step_is_lifetime(a))
                        return lifetime_orig_valid(a, o);
                return !o || filename_is_safe(o, 64);
        }
}

static int fail(char **ret_error, unsigned line, const char *fmt, ...) _printf_(3, 4);
static int fail(char **ret_error, unsigned line, const char *fmt, ...) {
        char msg[256];
        va_list ap;

        if (!ret_error)
                return -EINVAL;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        /* Line 0: about the file as a whole. */
        if (line > 0)
                return errorf(ret_error, -EINVAL, "journal line %u: %s", line, msg);
        return errorf(ret_error, -EINVAL, "%s", msg);
}

/* Split a line into at most max words on single spaces. */
static size_t split_words(char *line, char **words, size_t max) {
        size_t n = 0;
        for (char *save = NULL, *w = strtok_r(line, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
                if (n == max)
                        return max + 1;
                words[n++] = w;
        }
        return n;
}

static int parse_step(Journal *j, char **w, size_t n, unsigned line, char **ret_error) {
        char q[VALUE_QUOTE_BUFSZ];
        unsigned num;
        StepAction a;

        if (n < 4 || n > 5 || parse_uint(w[1], &num) < 0 || num == 0)
                return fail(ret_error, line, "malformed step record");
        if (step_action_from_string(w[2], &a) < 0)
                return fail(ret_error, line, "unknown action '%s'", value_quote(w[2], q));
        if (!target_valid(a, w[3]))
                return fail(ret_error, line, "invalid target for %s", w[2]);
        if (a == STEP_START_INHIBITOR) {
                char unit[INHIBIT_UNIT_MAX];
                inhibit_unit_name(j->domain ? j->domain : "", unit);
                if (!j->domain || !streq(unit, w[3]))
                        return fail(ret_error, line, "the inhibitor unit is not this domain's");
        }
        if (!orig_valid(a, n == 5 ? w[4] : NULL))
                return fail(ret_error, line, "invalid original %s",
                            a == STEP_CREATE_VFS || a == STEP_RESET_METHOD || step_is_lifetime(a) ? "value" : "driver");
        if (j->n_steps > 0 && num <= j->steps[j->n_steps - 1].n)
                return fail(ret_error, line, "step %u out of order", num);
        if (j->n_steps >= 4096)
                return fail(ret_error, line, "too many steps");

        return journal_steps_append(&j->steps, &j->n_steps, num, a, w[3], n == 5 ? w[4] : NULL);
}

/* The killed list grows by doubling: a long journal parses in linear time. */
typedef struct KilledList {
        size_t n, alloc;
} KilledList;

static int killed_append(Journal *j, KilledList *k, char *s) {
        if (k->n + 2 > k->alloc) {
                size_t na = k->alloc ? k->alloc * 2 : 8;
                char **nl = reallocarray(j->killed, na, sizeof(char *));
                if (!nl)
                        return -ENOMEM;
                j->killed = nl;
                k->alloc = na;
        }
        j->killed[k->n++] = s;
        j->killed[k->n] = NULL;
        return 0;
}

/* A process name as prepare writes it in a killed record: printable ASCII,
 * no blank (engine.c makes it so). */
static bool command_name_valid(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > 64)
                return false;
        for (; *s; s++)
                if ((unsigned char) *s <= ' ' || (unsigned char) *s >= 0x7f)
                        return false;
        return true;
}

static int parse_line(Journal *j, KilledList *killed, char *l, unsigned line, const char *expected_domain,
                      char **ret_error) {
        char q[VALUE_QUOTE_BUFSZ], q2[VALUE_QUOTE_BUFSZ];
        char *w[6];
        size_t n = split_words(l, w, 5);
        unsigned u;
        int r;

        if (n == 0 || n > 5)
                return fail(ret_error, line, "malformed record");
        if (line == 1) {
                if (n != 2 || !streq(w[0], "vfio-hook-journal"))
                        return fail(ret_error, line, "not a vfio-hook journal");
                if (parse_uint(w[1], &u) < 0 || u != JOURNAL_VERSION)
                        return fail(ret_error, line, "unsupported journal version '%s'", value_quote(w[1], q));
                return 0;
        }
        if (streq(w[0], "domain")) {
                if (n != 2 || !domain_name_valid(w[1]) || j->domain)
                        return fail(ret_error, line, "malformed domain record");
                if (expected_domain && !streq(w[1], expected_domain))
                        return fail(ret_error, line, "journal is for domain '%s', not '%s'", value_quote(w[1], q),
                                    value_quote(expected_domain, q2));
                j->domain = strdup(w[1]);
                return j->domain ? 0 : -ENOMEM;
        }
        if (!j->domain)
                return fail(ret_error, line, "record before the domain record");
        if (streq(w[0], "started")) {
                unsigned pid;
                if (n != 4 || !streq(w[2], "pid") || parse_uint(w[1], &u) < 0 || parse_uint(w[3], &pid) < 0)
                        return fail(ret_error, line, "malformed started record");
                j->started = (time_t) u;
                j->pid = (pid_t) pid;
                return 0;
        }
        if (streq(w[0], "device")) {
                PciAddr a;
                if (n != 2 || pci_addr_parse(w[1], &a) < 0)
                        return fail(ret_error, line, "malformed device record");
                if (j->n_devices >= DOMXML_MAX_HOSTDEVS)
                        return fail(ret_error, line, "too many devices");
                PciAddr *nd = realloc(j->devices, (j->n_devices + 1) * sizeof *nd);
                if (!nd)
                        return -ENOMEM;
                j->devices = nd;
                j->devices[j->n_devices++] = a;
                return 0;
        }
        if (streq(w[0], "step"))
                return parse_step(j, w, n, line, ret_error);
        if (streq(w[0], "done")) {
                if (n != 2 || parse_uint(w[1], &u) < 0)
                        return fail(ret_error, line, "malformed done record");
                /* Steps are in increasing order (parse_step): bisect. */
                for (size_t lo = 0, hi = j->n_steps; lo < hi;) {
                        size_t mid = lo + (hi - lo) / 2;
                        if (j->steps[mid].n == u) {
                                j->steps[mid].done = true;
                                return 0;
                        }
                        if (j->steps[mid].n < u)
                                lo = mid + 1;
                        else
                                hi = mid;
                }
                return fail(ret_error, line, "done for unknown step %u", u);
        }
        if (streq(w[0], "killed")) {
                unsigned pid;
                char *s;
                if (n != 3 || parse_uint(w[1], &pid) < 0 || !command_name_valid(w[2]))
                        return fail(ret_error, line, "malformed killed record");
                if (asprintf(&s, "%u %s", pid, w[2]) < 0)
                        return -ENOMEM;
                r = killed_append(j, killed, s);
                if (r < 0)
                        free(s);
                return r;
        }
        if (streq(w[0], "prepared")) {
                if (n != 1)
                        return fail(ret_error, line, "malformed prepared record");
                j->prepared = true;
                return 0;
        }
        return fail(ret_error, line, "unknown record '%s'", value_quote(w[0], q));
}

int journal_parse(const char *text, size_t len, const char *expected_domain, Journal *ret, char **ret_error) {
        _cleanup_(journal_done) Journal j = {};
        _cleanup_free_ char *copy = NULL;
        KilledList killed = {};
        unsigned line = 0;
        int r;

        if (len > JOURNAL_MAX_SIZE)
                return fail(ret_error, 0, "journal larger than %u bytes", JOURNAL_MAX_SIZE);
        if (memchr(text, 0, len))
                return fail(ret_error, 0, "journal contains a NUL byte");
        copy = strndup(text, len);
        if (!copy)
                return -ENOMEM;

        for (char *p = copy; *p;) {
                char *nl = strchr(p, '\n');
                line++;
                if (!nl) {
                        /* Cut short by a crash: that record was never complete,
                         * and nothing is changed before its record is. */
                        j.truncated = true;
                        break;
                }
                *nl = 0;
                if (nl > p && nl[-1] == '\r')
                        return fail(ret_error, line,
                                    "ends with a carriage return (CRLF line endings: was the journal edited or "
                                    "copied as text? convert it back with sed -i 's/\\r$//')");
                r = parse_line(&j, &killed, p, line, expected_domain, ret_error);
                if (r < 0)
                        return r;
                p = nl + 1;
        }
        if (line == 0 || (line == 1 && j.truncated))
                return fail(ret_error, 1, "empty journal");
        if (!j.domain)
                return fail(ret_error, line, "no domain record");

        *ret = j;
        j = (Journal) {};
        return 0;
}

/* DOMAIN + suffix: the domain name is checked before it becomes a path. */
static int state_filename(const char *domain, const char *suffix, char buf[static 256]) {
        if (!domain_name_valid(domain))
                return -EINVAL;
        snprintf(buf, 256, "%s%s", domain, suffix);
        return 0;
}

static int journal_filename(const char *domain, char buf[static 256]) {
        return state_filename(domain, JOURNAL_SUFFIX, buf);
}

static const char *file_type(mode_t m) {
        return S_ISFIFO(m) ? "a FIFO" : S_ISDIR(m) ? "a directory" : S_ISSOCK(m) ? "a socket"
             : S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device" : "not a file";
}

/* The whole of a file of the state directory, at most JOURNAL_MAX_SIZE
 * bytes. -ENOENT when absent. */
static int read_state_file(int dirfd, const char *name, char **ret, size_t *ret_len, char **ret_error) {
        /* O_NONBLOCK: a FIFO planted there must not hang status, restore and,
         * under the host-wide lock, every prepare. */
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
        if (fd < 0) {
                int r = -errno;
                if (r == -ELOOP)
                        return fail(ret_error, 0, "%s is a symbolic link, not a file vfio-hook wrote", name);
                if (r != -ENOENT)
                        return errorf(ret_error, r, "cannot open %s: %s", name, strerror(-r));
                return r;
        }
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return fail(ret_error, 0, "%s is not a regular file (%s)", name, file_type(st.st_mode));
        /* A file too large is refused before it is read. */
        int r = (size_t) st.st_size > JOURNAL_MAX_SIZE ? -EFBIG : read_full_fd(fd, JOURNAL_MAX_SIZE, 0, ret, ret_len);
        if (r == -EFBIG)
                return fail(ret_error, 0, "%s is larger than %u bytes", name, JOURNAL_MAX_SIZE);
        return r;
}

int journal_load(int dirfd, const char *domain, Journal *ret, char **ret_error) {
        _cleanup_free_ char *buf = NULL;
        char name[256];
        size_t len;
        int r = journal_filename(domain, name);
        if (r < 0)
                return r;
        r = read_state_file(dirfd, name, &buf, &len, ret_error);
        if (r < 0)
                return r;
        return journal_parse(buf, len, domain, ret, ret_error);
}

int journal_create(int dirfd, const char *domain, const PciAddr *devices, size_t n_devices, JournalWriter *ret) {
        char name[256];
        int r = journal_filename(domain, name);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;

        JournalWriter w = { .fd = fd, .dirfd = dirfd };
        r = journal_append(&w, "vfio-hook-journal %d\ndomain %s\nstarted %lld pid %d", JOURNAL_VERSION, domain,
                           (long long) time(NULL), (int) getpid());
        for (size_t i = 0; r >= 0 && i < n_devices; i++) {
                char a[PCI_ADDR_STRLEN];
                r = journal_append(&w, "device %s", pci_addr_format(&devices[i], a));
        }
        /* The new name must survive a crash too. */
        if (r >= 0 && fsync(dirfd) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlinkat(dirfd, name, 0);
                return r;
        }
        ret->fd = TAKE_FD(fd);
        ret->dirfd = dirfd;
        return 0;
}

int journal_append(JournalWriter *w, const char *fmt, ...) {
        _cleanup_free_ char *s = NULL;
        va_list ap;
        va_start(ap, fmt);
        s = vstrf(fmt, ap);
        va_end(ap);
        if (!s)
                return -ENOMEM;
        size_t n = strlen(s);
        /* One write() of the whole record with its newline. */
        char *line = realloc(s, (size_t) n + 2);
        if (!line)
                return -ENOMEM;
        s = line;
        s[n] = '\n';
        s[n + 1] = 0;
        int r = write_all(w->fd, s, (size_t) n + 1);
        if (r < 0)
                return r;
        return fsync(w->fd) < 0 ? -errno : 0;
}

void journal_writer_close(JournalWriter *w) {
        if (w->fd >= 0)
                close(w->fd);
        w->fd = -1;
}

int journal_remove(int dirfd, const char *domain) {
        char name[256];
        int r = journal_filename(domain, name);
        if (r < 0)
                return r;
        if (unlinkat(dirfd, name, 0) < 0)
                return errno == ENOENT ? 0 : -errno;
        return fsync(dirfd) < 0 ? -errno : 0;
}

/* The domains with a DOMAIN+suffix file in the state directory, sorted. */
static int list_by_suffix(int dirfd, const char *suffix, char ***ret) {
        _cleanup_close_ int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        DIR *d = fdopendir(fd);
        if (!d)
                return -errno;
        TAKE_FD(fd);
        _cleanup_closedir_ DIR *dir = d;
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        struct dirent *de;
        while ((de = readdir(dir))) {
                size_t n = strlen(de->d_name), sl = strlen(suffix);
                if (n <= sl || !streq(de->d_name + n - sl, suffix))
                        continue;
                _cleanup_free_ char *dom = strndup(de->d_name, n - sl);
                if (!dom)
                        return -ENOMEM;
                if (!domain_name_valid(dom))
                        continue;
                int r = strv_extend(&l, dom);
                if (r < 0)
                        return r;
        }
        strv_sort(l);
        *ret = TAKE_PTR(l);
        return 0;
}

int journal_list(int dirfd, char ***ret) {
        return list_by_suffix(dirfd, JOURNAL_SUFFIX, ret);
}

/* ------------------------------------------------------------ release records */

void release_record_done(ReleaseRecord *r) {
        free(r->domain);
        for (size_t i = 0; i < r->n_missing; i++) {
                free(r->missing[i].target);
                free(r->missing[i].orig);
        }
        free(r->missing);
        *r = (ReleaseRecord) {};
}

static int parse_release_line(ReleaseRecord *rec, char *l, unsigned line, const char *expected_domain,
                              char **ret_error) {
        char q[VALUE_QUOTE_BUFSZ];
        char *w[6];
        size_t n = split_words(l, w, 5);
        unsigned u, ms;
        StepAction a;

        if (n == 0 || n > 5)
                return fail(ret_error, line, "malformed record");
        if (line == 1) {
                if (n != 2 || !streq(w[0], "vfio-hook-release") || parse_uint(w[1], &u) < 0 || u != JOURNAL_VERSION)
                        return fail(ret_error, line, "not a vfio-hook release record");
                return 0;
        }
        if (streq(w[0], "domain")) {
                if (n != 2 || !domain_name_valid(w[1]) || rec->domain ||
                    (expected_domain && !streq(w[1], expected_domain)))
                        return fail(ret_error, line, "malformed domain record");
                rec->domain = strdup(w[1]);
                return rec->domain ? 0 : -ENOMEM;
        }
        if (streq(w[0], "finished")) {
                if (n != 4 || !streq(w[2], "ms") || parse_uint(w[1], &u) < 0 || parse_uint(w[3], &ms) < 0)
                        return fail(ret_error, line, "malformed finished record");
                rec->finished = (time_t) u;
                rec->msec = ms;
                return 0;
        }
        if (streq(w[0], "missing")) {
                if (n < 3 || n > 4 || step_action_from_string(w[1], &a) < 0 || !target_valid(a, w[2]) ||
                    (n == 4 && !(step_is_lifetime(a) ? lifetime_orig_valid(a, w[3]) : filename_is_safe(w[3], 64))))
                        return fail(ret_error, line, "malformed missing record");
                if (rec->n_missing >= 4096)
                        return fail(ret_error, line, "too many missing records");
                return journal_steps_append(&rec->missing, &rec->n_missing, 0, a, w[2], n == 4 ? w[3] : NULL);
        }
        return fail(ret_error, line, "unknown record '%s'", value_quote(w[0], q));
}

int release_record_parse(const char *text, size_t len, const char *expected_domain, ReleaseRecord *ret,
                         char **ret_error) {
        _cleanup_(release_record_done) ReleaseRecord rec = {};
        _cleanup_free_ char *copy = NULL;
        unsigned line = 0;

        if (len > JOURNAL_MAX_SIZE || memchr(text, 0, len))
                return fail(ret_error, 0, "not a vfio-hook release record");
        copy = strndup(text, len);
        if (!copy)
                return -ENOMEM;
        /* Written whole and renamed into place: every line is complete. */
        for (char *p = copy, *nl; *p; p = nl + 1) {
                nl = strchr(p, '\n');
                line++;
                if (!nl)
                        return fail(ret_error, line, "record cut short");
                *nl = 0;
                int r = parse_release_line(&rec, p, line, expected_domain, ret_error);
                if (r < 0)
                        return r;
        }
        if (!rec.domain)
                return fail(ret_error, line, "no domain record");
        *ret = rec;
        rec = (ReleaseRecord) {};
        return 0;
}

int release_record_write(int dirfd, const ReleaseRecord *rec) {
        _cleanup_free_ char *text = NULL;
        char name[256], tmp[256 + 8];
        size_t size = 0;
        int r = state_filename(rec->domain, RELEASE_SUFFIX, name);
        if (r < 0)
                return r;
        snprintf(tmp, sizeof tmp, ".%s.tmp", name);

        FILE *f = open_memstream(&text, &size);
        if (!f)
                return -ENOMEM;
        fprintf(f, "vfio-hook-release %d\ndomain %s\nfinished %lld ms %u\n", JOURNAL_VERSION, rec->domain,
                (long long) rec->finished, rec->msec);
        for (size_t i = 0; i < rec->n_missing; i++) {
                const JournalStep *m = &rec->missing[i];
                fprintf(f, "missing %s %s%s%s\n", step_action_to_string(m->action), m->target, m->orig ? " " : "",
                        m->orig ? m->orig : "");
        }
        if (fclose(f) != 0)
                return -ENOMEM;

        _cleanup_close_ int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        r = write_all(fd, text, size);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && renameat(dirfd, tmp, dirfd, name) < 0)
                r = -errno;
        if (r < 0)
                (void) unlinkat(dirfd, tmp, 0);
        return r;
}

int release_record_load(int dirfd, const char *domain, ReleaseRecord *ret, char **ret_error) {
        _cleanup_free_ char *buf = NULL;
        char name[256];
        size_t len;
        int r = state_filename(domain, RELEASE_SUFFIX, name);
        if (r < 0)
                return r;
        r = read_state_file(dirfd, name, &buf, &len, ret_error);
        if (r < 0)
                return r;
        return release_record_parse(buf, len, domain, ret, ret_error);
}

int release_record_list(int dirfd, char ***ret) {
        return list_by_suffix(dirfd, RELEASE_SUFFIX, ret);
}
