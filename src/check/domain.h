/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "check/pcinames.h"
#include "check/report.h"
#include "host/facts.h"
#include "model/decide.h"
#include "model/domxml.h"
#include "model/policy.h"
#include "shared/sysroot.h"

/* The checks of a domain and its policy, one file per subject: domain.c
 * (the policy, the devices, their IOMMU groups, the lifetime steps, and
 * the order of it all), domain-reset.c, domain-sriov.c, domain-stack.c
 * (the driver stack) and domain-display.c (framebuffer, consoles, what
 * holds the GPU, the display manager). */

typedef struct DomainCtx {
        Sysroot *sr;
        PciNames *names;
        const Domain *d;
        const Policy *policy;   /* the domain's, or the defaults */
        HostFacts f;
        Decisions ds;           /* what prepare would do, and why */
        Decisions auto_ds;      /* the same with console, framebuffer, display manager on auto */
        int n_groups;
} DomainCtx;

/* Every check of d, in the report's order. n_groups: the host's IOMMU
 * groups (0: the IOMMU is off). 0 or -ENOMEM. */
int domain_checks_run(Sysroot *sr, PciNames *names, const Domain *d, int n_groups, CheckReport *r);

/* reset:ADDR of an AMD display device. */
int check_reset(DomainCtx *c, const PciDevice *dev, CheckReport *r);
/* reset:ADDR of each <reset> of the policy not reported yet. */
int check_policy_resets(DomainCtx *c, CheckReport *r);
/* sriov:PF of each <vfs> and of each device's PF. */
int check_sriov(DomainCtx *c, CheckReport *r);
/* driver-stack. */
int check_driver_stack(DomainCtx *c, CheckReport *r);
/* framebuffer, vtconsole, gpu-holders, display-manager. */
int check_domain_display(DomainCtx *c, CheckReport *r);

static inline bool decided_take(const Decisions *ds, StepAction kind, const char *resource) {
        const Decision *x = decisions_find(ds, kind, resource);
        return x && x->take;
}
