/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>
#include <time.h>

#include "model/pci.h"
#include "model/plan.h"

/* The on-disk journal of a hand-off, <state-dir>/<domain>.journal: what
 * prepare is about to change, with the original state, written and
 * fsync'd before each change; read back by release and restore.
 *
 * One record per line, readable by a person at a text console:
 *
 *   vfio-hook-journal 1
 *   domain win10
 *   started 1763726400 pid 4242
 *   device 0000:01:00.0
 *   step 1 stop-unit display-manager.service
 *   done 1
 *   step 2 unbind-vtconsole vtcon1
 *   done 2
 *   step 3 unbind-framebuffer efi-framebuffer.0 efi-framebuffer
 *   step 4 detach-device 0000:01:00.0 nvidia
 *   killed 1234 Xorg
 *   prepared
 *
 * "step" names the change and what to restore (the framebuffer's driver,
 * the device's driver); "done" follows once it is made. A last line
 * without its newline was never completed and is ignored. */

#define JOURNAL_VERSION 1
#define JOURNAL_SUFFIX ".journal"

typedef struct JournalStep {
        unsigned n;
        StepAction action;
        char *target;
        char *orig;       /* driver before the change, or NULL */
        bool done;
} JournalStep;

typedef struct Journal {
        char *domain;
        time_t started;
        pid_t pid;
        PciAddr *devices;
        size_t n_devices;
        JournalStep *steps;
        size_t n_steps;
        char **killed;    /* "1234 Xorg": told, not undone */
        bool prepared;    /* prepare finished */
        bool truncated;   /* the last line was cut short */
} Journal;

void journal_done(Journal *j);

/* Appends a copy of a step to an array of n steps. */
int journal_steps_append(JournalStep **steps, size_t *n, unsigned num, StepAction a, const char *target,
                         const char *orig);

/* Pure: parse a journal's text. expected_domain may be NULL. Every target
 * is validated as if it came from outside (it is used in sysfs paths).
 * -EINVAL and one line "line N: ..." on bad input. */
int journal_parse(const char *text, size_t len, const char *expected_domain, Journal *ret, char **ret_error);

/* Read <domain>.journal from the state directory. -ENOENT when absent. */
int journal_load(int dirfd, const char *domain, Journal *ret, char **ret_error);

/* Writing: each append is one write() of whole lines, then fsync(). */
typedef struct JournalWriter {
        int fd;
        int dirfd;
} JournalWriter;

int journal_create(int dirfd, const char *domain, const PciAddr *devices, size_t n_devices, JournalWriter *ret);
int journal_append(JournalWriter *w, const char *fmt, ...) _printf_(2, 3);
void journal_writer_close(JournalWriter *w);
int journal_remove(int dirfd, const char *domain);

/* The domains that have a journal in the state directory, sorted. */
int journal_list(int dirfd, char ***ret);

/* What the last release or restore of a domain found, for status:
 * <state-dir>/<domain>.released, one record per line:
 *
 *   vfio-hook-release 1
 *   domain win10
 *   finished 1763726400 ms 1234
 *   missing stop-unit display-manager.service
 *   missing detach-device 0000:01:00.0 nvidia
 *
 * Each "missing" is a journal step whose change is not undone (the host
 * is restored when there is none). Parsed as strictly as the journal. */

#define RELEASE_SUFFIX ".released"

typedef struct ReleaseRecord {
        char *domain;
        time_t finished;
        unsigned msec;          /* how long the release took */
        JournalStep *missing;   /* .n unused */
        size_t n_missing;
} ReleaseRecord;

void release_record_done(ReleaseRecord *r);
int release_record_parse(const char *text, size_t len, const char *expected_domain, ReleaseRecord *ret,
                         char **ret_error);
/* Replaces <domain>.released (written aside, then renamed). */
int release_record_write(int dirfd, const ReleaseRecord *r);
/* -ENOENT when there is none. */
int release_record_load(int dirfd, const char *domain, ReleaseRecord *ret, char **ret_error);
/* The domains that have a record, sorted. */
int release_record_list(int dirfd, char ***ret);
