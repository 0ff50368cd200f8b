/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "model/console.h"
#include "model/domxml.h"
#include "model/holders.h"
#include "model/modules.h"
#include "model/pci.h"
#include "model/sriov.h"

/* Everything about the host that a plan for one domain depends on
 * (host/facts.h gathers it over a sysroot, changing nothing). The plan is
 * then a pure function of a Domain and these facts. */

typedef enum UnitState {
        UNIT_ABSENT,    /* no such unit */
        UNIT_INACTIVE,
        UNIT_ACTIVE,
        UNIT_UNKNOWN,   /* systemd could not be asked (plan only) */
} UnitState;

typedef struct UnitFact {
        char *name;
        UnitState state;
} UnitFact;

/* A loaded module of the stack (one per entry of unload_order) and what
 * it serves: the functions bound to its PCI drivers. */
typedef struct ModuleFact {
        char *name;
        char **holders;     /* loaded modules that use it */
        char **drivers;     /* its PCI drivers ("bochs-drm") */
        PciAddr *bound;     /* functions bound to them now, sorted */
        size_t n_bound;
} ModuleFact;

/* A function another domain holds, from that domain's journal: the driver
 * it goes back to on that domain's release. */
typedef struct HeldDevice {
        PciAddr addr;
        char *driver;
        char *domain;
} HeldDevice;

/* How unit states are learnt: systemctl on a live host, the unit files of
 * a tree otherwise (see facts.c). */
typedef int (*UnitStateFn)(const char *unit, UnitState *ret, void *userdata);

typedef struct HostFacts {
        PciDevice **hostdevs;        /* aligned with Domain.hostdevs; NULL: not found */
        size_t n_hostdevs;
        PciDevice **others;          /* other members of the hostdevs' IOMMU groups */
        size_t n_others;
        int n_iommu_groups;
        bool has_display;            /* some hostdev is a display controller */
        VtConsole *vtconsoles;
        size_t n_vtconsoles;
        Framebuffer *framebuffers;
        size_t n_framebuffers;
        Stack stack;                 /* the policy's stack, auto resolved */
        char **stack_roots;          /* modules the stack starts from */
        char **unload_order;         /* loaded modules, holders first */
        char **builtin_modules;      /* part of the stack but built in */
        ModuleFact *modules;         /* aligned with unload_order */
        size_t n_modules;
        char **device_nodes;         /* every device node of the hostdevs: "/dev/dri/card1", ... */
        int *nvidia_minors;          /* aligned with hostdevs: N of that GPU's /dev/nvidiaN, -1 when unknown */
        Holder *holders;             /* of device_nodes, /dev/kfd and (nvidia stack) /dev/nvidia* */
        size_t n_holders;
        UnitFact *units;             /* display manager, then the policy's services */
        size_t n_units;
        char *display_manager_unit;  /* what display-manager.service is ("gdm.service"), NULL: none */

        /* Who uses what, for the auto decisions (decide.h). */
        PciDevice **displays;        /* every display controller of the host */
        size_t n_displays;
        GraphicsFb *fbs;             /* sys/class/graphics/fbN */
        size_t n_fbs;
        char *fbcon_map;             /* the fbs fbcon maps the consoles to: "0", or fbcon=map:'s digits */
        FirmwareFbMemory fw_fb_memory; /* the firmware framebuffer in /proc/iomem (owner: also from BARs) */
        HeldDevice *held;            /* functions other domains hold (host_facts_add_held) */
        size_t n_held;

        /* SR-IOV and reset methods (sriov.h), aligned with the policy's <vfs> and <reset>. */
        SriovFact *sriov;
        size_t n_sriov;
        char **reset_methods;        /* reset_method now; NULL: the kernel has none */
        size_t n_reset_methods;
        bool vendor_reset;           /* the vendor-reset module is loaded (sriov.h) */
        HeldDevice *vfs_made;        /* PFs whose VFs another domain's prepare made (.addr: the PF) */
        size_t n_vfs_made;

        LifetimeFacts lifetime;      /* CPUs, memory and huge-page pools (lifetime-steps.h) */
} HostFacts;

void host_facts_done(HostFacts *f);

/* Records a function another domain holds and gives back to driver on its
 * release (read from that domain's journal by the caller). */
int host_facts_add_held(HostFacts *f, const PciAddr *a, const char *driver, const char *domain);

/* Records that domain's prepare made the VFs of pf (its journal has create-vfs). */
int host_facts_add_vfs_made(HostFacts *f, const PciAddr *pf, const char *domain);
