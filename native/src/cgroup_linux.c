/*
 * Whole-tree kill on Linux: cgroup v2.
 *
 * Strategy. A child spawned with FL_SPAWN_INTO_CGROUP (spawn_linux.c) lives in a cgroup leaf that
 * the caller created for it; everything it starts stays there, whatever it does with sessions and
 * process groups, because only a process with write access to the cgroup tree can leave. Killing
 * the tree is then one write of "1" to cgroup.kill (Linux 5.14): the kernel signals every process
 * in the cgroup and its descendants and, holding the cgroup's fork lock, also the ones being forked
 * while it walks, so nothing escapes and no PID is ever named. fl_cgroup_populated reads
 * "populated" from cgroup.events to tell when the last process has exited and the leaf may go.
 *
 * Alternatives considered. kill(-pgid) misses every descendant that called setsid or setpgid, and
 * once the group's leader is reaped the group ID may be recycled. Walking /proc for the
 * descendants of the child races with every fork and exit and loses orphans (re-parented to init).
 * PR_SET_CHILD_SUBREAPER keeps orphans as this process's children, but it changes who reaps them
 * for the whole JVM (the JDK's children included) and still needs a walk. A PID namespace
 * (CLONE_NEWPID) kills everything when its init dies, but needs privileges (or a user namespace)
 * and changes what the child sees.
 *
 * The fallback, 5.2 to 5.13 (no cgroup.kill, but cgroup.freeze): freeze the cgroup, wait until
 * cgroup.events says "frozen 1", read cgroup.procs of it and of every descendant and kill(pid,
 * SIGKILL) each, then thaw. Why a PID is safe to signal here: a PID is recycled only after its
 * process has exited and been reaped, and a frozen process cannot exit by itself, nor fork (so no
 * new PID appears in the cgroup behind our back). Each listed PID is signalled once, after the
 * whole list of its cgroup was read; a process we killed exits (SIGKILL gets through the freezer)
 * and may be reaped at once by a parent outside the cgroup, but its PID is not used again here.
 * The remaining race: a process that someone else kills with a fatal signal (the OOM killer, a
 * user) after our read of cgroup.procs, and that its parent outside the cgroup reaps, and whose PID
 * the kernel hands to a new process, all before our kill(2) a few microseconds later: that new
 * process gets the SIGKILL. pidfds would close this (open one per PID, read the list again, signal
 * only the pidfds whose PIDs are still listed) but cost a second read per cgroup; on the kernels
 * that need this path (without cgroup.kill) we judged the window too small to pay for. Other
 * limits: a process that a third party moves into the cgroup during the call may be missed (call
 * again while fl_cgroup_populated says 1), and a freeze that does not complete (a task in
 * uninterruptible sleep delays it, e.g. on a hung NFS server) is given up on after a second and
 * the kill goes ahead anyway: the caller asked for the tree to die, and a D-state task dies as soon
 * as it leaves the kernel; only then may a process that exits by itself widen the race above.
 *
 * cgroup v1 is not supported: its freezer and its tasks files live in separate hierarchies per
 * controller, and most systems that still mount v1 also mount v2 (the "unified" hybrid layout).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define FL_FREEZE_TIMEOUT_MS 1000

int fl_cgroup_check_fd(int fd) {
    if (fd < 0) return -EBADF;
    struct statfs fs;
    struct stat st;
    if (fstatfs(fd, &fs) != 0 || fstat(fd, &st) != 0) return -errno;
    if ((unsigned long)fs.f_type != CGROUP2_SUPER_MAGIC || !S_ISDIR(st.st_mode)) return -EINVAL;
    return 0;
}

/* Reads up to len - 1 bytes of dir/name and NUL-terminates them: the length, or -errno. */
static long read_at(int dir, const char *name, char *buf, size_t len) {
    int fd = openat(dir, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    size_t got = 0;
    while (got < len - 1) {
        ssize_t n = read(fd, buf + got, len - 1 - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int err = errno;
            close(fd);
            return -err;
        }
        if (n == 0) break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    return (long)got;
}

/* One write of value to dir/name (cgroup control files take a whole value per write). */
static int write_at(int dir, const char *name, const char *value) {
    int fd = openat(dir, name, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    ssize_t n;
    do {
        n = write(fd, value, strlen(value));
    } while (n < 0 && errno == EINTR);
    int err = n < 0 ? errno : 0;
    close(fd);
    return -err;
}

/* The value of "key N" in cgroup.events: 0 or 1, or -errno (-EINVAL: the key is not there). */
static int events_value(int dir, const char *key) {
    char buf[256];
    long n = read_at(dir, "cgroup.events", buf, sizeof buf);
    if (n < 0) return (int)n;
    size_t klen = strlen(key);
    for (char *line = buf; *line != '\0';) {
        char *end = strchr(line, '\n');
        if (strncmp(line, key, klen) == 0 && line[klen] == ' ') return line[klen + 1] == '1';
        if (end == NULL) break;
        line = end + 1;
    }
    return -EINVAL;
}

static int bad_component(const char *name) {
    return name == NULL || name[0] == '\0' || strchr(name, '/') != NULL || strcmp(name, ".") == 0
           || strcmp(name, "..") == 0;
}

int fl_cgroup_create(fl_fd parent_fd, const char *name, fl_fd *out) {
    if (out == NULL || bad_component(name)) return -EINVAL;
    int rc = fl_cgroup_check_fd(parent_fd);
    if (rc < 0) return rc;
    if (mkdirat(parent_fd, name, 0755) != 0) return -errno;
    int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        unlinkat(parent_fd, name, AT_REMOVEDIR);
        return -err;
    }
    *out = fd;
    return 0;
}

int fl_cgroup_remove(fl_fd parent_fd, const char *name) {
    if (bad_component(name)) return -EINVAL;
    int rc = fl_cgroup_check_fd(parent_fd);
    if (rc < 0) return rc;
    return unlinkat(parent_fd, name, AT_REMOVEDIR) == 0 ? 0 : -errno;
}

int fl_cgroup_populated(fl_fd cgroup_fd) {
    int rc = fl_cgroup_check_fd(cgroup_fd);
    if (rc < 0) return rc;
    return events_value(cgroup_fd, "populated");
}

int fl_cgroup_kill(fl_fd cgroup_fd) {
    int rc = fl_cgroup_check_fd(cgroup_fd);
    if (rc < 0) return rc;
    rc = write_at(cgroup_fd, "cgroup.kill", "1");
    /* ENOENT: a kernel before 5.14 (or the root cgroup, which has neither file). */
    if (rc != -ENOENT) return rc;
    return fl_cgroup_signal_by_freezing(cgroup_fd, SIGKILL);
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* sig to every process listed in dir's cgroup.procs, then the same in each child cgroup.
 * Keeps going after an error and returns the first one (0 if none). */
static int signal_listed(int dir, int sig, int depth) {
    int first_err = 0;
    /* Read the whole list before signalling anyone (see the essay): a process killed early in the
     * list may be reaped and its PID reused while we are still reading. */
    size_t cap = 4096, len = 0;
    char *list = malloc(cap);
    if (list == NULL) return -ENOMEM;
    int fd = openat(dir, "cgroup.procs", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        free(list);
        return -errno;
    }
    for (;;) {
        if (cap - len < 2) {
            char *bigger = realloc(list, cap * 2);
            if (bigger == NULL) {
                first_err = -ENOMEM;
                break;
            }
            list = bigger;
            cap *= 2;
        }
        ssize_t n = read(fd, list + len, cap - 1 - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            first_err = -errno;
            break;
        }
        if (n == 0) break;
        len += (size_t)n;
    }
    close(fd);
    list[len] = '\0';
    if (first_err == 0) {
        for (char *p = list; *p != '\0';) {
            char *end;
            long pid = strtol(p, &end, 10);
            if (end == p) break;
            /* ESRCH: it exited (killed by someone else, see the essay) after the read. */
            if (pid > 0 && kill((pid_t)pid, sig) != 0 && errno != ESRCH && first_err == 0) {
                first_err = -errno;
            }
            p = end;
            while (*p == '\n') p++;
        }
    }
    free(list);
    if (first_err != 0) return first_err;

    /* Child cgroups: every subdirectory of a cgroup v2 directory is one. The depth is bounded by
     * the kernel (cgroup.max.depth); the guard only stops a runaway recursion. */
    if (depth > 64) return -ELOOP;
    int dfd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return -errno;
    DIR *d = fdopendir(dfd);
    if (d == NULL) {
        int err = errno;
        close(dfd);
        return -err;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_type != DT_DIR || strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        int child = openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        /* ENOENT: removed meanwhile, nothing to kill there. */
        int rc = child < 0 ? (errno == ENOENT ? 0 : -errno) : signal_listed(child, sig, depth + 1);
        if (child >= 0) close(child);
        if (rc < 0 && first_err == 0) first_err = rc;
    }
    closedir(d);
    return first_err;
}

int fl_cgroup_signal(fl_fd cgroup_fd, int sig) {
    if (sig == SIGKILL) return fl_cgroup_kill(cgroup_fd);
    if (sig <= 0 || sig >= NSIG) return -EINVAL;
    return fl_cgroup_signal_by_freezing(cgroup_fd, sig);
}

int fl_cgroup_signal_by_freezing(int fd, int sig) {
    int rc = fl_cgroup_check_fd(fd);
    if (rc < 0) return rc;
    /* Thaw at the end only what this call froze: a cgroup its owner froze stays frozen. */
    char was[8];
    long n = read_at(fd, "cgroup.freeze", was, sizeof was);
    if (n < 0) return (int)n;
    int frozen_before = was[0] == '1';
    if (!frozen_before) {
        rc = write_at(fd, "cgroup.freeze", "1");
        if (rc < 0) return rc;
    }
    /* The freezer works asynchronously: "frozen 1" once every task in the subtree has stopped. */
    int64_t deadline = now_ms() + FL_FREEZE_TIMEOUT_MS;
    while (events_value(fd, "frozen") == 0 && now_ms() < deadline) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    rc = signal_listed(fd, sig, 0);
    if (!frozen_before) {
        int thaw = write_at(fd, "cgroup.freeze", "0");
        if (rc == 0) rc = thaw;
    }
    return rc;
}

/* flock rather than fcntl locks: an fcntl lock belongs to the process and is dropped when it
 * closes any descriptor of the file (the JVM opens its own directory elsewhere too); a flock
 * belongs to the open file description and is shared by nothing else. kernfs (cgroupfs) keeps one
 * inode per cgroup whatever the mount or namespace it is seen through, so the claim is seen from
 * every PID and cgroup namespace. */
int fl_cgroup_claim(fl_fd cgroup_fd, int wait) {
    int rc = fl_cgroup_check_fd(cgroup_fd);
    if (rc < 0) return rc;
    for (;;) {
        if (flock(cgroup_fd, LOCK_EX | (wait ? 0 : LOCK_NB)) == 0) return 0;
        if (errno != EINTR) return -errno;
    }
}
