/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdio.h>

#include "host/pci.h"
#include "model/domxml.h"
#include "shared/sysroot.h"

/* `vfio-hook check`: a read-only preflight in the manner of libvirt's
 * virt-host-validate. Each check has a stable id, a status, one line that
 * says what was found and, for a warning or a failure, one line that says
 * how to fix it. Everything is read over a Sysroot, so that a tree made
 * with --sysroot is checked exactly like the live host.
 *
 * Host checks (always):
 *   iommu-hardware           ACPI DMAR/IVRS table, sys/class/iommu units, kernel log
 *   iommu-enabled            groups in sys/kernel/iommu_groups
 *   interrupt-remapping      IR-* interrupt chips in proc/interrupts, the kernel
 *                            log, the IR bit of each dmar unit's ecap
 *   kernel-cmdline           intel_iommu=, amd_iommu=, iommu= in proc/cmdline
 *                            (the CPU vendor from proc/cpuinfo)
 *   module-vfio, module-vfio-pci, module-vfio-iommu-type1
 *                            loaded, built in, or in lib/modules/RELEASE/modules.dep
 *   hook                     etc/libvirt/hooks/qemu (or qemu.d/) runs vfio-hook
 *   libvirt-daemon           run/libvirt/libvirt-sock or virtqemud-sock
 * With a domain:
 *   policy, hostdevs         the domain has a policy and PCI hostdevs
 *   device:ADDR              exists, is an endpoint, its name, driver, group
 *   iommu-group:N            every member of the group, and whether one that
 *                            is not in the domain blocks VFIO
 *   reset:ADDR               AMD display devices: sys/.../reset_method
 *   driver-stack             the stack the policy resolves to: what it unloads
 *                            (holders first), references beyond holders,
 *                            built-in modules, what other devices still need
 *   framebuffer              efi/simple/vesa framebuffer: where it sits, and
 *                            whether prepare unbinds it (decide.h)
 *   vtconsole                frame buffer consoles bound, which card fbcon
 *                            draws on, and whether prepare unbinds them
 *   gpu-holders              processes holding the nodes that count, with
 *                            their unit or session
 *   display-manager          etc/systemd/system/display-manager.service, and
 *                            whether prepare stops it and why
 *   inhibitor:UNIT, cpus:SLICE, hugepages:POOL
 *                            the lifetime steps and what each changes; a
 *                            problem (CPUs the host lacks, no pool, root's
 *                            limit) is a failure with its plan code
 * A console, framebuffer or display manager the policy keeps although
 * `auto` would change it (it depends on the domain's devices) is a warning.
 * Without a domain, every IOMMU group is listed with its devices. */

typedef enum CheckStatus {
        CHECK_PASS,
        CHECK_WARN,
        CHECK_FAIL,
        _CHECK_STATUS_MAX,
} CheckStatus;

typedef struct CheckResult {
        char *id;        /* "iommu-enabled", "device:0000:01:00.0", ... */
        CheckStatus status;
        char *message;   /* what was found */
        char *hint;      /* how to fix it; NULL for a pass */
} CheckResult;

typedef struct GroupDevice {
        char addr[PCI_ADDR_STRLEN];
        unsigned vendor, device, class;
        char *name;      /* "VGA compatible controller [0300]: NVIDIA ... [10de:2684]" */
        char *driver;    /* NULL: none */
} GroupDevice;

typedef struct IommuGroup {
        unsigned number;
        GroupDevice *devices;
        size_t n_devices;
} IommuGroup;

typedef struct CheckReport {
        char *domain;            /* NULL: host checks and the group listing */
        CheckResult *results;
        size_t n_results;
        size_t n_host_results;   /* results[0..n_host_results) are the host's */
        bool listed_groups;      /* the listing was made (no domain) */
        IommuGroup *groups;      /* sorted by number */
        size_t n_groups;
} CheckReport;

void check_report_done(CheckReport *r);

const char *check_status_to_string(CheckStatus s);

/* Runs the host checks, then those of the domain when d is not NULL, or
 * lists the IOMMU groups when it is. A read that fails is a warning that
 * says so, never an error: only -ENOMEM is returned. */
int check_run(Sysroot *sr, const Domain *d, CheckReport *ret);

const CheckResult *check_report_find(const CheckReport *r, const char *id);
size_t check_report_count(const CheckReport *r, CheckStatus s);

void check_print_text(const CheckReport *r, FILE *out, bool color);
/* Only the domain's results, without colour (enable prints them). */
void check_print_domain_text(const CheckReport *r, FILE *out);
/* {"domain": NAME|null, "checks": [{"id", "status", "message", "hint"}],
 *  "groups": [{"group", "devices": [{"address", "ids", "class", "name", "driver"}]}]}
 * ("groups" only without a domain; "hint" is null for a pass). */
void check_print_json(const CheckReport *r, FILE *out);

/* The subcommand, once the domain (or none) is loaded: runs, prints (text
 * in colour on a terminal, or JSON) and returns the exit code: EXIT_OK when
 * nothing failed, EXIT_FAILED when something did, EXIT_BAD_INPUT when the
 * sysroot cannot be opened. */
int check_command(const char *sysroot, const Domain *d, bool json, FILE *out);

/* A pci.ids file (allocated text) naming the PCI functions under sr as
 * `check` names them on sr: what `vfio-hook dump` ships. */
int check_pci_ids(Sysroot *sr, char **ret);
