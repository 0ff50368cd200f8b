/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "check/strbuf.h"

int strbuf_open(StrBuf *b) {
        *b = (StrBuf) {};
        b->f = open_memstream(&b->s, &b->len);
        return b->f ? 0 : -ENOMEM;
}

char *strbuf_take(StrBuf *b) {
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

void strbuf_done(StrBuf *b) {
        free(strbuf_take(b));
}
