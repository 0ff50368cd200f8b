/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "model/facts.h"
#include "shared/util.h"

void host_facts_done(HostFacts *f) {
        if (!f)
                return;
        for (size_t i = 0; i < f->n_hostdevs; i++)
                pci_device_free(f->hostdevs[i]);
        free(f->hostdevs);
        for (size_t i = 0; i < f->n_others; i++)
                pci_device_free(f->others[i]);
        free(f->others);
        vtconsoles_free(f->vtconsoles, f->n_vtconsoles);
        framebuffers_free(f->framebuffers, f->n_framebuffers);
        strv_free(f->stack_roots);
        strv_free(f->unload_order);
        strv_free(f->builtin_modules);
        for (size_t i = 0; i < f->n_modules; i++) {
                free(f->modules[i].name);
                strv_free(f->modules[i].holders);
                strv_free(f->modules[i].drivers);
                free(f->modules[i].bound);
        }
        free(f->modules);
        strv_free(f->device_nodes);
        free(f->nvidia_minors);
        holders_free(f->holders, f->n_holders);
        for (size_t i = 0; i < f->n_units; i++)
                free(f->units[i].name);
        free(f->units);
        free(f->display_manager_unit);
        pci_devices_free(f->displays, f->n_displays);
        graphics_fbs_free(f->fbs, f->n_fbs);
        free(f->fbcon_map);
        for (size_t i = 0; i < f->n_held; i++) {
                free(f->held[i].driver);
                free(f->held[i].domain);
        }
        free(f->held);
        sriov_facts_free(f->sriov, f->n_sriov);
        for (size_t i = 0; i < f->n_reset_methods; i++)
                free(f->reset_methods[i]);
        free(f->reset_methods);
        for (size_t i = 0; i < f->n_vfs_made; i++)
                free(f->vfs_made[i].domain);
        free(f->vfs_made);
        lifetime_facts_done(&f->lifetime);
        *f = (HostFacts) {};
}

int host_facts_add_held(HostFacts *f, const PciAddr *a, const char *driver, const char *domain) {
        HeldDevice *nl = realloc(f->held, (f->n_held + 1) * sizeof *nl);
        if (!nl)
                return -ENOMEM;
        f->held = nl;
        HeldDevice h = { .addr = *a, .driver = strdup(driver), .domain = strdup(domain) };
        if (!h.driver || !h.domain) {
                free(h.driver);
                free(h.domain);
                return -ENOMEM;
        }
        f->held[f->n_held++] = h;
        return 0;
}

int host_facts_add_vfs_made(HostFacts *f, const PciAddr *pf, const char *domain) {
        HeldDevice *nl = reallocarray(f->vfs_made, f->n_vfs_made + 1, sizeof *nl);
        if (!nl)
                return -ENOMEM;
        f->vfs_made = nl;
        HeldDevice h = { .addr = *pf, .domain = strdup(domain) };
        if (!h.domain)
                return -ENOMEM;
        f->vfs_made[f->n_vfs_made++] = h;
        return 0;
}
