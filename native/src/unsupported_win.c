/* The parts of forkless.h with no Windows backend yet, present so the library links and callers
 * get a clear -ENOSYS: cgroups are Linux's; a Windows tree is its job object
 * (fl_process_signal_group). */
#include <errno.h>

#include "internal_win.h"

int fl_cgroup_kill(fl_fd cgroup_fd) {
    (void)cgroup_fd;
    return -ENOSYS;
}

int fl_cgroup_populated(fl_fd cgroup_fd) {
    (void)cgroup_fd;
    return -ENOSYS;
}

int fl_cgroup_signal(fl_fd cgroup_fd, int sig) {
    (void)cgroup_fd;
    (void)sig;
    return -ENOSYS;
}

int fl_cgroup_create(fl_fd parent_fd, const char *name, fl_fd *out) {
    (void)parent_fd;
    (void)name;
    (void)out;
    return -ENOSYS;
}

int fl_cgroup_remove(fl_fd parent_fd, const char *name) {
    (void)parent_fd;
    (void)name;
    return -ENOSYS;
}

int fl_cgroup_claim(fl_fd cgroup_fd, int wait) {
    (void)cgroup_fd;
    (void)wait;
    return -ENOSYS;
}
