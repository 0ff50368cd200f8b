/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the administrator's config (/etc/vfio-hook.conf). Root
 * writes it, but what it allows is what domain policies may name, so the
 * parser must accept only well-formed names. config_load() reads a path:
 * the input goes into a memfd, read back through /proc/self/fd. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "model/policy.h"
#include "shared/util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        memfd = memfd_create("fuzz-config", MFD_CLOEXEC);
        if (memfd < 0 || fchmod(memfd, 0600) < 0)
                abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(config_done) Config c = {};
        _cleanup_free_ char *err = NULL;
        int r;

        if (ftruncate(memfd, 0) < 0 || (size > 0 && pwrite(memfd, data, size, 0) != (ssize_t) size))
                abort();

        r = config_load(path, false, &c, &err);
        if (r < 0) {
                if (r == -EINVAL && (!err || strchr(err, '\n')))
                        abort();
                return 0;
        }
        if (c.allowed_modules)
                for (char **m = c.allowed_modules; *m; m++) {
                        _cleanup_free_ char *n = NULL;
                        if (policy_module_name_parse(*m, &n) < 0 || !streq(n, *m) || !config_module_allowed(&c, *m))
                                abort();
                }
        if (c.allowed_services)
                for (char **s = c.allowed_services; *s; s++)
                        if (!unit_name_valid(*s) || !config_service_allowed(&c, *s))
                                abort();
        return 0;
}
