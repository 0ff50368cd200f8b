/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "engine/engine-sriov.h"
#include "host/sriov.h"
#include "shared/log.h"
#include "shared/util.h"

/* Whether a is a VF of pf now (its physfn link). */
static bool is_vf_of(Engine *e, const PciAddr *a, const char *pf) {
        _cleanup_free_ char *phys = NULL;
        char name[PCI_ADDR_STRLEN];
        return sysroot_link_basenamef(e->sr, &phys, "sys/bus/pci/devices/%s/physfn", pci_addr_format(a, name)) >= 0 &&
               streq(phys, pf);
}

int engine_vfs_held_elsewhere(Engine *e, const PciAddr *pf, char **ret_domain) {
        _cleanup_strv_free_ char **domains = NULL;
        char name[PCI_ADDR_STRLEN];
        int r = journal_list(e->state_fd, &domains);
        if (r < 0)
                return r;
        pci_addr_format(pf, name);
        for (char **o = domains; *o; o++) {
                _cleanup_(journal_done) Journal j = {};
                if (e->domain && streq(*o, e->domain))
                        continue;
                r = journal_load(e->state_fd, *o, &j, NULL);
                if (r == -ENOENT)
                        continue;
                bool held = r < 0; /* unreadable: it may hold one */
                for (size_t i = 0; !held && i < j.n_devices; i++)
                        held = is_vf_of(e, &j.devices[i], name);
                if (held) {
                        *ret_domain = strdup(*o);
                        return *ret_domain ? 1 : -ENOMEM;
                }
        }
        *ret_domain = NULL;
        return 0;
}

int engine_undo_create_vfs(Engine *e, const JournalStep *s, char **ret_error) {
        _cleanup_free_ char *other = NULL;
        bool autoprobe = false;
        PciAddr pf;
        int r;

        if (pci_addr_parse(s->target, &pf) < 0 || create_vfs_orig_parse(s->orig, NULL, &autoprobe) < 0)
                return -EINVAL;
        if (autoprobe) {
                r = sriov_autoprobe_on(e->sr, &pf);
                if (r < 0)
                        return r;
        }
        r = engine_vfs_held_elsewhere(e, &pf, &other);
        if (r < 0)
                return r;
        if (r > 0) {
                log_info("the VFs of %s stay: domain %s holds one of them (its release removes them)", s->target, other);
                return 0;
        }
        r = sriov_remove_vfs(e->sr, &pf);
        if (r < 0)
                return errorf(ret_error, r, "writing 0 to %s's sriov_numvfs: %s (a VF still in use?)", s->target,
                              strerror(-r));
        return r;
}

bool engine_create_vfs_undone(Engine *e, const JournalStep *s) {
        _cleanup_free_ char *other = NULL, *num = NULL, *ap = NULL;
        bool autoprobe = false;
        PciAddr pf;

        if (pci_addr_parse(s->target, &pf) < 0 || create_vfs_orig_parse(s->orig, NULL, &autoprobe) < 0)
                return false;
        if (autoprobe && sysroot_read_linef(e->sr, &ap, "sys/bus/pci/devices/%s/sriov_drivers_autoprobe", s->target) >= 0 &&
            streq(ap, "0"))
                return false;
        if (engine_vfs_held_elsewhere(e, &pf, &other) != 0)
                return true; /* theirs to remove */
        int r = sysroot_read_linef(e->sr, &num, "sys/bus/pci/devices/%s/sriov_numvfs", s->target);
        return r == -ENOENT || (r >= 0 && streq(num, "0"));
}

int engine_undo_reset_method(Engine *e, const JournalStep *s) {
        _cleanup_free_ char *old = s->orig ? reset_methods_from_journal(s->orig) : NULL, *now = NULL;
        if (!old)
                return s->orig ? -ENOMEM : -EINVAL;
        int r = sysroot_read_linef(e->sr, &now, "sys/bus/pci/devices/%s/reset_method", s->target);
        if (r == -ENOENT)
                return 0; /* the device is gone */
        if (r < 0)
                return r;
        if (streq(now, old))
                return 0;
        /* An empty value is written as a bare newline: the kernel's "disable all". */
        return sysroot_writef(e->sr, old[0] ? old : "\n", "sys/bus/pci/devices/%s/reset_method", s->target);
}

bool engine_reset_method_undone(Engine *e, const JournalStep *s) {
        _cleanup_free_ char *old = s->orig ? reset_methods_from_journal(s->orig) : NULL, *now = NULL;
        int r = sysroot_read_linef(e->sr, &now, "sys/bus/pci/devices/%s/reset_method", s->target);
        return r == -ENOENT || (r >= 0 && old && streq(now, old));
}
