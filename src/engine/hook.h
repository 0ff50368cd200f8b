/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "engine/engine.h"
#include "model/domxml.h"

/* The way from what libvirt hands the hook to the engine: parse, check
 * the policy against the allowlist, check the names, then act. Everything
 * before the engine runs changes nothing; bad input is EXIT_BAD_INPUT. */

/* Parses the XML and, when it has a policy, checks it against the config
 * (config_path; a missing file is fine unless config_required). Logs one
 * line and returns -EINVAL/-EPERM on bad input. */
int hook_load_domain(const char *xml, size_t len, const char *config_path, bool config_required, Domain **ret);

/* `prepare begin` for domain `name` (argv[1] of the hook). e->state_fd
 * may be -1: the state directory (state_dir) is opened only when there is
 * work. Returns an exit code. */
int hook_prepare(Engine *e, const char *state_dir, const char *name, const char *xml, size_t len,
                 const char *config_path, bool config_required);
