/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "model/pci.h"

/* Editing a domain's definition for `vfio-hook enable` and `disable`. Pure:
 * XML in, XML out, no host and no libvirt. The XML is whoever may define
 * domains' (domxml_read_document() parses it); every output is libxml2's
 * serialization of the root element, so that two outputs compare and diff
 * line by line.
 *
 * enable adds PCI hostdevs on the domain's root bus (bus 0: pci-root or
 * pcie-root), each physical device on a slot of its own and its functions
 * on that slot's functions, multifunction='on' on function 0, as libvirt
 * wants them. An explicit address on the root bus is what libvirt keeps as
 * it is: without one, on q35 it would add a pcie-root-port controller for
 * each card, which disable would then have to tell from the user's own.
 *
 * Which hostdevs enable added is written into the domain's <metadata>, in a
 * namespace of its own beside the policy's, so that disable removes those
 * and nothing else:
 *   <vhe:enabled xmlns:vhe="urn:vfio-hook:enabled:1">
 *     <vhe:hostdev address="0000:01:00.0"/> ...
 *   </vhe:enabled> */

#define POLICY_KEY "vh"
#define ENABLED_NAMESPACE "urn:vfio-hook:enabled:1"
#define ENABLED_KEY "vhe"

/* Root bus slots never picked: the host bridge (0), the PIIX3/ICH9 slots
 * i440fx and q35 keep for themselves without saying so in the XML (1, 0x1f). */
#define DOMEDIT_FIRST_SLOT 0x02U
#define DOMEDIT_LAST_SLOT 0x1eU

typedef struct DomEditState {
        bool has_policy;            /* a <policy> in POLICY_NAMESPACE */
        PciAddr *recorded;          /* the hostdevs enable added, from the record */
        size_t n_recorded;
        PciAddr *hostdevs;          /* every PCI hostdev's host address */
        size_t n_hostdevs;
        bool has_name;
} DomEditState;

void domedit_state_done(DomEditState *s);

/* Appends a to the list unless it is there; sorts a list by address. */
int domedit_addr_add(PciAddr **l, size_t *n, const PciAddr *a);
void domedit_sort_addrs(PciAddr *l, size_t n);

/* What the definition holds that enable and disable need. -EINVAL with a
 * message for XML that is not a domain or a record that does not parse. */
int domedit_read_state(const char *xml, size_t len, DomEditState *ret, char **ret_error);

/* Adds a managed PCI hostdev for each host function in devs that the
 * domain does not have yet. The new ones (sorted) in *ret_added, which may
 * be none: then *ret_xml is the input as serialized. -ENOSPC when the root
 * bus has too few free slots. */
int domedit_add_hostdevs(const char *xml, size_t len, const PciAddr *devs, size_t n_devs, char **ret_xml,
                         PciAddr **ret_added, size_t *ret_n_added, char **ret_error);

/* Removes the PCI hostdevs whose host address is in devs; *ret_n_removed
 * says how many there were. */
int domedit_remove_hostdevs(const char *xml, size_t len, const PciAddr *devs, size_t n_devs, char **ret_xml,
                            size_t *ret_n_removed, char **ret_error);

/* The record as virDomainSetMetadata() takes it (no namespace: libvirt
 * puts it into ENABLED_NAMESPACE): <enabled><hostdev address='...'/>...</enabled>. */
int domedit_record_xml(const PciAddr *devs, size_t n_devs, char **ret);

/* Puts element (a document whose root libvirt would put into namespace
 * uri with prefix key, as virDomainSetMetadata does) into <metadata> in
 * place of the one in that namespace, or removes it when element is NULL;
 * an emptied <metadata> goes too. What virDomainSetMetadata() will do, for
 * the dry run's diff and for the tests. */
int domedit_set_metadata(const char *xml, size_t len, const char *uri, const char *key, const char *element,
                         char **ret_xml, char **ret_error);

/* The document as the other functions write it (the diff's left side). */
int domedit_normalize(const char *xml, size_t len, char **ret_xml, char **ret_error);

/* A policy document (a file for --policy-from): its root must be <policy>
 * in POLICY_NAMESPACE or in none. Validated against the RELAX NG schema at
 * rng_path and by the hook's own parser; returned with every namespace
 * taken off, as virDomainSetMetadata() wants it. */
int domedit_policy_element(const char *xml, size_t len, const char *rng_path, char **ret, char **ret_error);
