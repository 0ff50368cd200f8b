/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A stand-in for libvirt.so.0, for tests/test-kmodops.c: the functions
 * virt.c looks up, typed from <libvirt/libvirt.h>, over nothing. It knows
 * the node devices pci_0000_01_00_0 to pci_0000_01_00_7; every call is
 * appended as one line to the file $FAKEVIRT_LOG ("connect URI", "detach
 * NAME", "reattach NAME", "close"), so that a test sees how many
 * connections a hand-off made; a detach or reattach of the device named
 * in $FAKEVIRT_HANG never returns (a libvirtd that does not answer); the
 * device named in $FAKEVIRT_LATE is not found by its first three lookups
 * ("lookup-missing NAME": a VF whose udev event libvirtd has not processed
 * yet). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#define EXPORT __attribute__((visibility("default")))

static const char *last_error = "no error";
static int last_code = VIR_ERR_OK;
static char conn_token, dev_token[8];

static void note(const char *what, const char *arg) {
        const char *path = getenv("FAKEVIRT_LOG");
        if (!path)
                return;
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return;
        dprintf(fd, "%s%s%s\n", what, arg ? " " : "", arg ? arg : "");
        close(fd);
}

static const char *dev_name(virNodeDevicePtr dev) {
        static char name[sizeof "pci_0000_01_00_0"];
        snprintf(name, sizeof name, "pci_0000_01_00_%d", (int) ((char *) dev - dev_token));
        return name;
}

static int act(const char *verb, virNodeDevicePtr dev) {
        const char *hang = getenv("FAKEVIRT_HANG");
        note(verb, dev_name(dev));
        if (hang && strcmp(hang, dev_name(dev)) == 0)
                for (;;)
                        pause();
        return 0;
}

EXPORT int virInitialize(void) {
        return 0;
}

EXPORT void virSetErrorFunc(void *userData, virErrorFunc handler) {
}

EXPORT const char *virGetLastErrorMessage(void) {
        return last_error;
}

EXPORT int virGetLastErrorCode(void) {
        return last_code;
}

EXPORT virConnectPtr virConnectOpen(const char *name) {
        note("connect", name);
        return (virConnectPtr) &conn_token;
}

EXPORT virConnectPtr virConnectOpenReadOnly(const char *name) {
        note("connect-read-only", name);
        return (virConnectPtr) &conn_token;
}

EXPORT int virConnectClose(virConnectPtr conn) {
        note("close", NULL);
        return 0;
}

EXPORT virNodeDevicePtr virNodeDeviceLookupByName(virConnectPtr conn, const char *name) {
        static int late_misses;
        const char *late = getenv("FAKEVIRT_LATE");

        if (late && strcmp(late, name) == 0 && late_misses < 3) {
                late_misses++;
                note("lookup-missing", name);
        } else if (strncmp(name, "pci_0000_01_00_", 15) == 0 && name[15] >= '0' && name[15] <= '7' && !name[16])
                return (virNodeDevicePtr) &dev_token[name[15] - '0'];
        last_error = "Node device not found: no node device with matching name";
        last_code = VIR_ERR_NO_NODE_DEVICE;
        return NULL;
}

EXPORT int virNodeDeviceDetachFlags(virNodeDevicePtr dev, const char *driverName, unsigned int flags) {
        return act("detach", dev);
}

EXPORT int virNodeDeviceReAttach(virNodeDevicePtr dev) {
        return act("reattach", dev);
}

EXPORT int virNodeDeviceFree(virNodeDevicePtr dev) {
        return 0;
}

EXPORT virDomainPtr virDomainLookupByName(virConnectPtr conn, const char *name) {
        last_error = "Domain not found";
        last_code = VIR_ERR_NO_DOMAIN;
        return NULL;
}

EXPORT char *virDomainGetXMLDesc(virDomainPtr domain, unsigned int flags) {
        return NULL;
}

EXPORT int virDomainIsActive(virDomainPtr dom) {
        return 0;
}

EXPORT int virDomainFree(virDomainPtr dom) {
        return 0;
}

/* enable and disable's calls: this stand-in has no domains. */
EXPORT virDomainPtr virDomainDefineXML(virConnectPtr conn, const char *xml) {
        last_error = "this stand-in defines no domain";
        last_code = VIR_ERR_OPERATION_UNSUPPORTED;
        return NULL;
}

EXPORT int virDomainSetMetadata(virDomainPtr domain, int type, const char *metadata, const char *key,
                                const char *uri, unsigned int flags) {
        last_error = "this stand-in has no domain metadata";
        last_code = VIR_ERR_OPERATION_UNSUPPORTED;
        return -1;
}

EXPORT int virDomainIsPersistent(virDomainPtr dom) {
        return 0;
}
