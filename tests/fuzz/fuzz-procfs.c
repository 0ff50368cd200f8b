/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the text the auto decisions read from procfs that
 * users can shape. A user names the cgroups of their own session
 * (proc/PID/cgroup), and those names end up in messages and in the display
 * manager's decision; /proc/iomem and the kernel command line are root's,
 * but are parsed by the same code. The input is used whole as each. */
#include <stdint.h>
#include <stdlib.h>

#include "model/console.h"
#include "model/holders.h"
#include "shared/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = malloc(size + 1), *cgroup = NULL, *unit = NULL, *map = NULL;
        _cleanup_strv_free_ char **words = NULL;
        FirmwareFbMemory fb;
        PciAddr a;

        if (!text)
                abort();
        memcpy(text, data, size);
        text[size] = 0;

        if (cgroup_from_proc(text, &cgroup) < 0)
                abort();
        if (cgroup) {
                if (cgroup[0] != '/' || strchr(cgroup, '\n'))
                        abort();
                if (cgroup_unit(cgroup, &unit) < 0)
                        abort();
                if (unit && (strchr(unit, '/') || !cgroup_in_unit(cgroup, unit)))
                        abort();
                (void) cgroup_in_user_session(cgroup);
        }

        if (iomem_firmware_fb(text, &fb) == 1) {
                if (!fb.resource[0])
                        abort();
                if (fb.owner[0] && pci_addr_parse(fb.owner, &a) < 0)
                        abort();
        }

        if (cmdline_split(text, &words) < 0 || fbcon_map_from_cmdline(words, &map) < 0)
                abort();
        if (!map[0])
                abort();
        for (const char *c = map; *c; c++)
                if (*c < '0' || *c > '9' || strchr(c + 1, *c))
                        abort();
        return 0;
}
