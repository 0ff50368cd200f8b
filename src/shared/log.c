/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>

#include "shared/log.h"
#include "shared/util.h"

static bool use_syslog;
static bool quiet;
static char prefix[80];
static LogSinkFn sink;
static void *sink_userdata;

void log_open_syslog(void) {
        openlog("vfio-hook", LOG_PID, LOG_DAEMON);
        use_syslog = true;
}

void log_set_quiet(bool q) {
        quiet = q;
}

void log_set_prefix(const char *domain) {
        size_t o = 0;
        /* Escaped (util.h): the name may come from the command line unchecked. */
        for (; domain && *domain && o + 4 + sizeof ": " < sizeof prefix; domain++)
                o += escape_byte((unsigned char) *domain, prefix + o);
        if (o > 0)
                snprintf(prefix + o, sizeof prefix - o, ": ");
        else
                prefix[0] = 0;
}

void log_set_sink(LogSinkFn fn, void *userdata) {
        sink = fn;
        sink_userdata = fn ? userdata : NULL;
}

void log_msg(int priority, const char *fmt, ...) {
        char buf[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);

        if (!quiet || priority <= LOG_WARNING || priority == LOG_DEBUG) {
                if (priority != LOG_DEBUG || getenv("VFIO_HOOK_DEBUG")) {
                        if (sink) {
                                char line[sizeof prefix + sizeof buf];
                                snprintf(line, sizeof line, "%s%s", prefix, buf);
                                sink(priority, line, sink_userdata);
                        } else
                                fprintf(stderr, "vfio-hook: %s%s\n", prefix, buf);
                }
        }
        if (use_syslog && priority != LOG_DEBUG)
                syslog(priority, "%s%s", prefix, buf);
}
