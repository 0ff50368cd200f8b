/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <syslog.h>

#include "shared/macro.h"

/* Messages go to stderr (libvirt shows the hook's stderr in its error) and,
 * once log_open_syslog() was called, to syslog with the identifier
 * "vfio-hook", so that `journalctl -t vfio-hook` tells a hand-off's story.
 * Only main.c and engine.c log; the fact and parser modules return errors. */

void log_open_syslog(void);
void log_set_quiet(bool quiet);      /* stderr only for warnings and errors */
void log_set_prefix(const char *domain);

/* For tests: while set, the lines meant for stderr go to fn instead (with
 * the domain prefix, without "vfio-hook: " and the newline). NULL: stderr
 * again. Syslog is not affected. */
typedef void (*LogSinkFn)(int priority, const char *msg, void *userdata);
void log_set_sink(LogSinkFn fn, void *userdata);

void log_msg(int priority, const char *fmt, ...) _printf_(2, 3);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)
