/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "model/fastscan.h"
#include "model/policy.h"

bool fastscan_may_have_policy(const char *buf, size_t len) {
        return memmem(buf, len, POLICY_NAMESPACE, strlen(POLICY_NAMESPACE)) != NULL;
}
