/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Builds a tree from a .host spec (see tests/data/README) into ROOT, which
 * must be absent or empty. On -EINVAL (a bad spec) fakehost_error() says
 * "FILE:LINE: what". */
int fakehost_build(const char *spec_path, const char *root);
int fakehost_build_string(const char *spec, const char *root);
/* The last spec error of this thread, "" if none. */
const char *fakehost_error(void);
