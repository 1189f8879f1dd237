/* Names for messages: spawn steps and errno values. Java builds the rich message from these. */
#include <errno.h>
#include <stddef.h>

#include "forkless.h"

const char *fl_step_name(int step) {
    static const char *const names[FL_STEP_COUNT_] = {
        [FL_STEP_NONE] = "none",         [FL_STEP_VALIDATE] = "validate",
        [FL_STEP_RESOLVE] = "resolve",   [FL_STEP_PREPARE] = "prepare",
        [FL_STEP_FORK] = "fork",         [FL_STEP_SETSID] = "setsid",
        [FL_STEP_SETPGID] = "setpgid",   [FL_STEP_SETGROUPS] = "setgroups",
        [FL_STEP_SETGID] = "setgid",     [FL_STEP_SETUID] = "setuid",
        [FL_STEP_CHDIR] = "chdir",       [FL_STEP_SIGNALS] = "signals",
        [FL_STEP_DUP2] = "dup2",         [FL_STEP_CLOSE_FDS] = "close_fds",
        [FL_STEP_EXEC] = "execve",       [FL_STEP_PIDFD] = "pidfd_open",
        [FL_STEP_PDEATHSIG] = "pdeathsig", [FL_STEP_CGROUP] = "cgroup",
        [FL_STEP_COMMAND_LINE] = "command_line", [FL_STEP_JOB] = "job",
    };
    if (step < 0 || step >= FL_STEP_COUNT_ || names[step] == NULL) return "unknown";
    return names[step];
}

const char *fl_errno_name(int err) {
    switch (err) {
#define FL_E(name) case name: return #name;
        FL_E(EPERM) FL_E(ENOENT) FL_E(ESRCH) FL_E(EINTR) FL_E(EIO) FL_E(ENXIO) FL_E(E2BIG)
        FL_E(ENOEXEC) FL_E(EBADF) FL_E(ECHILD) FL_E(EAGAIN) FL_E(ENOMEM) FL_E(EACCES)
        FL_E(EFAULT) FL_E(EBUSY) FL_E(EEXIST) FL_E(EXDEV) FL_E(ENODEV) FL_E(ENOTDIR)
        FL_E(EISDIR) FL_E(EINVAL) FL_E(ENFILE) FL_E(EMFILE) FL_E(ENOTTY) FL_E(ETXTBSY)
        FL_E(EFBIG) FL_E(ENOSPC) FL_E(ESPIPE) FL_E(EROFS) FL_E(EMLINK) FL_E(EPIPE)
        FL_E(ERANGE) FL_E(ENAMETOOLONG) FL_E(ENOSYS) FL_E(ELOOP) FL_E(ENOTSUP)
        FL_E(ETIMEDOUT) FL_E(EOVERFLOW) FL_E(ECANCELED) FL_E(EILSEQ)
#ifdef ELIBBAD /* not in the Windows C runtime's errno.h */
        FL_E(ELIBBAD)
#endif
#undef FL_E
        default: return NULL;
    }
}

/* All strategies, of every platform: a name is the same wherever it is printed. */
const char *fl_spawn_strategy_name(int strategy) {
    switch (strategy) {
        case FL_STRATEGY_CLONE3: return "clone3";
        case FL_STRATEGY_CLONE_PIDFD: return "clone-pidfd";
        case FL_STRATEGY_PIDFD_OPEN: return "pidfd_open";
        case FL_STRATEGY_PID_ONLY: return "pid-only";
        case FL_STRATEGY_WIN_JOB_LIST: return "job-list";
        case FL_STRATEGY_WIN_SUSPENDED: return "suspended-assign";
        default: return "unknown";
    }
}
