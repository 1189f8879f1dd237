/* Declarations shared between the core's files; not part of the public API. */
#ifndef FL_INTERNAL_H
#define FL_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include "forkless.h"

#if defined(__clang__) || defined(__GNUC__)
#define FL_HIDDEN __attribute__((visibility("hidden")))
#else
#define FL_HIDDEN
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
    struct fl_process *next_orphan;
};

/* process_linux.c: wraps a freshly spawned child. NULL on ENOMEM (the caller cleans up). */
FL_HIDDEN fl_process *fl_process_new(int64_t pid, int pidfd);
/* process_linux.c: blocks until the child has exited and reaps it; for a spawn that failed. */
FL_HIDDEN void fl_process_reap_failed_child(int64_t pid, int pidfd);

/* resolve_unix.c: PATH search with execvp rules (see forkless.h). On success *resolved is a
 * malloc'd path to execute, or NULL when program is used as given. Returns 0 or -errno. */
FL_HIDDEN int fl_resolve_program(const char *program, const char *const *envp, const char *cwd,
                                 unsigned flags, char **resolved);

#endif /* FL_INTERNAL_H */
