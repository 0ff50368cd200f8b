/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "model/cpuset.h"
#include "shared/util.h"

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

/* One number: digits, no leading zero but "0" itself. */
static int parse_number(const char **p, unsigned *ret) {
        const char *s = *p;
        unsigned v = 0;

        if (!is_digit(*s))
                return -EINVAL;
        if (s[0] == '0' && is_digit(s[1]))
                return -EINVAL;
        for (; is_digit(*s); s++) {
                v = v * 10 + (unsigned) (*s - '0');
                if (v >= CPUSET_MAX)
                        return -ERANGE;
        }
        *p = s;
        *ret = v;
        return 0;
}

int cpuset_parse(const char *s, bool blanks_too, CpuSet *ret) {
        CpuSet set = {};
        int r;

        if (!s)
                return -EINVAL;
        while (*s) {
                unsigned a, b;
                r = parse_number(&s, &a);
                if (r < 0)
                        return r;
                b = a;
                if (*s == '-') {
                        s++;
                        r = parse_number(&s, &b);
                        if (r < 0)
                                return r;
                        if (b < a)
                                return -EINVAL;
                }
                for (unsigned c = a; c <= b; c++)
                        cpuset_add(&set, c);
                if (!*s)
                        break;
                if (*s != ',' && !(blanks_too && *s == ' '))
                        return -EINVAL;
                s++;
                if (!*s)
                        return -EINVAL; /* a trailing separator */
        }
        *ret = set;
        return 0;
}

char *cpuset_format(const CpuSet *s) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        bool first = true;

        if (!f)
                return NULL;
        for (unsigned c = 0; c < CPUSET_MAX; c++) {
                if (!cpuset_has(s, c))
                        continue;
                unsigned e = c;
                while (e + 1 < CPUSET_MAX && cpuset_has(s, e + 1))
                        e++;
                if (e == c)
                        fprintf(f, "%s%u", first ? "" : ",", c);
                else
                        fprintf(f, "%s%u-%u", first ? "" : ",", c, e);
                first = false;
                c = e;
        }
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

int cpuset_from_mask(const uint8_t *mask, size_t size, CpuSet *ret) {
        CpuSet set = {};
        for (size_t i = 0; i < size; i++)
                for (unsigned b = 0; b < 8; b++) {
                        if (!((mask[i] >> b) & 1))
                                continue;
                        if (i >= CPUSET_MAX / 8)
                                return -ERANGE;
                        cpuset_add(&set, (unsigned) (i * 8 + b));
                }
        *ret = set;
        return 0;
}

size_t cpuset_to_mask(const CpuSet *s, uint8_t buf[static CPUSET_MAX / 8]) {
        size_t n = 0;
        memset(buf, 0, CPUSET_MAX / 8);
        for (unsigned c = 0; c < CPUSET_MAX; c++)
                if (cpuset_has(s, c)) {
                        buf[c / 8] |= (uint8_t) (1U << (c % 8));
                        n = c / 8 + 1;
                }
        return n;
}

void cpuset_add(CpuSet *s, unsigned cpu) {
        if (cpu < CPUSET_MAX)
                s->bits[cpu / 64] |= UINT64_C(1) << (cpu % 64);
}

bool cpuset_has(const CpuSet *s, unsigned cpu) {
        return cpu < CPUSET_MAX && (s->bits[cpu / 64] >> (cpu % 64)) & 1;
}

unsigned cpuset_count(const CpuSet *s) {
        unsigned n = 0;
        for (size_t i = 0; i < ELEMENTSOF(s->bits); i++)
                n += (unsigned) __builtin_popcountll(s->bits[i]);
        return n;
}

bool cpuset_equal(const CpuSet *a, const CpuSet *b) {
        return memcmp(a->bits, b->bits, sizeof a->bits) == 0;
}

bool cpuset_subset(const CpuSet *a, const CpuSet *b) {
        for (size_t i = 0; i < ELEMENTSOF(a->bits); i++)
                if (a->bits[i] & ~b->bits[i])
                        return false;
        return true;
}

void cpuset_remove_all(CpuSet *a, const CpuSet *b) {
        for (size_t i = 0; i < ELEMENTSOF(a->bits); i++)
                a->bits[i] &= ~b->bits[i];
}
