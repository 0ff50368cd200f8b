/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "model/plan.h"

/* The part of the plan that <vfs> and <reset> add (pure, from the Domain
 * and the HostFacts): create-vfs and reset-method steps, first in prepare
 * (the PF's driver makes the VFs, and must still be there), a detach-device
 * step for each hostdev that is a VF made by prepare, and the problems:
 * those in the policy itself (a hostdev that is no VF of the PF, a count
 * above sriov_totalvfs, a PF without SR-IOV, a method the device does not
 * offer) are bad input (Problem.bad_input); a PF whose VFs exist in another
 * number is the host's (the kernel changes a non-zero count only through
 * 0). */
int sriov_plan(const Domain *d, const HostFacts *f, Plan *p);
