/*
 * Spawning on Linux: clone3 with vfork semantics and a pidfd, and the ladder below it.
 *
 * Strategy. The child is created with CLONE_VM | CLONE_VFORK: it borrows the parent's memory
 * instead of copying page tables, so the cost does not grow with the JVM's heap (fork pays about
 * 29 ms per GiB touched), and the calling thread sleeps until the child has called execve or
 * exited. CLONE_PIDFD returns a descriptor for the child in the same system call, so there is no
 * window in which only a reusable PID names it. CLONE_CLEAR_SIGHAND resets every signal handler
 * to SIG_DFL in the kernel: HotSpot's SIGSEGV/SIGBUS handlers must never run in a child that
 * shares the JVM's memory.
 *
 * The ladder, tried from the top and learned at run time (never from the kernel version):
 *   1. clone3(CLONE_VM|CLONE_VFORK|CLONE_PIDFD|CLONE_CLEAR_SIGHAND)    Linux 5.5+
 *   2. clone(CLONE_VM|CLONE_VFORK|CLONE_PIDFD), handlers reset by hand  5.2+; also where a
 *      container's seccomp profile answers clone3 with ENOSYS or EPERM (older Docker profiles)
 *   3. clone(CLONE_VM|CLONE_VFORK), then pidfd_open(pid)                5.3 without CLONE_PIDFD
 *   4. PID only: no pidfd anywhere; process_linux.c keeps the PID safe  before 5.3
 * A rung that answers "not here" (ENOSYS, EPERM, EINVAL) moves the cached strategy down and the
 * next rung runs at once; the strategy never moves up again. Probing by calling means a process
 * that is denied a system call later (a seccomp filter installed after the first spawn) still
 * finds its way down.
 *
 * Alternatives considered. posix_spawn (glibc also uses CLONE_VM|CLONE_VFORK) gives no pidfd and
 * cannot report which step failed; fork copies page tables; a plain vfork() cannot take a pidfd
 * and runs the child on the parent's stack frame. clone3 with our own stack needs a few lines of
 * assembly per architecture (clone3_<arch>.S); other architectures start at rung 2.
 *
 * The child. It shares the parent thread's memory, TLS and errno, so it may make raw system calls
 * only (sys_linux.h): no malloc, no locks, no stdio, no libc set*id wrappers (glibc's broadcast to
 * every thread of the parent). Everything it needs (argv, envp, the resolved path, the descriptor
 * plan) is prepared in the parent. All signals are blocked in the parent across the clone, so no
 * handler can run in the child before the handlers are reset; the mask is emptied just before
 * execve. Order in the child: setsid, setpgid, setgroups, setgid, setuid, chdir, signals,
 * descriptors, execve. A failure is written as {step, errno} into the report block and the child
 * exits with 127; the parent reads it when clone returns, reaps the child and returns the error.
 *
 * Credentials. When the child changes uid/gid/groups, CLONE_VM is dropped (the child gets a copy
 * of the address space, CLONE_VFORK still holds the parent): a less privileged child must not
 * share a privileged JVM's memory, where the new user's processes could ptrace it. The report
 * block is MAP_SHARED memory, so it reaches the parent in both modes.
 *
 * Descriptors. The child gets exactly the descriptors in the map. Sources that collide with a
 * target number are first moved above every number in use (F_DUPFD_CLOEXEC), then each target is
 * dup2'ed into place (a source already at its target only loses FD_CLOEXEC, as dup2(i, i) does
 * nothing). Every other descriptor is then marked close-on-exec with close_range(CLOSE_RANGE_CLOEXEC)
 * (5.11), or closed with close_range (5.9), or found in /proc/self/fd, or, last, closed one by one
 * up to RLIMIT_NOFILE (slow: HotSpot raises the soft limit to the hard one).
 *
 * Cgroups (FL_SPAWN_INTO_CGROUP). On the clone3 rung the kernel puts the child into the cgroup
 * (CLONE_INTO_CGROUP, 5.7), so not even its first instruction runs outside it and no cgroup
 * migration is paid for. Everywhere else the child moves itself, as its very first step (before
 * setsid, and before set*id takes away its right to write cgroup.procs): openat(cgroup_fd,
 * "cgroup.procs") and write "0". Between the clone and that write the child runs only our own
 * code, which starts nothing, so the tree in the cgroup is still complete.
 *
 * Hazard: clone3 answers problems with the cgroup (a kernel before 5.7: EINVAL for the unknown
 * flag or E2BIG for the longer struct; a cgroup that cannot take processes: EOPNOTSUPP, EBUSY;
 * no permission: EACCES, EPERM, ENOENT; a removed cgroup: ENODEV) with the same numbers it uses
 * for "clone3 is not here" (EINVAL, EPERM). So a clone3 with CLONE_INTO_CGROUP that fails is never
 * read as a verdict on clone3: it is retried once at once without the flag, the child then joins
 * by itself, and only that retry's answer counts for the ladder. A cgroup the kernel refuses
 * therefore fails at FL_STEP_CGROUP with the errno of the child's write, and the strategy stays.
 * Not cached: on a kernel without the flag each such spawn pays one clone3 that fails at once.
 *
 * Detached spawns (fl_spawn_detached) put a second, plain fork between setsid and the rest of
 * these steps; the essay at the end of this file says why it runs on a private stack and reports
 * through a pipe.
 *
 * Dying with the parent (FL_SPAWN_DIE_WITH_PARENT) has an essay of its own before fl_spawn: such
 * a child is cloned by a "holder" thread that the calling thread creates and that lives until the
 * child has exited.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "sys_linux.h"

extern char **environ;

#if defined(__x86_64__) || defined(__aarch64__)
#define FL_HAVE_CLONE3_ENTRY 1
long fl_clone3(struct clone_args *args, size_t size, int (*fn)(void *), void *arg) FL_HIDDEN;
#define FL_TOP_STRATEGY FL_STRATEGY_CLONE3
#else
#define FL_TOP_STRATEGY FL_STRATEGY_CLONE_PIDFD
#endif

/* Code that runs in the child: no sanitizer instrumentation (its runtime is not safe to enter
 * there, and ASan's redzones on the child's stack would be left poisoned when it execs). */
#if defined(__clang__) || defined(__GNUC__)
#define FL_CHILD __attribute__((noinline, no_sanitize("address", "undefined")))
#else
#define FL_CHILD
#endif

#define FL_STACK_SIZE (64 * 1024)

static _Atomic int spawn_strategy = FL_TOP_STRATEGY;

/* How the child closes descriptors; it lowers this itself when a kernel says no. */
enum { CLOSE_RANGE_FLAG_OK = 0, CLOSE_RANGE_PLAIN_OK = 1, CLOSE_RANGE_NONE = 2 };
static _Atomic int close_range_mode = CLOSE_RANGE_FLAG_OK;

struct child_report {
    volatile int step;
    volatile int err;
};

struct child_plan {
    const char *path;        /* what execve runs */
    char *const *argv;
    char *const *envp;
    char **sh_argv;          /* { "/bin/sh", path, argv[1..], NULL } for ENOEXEC */
    const char *cwd;
    const fl_fd_map *fds;
    size_t nfds;
    const int *keep;         /* sorted, distinct child fd numbers */
    size_t nkeep;
    int high_fd;             /* above every number in the map: where colliding sources move */
    int *moved;              /* per map entry: the source to dup2 from (child-side scratch) */
    unsigned flags;
    int pgid;
    uint32_t uid, gid;
    const uint32_t *groups;
    size_t ngroups;
    int cgroup_fd;           /* with FL_SPAWN_INTO_CGROUP */
    int join_cgroup;         /* 1: the child writes cgroup.procs itself (no CLONE_INTO_CGROUP) */
    int reset_handlers;      /* 1 when the kernel did not clear them (no CLONE_CLEAR_SIGHAND) */
    long parent_pid;         /* for FL_SPAWN_DIE_WITH_PARENT: getppid() must still say this */
    struct child_report *report;
    /* fl_spawn_detached only (see detached_main): */
    int detached;            /* this child is the intermediate of a double fork */
    int grandchild;          /* set in the grandchild's own copy of the plan after the fork */
    int report_fd;           /* the grandchild reports {step, errno} here (a close-on-exec pipe) */
    volatile int64_t *grandchild_pid; /* the intermediate stores the grandchild's PID here */
};

/* ---- the child ------------------------------------------------------------------------------ */

FL_CHILD static int child_fail(struct child_plan *plan, int step, long err) {
    if (plan->grandchild) {
        /* Not the report block: the grandchild's memory is a copy, and it runs on after the
         * parent has returned. One 8-byte write to a pipe is atomic; all signals are blocked. */
        int rec[2] = {step, (int)-err};
        FL_SYS3(SYS_write, plan->report_fd, rec, sizeof rec);
        return 127;
    }
    plan->report->err = (int)-err;
    plan->report->step = step;
    return 127;
}

FL_CHILD static int child_is_kept(const struct child_plan *plan, long fd) {
    for (size_t i = 0; i < plan->nkeep; i++) {
        if (plan->keep[i] == fd) return 1;
    }
    return 0;
}

/* Marks [lo, hi] close-on-exec, or closes it, with whatever close_range the kernel has.
 * 0 done, 1 = no close_range here, -errno = failed. */
FL_CHILD static long child_close_range(unsigned lo, unsigned hi) {
    int mode = atomic_load_explicit(&close_range_mode, memory_order_relaxed);
    if (mode == CLOSE_RANGE_FLAG_OK) {
        long rc = FL_SYS3(SYS_close_range, lo, hi, CLOSE_RANGE_CLOEXEC);
        if (rc == 0) return 0;
        if (rc != -EINVAL && rc != -ENOSYS && rc != -EPERM) return rc;
        /* 5.9/5.10 know close_range but not the flag (EINVAL). */
        mode = rc == -EINVAL ? CLOSE_RANGE_PLAIN_OK : CLOSE_RANGE_NONE;
        atomic_store_explicit(&close_range_mode, mode, memory_order_relaxed);
    }
    if (mode == CLOSE_RANGE_PLAIN_OK) {
        long rc = FL_SYS3(SYS_close_range, lo, hi, 0);
        if (rc == 0) return 0;
        if (rc != -ENOSYS && rc != -EPERM) return rc;
        atomic_store_explicit(&close_range_mode, CLOSE_RANGE_NONE, memory_order_relaxed);
    }
    return 1;
}

struct fl_dirent64 {
    uint64_t ino;
    int64_t off;
    unsigned short reclen;
    unsigned char type;
    char name[];
};

/* Without close_range: every descriptor listed in /proc/self/fd that is not kept gets
 * FD_CLOEXEC (not closed, so the directory listing is not disturbed). 1 = no /proc. */
FL_CHILD static long child_cloexec_from_proc(const struct child_plan *plan) {
    long dir = FL_SYS4(SYS_openat, AT_FDCWD, "/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (dir < 0) return 1;
    char buf[1024] __attribute__((aligned(8)));
    for (;;) {
        long n = FL_SYS3(SYS_getdents64, dir, buf, sizeof buf);
        if (n < 0) {
            FL_SYS1(SYS_close, dir);
            return n;
        }
        if (n == 0) break;
        for (long off = 0; off < n;) {
            struct fl_dirent64 *d = (struct fl_dirent64 *)(buf + off);
            off += d->reclen;
            long fd = 0;
            const char *c = d->name;
            if (*c < '0' || *c > '9') continue;
            for (; *c >= '0' && *c <= '9'; c++) fd = fd * 10 + (*c - '0');
            if (fd == dir || child_is_kept(plan, fd)) continue;
            FL_SYS3(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC);
        }
    }
    FL_SYS1(SYS_close, dir);
    return 0;
}

FL_CHILD static long child_close_others(const struct child_plan *plan) {
    unsigned lo = 0;
    for (size_t i = 0; i <= plan->nkeep; i++) {
        unsigned hi = i < plan->nkeep ? (unsigned)plan->keep[i] : ~0U;
        if (i < plan->nkeep && hi == lo) {
            lo = hi + 1;
            continue;
        }
        long rc = child_close_range(lo, i < plan->nkeep ? hi - 1 : hi);
        if (rc < 0) return rc;
        if (rc == 1) goto no_close_range;
        if (i < plan->nkeep) lo = hi + 1;
    }
    return 0;

no_close_range:;
    long rc = child_cloexec_from_proc(plan);
    if (rc <= 0) return rc;
    struct rlimit lim;
    if (FL_SYS4(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &lim) < 0 || lim.rlim_cur > (1u << 20)) {
        lim.rlim_cur = 1u << 20;
    }
    for (long fd = 0; fd < (long)lim.rlim_cur; fd++) {
        if (!child_is_kept(plan, fd)) FL_SYS1(SYS_close, fd);
    }
    return 0;
}

FL_CHILD static int child_setup_fds(struct child_plan *plan) {
    /* 1. Sources that are some other entry's target move above every number in the map. */
    for (size_t i = 0; i < plan->nfds; i++) {
        int src = plan->fds[i].parent_fd;
        plan->moved[i] = src;
        if (src == plan->fds[i].child_fd || !child_is_kept(plan, src)) continue;
        long rc = FL_SYS3(SYS_fcntl, src, F_DUPFD_CLOEXEC, plan->high_fd);
        if (rc < 0) return child_fail(plan, FL_STEP_DUP2, rc);
        plan->moved[i] = (int)rc;
    }
    /* 2. Into place. dup2 clears FD_CLOEXEC on the copy; a source already at its target only
     * needs the flag cleared, because dup2(i, i) changes nothing. */
    for (size_t i = 0; i < plan->nfds; i++) {
        int target = plan->fds[i].child_fd;
        long rc = plan->moved[i] == target
                      ? FL_SYS3(SYS_fcntl, target, F_SETFD, 0)
                      : FL_SYS3(SYS_dup3, plan->moved[i], target, 0);
        if (rc < 0) return child_fail(plan, FL_STEP_DUP2, rc);
    }
    /* 3. Everything else, the moved copies included, goes at execve. */
    long rc = child_close_others(plan);
    if (rc < 0) return child_fail(plan, FL_STEP_CLOSE_FDS, rc);
    return 0;
}

/* The intermediate of a detached spawn: a new session, then a plain fork (no CLONE_VM: the
 * grandchild gets a copy of this address space, so it can outlive the spawn while the parent
 * reuses its memory). Returns 0 in the intermediate, which then exits at once (the parent reaps
 * it), and -1 in the grandchild, which goes on with the usual setup; its copy of the plan says
 * so. Failures here go to the report block (the intermediate runs before the parent resumes). */
FL_CHILD static int detached_main(struct child_plan *plan) {
    long rc = FL_SYS0(SYS_setsid);
    if (rc < 0) return child_fail(plan, FL_STEP_SETSID, rc);
    /* clone(SIGCHLD) is fork without glibc's atfork handlers and its lock. */
    rc = FL_SYS5(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (rc < 0) return child_fail(plan, FL_STEP_FORK, rc);
    if (rc > 0) {
        *plan->grandchild_pid = rc;
        return 0;
    }
    plan->grandchild = 1;
    return -1;
}

FL_CHILD static int child_main(void *arg) {
    struct child_plan *plan = arg;
    long rc;

    if (plan->detached) {
        int r = detached_main(plan);
        if (r >= 0) return r;
    }
    /* First, while the child still has the caller's credentials (cgroup v2 checks write access to
     * cgroup.procs of the target and of the common ancestor, with the opener's credentials). */
    if (plan->join_cgroup) {
        rc = FL_SYS4(SYS_openat, plan->cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC, 0);
        if (rc < 0) return child_fail(plan, FL_STEP_CGROUP, rc);
        long procs = rc;
        rc = FL_SYS3(SYS_write, procs, "0", 1);
        FL_SYS1(SYS_close, procs);
        if (rc < 0) return child_fail(plan, FL_STEP_CGROUP, rc);
    }
    if (plan->flags & FL_SPAWN_NEW_SESSION) {
        rc = FL_SYS0(SYS_setsid);
        if (rc < 0) return child_fail(plan, FL_STEP_SETSID, rc);
    }
    /* After setsid the child already leads a group of its own, and setpgid would fail (EPERM
     * for a session leader): validate() only lets pgid 0 through with a new session. */
    if ((plan->flags & FL_SPAWN_NEW_PROCESS_GROUP) && !(plan->flags & FL_SPAWN_NEW_SESSION)) {
        rc = FL_SYS2(SYS_setpgid, 0, plan->pgid);
        if (rc < 0) return child_fail(plan, FL_STEP_SETPGID, rc);
    }
    /* Raw calls change this task only; glibc's wrappers would signal every thread of the JVM. */
    if (plan->flags & FL_SPAWN_SET_GROUPS) {
        rc = FL_SYS2(SYS_setgroups, plan->ngroups, plan->groups);
        if (rc < 0) return child_fail(plan, FL_STEP_SETGROUPS, rc);
    }
    if (plan->flags & FL_SPAWN_SET_GID) {
        rc = FL_SYS3(SYS_setresgid, plan->gid, plan->gid, plan->gid);
        if (rc < 0) return child_fail(plan, FL_STEP_SETGID, rc);
    }
    if (plan->flags & FL_SPAWN_SET_UID) {
        rc = FL_SYS3(SYS_setresuid, plan->uid, plan->uid, plan->uid);
        if (rc < 0) return child_fail(plan, FL_STEP_SETUID, rc);
    }
    if (plan->flags & FL_SPAWN_DIE_WITH_PARENT) {
        rc = FL_SYS2(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
        if (rc < 0) return child_fail(plan, FL_STEP_PDEATHSIG, rc);
        /* The parent may have died between the clone and the prctl (the whole process killed
         * while this child was starting): then the child has been re-parented already and the
         * death signal will never come. */
        if (FL_SYS0(SYS_getppid) != plan->parent_pid) return child_fail(plan, FL_STEP_PDEATHSIG, -ESRCH);
    }
    if (plan->cwd != NULL) {
        rc = FL_SYS1(SYS_chdir, plan->cwd);
        if (rc < 0) return child_fail(plan, FL_STEP_CHDIR, rc);
    }

    /* Every signal is still blocked (the parent blocked them before cloning), so nothing can be
     * delivered to a JVM handler here. Without CLONE_CLEAR_SIGHAND each caught signal is reset;
     * ignored ones stay ignored across execve, as POSIX specifies, except SIGPIPE. */
    struct fl_ksigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.handler = SIG_DFL;
    if (plan->reset_handlers) {
        for (int sig = 1; sig < 65; sig++) {
            if (sig == SIGKILL || sig == SIGSTOP) continue;
            struct fl_ksigaction old;
            if (FL_SYS4(SYS_rt_sigaction, sig, NULL, &old, FL_KSIGSET_SIZE) < 0) continue;
            if (old.handler == SIG_DFL || old.handler == SIG_IGN) continue;
            rc = FL_SYS4(SYS_rt_sigaction, sig, &dfl, NULL, FL_KSIGSET_SIZE);
            if (rc < 0) return child_fail(plan, FL_STEP_SIGNALS, rc);
        }
    }
    /* The JVM ignores SIGPIPE; a child should die of it like any process started from a shell. */
    rc = FL_SYS4(SYS_rt_sigaction, SIGPIPE, &dfl, NULL, FL_KSIGSET_SIZE);
    if (rc < 0) return child_fail(plan, FL_STEP_SIGNALS, rc);

    if (child_setup_fds(plan) != 0) return 127;

    uint64_t empty = 0;
    rc = FL_SYS4(SYS_rt_sigprocmask, SIG_SETMASK, &empty, NULL, FL_KSIGSET_SIZE);
    if (rc < 0) return child_fail(plan, FL_STEP_SIGNALS, rc);

    rc = FL_SYS3(SYS_execve, plan->path, plan->argv, plan->envp);
    if (rc == -ENOEXEC) {
        /* Not a binary the kernel knows and no "#!": a shell script, as execvp treats it. */
        rc = FL_SYS3(SYS_execve, "/bin/sh", plan->sh_argv, plan->envp);
    }
    /* execve failed: the signal mask no longer matters, the child exits at once. */
    return child_fail(plan, FL_STEP_EXEC, rc);
}

/* ---- the parent ----------------------------------------------------------------------------- */

int fl_spawn_strategy_current(void) { return atomic_load(&spawn_strategy); }


static void lower_strategy(int from) {
    int expected = from;
    atomic_compare_exchange_strong(&spawn_strategy, &expected, from + 1);
}

static int is_not_here(long err) { return err == -ENOSYS || err == -EPERM || err == -EINVAL; }

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int validate(const fl_spawn_options *o) {
    if (o == NULL || o->program == NULL) return -EINVAL;
    if (o->nfds > 0 && o->fds == NULL) return -EINVAL;
    if (o->ngroups > 0 && o->groups == NULL) return -EINVAL;
    const unsigned known = FL_SPAWN_NEW_SESSION | FL_SPAWN_NEW_PROCESS_GROUP | FL_SPAWN_SET_GID |
                           FL_SPAWN_SET_UID | FL_SPAWN_SET_GROUPS | FL_SPAWN_NO_PATH_SEARCH |
                           FL_SPAWN_DIE_WITH_PARENT | FL_SPAWN_INTO_CGROUP;
    if (o->flags & ~known) return -EINVAL;
    if (o->flags & FL_SPAWN_INTO_CGROUP) {
        if (o->cgroup_fd < 0) return -EINVAL;
        int rc = fl_cgroup_check_fd(o->cgroup_fd);
        if (rc < 0) return rc;
    }
    if ((o->flags & FL_SPAWN_NEW_PROCESS_GROUP) && o->pgid < 0) return -EINVAL;
    /* A new session is a new group led by the child; it cannot join another one. */
    if ((o->flags & FL_SPAWN_NEW_SESSION) && (o->flags & FL_SPAWN_NEW_PROCESS_GROUP) && o->pgid != 0)
        return -EINVAL;
    struct rlimit nofile = {.rlim_cur = RLIM_INFINITY};
    if (o->nfds > 0) getrlimit(RLIMIT_NOFILE, &nofile);
    for (size_t i = 0; i < o->nfds; i++) {
        if (o->fds[i].child_fd < 0 || o->fds[i].child_fd >= INT32_MAX / 2) return -EINVAL;
        /* dup2 onto a number at or above the limit fails in the child; say so here instead. */
        if ((rlim_t)o->fds[i].child_fd >= nofile.rlim_cur) return -EBADF;
        if (o->fds[i].parent_fd < 0) return -EBADF;
        for (size_t j = 0; j < i; j++) {
            if (o->fds[j].child_fd == o->fds[i].child_fd) return -EINVAL;
        }
        if (fcntl(o->fds[i].parent_fd, F_GETFD) < 0) return -EBADF;
    }
    return 0;
}

/* The child's stack: a guard page, the stack, and the report block at the top. The guard page
 * turns an overflow into a crash of the child instead of a silent write into the JVM's memory.
 * MAP_SHARED so the report reaches the parent even when the child has a copy of the address
 * space (credentials changes).
 *
 * Each spawning thread maps one and keeps it until the thread exits: mapping and unmapping per
 * spawn cost about 20 µs (4% of a /bin/true spawn+wait), mostly munmap's TLB shootdown across
 * the JVM's threads. Reuse is safe because CLONE_VFORK returns only once the child has exec'd or
 * exited, so no child still runs on it; a thread cannot be in two spawns at once.
 *
 * Hazard: the mapping is MAP_SHARED, so a process that fork()s would share it with its copy, and
 * both could spawn on the same pages at once. A pthread_atfork handler drops the forking thread's
 * stack in the new process (other threads do not exist there). */
static pthread_key_t stack_key;
static int stack_key_ok;
static pthread_once_t stack_key_once = PTHREAD_ONCE_INIT;
static _Thread_local void *thread_stack;

static size_t stack_mapping_len(void) {
    return FL_STACK_SIZE + (size_t)sysconf(_SC_PAGESIZE);
}

static void unmap_stack(void *base) { munmap(base, stack_mapping_len()); }

static void forget_stack_after_fork(void) {
    if (thread_stack == NULL) return;
    unmap_stack(thread_stack);
    thread_stack = NULL;
    pthread_setspecific(stack_key, NULL);
}

static void create_stack_key(void) {
    stack_key_ok = pthread_key_create(&stack_key, unmap_stack) == 0 &&
                   pthread_atfork(NULL, NULL, forget_stack_after_fork) == 0;
}

static void *map_stack(int share) {
    size_t len = stack_mapping_len();
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, share | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return NULL;
    if (mprotect(m, (size_t)sysconf(_SC_PAGESIZE), PROT_NONE) != 0) {
        int err = errno;
        munmap(m, len);
        errno = err;
        return NULL;
    }
    return m;
}

/* This thread's stack, mapped on first use. *owned = 1 when the caller must unmap it (no
 * thread-specific key could be had, so nothing would unmap it at thread exit). */
static void *acquire_stack(int *owned) {
    *owned = 0;
    if (thread_stack != NULL) return thread_stack;
    pthread_once(&stack_key_once, create_stack_key);
    void *m = map_stack(MAP_SHARED);
    if (m == NULL) return NULL;
    if (stack_key_ok && pthread_setspecific(stack_key, m) == 0) {
        thread_stack = m;
    } else {
        *owned = 1;
    }
    return m;
}

/* Holder threads (see before fl_spawn) live as long as their children, so they do not take a
 * per-thread stack (acquire_stack's would stay mapped for the child's whole life, and be mapped
 * anew for every holder). They borrow one from a small pool and give it back right after the
 * clone: no mmap and munmap (with its TLB shootdown across the JVM's threads) per spawn. The pool
 * is emptied in a forked copy of the process, for the reason given above. */
#define SPARE_STACKS 4
static pthread_mutex_t spare_lock = PTHREAD_MUTEX_INITIALIZER;
static void *spare_stacks[SPARE_STACKS]; /* guarded by spare_lock */
static int spare_count;                  /* guarded by spare_lock */
static int spare_ok;                     /* the fork handlers are in place: the pool may be used */
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;

static void spare_before_fork(void) { pthread_mutex_lock(&spare_lock); }
static void spare_after_fork_parent(void) { pthread_mutex_unlock(&spare_lock); }
static void spare_after_fork_child(void) {
    for (int i = 0; i < spare_count; i++) unmap_stack(spare_stacks[i]);
    spare_count = 0;
    pthread_mutex_unlock(&spare_lock);
}

static void spare_init(void) {
    spare_ok = pthread_atfork(spare_before_fork, spare_after_fork_parent, spare_after_fork_child) == 0;
}

static void *take_spare_stack(void) {
    pthread_once(&spare_once, spare_init);
    void *s = NULL;
    if (spare_ok) {
        pthread_mutex_lock(&spare_lock);
        if (spare_count > 0) s = spare_stacks[--spare_count];
        pthread_mutex_unlock(&spare_lock);
    }
    return s != NULL ? s : map_stack(MAP_SHARED);
}

static void give_spare_stack(void *s) {
    if (spare_ok) {
        pthread_mutex_lock(&spare_lock);
        if (spare_count < SPARE_STACKS) {
            spare_stacks[spare_count++] = s;
            s = NULL;
        }
        pthread_mutex_unlock(&spare_lock);
    }
    if (s != NULL) unmap_stack(s);
}

/* What fl_spawn prepares for the child besides the options themselves; release_prepared frees it. */
struct prepared {
    char *resolved;
    const char **default_argv;
    char **sh_argv;
    int *keep;
    int *moved;
    void *stack;      /* see acquire_stack */
    int stack_owned;
    int detached;     /* fl_spawn_detached: a private stack of its own, see there */
    int holder;       /* spawned by a holder thread: a stack from the spare pool (see there) */
};

static void release_prepared(struct prepared *pr) {
    free(pr->resolved);
    free(pr->default_argv);
    free(pr->sh_argv);
    free(pr->keep);
    free(pr->moved);
    if (pr->holder && pr->stack != NULL) {
        give_spare_stack(pr->stack);
    } else if (pr->stack_owned) {
        unmap_stack(pr->stack);
    }
}

static int prepare(const fl_spawn_options *o, struct child_plan *plan, struct prepared *pr) {
    memset(plan, 0, sizeof *plan);
    plan->path = pr->resolved != NULL ? pr->resolved : o->program;

    const char *const *argv = o->argv;
    if (argv == NULL) {
        pr->default_argv = calloc(2, sizeof(char *));
        if (pr->default_argv == NULL) return -ENOMEM;
        pr->default_argv[0] = o->program;
        argv = pr->default_argv;
    }
    size_t argc = 0;
    while (argv[argc] != NULL) argc++;
    pr->sh_argv = calloc(argc + 3, sizeof(char *));
    if (pr->sh_argv == NULL) return -ENOMEM;
    pr->sh_argv[0] = (char *)"/bin/sh";
    pr->sh_argv[1] = (char *)plan->path;
    for (size_t i = 1; i < argc; i++) pr->sh_argv[i + 1] = (char *)argv[i];

    pr->keep = malloc((o->nfds + 1) * sizeof(int));
    pr->moved = malloc((o->nfds + 1) * sizeof(int));
    if (pr->keep == NULL || pr->moved == NULL) return -ENOMEM;
    int high = 0;
    for (size_t i = 0; i < o->nfds; i++) {
        pr->keep[i] = o->fds[i].child_fd;
        if (o->fds[i].child_fd > high) high = o->fds[i].child_fd;
        if (o->fds[i].parent_fd > high) high = o->fds[i].parent_fd;
    }
    qsort(pr->keep, o->nfds, sizeof(int), cmp_int);

    if (pr->detached) {
        pr->stack = map_stack(MAP_PRIVATE);
        pr->stack_owned = pr->stack != NULL;
    } else if (pr->holder) {
        pr->stack = take_spare_stack();
    } else {
        pr->stack = acquire_stack(&pr->stack_owned);
    }
    if (pr->stack == NULL) return -errno;

    plan->argv = (char *const *)argv;
    plan->envp = (char *const *)(o->envp != NULL ? o->envp : (const char *const *)environ);
    plan->sh_argv = pr->sh_argv;
    plan->cwd = o->cwd;
    plan->fds = o->fds;
    plan->nfds = o->nfds;
    plan->keep = pr->keep;
    plan->nkeep = o->nfds;
    plan->high_fd = high + 1;
    plan->moved = pr->moved;
    plan->flags = o->flags;
    plan->parent_pid = getpid();
    plan->pgid = o->pgid;
    plan->uid = o->uid;
    plan->gid = o->gid;
    plan->groups = o->groups;
    plan->ngroups = o->ngroups;
    plan->cgroup_fd = (o->flags & FL_SPAWN_INTO_CGROUP) ? o->cgroup_fd : -1;
    plan->report = (struct child_report *)((char *)pr->stack + stack_mapping_len() -
                                           sizeof(struct child_report));
    return 0;
}

/* Where the child's stack starts: just below the report block, 16-byte aligned. */
static void *stack_top(const struct prepared *pr) {
    uintptr_t top = (uintptr_t)pr->stack + stack_mapping_len() - 64;
    return (void *)(top & ~(uintptr_t)15);
}

/* Runs the ladder from the cached rung. Returns the PID (> 0) with *pidfd set (or -1), -errno
 * from the clone itself, or 0 when the child was started but is already gone again and the
 * report says why (pidfd_open failed with EMFILE or the like). */
static long clone_child(struct child_plan *plan, const struct prepared *pr, int *pidfd) {
    int share_vm = !(plan->flags & (FL_SPAWN_SET_UID | FL_SPAWN_SET_GID | FL_SPAWN_SET_GROUPS));
    unsigned long base = CLONE_VFORK | (share_vm ? CLONE_VM : 0);
    int into_cgroup_refused = 0; /* clone3 failed with CLONE_INTO_CGROUP: once more without it */
    for (;;) {
        int strategy = atomic_load(&spawn_strategy);
        int fd = -1;
        long pid;
        plan->reset_handlers = strategy != FL_STRATEGY_CLONE3;
        plan->join_cgroup = (plan->flags & FL_SPAWN_INTO_CGROUP) != 0;
        plan->report->step = FL_STEP_NONE; /* the stack is reused: clear the last report */
        plan->report->err = 0;
        switch (strategy) {
#ifdef FL_HAVE_CLONE3_ENTRY
            case FL_STRATEGY_CLONE3: {
                struct clone_args args;
                memset(&args, 0, sizeof args);
                args.flags = base | CLONE_PIDFD | CLONE_CLEAR_SIGHAND;
                args.pidfd = (uint64_t)(uintptr_t)&fd;
                args.exit_signal = SIGCHLD;
                args.stack = (uint64_t)(uintptr_t)pr->stack + (uint64_t)sysconf(_SC_PAGESIZE);
                args.stack_size = (uint64_t)((char *)stack_top(pr) - (char *)(uintptr_t)args.stack);
                int into_cgroup = plan->join_cgroup && !into_cgroup_refused;
                if (into_cgroup) {
                    args.flags |= CLONE_INTO_CGROUP;
                    args.cgroup = (uint64_t)plan->cgroup_fd;
                    plan->join_cgroup = 0;
                }
                pid = fl_clone3(&args, sizeof args, child_main, plan);
                if (pid < 0 && into_cgroup) {
                    /* Says nothing about clone3 itself (see the essay): retry without the flag. */
                    into_cgroup_refused = 1;
                    continue;
                }
                break;
            }
#endif
            case FL_STRATEGY_CLONE_PIDFD:
                pid = clone(child_main, stack_top(pr), (int)(base | CLONE_PIDFD | SIGCHLD), plan, &fd);
                if (pid < 0) pid = -errno;
                /* Kernels before 5.2 ignore the unknown flag: success without a pidfd. */
                if (pid > 0 && fd < 0) {
                    lower_strategy(strategy);
                    strategy = FL_STRATEGY_PIDFD_OPEN;
                }
                break;
            case FL_STRATEGY_PIDFD_OPEN:
            case FL_STRATEGY_PID_ONLY:
                pid = clone(child_main, stack_top(pr), (int)(base | SIGCHLD), plan, NULL);
                if (pid < 0) pid = -errno;
                break;
            default:
                return -EINVAL;
        }
        if (pid < 0 && strategy < FL_STRATEGY_PIDFD_OPEN && is_not_here(pid)) {
            lower_strategy(strategy);
            continue;
        }
        if (pid < 0) return pid;
        if (strategy == FL_STRATEGY_PIDFD_OPEN) {
            /* Between clone and pidfd_open the child is named only by its PID; it cannot be
             * recycled unless someone else reaps it (a waitpid(-1) elsewhere in the process). */
            long rc = FL_SYS2(SYS_pidfd_open, pid, 0);
            if (rc >= 0) {
                fd = (int)rc;
            } else if (rc == -ENOSYS || rc == -EPERM) {
                lower_strategy(strategy);
            } else {
                /* EMFILE and friends: the child runs, but we can't hold it. Kill it (it's not
                 * reaped, so the PID is still its own) and report. */
                FL_SYS2(SYS_kill, pid, SIGKILL);
                fl_process_reap_failed_child(pid, -1);
                plan->report->step = FL_STEP_PIDFD;
                plan->report->err = (int)-rc;
                return 0;
            }
        }
        *pidfd = fd;
        return pid;
    }
}

/* The spawn itself, in the calling thread, which becomes the child's parent thread. error and
 * out are not NULL. holder: called by a holder thread (see below). */
static int spawn_here(const fl_spawn_options *opts, fl_process **out, fl_spawn_error *error,
                      int holder) {
    int rc = validate(opts);
    if (rc < 0) {
        error->step = FL_STEP_VALIDATE;
        error->err = -rc;
        return rc;
    }
    fl_reap_orphans();

    struct prepared pr;
    memset(&pr, 0, sizeof pr);
    pr.holder = holder;
    /* As execvp: an empty name is not found. */
    rc = opts->program[0] == '\0'
             ? -ENOENT
             : fl_resolve_program(opts->program, opts->envp, opts->cwd, opts->flags, &pr.resolved);
    if (rc < 0) {
        error->step = FL_STEP_RESOLVE;
        error->err = -rc;
        return rc;
    }
    struct child_plan plan;
    rc = prepare(opts, &plan, &pr);
    if (rc < 0) {
        release_prepared(&pr);
        error->step = FL_STEP_PREPARE;
        error->err = -rc;
        return rc;
    }

    /* Raw, because glibc's sigfillset leaves out its own internal signals (32, 33). */
    uint64_t all = ~(uint64_t)0, old = 0;
    FL_SYS4(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, FL_KSIGSET_SIZE);
    int pidfd = -1;
    long pid = clone_child(&plan, &pr, &pidfd);
    FL_SYS4(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, FL_KSIGSET_SIZE);

    int step = plan.report->step, err = plan.report->err;
    release_prepared(&pr);
    if (pid < 0) {
        error->step = FL_STEP_FORK;
        error->err = (int)-pid;
        return (int)pid;
    }
    if (step != FL_STEP_NONE) {
        if (pid > 0) fl_process_reap_failed_child(pid, pidfd);
        error->step = step;
        error->err = err;
        return -err;
    }
    fl_process *p = fl_process_new(pid, pidfd);
    if (p == NULL) {
        /* It runs, but nobody could ever wait for it: stop it rather than leak it. */
        if (pidfd >= 0) FL_SYS4(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        else FL_SYS2(SYS_kill, pid, SIGKILL);
        fl_process_reap_failed_child(pid, pidfd);
        error->step = FL_STEP_PREPARE;
        error->err = ENOMEM;
        return -ENOMEM;
    }
    *out = p;
    return 0;
}

/* ---- dying with the parent: the holder thread ----------------------------------------------
 *
 * PR_SET_PDEATHSIG fires when the *thread* that cloned the child exits, not when the process does.
 * A child cloned by the calling thread therefore dies with that thread (a pool's worker that
 * retires would take it along). A child cloned by some long-lived thread of the library instead
 * (Forkless for Java once used its reactor thread) gets that thread's attributes, not the
 * caller's, and on Linux much of what a child inherits is per thread. A new thread inherits all of
 * it from the thread that creates it (copy_process of a CLONE_THREAD clone):
 *   - credentials: uid/gid/groups changed with raw system calls, capabilities and the bounding
 *     set, securebits, a Landlock domain (all in the thread's struct cred);
 *   - no_new_privs, and seccomp filters installed without SECCOMP_FILTER_FLAG_TSYNC;
 *   - the nice value (setpriority(PRIO_PROCESS, tid) acts on one thread), the scheduling policy,
 *     the CPU affinity, the I/O priority, the timer slack;
 *   - namespaces the thread entered with setns/unshare, and its cwd/root/umask after
 *     unshare(CLONE_FS).
 * A thread that set no_new_privs or a seccomp filter before spawning must never get a child
 * without it: that would be a sandbox escape.
 *
 * So with FL_SPAWN_DIE_WITH_PARENT, fl_spawn creates a holder thread from the calling thread (glibc
 * with PTHREAD_INHERIT_SCHED and no cpuset attribute leaves the scheduling and affinity the kernel
 * copied). The holder spawns the child exactly as the caller would have, hands the result back,
 * and then sleeps on its own duplicate of the pidfd until the child has exited (a pidfd polls
 * readable from the exit on, also after the reap), and ends. The child has the caller's
 * attributes, outlives the calling thread, and still dies with the process, whose death takes
 * the holder along like every other thread.
 *
 * Alternatives considered:
 *   - Copy the caller's attributes into the child: read them in the caller (PR_GET_NO_NEW_PRIVS,
 *     getpriority, sched_getaffinity, capget, ...) and set them in the child before execve. A
 *     seccomp filter cannot be carried that way (reading it back needs CAP_SYS_ADMIN and ptrace,
 *     and a filter with user notification cannot be reproduced at all), and any attribute the
 *     list forgets, or a later kernel adds, is silently dropped. Refusing callers that have a
 *     filter would refuse exactly the sandboxed programs that want this flag.
 *   - CLONE_PARENT: the child's parent would be this process's parent, so it would die with that
 *     process, not this one.
 *   - One holder shared by several children: it could end only when all of them have exited, and
 *     it would fit only callers with identical attributes, which cannot be compared (seccomp
 *     again).
 *   - A subreaper or a watchdog process instead of the parent-death signal: they need something
 *     of this process to survive a SIGKILL, which nothing does.
 *
 * Cost: one thread per running child with the flag (fl_thread_start_small: a 64 KiB stack; it
 * counts against RLIMIT_NPROC and threads-max like any thread) plus one descriptor, the pidfd's
 * duplicate (a child without a pidfd is watched by PID with waitid(WNOWAIT), which never reaps
 * it); per spawn, a thread creation (glibc reuses the stacks of ended threads) and a hand-off each way; the clone
 * stack comes from a small pool (see take_spare_stack).
 *
 * The holder blocks every signal (glibc keeps its internal ones, so setuid() and friends, which
 * signal every thread, still work); process-directed signals go to the JVM's own threads. If no
 * holder can be created, the spawn fails at FL_STEP_PDEATHSIG with pthread_create's errno
 * (EAGAIN): spawning on the calling thread instead would quietly tie the child to it. */

struct holder_call {
    const fl_spawn_options *opts; /* the caller's: valid until done is posted */
    fl_process *process;
    fl_spawn_error error;
    int rc;
    sem_t done;
    _Atomic int refs; /* the caller's and the holder's; the last one frees the call */
};

static void holder_call_unref(struct holder_call *c) {
    if (atomic_fetch_sub(&c->refs, 1) == 1) {
        sem_destroy(&c->done);
        free(c);
    }
}

static void *holder_main(void *arg) {
    struct holder_call *c = arg;
    prctl(PR_SET_NAME, "forkless-holder", 0, 0, 0);
    c->rc = spawn_here(c->opts, &c->process, &c->error, 1);
    int64_t pid = 0;
    int fd = -1;
    if (c->rc == 0) {
        pid = c->process->pid;
        /* A copy of our own: the handle's pidfd is closed (and its number reused) after the reap,
         * which may come before the poll below starts. */
        if (c->process->pidfd >= 0) fd = fcntl(c->process->pidfd, F_DUPFD_CLOEXEC, 0);
    }
    sem_post(&c->done);
    holder_call_unref(c);
    if (pid <= 0) return NULL;
    if (fd >= 0) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int n;
        do {
            n = poll(&pfd, 1, -1);
        } while (n < 0 && errno == EINTR);
        close(fd);
        if (n > 0) return NULL;
        /* poll failed (ENOMEM): wait by PID below. */
    }
    /* WNOWAIT: the zombie stays for the reactor. ECHILD once someone has reaped it. If its PID is
     * reused by another child of this process after that, the holder waits for that one too:
     * it lives longer than needed, and nothing worse. */
    siginfo_t si;
    long rc;
    do {
        memset(&si, 0, sizeof si);
        rc = FL_SYS5(SYS_waitid, P_PID, pid, &si, WEXITED | WNOWAIT, NULL);
    } while (rc == -EINTR);
    return NULL;
}

/* Spawns on a new holder thread (see above): 0 with *out set, or -errno with *error filled. */
static int spawn_on_holder(const fl_spawn_options *opts, fl_process **out, fl_spawn_error *error) {
    struct holder_call *c = calloc(1, sizeof *c);
    if (c == NULL) {
        error->step = FL_STEP_PREPARE;
        error->err = ENOMEM;
        return -ENOMEM;
    }
    c->opts = opts;
    atomic_init(&c->refs, 2);
    if (sem_init(&c->done, 0, 0) != 0) {
        int err = errno;
        free(c);
        error->step = FL_STEP_PREPARE;
        error->err = err;
        return -err;
    }
    int rc = fl_thread_start_small(holder_main, c);
    if (rc != 0) {
        sem_destroy(&c->done);
        free(c);
        error->step = FL_STEP_PDEATHSIG;
        error->err = rc;
        return -rc;
    }
    while (sem_wait(&c->done) != 0) {
        /* EINTR: a signal handler ran in this thread; the holder goes on regardless. */
    }
    rc = c->rc;
    *out = c->process;
    *error = c->error;
    holder_call_unref(c);
    return rc;
}

int fl_spawn(const fl_spawn_options *opts, fl_process **out, fl_spawn_error *error) {
    fl_spawn_error scratch;
    if (error == NULL) error = &scratch;
    error->step = FL_STEP_NONE;
    error->err = 0;
    if (out == NULL) {
        error->step = FL_STEP_VALIDATE;
        error->err = EINVAL;
        return -EINVAL;
    }
    *out = NULL;
    if (opts != NULL && (opts->flags & FL_SPAWN_DIE_WITH_PARENT)) {
        return spawn_on_holder(opts, out, error);
    }
    return spawn_here(opts, out, error, 0);
}

/* ---- detached spawns: the double fork ------------------------------------------------------
 *
 * The child of the ladder above (the "intermediate", vfork-style as always) calls setsid and
 * forks the grandchild with a plain clone(SIGCHLD), then exits; the parent reaps it, so the
 * grandchild is re-parented to init (or the nearest subreaper) and this process never waits for
 * it. The grandchild is in the intermediate's new session without leading it (it can never
 * acquire a controlling terminal) and leads a process group of its own (setpgid(0, 0), so
 * kill(-pid) reaches it and its children). It runs the usual setup (chdir, signals, descriptors,
 * execve).
 *
 * Memory. The grandchild has a copy of the address space, so it may run on after fl_spawn_detached
 * has returned. That is why the intermediate runs on a private stack mapped for this spawn alone
 * (the per-thread stack is MAP_SHARED and reused by the next spawn; a fork would share it, not copy
 * it), and why the grandchild never writes the report block (which must be MAP_SHARED to reach the
 * parent when credentials change and the intermediate has a copy too). Cost: the fork copies the
 * page tables of the whole process (about 29 ms per GiB touched in a JVM): daemons are rare.
 *
 * Reports. The intermediate's failures (setsid, fork) and the grandchild's PID go into a shared
 * page that the parent reads after the vfork-style clone returns. The grandchild reports {step,
 * errno} through a close-on-exec pipe; a successful execve closes it silently. Hazard: a fork
 * elsewhere in the process during the spawn holds a copy of the write end until that copy execs
 * or exits, and the parent's read waits that long (the same holds for any CLOEXEC fail pipe).
 * A grandchild that failed is re-parented like any other; when this process is a subreaper it
 * comes back here as a zombie, and is reaped (its PID cannot be reused before that). */
struct detached_report {
    struct child_report r;
    volatile int64_t grandchild_pid;
};

int fl_spawn_detached(const fl_spawn_options *opts, int64_t *pid_out, fl_spawn_error *error) {
    fl_spawn_error scratch;
    if (error == NULL) error = &scratch;
    error->step = FL_STEP_VALIDATE;
    error->err = EINVAL;
    if (pid_out == NULL) return -EINVAL;
    *pid_out = 0;
    if (opts == NULL || (opts->flags & FL_SPAWN_DIE_WITH_PARENT)) return -EINVAL;
    /* Validated as a spawn with a new session: a pgid other than 0 is EINVAL. */
    fl_spawn_options o = *opts;
    o.flags |= FL_SPAWN_NEW_SESSION;
    int rc = validate(&o);
    if (rc < 0) {
        error->err = -rc;
        return rc;
    }
    error->step = FL_STEP_NONE;
    error->err = 0;
    fl_reap_orphans();

    struct prepared pr;
    memset(&pr, 0, sizeof pr);
    pr.detached = 1;
    rc = o.program[0] == '\0' ? -ENOENT
                              : fl_resolve_program(o.program, o.envp, o.cwd, o.flags, &pr.resolved);
    if (rc < 0) {
        error->step = FL_STEP_RESOLVE;
        error->err = -rc;
        return rc;
    }
    struct child_plan plan;
    int fds[2] = {-1, -1};
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    struct detached_report *rep = MAP_FAILED;
    rc = prepare(&o, &plan, &pr);
    if (rc == 0) {
        rep = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (rep == MAP_FAILED) rc = -errno;
    }
    if (rc == 0 && pipe2(fds, O_CLOEXEC) != 0) rc = -errno;
    /* The write end must stay above every number the descriptor plan dup2s onto. */
    if (rc == 0 && fds[1] < plan.high_fd) {
        int moved = fcntl(fds[1], F_DUPFD_CLOEXEC, plan.high_fd);
        if (moved < 0) {
            rc = -errno;
        } else {
            close(fds[1]);
            fds[1] = moved;
        }
    }
    if (rc < 0) {
        if (fds[0] >= 0) close(fds[0]);
        if (fds[1] >= 0) close(fds[1]);
        if (rep != MAP_FAILED) munmap(rep, page);
        release_prepared(&pr);
        error->step = FL_STEP_PREPARE;
        error->err = -rc;
        return rc;
    }
    /* Kept open by the descriptor plan (with close_range without the CLOEXEC flag, or the
     * close-one-by-one fallback, it would otherwise be closed before the last steps). */
    pr.keep[o.nfds] = fds[1];
    qsort(pr.keep, o.nfds + 1, sizeof(int), cmp_int);
    plan.nkeep = o.nfds + 1;
    plan.report = &rep->r;
    plan.detached = 1;
    plan.report_fd = fds[1];
    plan.grandchild_pid = &rep->grandchild_pid;
    /* No setsid in the grandchild (it must not lead the session); a group of its own instead. */
    plan.flags = (o.flags & ~(unsigned)FL_SPAWN_NEW_SESSION) | FL_SPAWN_NEW_PROCESS_GROUP;
    plan.pgid = 0;

    uint64_t all = ~(uint64_t)0, old = 0;
    FL_SYS4(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, FL_KSIGSET_SIZE);
    int pidfd = -1;
    long pid = clone_child(&plan, &pr, &pidfd);
    FL_SYS4(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, FL_KSIGSET_SIZE);
    close(fds[1]);

    /* clone_child has reaped the intermediate itself when it returned 0 (no pidfd). */
    if (pid > 0) fl_process_reap_failed_child(pid, pidfd);
    int64_t gpid = rep->grandchild_pid;
    int step = rep->r.step, err = rep->r.err;
    munmap(rep, page);
    release_prepared(&pr);
    if (pid < 0) {
        close(fds[0]);
        error->step = FL_STEP_FORK;
        error->err = (int)-pid;
        return (int)pid;
    }
    if (gpid <= 0) {
        close(fds[0]);
        error->step = step != FL_STEP_NONE ? step : FL_STEP_FORK;
        error->err = step != FL_STEP_NONE ? err : ECHILD; /* the intermediate died unexpectedly */
        return -error->err;
    }
    /* The grandchild exists (a FL_STEP_PIDFD failure about the intermediate does not matter). */
    int rec[2] = {0, 0};
    size_t got = 0;
    while (got < sizeof rec) {
        ssize_t n = read(fds[0], (char *)rec + got, sizeof rec - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(fds[0]);
    if (got == 0) {
        *pid_out = gpid;
        return 0;
    }
    if (got == sizeof rec && rec[0] != FL_STEP_NONE && rec[1] > 0) {
        error->step = rec[0];
        error->err = rec[1];
    } else {
        error->step = FL_STEP_EXEC;
        error->err = EIO;
    }
    int subreaper = 0;
    if (prctl(PR_GET_CHILD_SUBREAPER, &subreaper) == 0 && subreaper) {
        fl_process_reap_failed_child(gpid, -1);
    }
    return -error->err;
}
