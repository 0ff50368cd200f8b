/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdio.h>

/* Just enough JSON output for our reports: strings are escaped per RFC 8259. */
void json_write_string(FILE *f, const char *s);
/* null for NULL. */
void json_write_string_or_null(FILE *f, const char *s);
