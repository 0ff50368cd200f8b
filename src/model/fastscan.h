/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Does the buffer mention our policy namespace at all? A cheap test that
 * lets the hook front exit for domains without policy before anything
 * heavy is loaded; only the real parser decides what the XML says. */
bool fastscan_may_have_policy(const char *buf, size_t len);
