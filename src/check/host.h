/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "check/report.h"
#include "shared/sysroot.h"

/* The host checks of `vfio-hook check`, one file per subject (as lscpu and
 * virt-host-validate split theirs): host-iommu.c (the IOMMU, interrupt
 * remapping, the kernel command line), host-cpu.c (proc/cpuinfo),
 * host-modules.c (the VFIO modules), host-libvirt.c (the hook and the
 * daemon). What they read once is gathered in host.c. */

typedef enum CpuVendor {
        CPU_UNKNOWN,
        CPU_INTEL,
        CPU_AMD,
} CpuVendor;

typedef struct CheckHost {
        Sysroot *sr;
        CpuVendor cpu;
        bool hypervisor;        /* cpuinfo's "hypervisor" flag: this is a VM */
        char **cmdline;         /* kernel parameters before "--"; NULL: unreadable */
        char *kmsg;             /* the kernel log; NULL: unreadable */
        char *interrupts;       /* proc/interrupts; NULL: unreadable */
        int n_groups;
        char **units;           /* sys/class/iommu entries */
        bool acpi_dmar, acpi_ivrs;
} CheckHost;

/* host.c: reads what the checks share; what cannot be read stays NULL or
 * 0 (only -ENOMEM is an error). */
int host_checks_init(Sysroot *sr, CheckHost *h);
void host_checks_done(CheckHost *h);
/* Every host check, in the report's order. 0 or -ENOMEM. */
int host_checks_run(CheckHost *h, CheckReport *r);
/* How many sys/class/iommu units are named PREFIX* ("dmar", "ivhd"). */
size_t host_units_count(const CheckHost *h, const char *prefix);

/* host-cpu.c: the CPU's vendor and whether this is a VM, from
 * proc/cpuinfo; without it, the vendor from the IOMMU's kind. */
void host_read_cpuinfo(CheckHost *h);
void host_guess_cpu(CheckHost *h);

/* iommu-hardware, iommu-enabled, interrupt-remapping, kernel-cmdline. */
int check_host_iommu(CheckHost *h, CheckReport *r);
/* module-vfio, module-vfio-pci, module-vfio-iommu-type1. */
int check_host_modules(CheckHost *h, CheckReport *r);
/* hook, libvirt-daemon. */
int check_host_libvirt(CheckHost *h, CheckReport *r);
