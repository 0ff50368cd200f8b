/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdio.h>

#include "check/pcinames.h"
#include "check/report.h"
#include "host/pci.h"
#include "model/domxml.h"
#include "shared/sysroot.h"

/* `vfio-hook check`: a read-only preflight in the manner of libvirt's
 * virt-host-validate. Each check has a stable id, a status, one line that
 * says what was found and, for a warning or a failure, one line that says
 * how to fix it. Everything is read over a Sysroot, so that a tree made
 * with --sysroot is checked exactly like the live host.
 *
 * Host checks (always; src/check/host-*.c, one file per subject):
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
 * With a domain (src/check/domain*.c):
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

/* Runs the host checks, then those of the domain when d is not NULL, or
 * lists the IOMMU groups when it is. A read that fails is a warning that
 * says so, never an error: only -ENOMEM is returned. */
int check_run(Sysroot *sr, const Domain *d, CheckReport *ret);

/* The subcommand, once the domain (or none) is loaded: runs, prints (text
 * in colour on a terminal, or JSON) and returns the exit code: EXIT_OK when
 * nothing failed, EXIT_FAILED when something did, EXIT_BAD_INPUT when the
 * sysroot cannot be opened. */
int check_command(const char *sysroot, const Domain *d, bool json, FILE *out);
