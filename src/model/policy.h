/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "model/lifetime.h"
#include "model/modules.h"
#include "model/pci.h"
#include "shared/macro.h"

/* The per-domain policy (vfio-hook-policy(5); docs/design.md, "From XML to
 * steps"), the built-in GPU stacks, and the administrator's allowlist
 * (/etc/vfio-hook.conf, vfio-hook.conf(5)).
 * Pure: no I/O but config_load(). */

#define POLICY_NAMESPACE "urn:vfio-hook:policy:1"
#define POLICY_TIMEOUT_DEFAULT 30U
#define POLICY_TIMEOUT_MAX 600U
/* Different <service> and <module> names one policy may list: parsing stays
 * linear in the size of the XML whatever a domain's author writes. */
#define POLICY_NAMES_MAX 64U
#define CONFIG_PATH_DEFAULT SYSCONFDIR "/vfio-hook.conf"
#define DISPLAY_MANAGER_UNIT "display-manager.service"

typedef enum Stack {
        STACK_AUTO,
        STACK_NVIDIA,
        STACK_AMDGPU,
        STACK_I915,
        STACK_XE,
        STACK_NOUVEAU,
        STACK_RADEON,
        STACK_NONE,
        _STACK_MAX,
} Stack;

typedef enum HolderPolicy {
        HOLDERS_REFUSE,
        HOLDERS_TERMINATE,
} HolderPolicy;

/* <console>, <framebuffer> and <display-manager>: "auto" changes the host
 * resource only when it depends on a device the domain takes (the plan
 * decides from the host and says why); "keep" never changes it;
 * "unbind"/"stop" always does. */
typedef enum Choice {
        CHOICE_AUTO,
        CHOICE_KEEP,
        CHOICE_CHANGE,      /* unbind, stop */
        _CHOICE_MAX,
} Choice;

/* <vfs pf='ADDR' count='N' autoprobe='yes|no'/>: SR-IOV virtual functions
 * made on prepare (sriov.h). */
#define POLICY_VFS_MAX 16U
#define POLICY_VF_COUNT_MAX 256U
typedef struct VfsRequest {
        PciAddr pf;
        unsigned count;             /* 1..POLICY_VF_COUNT_MAX */
        bool autoprobe_off;         /* autoprobe='no': VFs appear without a driver */
} VfsRequest;

/* <reset device='ADDR' method='NAME'/>: written to reset_method on prepare. */
#define POLICY_RESETS_MAX 16U
typedef struct ResetRequest {
        PciAddr device;
        char *method;               /* one of reset_method_names() */
} ResetRequest;

/* The reset methods the kernel knows (drivers/pci/pci.c, pci_reset_fn_methods),
 * NULL-terminated. */
extern const char *const reset_method_names[];
bool reset_method_name_valid(const char *s);

typedef struct Policy {
        Stack stack;
        Choice console;             /* <console>auto|keep|unbind */
        Choice framebuffer;         /* <framebuffer>auto|keep|unbind */
        Choice display_manager;     /* <display-manager>auto|keep|stop */
        HolderPolicy holders;       /* <holders>refuse|terminate */
        char **services;            /* <service>, in document order */
        char **modules;             /* <module>, normalized ('-' -> '_') */
        unsigned timeout_sec;       /* <timeout>, 1..POLICY_TIMEOUT_MAX */
        VfsRequest *vfs;            /* <vfs>, one per PF */
        size_t n_vfs;
        ResetRequest *resets;       /* <reset>, one per device */
        size_t n_resets;
        LifetimePolicy lifetime;    /* <inhibit>, <isolate>, <hugepages> (lifetime.h) */
} Policy;

/* The defaults of an empty <vh:policy/>. */
void policy_init(Policy *p);
void policy_done(Policy *p);

/* "auto", "keep", or the element's own word for a change ("unbind",
 * "stop"); parsing accepts exactly those three. */
const char *choice_to_string(Choice c, const char *change_word);
int choice_from_string(const char *s, const char *change_word, Choice *ret);

const char *stack_to_string(Stack s);
int stack_from_string(const char *s, Stack *ret);
/* The modules of a built-in stack, NULL-terminated; empty for auto/none. */
const char *const *stack_modules(Stack s);
/* Services that come with a stack (nvidia-persistenced.service for nvidia). */
const char *const *stack_services(Stack s);

/* systemd unit names we accept: [A-Za-z0-9:_.@-], ending in ".service",
 * at most 255 characters, no "/" and no "..". Also refused: a leading '-'
 * or '.', more than one '@', and templates without instance ("foo@.service"). */
bool unit_name_valid(const char *name);

/* Kernel module names we accept: module_name_valid() in lower case. Returns
 * a copy with '-' turned into '_' (as kmod compares them), or -EINVAL. */
int policy_module_name_parse(const char *name, char **ret);

/* Untrusted text for a one-line message: bytes outside printable ASCII and
 * the backslash are escaped (\n, \t, \xNN, \\), and only the first
 * VALUE_QUOTE_CHARS bytes are kept ("..." marks the cut). Returns buf. */
#define VALUE_QUOTE_CHARS 64U
#define VALUE_QUOTE_BUFSZ (VALUE_QUOTE_CHARS * 4U + sizeof("..."))
char *value_quote(const char *s, char buf[static VALUE_QUOTE_BUFSZ]);

/* "allow-vfs PF MAX": root lets domains make up to MAX VFs of PF. */
typedef struct VfsAllowance {
        PciAddr pf;
        unsigned max;
} VfsAllowance;

typedef struct Config {
        char **allowed_modules;   /* besides the built-in stacks, normalized */
        char **allowed_services;
        VfsAllowance *allowed_vfs;
        size_t n_allowed_vfs;
        char *path;               /* the file read, for messages; NULL: none */
        LifetimeConfig lifetime;  /* allow-inhibit, allow-isolate, allow-hugepages */
} Config;

void config_done(Config *c);
/* Reads "allow-module NAME" / "allow-service NAME" / "allow-vfs PF MAX" lines ('#' comments),
 * and the lifetime limits (lifetime_config_directive()).
 * A missing file is an empty config when missing_ok. On a bad line,
 * returns -EINVAL and a message naming the file, line and word. The file
 * widens what root-run code does, so one that is not a regular file, or that
 * someone other than root or the caller could write, is refused (-EPERM). */
int config_load(const char *path, bool missing_ok, Config *ret, char **ret_error);

bool config_module_allowed(const Config *c, const char *module);
bool config_service_allowed(const Config *c, const char *unit);
/* The most VFs of pf root allows (0: none). */
unsigned config_vfs_allowed(const Config *c, const PciAddr *pf);

/* Every <module>, <service> and <vfs> of the policy must be allowed. On failure,
 * -EPERM and one line naming the element and its value. c may be NULL (only
 * the built-in allowlist). Messages name config_path, else c->path, else
 * CONFIG_PATH_DEFAULT. */
int policy_check_allowed(const Policy *p, const Config *c, const char *config_path, char **ret_error);
