/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/stat.h>

#include "check/host.h"
#include "model/policy.h"
#include "shared/util.h"

/* libvirt: the hook that runs vfio-hook, and the daemon that runs the hook. */

#define HOOK_MAX (64U * 1024U * 1024U)
#define HOOK_PATH "etc/libvirt/hooks/qemu"
#define HOOK_DIR "etc/libvirt/hooks/qemu.d"
#define HOOK_INSTALLED SBINDIR "/vfio-hook"

/* Is the file at path vfio-hook, or a program that runs it? 1 yes, 0 no. */
static int file_runs_vfio_hook(Sysroot *sr, const char *path) {
        _cleanup_free_ char *target = NULL, *text = NULL;
        int r = sysroot_link_basenamef(sr, &target, "%s", path);
        if (r == -ENOMEM)
                return r;
        if (r >= 0 && streq(target, "vfio-hook"))
                return 1;
        r = sysroot_read_file(sr, path, HOOK_MAX, &text);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;
        /* A script that calls it, or a copy of the binary (which names its engine). */
        return memmem(text, (size_t) r, "vfio-hook", strlen("vfio-hook")) != NULL;
}

/* 1: a regular executable file; 0: exists, is not; -ENOENT. */
static int file_executable(Sysroot *sr, const char *path, mode_t *ret_mode) {
        struct stat st;
        _cleanup_close_ int fd = sysroot_openf(sr, O_PATH, NULL, "%s", path);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        *ret_mode = st.st_mode;
        return S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

static int check_hook_dir(CheckHost *h, char **ret) {
        _cleanup_strv_free_ char **names = NULL;
        int r = sysroot_list_dirf(h->sr, &names, HOOK_DIR);
        if (r < 0)
                return r == -ENOMEM ? r : 0;
        for (char **n = names; *n; n++) {
                _cleanup_free_ char *path = strf(HOOK_DIR "/%s", *n);
                mode_t mode;
                if (!path)
                        return -ENOMEM;
                r = file_runs_vfio_hook(h->sr, path);
                if (r < 0)
                        return r;
                if (r > 0 && file_executable(h->sr, path, &mode) > 0) {
                        *ret = TAKE_PTR(path);
                        return 1;
                }
        }
        return 0;
}

static int check_hook(CheckHost *h, CheckReport *r) {
        _cleanup_free_ char *target = NULL, *chained = NULL;
        char qb[VALUE_QUOTE_BUFSZ];
        const char *restart = "; libvirt looks for hooks when it starts: restart the daemon after installing";
        mode_t mode = 0;
        int k, ours, exec;

        k = check_hook_dir(h, &chained);
        if (k < 0)
                return k;

        k = sysroot_readlinkf(h->sr, &target, HOOK_PATH);
        if (k == -ENOMEM)
                return k;
        exec = file_executable(h->sr, HOOK_PATH, &mode);
        if (exec < 0 && chained)
                return check_report_pass(r, "hook", "/%s runs vfio-hook", chained);
        if (exec == -ENOENT && target)
                return check_report_add(
                        r, CHECK_FAIL, "hook",
                        strf("/" HOOK_PATH " points to %s, which does not exist", value_quote(target, qb)),
                        strf("reinstall (`make install`), or ln -sf " HOOK_INSTALLED " /" HOOK_PATH "%s", restart));
        if (exec < 0) {
                if (exec != -ENOENT)
                        return check_report_add(r, CHECK_WARN, "hook",
                                                strf("cannot read /" HOOK_PATH ": %s", strerror(-exec)),
                                                strf("run as root"));
                return check_report_add(r, CHECK_FAIL, "hook",
                                        strf("no hook at /" HOOK_PATH ": libvirt will not call vfio-hook"),
                                        strf("`make install` links /" HOOK_PATH
                                             " to vfio-hook; or ln -s " HOOK_INSTALLED " /" HOOK_PATH "%s",
                                             restart));
        }

        ours = file_runs_vfio_hook(h->sr, HOOK_PATH);
        if (ours < 0)
                return ours;
        if (ours && exec)
                return target ? check_report_pass(r, "hook", "/" HOOK_PATH " -> %s", value_quote(target, qb))
                              : check_report_pass(r, "hook", "/" HOOK_PATH " runs vfio-hook");
        if (ours)
                return check_report_add(
                        r, CHECK_FAIL, "hook",
                        strf("/" HOOK_PATH "%s%s is not executable (mode %04o): libvirt skips it", target ? " -> " : "",
                             target ? value_quote(target, qb) : "", (unsigned) (mode & 07777)),
                        strf("chmod 755 %s", target && target[0] == '/' ? value_quote(target, qb) : "/" HOOK_PATH));
        if (chained)
                return check_report_pass(r, "hook", "/%s runs vfio-hook (/" HOOK_PATH " is another program)", chained);
        return check_report_add(r, CHECK_FAIL, "hook",
                                strf("/" HOOK_PATH " is %s that does not run vfio-hook",
                                     exec ? "another program" : "a file, not executable,"),
                                strf("chain: link vfio-hook into /" HOOK_DIR
                                     "/ (libvirt >= 6.5 runs each program there), or "
                                     "call " HOOK_INSTALLED " \"$@\" from your hook%s",
                                     restart));
}

static int check_libvirt_daemon(CheckHost *h, CheckReport *r) {
        static const struct {
                const char *path, *daemon;
        } sockets[] = {
                { "run/libvirt/libvirt-sock", "libvirtd" },
                { "run/libvirt/virtqemud-sock", "virtqemud" },
        };
        for (size_t i = 0; i < ELEMENTSOF(sockets); i++)
                if (sysroot_existsf(h->sr, "%s", sockets[i].path) > 0)
                        return check_report_pass(r, "libvirt-daemon", "%s: /%s", sockets[i].daemon, sockets[i].path);
        return check_report_add(
                r, CHECK_WARN, "libvirt-daemon",
                strf("no libvirt daemon socket (/run/libvirt/libvirt-sock or virtqemud-sock): the daemon "
                     "that runs the hook is not running"),
                strf("systemctl enable --now libvirtd.socket (or virtqemud.socket with the modular daemons)"));
}

int check_host_libvirt(CheckHost *h, CheckReport *r) {
        int k;

        if ((k = check_hook(h, r)) < 0 || (k = check_libvirt_daemon(h, r)) < 0)
                return k;
        return 0;
}
