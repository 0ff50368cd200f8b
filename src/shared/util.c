/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <time.h>

#include "shared/util.h"

char **strv_free(char **l) {
        if (!l)
                return NULL;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
        return NULL;
}

size_t strv_length(char *const *l) {
        size_t n = 0;
        if (l)
                while (l[n])
                        n++;
        return n;
}

bool strv_contains(char *const *l, const char *s) {
        if (l)
                for (; *l; l++)
                        if (streq(*l, s))
                                return true;
        return false;
}

int strv_extend(char ***l, const char *s) {
        size_t n = strv_length(*l);
        char *copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        char **nl = realloc(*l, (n + 2) * sizeof(char *));
        if (!nl) {
                free(copy);
                return -ENOMEM;
        }
        nl[n] = copy;
        nl[n + 1] = NULL;
        *l = nl;
        return 0;
}

int strv_extend_unique(char ***l, const char *s) {
        if (strv_contains(*l, s))
                return 0;
        int r = strv_extend(l, s);
        return r < 0 ? r : 1;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

void strv_sort(char **l) {
        if (l)
                qsort(l, strv_length(l), sizeof(char *), cmp_str);
}

usec_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (usec_t) ts.tv_sec * USEC_PER_SEC + (usec_t) ts.tv_nsec / 1000;
}

void sleep_usec(usec_t t) {
        struct timespec ts = {
                .tv_sec = (time_t) (t / USEC_PER_SEC),
                .tv_nsec = (long) ((t % USEC_PER_SEC) * 1000),
        };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

usec_t poll_next_wait(PollUntil *p) {
        usec_t w = p->wait;
        p->wait = p->wait < p->cap / 2 ? p->wait * 2 : p->cap;
        return w;
}

bool poll_until(PollUntil *p) {
        usec_t now = now_usec();
        if (now >= p->deadline)
                return false;
        usec_t w = poll_next_wait(p);
        sleep_usec(w < p->deadline - now ? w : p->deadline - now);
        return true;
}

int write_all(int fd, const void *buf, size_t len) {
        const char *p = buf;

        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EIO;
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

/* Waits until fd is readable (or at its end) or the deadline (0: none)
 * passes. */
int fd_wait_readable(int fd, usec_t deadline) {
        for (;;) {
                int ms = -1;
                if (deadline) {
                        usec_t now = now_usec();
                        if (now >= deadline)
                                return -ETIME;
                        ms = (int) ((deadline - now + 999) / 1000);
                }
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int n = poll(&p, 1, ms);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        continue; /* the deadline decides */
                if (p.revents & POLLNVAL)
                        return -EBADF;
                return 0; /* POLLIN, POLLHUP, POLLERR: read() says which */
        }
}

int read_full_fd(int fd, size_t max, usec_t timeout, char **ret, size_t *ret_size) {
        usec_t deadline = timeout ? now_usec() + timeout : 0;
        size_t size = 0, alloc = max < 4096 ? max + 1 : 4096;
        _cleanup_free_ char *buf = malloc(alloc + 1);
        int r;

        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (size == alloc) {
                        if (size > max)
                                return -EFBIG;
                        /* Room for one byte past max: that byte tells "too big". */
                        alloc = alloc > max / 2 ? max + 1 : alloc * 2;
                        char *nb = realloc(buf, alloc + 1);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                }
                if (deadline && (r = fd_wait_readable(fd, deadline)) < 0)
                        return r;
                ssize_t n = read(fd, buf + size, alloc - size);
                if (n < 0 && errno == EAGAIN && !deadline) {
                        /* A non-blocking fd without a deadline: wait as long as it takes. */
                        r = fd_wait_readable(fd, 0);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (n < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue; /* EAGAIN: poll() waits */
                        return -errno;
                }
                if (n == 0)
                        break;
                size += (size_t) n;
        }
        buf[size] = 0;
        if (ret_size)
                *ret_size = size;
        *ret = TAKE_PTR(buf);
        return 0;
}

char *strstrip_trailing(char *s) {
        size_t n = strlen(s);
        while (n > 0 && isspace((unsigned char) s[n - 1]))
                s[--n] = 0;
        return s;
}

char *vstrf(const char *fmt, va_list ap) {
        char *s;
        return vasprintf(&s, fmt, ap) < 0 ? NULL : s;
}

char *strf(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        char *s = vstrf(fmt, ap);
        va_end(ap);
        return s;
}

int parse_uint(const char *s, unsigned *ret) {
        if (!s || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        char *end;
        unsigned long v = strtoul(s, &end, 10);
        if (errno != 0 || *end != 0 || v > UINT_MAX)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

int parse_u64(const char *s, uint64_t *ret) {
        if (!s || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno != 0 || *end != 0)
                return -EINVAL;
        *ret = (uint64_t) v;
        return 0;
}

bool filename_is_safe(const char *s, size_t max) {
        size_t n = 0;
        if (!s || !*s || streq(s, ".") || streq(s, ".."))
                return false;
        for (; s[n]; n++) {
                unsigned char c = (unsigned char) s[n];
                if (!(isalnum(c) || strchr("_.@:+-", c)))
                        return false;
                if (n >= max)
                        return false;
        }
        return true;
}

size_t escape_byte(unsigned char c, char out[static 5]) {
        switch (c) {
        case '\\':
                return (size_t) snprintf(out, 5, "\\\\");
        case '\n':
                return (size_t) snprintf(out, 5, "\\n");
        case '\t':
                return (size_t) snprintf(out, 5, "\\t");
        default:
                if (c < 0x20 || c >= 0x7f)
                        return (size_t) snprintf(out, 5, "\\x%02x", c);
                out[0] = (char) c;
                out[1] = 0;
                return 1;
        }
}

char *escape_string(const char *s) {
        size_t n = strlen(s);
        char *r = malloc(n * 4 + 1), *o = r;
        if (!r)
                return NULL;
        for (; *s; s++)
                o += escape_byte((unsigned char) *s, o);
        *o = 0;
        return r;
}

/* Words as the kernel splits them ("a=\"b c\"" is one), up to "--". */
int cmdline_split(const char *s, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        _cleanup_free_ char *w = malloc(strlen(s) + 1);
        const char *p = s;

        if (!l || !w)
                return -ENOMEM;
        for (;;) {
                size_t n = 0;
                bool quoted = false;

                while (*p && isspace((unsigned char) *p))
                        p++;
                if (!*p)
                        break;
                for (; *p && (quoted || !isspace((unsigned char) *p)); p++)
                        if (*p == '"')
                                quoted = !quoted;
                        else
                                w[n++] = *p;
                w[n] = 0;
                if (streq(w, "--"))
                        break;
                if (strv_extend(&l, w) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* The value of the last KEY=VALUE ('-' and '_' alike in KEY, as the kernel
 * compares them), "" for a bare KEY, NULL when absent. */
const char *cmdline_get(char *const *l, const char *key) {
        const char *found = NULL;
        for (; l && *l; l++) {
                const char *w = *l, *k = key;
                for (; *k && *w; k++, w++)
                        if (*k != *w && !((*k == '-' || *k == '_') && (*w == '-' || *w == '_')))
                                break;
                if (*k)
                        continue;
                if (*w == '=')
                        found = w + 1;
                else if (!*w)
                        found = "";
        }
        return found;
}

int errorf(char **ret_error, int r, const char *fmt, ...) {
        va_list ap;
        char *s;

        if (!ret_error)
                return r;
        va_start(ap, fmt);
        int k = vasprintf(&s, fmt, ap);
        va_end(ap);
        free(*ret_error);
        *ret_error = k < 0 ? NULL : s;
        return r;
}
