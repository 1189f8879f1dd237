/* Declarations shared between the core's files; not part of the public API. */
#ifndef FL_INTERNAL_H
#define FL_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include "common.h"
#include "forkless.h"

#ifdef __cplusplus
extern "C" { /* the tests include this header too */
#endif

/* The Linux process handle. pidfd < 0 means PID-only mode (no pidfd on this kernel or seccomp
 * denied it): then the PID stays safe to signal only because this handle reaps it, under lock. */
struct fl_process {
    int64_t pid;
    int pidfd;
    pthread_mutex_t lock;  /* guards the fields below and every reap and signal */
    int reaped;            /* status is valid */
    int lost;              /* someone else reaped it (waitpid(-1) elsewhere): status unknown */
    fl_exit_status status;
    /* References: 1 for the owner (dropped by fl_process_close), 1 while a reactor watches it.
     * The handle is finished (reaped and destroyed, or put on the orphan list) when the last one
     * goes, so a reactor can still reap a child whose owner has closed it. */
    int refs;
    int watched;           /* registered with a reactor (at most one) */
    struct fl_process *next_orphan;
};

/* thread_unix.c: starts fn(arg) on a detached thread with a 64 KiB stack (the default size if the
 * static TLS does not fit) and every signal blocked; it inherits everything else from the calling
 * thread. 0, or pthread_create's error number (EAGAIN at a thread limit). */
FL_HIDDEN int fl_thread_start_small(void *(*fn)(void *), void *arg);

/* process_linux.c: wraps a freshly spawned child. NULL on ENOMEM (the caller cleans up). */
FL_HIDDEN fl_process *fl_process_new(int64_t pid, int pidfd);
/* process_linux.c: blocks until the child has exited and reaps it; for a spawn that failed. */
FL_HIDDEN void fl_process_reap_failed_child(int64_t pid, int pidfd);

/* process_linux.c, for the reactor. fl_process_watch marks p watched and takes a reference:
 * -EEXIST if it is already watched, else 1 if p already has its final result (reaped, or lost to
 * someone else's waitpid), 0 if not yet. fl_process_unwatch clears the mark and drops that
 * reference (the last reference finishes the handle, see fl_process_unref). */
FL_HIDDEN int fl_process_watch(fl_process *p);
FL_HIDDEN void fl_process_unwatch(fl_process *p);
/* Reaps without blocking (the raw waitid with rusage, under p's lock): 1 with *status filled
 * (also when another thread reaped it first), 0 if the child is still running, -ECHILD if it was
 * reaped behind our back, other -errno. */
FL_HIDDEN int fl_process_reap_nohang(fl_process *p, fl_exit_status *status);
/* Drops one reference; the last one reaps without blocking and destroys the handle, or puts it on
 * the orphan list while the child still runs. */
FL_HIDDEN void fl_process_unref(fl_process *p);

/* resolve_unix.c: PATH search with execvp rules (see forkless.h). On success *resolved is a
 * malloc'd path to execute, or NULL when program is used as given. Returns 0 or -errno. */
FL_HIDDEN int fl_resolve_program(const char *program, const char *const *envp, const char *cwd,
                                 unsigned flags, char **resolved);

/* cgroup_linux.c: 0 if fd is an open directory on a cgroup2 file system, -EBADF if fd is not
 * open, -EINVAL otherwise (a cgroup v1 hierarchy, any other directory or file). */
FL_HIDDEN int fl_cgroup_check_fd(int fd);
/* cgroup_linux.c: freeze, send sig to every listed PID in the subtree, thaw. fl_cgroup_signal's
 * way for any signal but SIGKILL, and fl_cgroup_kill's fallback for kernels without cgroup.kill
 * (before 5.14); exposed for the tests, which run on kernels that have it. 0 or -errno. */
FL_HIDDEN int fl_cgroup_signal_by_freezing(int fd, int sig);

#ifdef __cplusplus
}
#endif

#endif /* FL_INTERNAL_H */
