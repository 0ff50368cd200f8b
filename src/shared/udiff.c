/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/macro.h"
#include "shared/udiff.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

typedef struct Line {
        const char *s;
        size_t len;   /* without the newline */
        bool newline; /* ends with one */
} Line;

typedef struct Op {
        char tag;     /* ' ', '-', '+' */
        size_t a, b;  /* lines of a and b before this one */
} Op;

static int split(const char *s, Line **ret, size_t *ret_n) {
        size_t n = 0, cap = 0;
        Line *l = NULL;

        while (*s) {
                const char *nl = strchr(s, '\n');
                size_t len = nl ? (size_t) (nl - s) : strlen(s);
                if (n == cap) {
                        cap = cap ? cap * 2 : 64;
                        Line *m = reallocarray(l, cap, sizeof(Line));
                        if (!m) {
                                free(l);
                                return -ENOMEM;
                        }
                        l = m;
                }
                l[n++] = (Line) { s, len, nl != NULL };
                s += len + (nl ? 1 : 0);
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

static bool line_eq(const Line *x, const Line *y) {
        return x->len == y->len && x->newline == y->newline && memcmp(x->s, y->s, x->len) == 0;
}

static int push(Op **ops, size_t *n, char tag, size_t *a, size_t *b) {
        Op *m = reallocarray(*ops, *n + 1, sizeof(Op));
        if (!m)
                return -ENOMEM;
        m[(*n)++] = (Op) { tag, *a, *b };
        if (tag != '+')
                (*a)++;
        if (tag != '-')
                (*b)++;
        *ops = m;
        return 0;
}

/* The edit script of a[0..na) to b[0..nb). */
static int script(const Line *a, size_t na, const Line *b, size_t nb, Op **ret, size_t *ret_n) {
        _cleanup_free_ uint32_t *L = NULL;
        size_t head = 0, tail = 0, n = 0, ia = 0, ib = 0;
        Op *ops = NULL;
        int r = 0;

        while (head < na && head < nb && line_eq(&a[head], &b[head]))
                head++;
        while (tail < na - head && tail < nb - head && line_eq(&a[na - 1 - tail], &b[nb - 1 - tail]))
                tail++;
        size_t ma = na - head - tail, mb = nb - head - tail;
        const Line *xa = a + head, *xb = b + head;

        /* L[i][j]: the longest common subsequence of xa[i..] and xb[j..]. */
        if (ma > 0 && mb > 0 && (ma + 1) * (mb + 1) <= UDIFF_MAX_CELLS) {
                L = calloc((ma + 1) * (mb + 1), sizeof(uint32_t));
                if (!L)
                        return -ENOMEM;
                for (size_t i = ma; i-- > 0;)
                        for (size_t j = mb; j-- > 0;)
                                L[i * (mb + 1) + j] = line_eq(&xa[i], &xb[j])
                                                              ? L[(i + 1) * (mb + 1) + j + 1] + 1
                                                              : MAX(L[(i + 1) * (mb + 1) + j], L[i * (mb + 1) + j + 1]);
        }

        for (size_t k = 0; r >= 0 && k < head; k++)
                r = push(&ops, &n, ' ', &ia, &ib);
        size_t i = 0, j = 0;
        while (r >= 0 && (i < ma || j < mb)) {
                if (L && i < ma && j < mb && line_eq(&xa[i], &xb[j])) {
                        r = push(&ops, &n, ' ', &ia, &ib);
                        i++, j++;
                } else if (i < ma && (j == mb || !L || L[(i + 1) * (mb + 1) + j] >= L[i * (mb + 1) + j + 1])) {
                        r = push(&ops, &n, '-', &ia, &ib);
                        i++;
                } else {
                        r = push(&ops, &n, '+', &ia, &ib);
                        j++;
                }
        }
        for (size_t k = 0; r >= 0 && k < tail; k++)
                r = push(&ops, &n, ' ', &ia, &ib);
        if (r < 0) {
                free(ops);
                return r;
        }
        *ret = ops;
        *ret_n = n;
        return 0;
}

static void put_line(FILE *f, char tag, const Line *l) {
        fputc(tag, f);
        fwrite(l->s, 1, l->len, f);
        fputs(l->newline ? "\n" : "\n\\ No newline at end of file\n", f);
}

/* diff -u's "start,count": the start is the line before when count is 0. */
static void put_range(FILE *f, size_t before, size_t count) {
        if (count == 1)
                fprintf(f, "%zu", before + 1);
        else
                fprintf(f, "%zu,%zu", count ? before + 1 : before, count);
}

int udiff(const char *a, const char *b, const char *label_a, const char *label_b, unsigned context, char **ret) {
        _cleanup_free_ Line *la = NULL, *lb = NULL;
        _cleanup_free_ Op *ops = NULL;
        size_t na = 0, nb = 0, n = 0, size = 0;
        char *buf = NULL;
        FILE *f;
        int r;

        if (split(a, &la, &na) < 0 || split(b, &lb, &nb) < 0)
                return -ENOMEM;
        r = script(la, na, lb, nb, &ops, &n);
        if (r < 0)
                return r;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;

        bool header = false;
        size_t k = 0, last_end = 0;
        while (k < n) {
                if (ops[k].tag == ' ') {
                        k++;
                        continue;
                }
                size_t start = k - MIN((size_t) context, k - last_end), end = k, j = k;
                while (j < n) {
                        if (ops[j].tag != ' ') {
                                end = j++;
                                continue;
                        }
                        size_t run = j;
                        while (j < n && ops[j].tag == ' ')
                                j++;
                        if (j < n && j - run <= 2 * (size_t) context)
                                continue;
                        break;
                }
                size_t stop = MIN(end + context + 1, n), ca = 0, cb = 0;
                for (size_t x = start; x < stop; x++) {
                        ca += ops[x].tag != '+';
                        cb += ops[x].tag != '-';
                }
                if (!header) {
                        fprintf(f, "--- %s\n+++ %s\n", label_a, label_b);
                        header = true;
                }
                fputs("@@ -", f);
                put_range(f, ops[start].a, ca);
                fputs(" +", f);
                put_range(f, ops[start].b, cb);
                fputs(" @@\n", f);
                for (size_t x = start; x < stop; x++)
                        put_line(f, ops[x].tag, ops[x].tag == '+' ? &lb[ops[x].b] : &la[ops[x].a]);
                last_end = k = stop;
        }

        if (fclose(f) != 0 || !buf) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}
