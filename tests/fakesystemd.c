/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A stand-in for systemd's D-Bus API on a socket of its own, for
 * tests/test-units.c: what units.c asks of org.freedesktop.systemd1
 * (LoadUnit, StopUnit, StartUnit, Subscribe, a unit's LoadState and
 * ActiveState, a service's ControlGroup "/system.slice/UNIT"), the JobRemoved signal and PropertiesChanged on each change
 * of a unit's state, over the unit files of a
 * directory in tests/helpers/fake-systemctl's format:
 *   active                stop: inactive, the job ends at once ("done")
 *   active slow N         stop: deactivating for N x 10 ms, then inactive
 *   active hang           stop: deactivating for ever, the job never ends
 *   inactive              start: active at once
 *   inactive slow N       start: activating for N x 10 ms, then active
 *   inactive broken       start: failed, the job ends with "failed"
 *   inactive dies         start: active, the job ends ("done"), and 50 ms
 *                         later failed (a Type=simple service that exits)
 * No file: a unit systemd does not know. Each call is logged in DIR/calls
 * ("LoadUnit x.service", "StopUnit x.service", ...).
 * For unitprops.c: StartTransientUnit makes the unit's file (active; failed,
 * its job too, when DIR/fail-start exists; systemd's UnitExists when the
 * file is there) and DIR/UNIT.transient; a transient unit stopped is gone
 * (CollectMode=inactive-or-failed). SetUnitProperties takes AllowedCPUs
 * only, kept as bytes in DIR/UNIT.cpus, which a slice's (org.freedesktop.
 * systemd1.Slice) or a scope's (.Scope) AllowedCPUs property reads. Both
 * log what they were given, the bytes in hex. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-id128.h>

#include "fakesystemd.h"
#include "host/units.h"
#include "shared/util.h"

#define UNIT_PREFIX "/org/freedesktop/systemd1/unit/"
#define JOBS_MAX 16

static const char *dir;
static unsigned job_id;
static struct {
        char unit[128];
        char path[128];
        const char *result;
        const char *final;
        usec_t when;   /* 0: never */
} jobs[JOBS_MAX];
static size_t n_jobs;

static void unit_file(const char *unit, const char *suffix, char *buf, size_t size) {
        snprintf(buf, size, "%s/%s%s", dir, unit, suffix);
}

static void log_call(const char *what, const char *unit) {
        char p[512];
        snprintf(p, sizeof p, "%s/calls", dir);
        FILE *f = fopen(p, "ae");
        if (f) {
                fprintf(f, "%s %s\n", what, unit);
                fclose(f);
        }
}

/* The unit's file: state, behaviour, n. false when there is none. */
static bool read_unit(const char *unit, char state[static 32], char how[static 32], unsigned *n) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, unit);
        FILE *f = fopen(p, "re");
        state[0] = how[0] = 0;
        *n = 0;
        if (!f)
                return false;
        int k = fscanf(f, "%31s %31s %u", state, how, n);
        fclose(f);
        return k >= 1;
}

static sd_bus *serving; /* the connection being served */

static void unit_path(const char *unit, char *buf, size_t size);

static void write_unit(const char *unit, const char *state) {
        char p[512], path[256];
        snprintf(p, sizeof p, "%s/%s", dir, unit);
        FILE *f = fopen(p, "we");
        if (f) {
                fprintf(f, "%s\n", state);
                fclose(f);
        }
        /* When it became active (ActiveEnterTimestampMonotonic). */
        snprintf(p, sizeof p, "%s/%s.since", dir, unit);
        if (streq(state, "active") && (f = fopen(p, "we"))) {
                fprintf(f, "%llu\n", (unsigned long long) now_usec());
                fclose(f);
        }
        /* As systemd does on every change of a unit's state. */
        unit_path(unit, path, sizeof path);
        if (serving)
                (void) sd_bus_emit_properties_changed(serving, path, "org.freedesktop.systemd1.Unit", "ActiveState",
                                                      NULL);
}

static uint64_t active_since(const char *unit) {
        char p[512];
        unsigned long long t = 0;
        snprintf(p, sizeof p, "%s/%s.since", dir, unit);
        FILE *f = fopen(p, "re");
        if (f) {
                if (fscanf(f, "%llu", &t) != 1)
                        t = 0;
                fclose(f);
        }
        return t;
}

/* systemd's object path of a unit: every byte but [A-Za-z0-9] as _xx. */
static void unit_path(const char *unit, char *buf, size_t size) {
        size_t o = (size_t) snprintf(buf, size, "%s", UNIT_PREFIX);
        for (const char *c = unit; *c && o + 4 < size; c++) {
                if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9'))
                        buf[o++] = *c;
                else
                        o += (size_t) snprintf(buf + o, size - o, "_%02x", (unsigned char) *c);
        }
        buf[o] = 0;
}

static void path_unit(const char *path, char *buf, size_t size) {
        const char *c = path + strlen(UNIT_PREFIX);
        size_t o = 0;
        for (; *c && o + 1 < size; c++) {
                unsigned x;
                if (*c == '_' && sscanf(c + 1, "%2x", &x) == 1) {
                        buf[o++] = (char) x;
                        c += 2;
                } else
                        buf[o++] = *c;
        }
        buf[o] = 0;
}

static int method_load(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        const char *unit;
        char path[256];
        int r = sd_bus_message_read(m, "s", &unit);
        if (r < 0)
                return r;
        log_call("LoadUnit", unit);
        unit_path(unit, path, sizeof path);
        return sd_bus_reply_method_return(m, "o", path);
}

static int method_subscribe(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        return sd_bus_reply_method_return(m, NULL);
}

static int emit_removed(sd_bus *bus, unsigned id, const char *path, const char *unit, const char *result) {
        return sd_bus_emit_signal(bus, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", "JobRemoved",
                                  "uoss", id, path, unit, result);
}

static int method_change(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        bool stop = streq(sd_bus_message_get_member(m), "StopUnit");
        const char *unit, *mode;
        char state[32], how[32], job[128];
        unsigned n;
        int r = sd_bus_message_read(m, "ss", &unit, &mode);
        if (r < 0)
                return r;
        log_call(sd_bus_message_get_member(m), unit);
        if (!read_unit(unit, state, how, &n))
                return sd_bus_error_setf(e, "org.freedesktop.systemd1.NoSuchUnit", "Unit %s %s.", unit,
                                         stop ? "not loaded" : "not found");

        unsigned id = ++job_id;
        snprintf(job, sizeof job, "/org/freedesktop/systemd1/job/%u", id);
        r = sd_bus_reply_method_return(m, "o", job);
        if (r < 0)
                return r;

        const char *now = NULL, *final = NULL, *result = "done";
        usec_t when = 0;
        if (stop) {
                final = "inactive";
                if (streq(how, "slow") || streq(how, "hang")) {
                        now = "deactivating";
                        when = streq(how, "slow") ? now_usec() + n * 10 * USEC_PER_MSEC : 0;
                }
        } else {
                final = "active";
                if (streq(how, "broken"))
                        final = "failed", result = "failed";
                else if (streq(how, "dies")) {
                        /* Active at once, failed a moment later: no job. */
                        write_unit(unit, "active");
                        r = emit_removed(sd_bus_message_get_bus(m), id, job, unit, "done");
                        if (r >= 0 && n_jobs < JOBS_MAX) {
                                snprintf(jobs[n_jobs].unit, sizeof jobs[n_jobs].unit, "%s", unit);
                                jobs[n_jobs].path[0] = 0;
                                jobs[n_jobs].final = "failed";
                                jobs[n_jobs].when = now_usec() + 50 * USEC_PER_MSEC;
                                n_jobs++;
                        }
                        return r;
                }
                else if (streq(how, "slow")) {
                        now = "activating";
                        when = now_usec() + n * 10 * USEC_PER_MSEC;
                }
        }
        if (!now) {
                write_unit(unit, final);
                char t[512];
                unit_file(unit, ".transient", t, sizeof t);
                if (stop && access(t, F_OK) == 0) {
                        char p[512];
                        unit_file(unit, "", p, sizeof p);
                        (void) unlink(p);
                        (void) unlink(t);
                }
                return emit_removed(sd_bus_message_get_bus(m), id, job, unit, result);
        }
        write_unit(unit, now);
        if (n_jobs < JOBS_MAX) {
                snprintf(jobs[n_jobs].unit, sizeof jobs[n_jobs].unit, "%s", unit);
                snprintf(jobs[n_jobs].path, sizeof jobs[n_jobs].path, "%s", job);
                jobs[n_jobs].result = result;
                jobs[n_jobs].final = final;
                jobs[n_jobs].when = when;
                n_jobs++;
        }
        return 1;
}

/* "NAME=VALUE" of one (sv) whose value is a string, or ExecStart's
 * "PATH [ARG]... IGNORE". */
static int read_property_text(sd_bus_message *m, FILE *f) {
        const char *name, *contents;
        int r = sd_bus_message_enter_container(m, 'r', "sv");
        if (r <= 0)
                return r;
        r = sd_bus_message_read(m, "s", &name);
        if (r >= 0)
                r = sd_bus_message_peek_type(m, NULL, &contents);
        if (r < 0)
                return r;
        fprintf(f, " %s=", name);
        if (streq(contents, "s")) {
                const char *v;
                r = sd_bus_message_read(m, "v", "s", &v);
                if (r >= 0)
                        fprintf(f, "%s", v);
        } else if (streq(contents, "a(sasb)")) {
                const char *path;
                char **argv = NULL;
                int ignore;
                r = sd_bus_message_enter_container(m, 'v', contents);
                if (r >= 0)
                        r = sd_bus_message_enter_container(m, 'a', "(sasb)");
                while (r >= 0 && (r = sd_bus_message_enter_container(m, 'r', "sasb")) > 0) {
                        r = sd_bus_message_read(m, "s", &path);
                        if (r >= 0)
                                r = sd_bus_message_read_strv(m, &argv);
                        if (r >= 0)
                                r = sd_bus_message_read(m, "b", &ignore);
                        if (r < 0)
                                break;
                        fprintf(f, "%s", path);
                        for (char **a = argv; a && *a; a++)
                                fprintf(f, " [%s]", *a);
                        fprintf(f, " %s", ignore ? "true" : "false");
                        strv_free(argv);
                        argv = NULL;
                        r = sd_bus_message_exit_container(m);
                }
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        } else if (streq(contents, "ay")) {
                const uint8_t *bytes;
                size_t n;
                r = sd_bus_message_enter_container(m, 'v', contents);
                if (r >= 0)
                        r = sd_bus_message_read_array(m, 'y', (const void **) &bytes, &n);
                for (size_t i = 0; r >= 0 && i < n; i++)
                        fprintf(f, "%02x", bytes[i]);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        } else {
                fprintf(f, "(%s)", contents);
                r = sd_bus_message_skip(m, "v");
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        return r < 0 ? r : 1;
}

/* Logs "MEMBER UNIT MODE|runtime=B PROPERTY=VALUE..." of a call that
 * starts with a unit's name, a string or boolean, and an a(sv); then
 * rewinds it for the method to read. */
static int log_properties(sd_bus_message *m) {
        const char *unit, *mode;
        char *buf = NULL, type;
        size_t size = 0;
        int runtime;
        FILE *f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        int r = sd_bus_message_read(m, "s", &unit);
        if (r >= 0)
                r = sd_bus_message_peek_type(m, &type, NULL);
        if (r >= 0 && type == 's' && (r = sd_bus_message_read(m, "s", &mode)) >= 0)
                fprintf(f, "%s %s", unit, mode);
        else if (r >= 0 && (r = sd_bus_message_read(m, "b", &runtime)) >= 0)
                fprintf(f, "%s runtime=%d", unit, runtime);
        if (r >= 0)
                r = sd_bus_message_enter_container(m, 'a', "(sv)");
        while (r >= 0 && (r = read_property_text(m, f)) > 0)
                ;
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        fclose(f);
        if (r >= 0)
                log_call(sd_bus_message_get_member(m), buf);
        free(buf);
        return r < 0 ? r : sd_bus_message_rewind(m, true);
}

static int method_start_transient(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        const char *unit, *mode;
        char job[128], p[512], state[32], how[32];
        unsigned n;
        int r = log_properties(m);
        if (r >= 0)
                r = sd_bus_message_read(m, "ss", &unit, &mode);
        if (r < 0)
                return r;
        if (read_unit(unit, state, how, &n))
                return sd_bus_error_setf(e, "org.freedesktop.systemd1.UnitExists",
                                         "Unit %s was already loaded or has a fragment file.", unit);
        unit_file(unit, ".transient", p, sizeof p);
        FILE *f = fopen(p, "we");
        if (f)
                fclose(f);
        unit_file("fail-start", "", p, sizeof p);
        bool fail = access(p, F_OK) == 0;

        unsigned id = ++job_id;
        snprintf(job, sizeof job, "/org/freedesktop/systemd1/job/%u", id);
        r = sd_bus_reply_method_return(m, "o", job);
        if (r < 0)
                return r;
        write_unit(unit, fail ? "failed" : "active");
        return emit_removed(sd_bus_message_get_bus(m), id, job, unit, fail ? "failed" : "done");
}

static int method_set_properties(sd_bus_message *m, void *userdata, sd_bus_error *e) {
        const char *unit, *name;
        char p[512];
        const void *bytes = NULL;
        size_t n = 0;
        int runtime;
        /* Logged, then read again to keep them: AllowedCPUs alone. */
        int r = log_properties(m);
        if (r >= 0)
                r = sd_bus_message_read(m, "sb", &unit, &runtime);
        if (r >= 0)
                r = sd_bus_message_enter_container(m, 'a', "(sv)");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'r', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        return r;
                if (!streq(name, "AllowedCPUs"))
                        return sd_bus_error_setf(e, SD_BUS_ERROR_PROPERTY_READ_ONLY,
                                                 "Cannot set property %s, or unknown property.", name);
                r = sd_bus_message_enter_container(m, 'v', "ay");
                if (r >= 0)
                        r = sd_bus_message_read_array(m, 'y', &bytes, &n);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
                unit_file(unit, ".cpus", p, sizeof p);
                FILE *f = fopen(p, "we");
                if (!f)
                        return -errno;
                fwrite(bytes, 1, n, f);
                fclose(f);
        }
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(m, NULL);
}

static int get_cpus(sd_bus *bus, const char *path, const char *interface, const char *property,
                    sd_bus_message *reply, void *userdata, sd_bus_error *e) {
        char unit[128], p[512];
        uint8_t bytes[1024];
        size_t n = 0;
        path_unit(path, unit, sizeof unit);
        log_call("Get", unit);
        unit_file(unit, ".cpus", p, sizeof p);
        FILE *f = fopen(p, "re");
        if (f) {
                n = fread(bytes, 1, sizeof bytes, f);
                fclose(f);
        }
        return sd_bus_message_append_array(reply, 'y', bytes, n);
}

/* A slice's object has the Slice interface, a scope's the Scope one. */
static int find_slice(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                      sd_bus_error *e) {
        size_t n = strlen(path);
        *found = NULL;
        return n > 8 && streq(path + n - 8, "_2eslice");
}

static int find_scope(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                      sd_bus_error *e) {
        size_t n = strlen(path);
        *found = NULL;
        return n > 8 && streq(path + n - 8, "_2escope");
}

static const sd_bus_vtable cpus_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("AllowedCPUs", "ay", get_cpus, 0, 0),
        SD_BUS_VTABLE_END,
};

static int get_state(sd_bus *bus, const char *path, const char *interface, const char *property,
                     sd_bus_message *reply, void *userdata, sd_bus_error *e) {
        char unit[128], state[32], how[32];
        unsigned n;
        path_unit(path, unit, sizeof unit);
        bool found = read_unit(unit, state, how, &n);
        if (streq(property, "LoadState"))
                return sd_bus_message_append(reply, "s", found ? "loaded" : "not-found");
        if (streq(property, "ActiveEnterTimestampMonotonic"))
                return sd_bus_message_append(reply, "t", (uint64_t) (found ? active_since(unit) : 0));
        return sd_bus_message_append(reply, "s", found ? state : "inactive");
}

/* Each unit's control group, where systemd puts a system service. */
static int get_control_group(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *e) {
        char unit[128], cg[160];
        path_unit(path, unit, sizeof unit);
        snprintf(cg, sizeof cg, "/system.slice/%s", unit);
        return sd_bus_message_append(reply, "s", cg);
}

static int find_unit(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                     sd_bus_error *e) {
        *found = NULL;
        return 1;
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("LoadUnit", "s", "o", method_load, 0),
        SD_BUS_METHOD("StopUnit", "ss", "o", method_change, 0),
        SD_BUS_METHOD("StartUnit", "ss", "o", method_change, 0),
        SD_BUS_METHOD("Subscribe", "", "", method_subscribe, 0),
        SD_BUS_METHOD("StartTransientUnit", "ssa(sv)a(sa(sv))", "o", method_start_transient, 0),
        SD_BUS_METHOD("SetUnitProperties", "sba(sv)", "", method_set_properties, 0),
        SD_BUS_SIGNAL("JobRemoved", "uoss", 0),
        SD_BUS_VTABLE_END,
};

static const sd_bus_vtable unit_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("LoadState", "s", get_state, 0, 0),
        SD_BUS_PROPERTY("ActiveState", "s", get_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ActiveEnterTimestampMonotonic", "t", get_state, 0, 0),
        SD_BUS_VTABLE_END,
};

static const sd_bus_vtable service_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("ControlGroup", "s", get_control_group, 0, 0),
        SD_BUS_VTABLE_END,
};

/* Ends the slow jobs whose time came. */
static void run_jobs(sd_bus *bus) {
        usec_t now = now_usec();
        for (size_t i = 0; i < n_jobs;) {
                if (jobs[i].when == 0 || jobs[i].when > now) {
                        i++;
                        continue;
                }
                write_unit(jobs[i].unit, jobs[i].final);
                unsigned id = 0;
                if (jobs[i].path[0] && sscanf(jobs[i].path, "/org/freedesktop/systemd1/job/%u", &id) == 1)
                        (void) emit_removed(bus, id, jobs[i].path, jobs[i].unit, jobs[i].result);
                memmove(jobs + i, jobs + i + 1, (n_jobs - i - 1) * sizeof jobs[0]);
                n_jobs--;
        }
}

static void serve(int fd) {
        sd_bus *bus = NULL;
        sd_id128_t id;
        if (sd_id128_randomize(&id) < 0 || sd_bus_new(&bus) < 0 || sd_bus_set_fd(bus, fd, fd) < 0 ||
            sd_bus_set_server(bus, 1, id) < 0 ||
            sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                                     manager_vtable, NULL) < 0 ||
            sd_bus_add_fallback_vtable(bus, NULL, "/org/freedesktop/systemd1/unit", "org.freedesktop.systemd1.Unit",
                                       unit_vtable, find_unit, NULL) < 0 ||
            sd_bus_add_fallback_vtable(bus, NULL, "/org/freedesktop/systemd1/unit",
                                       "org.freedesktop.systemd1.Service", service_vtable, find_unit, NULL) < 0 ||
            sd_bus_add_fallback_vtable(bus, NULL, "/org/freedesktop/systemd1/unit", "org.freedesktop.systemd1.Slice",
                                       cpus_vtable, find_slice, NULL) < 0 ||
            sd_bus_add_fallback_vtable(bus, NULL, "/org/freedesktop/systemd1/unit", "org.freedesktop.systemd1.Scope",
                                       cpus_vtable, find_scope, NULL) < 0 ||
            sd_bus_start(bus) < 0) {
                close(fd);
                return;
        }
        n_jobs = 0;
        serving = bus;
        for (;;) {
                run_jobs(bus);
                int r = sd_bus_process(bus, NULL);
                if (r < 0)
                        break;
                if (r > 0)
                        continue;
                if (sd_bus_wait(bus, 2 * USEC_PER_MSEC) < 0)
                        break;
        }
        serving = NULL;
        sd_bus_flush_close_unref(bus);
}

pid_t fakesystemd_start(const char *unit_dir, char *address, size_t size) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s/bus", unit_dir);
        int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0 || bind(s, (struct sockaddr *) &sa, sizeof sa) < 0 || listen(s, 8) < 0)
                return -1;
        snprintf(address, size, "unix:path=%s", sa.sun_path);
        pid_t pid = fork();
        if (pid != 0) {
                close(s);
                return pid;
        }
        dir = unit_dir;
        for (;;) {
                int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
                if (c >= 0)
                        serve(c);
        }
}

pid_t fakesystemd_start_env(const char *unit_dir) {
        char address[256];
        pid_t pid = fakesystemd_start(unit_dir, address, sizeof address);
        if (pid > 0 && (setenv("VFIO_HOOK_SYSTEMD_BUS", address, 1) < 0 || unsetenv("VFIO_HOOK_SYSTEMCTL") < 0)) {
                fakesystemd_stop(pid);
                return -1;
        }
        return pid;
}

void fakesystemd_stop_env(pid_t pid) {
        units_close();
        fakesystemd_stop(pid);
}

void fakesystemd_stop(pid_t pid) {
        if (pid > 0) {
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
        }
}
