/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "check/pcinames.h"
#include "check/report.h"
#include "shared/sysroot.h"

/* Lists every IOMMU group under sr in r->groups, sorted by number, with
 * its devices named by names. Unreadable groups are left out. 0 or -ENOMEM. */
int check_list_groups(Sysroot *sr, PciNames *names, CheckReport *r);
