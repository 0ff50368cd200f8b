/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>

#include "log.h"

static bool use_syslog;
static bool quiet;
static char prefix[80];

void log_open_syslog(void) {
        openlog("vfio-hook", LOG_PID, LOG_DAEMON);
        use_syslog = true;
}

void log_set_quiet(bool q) {
        quiet = q;
}

void log_set_prefix(const char *domain) {
        if (domain)
                snprintf(prefix, sizeof prefix, "%s: ", domain);
        else
                prefix[0] = 0;
}

void log_msg(int priority, const char *fmt, ...) {
        char buf[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);

        if (!quiet || priority <= LOG_WARNING || priority == LOG_DEBUG) {
                if (priority != LOG_DEBUG || getenv("VFIO_HOOK_DEBUG"))
                        fprintf(stderr, "vfio-hook: %s%s\n", prefix, buf);
        }
        if (use_syslog && priority != LOG_DEBUG)
                syslog(priority, "%s%s", prefix, buf);
}
