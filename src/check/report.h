/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdio.h>

#include "host/pci.h"
#include "shared/macro.h"

/* The report of `vfio-hook check` (the common part, as libvirt's
 * virt-host-validate-common.c is to each hypervisor's checks): results
 * that pass, warn or fail, the IOMMU groups listed without a domain, and
 * the text and JSON printers. */

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

const CheckResult *check_report_find(const CheckReport *r, const char *id);
size_t check_report_count(const CheckReport *r, CheckStatus s);

/* Adds a result, taking message and hint (either may be NULL after a
 * failed strf(): that is -ENOMEM, since a warning or a failure always says
 * how to fix it; a pass drops its hint). Returns 0 or -ENOMEM. */
int check_report_add(CheckReport *r, CheckStatus status, const char *id, char *message, char *hint);
#define check_report_pass(r, id, ...) check_report_add((r), CHECK_PASS, (id), strf(__VA_ARGS__), NULL)

void check_print_text(const CheckReport *r, FILE *out, bool color);
/* Only the domain's results, without colour (enable prints them). */
void check_print_domain_text(const CheckReport *r, FILE *out);
/* {"domain": NAME|null, "checks": [{"id", "status", "message", "hint"}],
 *  "groups": [{"group", "devices": [{"address", "ids", "class", "name", "driver"}]}]}
 * ("groups" only without a domain; "hint" is null for a pass). */
void check_print_json(const CheckReport *r, FILE *out);
