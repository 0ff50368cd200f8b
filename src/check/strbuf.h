/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdio.h>

#include "shared/macro.h"

/* A string written piece by piece through a FILE (open_memstream(3)):
 * "a, b, c". fprintf(b.f, ...) appends; ftell(b.f) is the length so far. */
typedef struct StrBuf {
        char *s;
        size_t len;
        FILE *f;
} StrBuf;

/* 0 or -ENOMEM. A StrBuf that is {} or failed to open may be passed to
 * strbuf_take() (NULL) and strbuf_done(). */
int strbuf_open(StrBuf *b);
/* Returns the text (the caller frees it), NULL on -ENOMEM or when the
 * StrBuf is not open; the StrBuf is then empty. */
char *strbuf_take(StrBuf *b);
void strbuf_done(StrBuf *b);
#define _cleanup_strbuf_ _cleanup_(strbuf_done)
