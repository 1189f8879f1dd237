/*
 * forkless.h — the C companion of Forkless: start, watch and stop child processes.
 *
 * Platform-neutral on purpose: the Linux backend (clone3 + pidfd) is the first one; the kqueue
 * (macOS/BSD) and Windows (job objects) backends fit behind the same declarations. What differs
 * per platform is hidden in the opaque fl_process and in fl_fd (a descriptor on POSIX, a HANDLE
 * value on Windows).
 *
 * Error convention, everywhere: a function returns >= 0 on success or -errno on failure
 * (-GetLastError() mapped to errno values on Windows). A failed spawn additionally reports the
 * step that failed in fl_spawn_error, so callers can say *where* it went wrong.
 *
 * Thread-safety: every function may be called from any thread. One fl_process may be waited on and
 * signalled from several threads at once; fl_process_close must be the last call on it.
 *
 * Windows (spawn_win.c, process_win.c, reactor_iocp.c; built with mingw-w64, tested under Wine).
 * The same declarations, with these meanings:
 *   - Strings are UTF-8 and become UTF-16; one that is not valid UTF-8 fails with EILSEQ. argv is
 *     written as one command line that the Microsoft C runtime and CommandLineToArgvW split back
 *     into exactly argv (quote_win.c); argv[0] must not contain '"' (FL_STEP_COMMAND_LINE,
 *     EINVAL). A .bat/.cmd program runs through cmd.exe only if no argument contains
 *     % ! " ^ & | < > ( ) or a control character other than tab; otherwise FL_STEP_COMMAND_LINE,
 *     EINVAL, and nothing runs (cmd.exe would read such arguments as commands: "BatBadBut").
 *   - program: a bare name is searched in the child's PATH (envp's if it sets one), then this
 *     process's PATH, the system and the Windows directory, with ".exe" appended when the name has
 *     no extension; never the current directory. Relative paths are taken from cwd.
 *   - envp becomes a block sorted by name without case; NULL inherits. Entries need a '='. One
 *     exception to "exactly envp": without SystemRoot in envp, this process's SystemRoot is
 *     added (Winsock and the crypto providers fail to load in a process without it; Go does the
 *     same).
 *   - fds: child_fd 0, 1, 2 are the standard handles (an unlisted one is NULL); child_fd >= 3
 *     makes parent_fd (a HANDLE) inherited under its own value. Nothing else is inherited
 *     (PROC_THREAD_ATTRIBUTE_HANDLE_LIST).
 *   - Every child runs in a job object of its own from its first instruction (see
 *     fl_spawn_strategy_current). FL_SPAWN_NEW_PROCESS_GROUP / NEW_SESSION: a console process group
 *     of its own (pgid must be 0; Windows then starts the child with CTRL+C ignored, CTRL_BREAK
 *     still reaches it). FL_SPAWN_DIE_WITH_PARENT: the job kills the tree when this
 *     process exits, however it dies (JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE). SET_UID, SET_GID,
 *     SET_GROUPS, INTO_CGROUP: ENOSYS. fl_cgroup_*: ENOSYS. fl_spawn_detached: no job of ours,
 *     DETACHED_PROCESS (no console), a group of its own, out of this process's job where that job
 *     allows breakaway.
 *   - fl_process_fd is the process HANDLE (waitable). Signals: 0 checks; SIGKILL (9) and SIGTERM
 *     (15) TerminateProcess the child (exit code 128 + sig, reported FL_SIGNALED); SIGINT (2) sends
 *     CTRL_BREAK to the child's console group (only with NEW_PROCESS_GROUP, else EINVAL; the
 *     console's graceful stop, to try before the forced one); others EINVAL.
 *     fl_process_signal_group with 9/15 kills the whole job (the child's tree) with
 *     TerminateJobObject, also after the child itself has exited; ESRCH once the job is empty.
 *   - Pipes (pipe_win.c): fl_fd_pipe gives synchronous anonymous-pipe ends, fit for any child,
 *     that cannot be made non-blocking (fl_fd_set_nonblocking -ENOTSUP; fl_reactor_watch_fd and
 *     fl_communicate -ENOTSUP). For a child's stdio use fl_fd_pipe_for_child(fds, child_end): this
 *     process's end is an overlapped named-pipe end, the child's an ordinary synchronous handle.
 *     On such an end: fl_fd_set_nonblocking works; a non-blocking read is -EAGAIN when nothing
 *     is there, 0 at end of file; a non-blocking write copies up to 64 KiB into the end's own
 *     buffer and returns that count while an overlapped write carries it, and -EAGAIN until that
 *     write has completed (a 0-byte write tells: -EAGAIN still pending, 0 done); a reader gone is
 *     -EPIPE (at the latest for the write after the one it refused). fl_fd_close of a write end
 *     with a write pending keeps the handle open until that write completes (the bytes are not
 *     dropped), then closes it. fl_reactor_watch_fd: one-shot as on Linux, on the reactor's
 *     completion port (an end is associated with one reactor's port for its whole life: a watch
 *     from another reactor is -EINVAL). fl_communicate: as on POSIX, with WaitForMultipleObjects;
 *     its input is done once all bytes are written and the last write has completed; no -EINTR.
 *     Close such ends only with fl_fd_close (the library keeps state by handle value).
 *     fl_fd_set_nonblocking on a file: 0, nothing changes (as O_NONBLOCK on a regular file).
 *   - Errors: -errno mapped from GetLastError() (table in errors_win.c; unknown codes are EIO);
 *     fl_win_last_error() gives the raw Win32 code of the calling thread's last mapped failure.
 */
#ifndef FORKLESS_H
#define FORKLESS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
typedef intptr_t fl_fd; /* a HANDLE value (INVALID_HANDLE_VALUE is -1, as a closed fd) */
#else
typedef int fl_fd;      /* a file descriptor */
#endif

/* The steps of a spawn, in the order they run. Numbers are stable (the JNI layer and Java mirror
 * them); append new steps before FL_STEP_COUNT_. */
typedef enum fl_step {
    FL_STEP_NONE = 0,    /* no failure */
    FL_STEP_VALIDATE,    /* options rejected before anything was created (EINVAL, EBADF) */
    FL_STEP_RESOLVE,     /* PATH search for a program name without '/' */
    FL_STEP_PREPARE,     /* parent-side allocation: stack, argument arrays */
    FL_STEP_FORK,        /* clone3 / clone / fork itself (EAGAIN, ENOMEM, ...) */
    FL_STEP_SETSID,
    FL_STEP_SETPGID,
    FL_STEP_SETGROUPS,
    FL_STEP_SETGID,
    FL_STEP_SETUID,
    FL_STEP_CHDIR,
    FL_STEP_SIGNALS,     /* resetting handlers or the mask in the child */
    FL_STEP_DUP2,        /* moving descriptors onto the child's numbers */
    FL_STEP_CLOSE_FDS,   /* closing / CLOEXEC-marking every other descriptor */
    FL_STEP_EXEC,        /* execve (and the /bin/sh retry on ENOEXEC) */
    FL_STEP_PIDFD,       /* pidfd_open after a spawn that could not return one */
    FL_STEP_PDEATHSIG,   /* prctl(PR_SET_PDEATHSIG) for FL_SPAWN_DIE_WITH_PARENT, or the parent
                            died before it took effect (ESRCH), or its holder thread could not be
                            created (EAGAIN) */
    FL_STEP_CGROUP,      /* FL_SPAWN_INTO_CGROUP: the child's write of "0" to cgroup.procs (the
                            kernel's answer: EOPNOTSUPP, EBUSY, EACCES, ENOENT, ...) */
    FL_STEP_COMMAND_LINE, /* Windows: argv cannot be written as a command line the child reads
                            back unchanged: EINVAL (argv[0] with '"'; an argument of a .bat/.cmd
                            that cmd.exe would interpret, see "Windows" below), EILSEQ (not
                            UTF-8), E2BIG (over 32766 UTF-16 units) */
    FL_STEP_JOB,         /* Windows: creating the child's job object or putting the child in it */
    FL_STEP_COUNT_
} fl_step;

/* "chdir", "execve", ...: a short lower-case name for messages; "unknown" if out of range. */
const char *fl_step_name(int step);
/* "ENOENT", "EMFILE", ...: the symbolic name of a positive errno value, or NULL if unknown. */
const char *fl_errno_name(int err);

/* One descriptor for the child: child_fd becomes a copy of the parent's parent_fd. The child gets
 * exactly the descriptors listed and nothing else (0, 1 and 2 included: list them to inherit).
 * A child_fd at or above RLIMIT_NOFILE, or a parent_fd that is not open, fails at
 * FL_STEP_VALIDATE with EBADF. */
typedef struct fl_fd_map {
    int child_fd;
    fl_fd parent_fd;
} fl_fd_map;

/* fl_spawn_options.flags */
enum {
    FL_SPAWN_NEW_SESSION = 1u << 0,       /* setsid() in the child: also a group of its own */
    FL_SPAWN_NEW_PROCESS_GROUP = 1u << 1, /* setpgid(0, pgid) in the child; pgid 0 = its own.
                                             With NEW_SESSION only pgid 0 is valid (EINVAL) */
    FL_SPAWN_SET_GID = 1u << 2,           /* gid */
    FL_SPAWN_SET_UID = 1u << 3,           /* uid */
    FL_SPAWN_SET_GROUPS = 1u << 4,        /* groups[0..ngroups) (ngroups may be 0: drop all) */
    FL_SPAWN_NO_PATH_SEARCH = 1u << 5,    /* use program as given even if it has no '/' */
    /* The child gets SIGKILL when its parent dies, also when the parent is killed with SIGKILL
     * (Linux: PR_SET_PDEATHSIG, checked against the parent's PID so a parent that died during the
     * spawn is not missed). The kernel sends it when the parent *thread* ends, so fl_spawn clones
     * such a child on a holder thread that the calling thread creates and that lives until the
     * child has exited: the child survives the calling thread's end and, as a new thread copies
     * its creator's, has the calling thread's per-thread attributes (no_new_privs, seccomp
     * filters, credentials, nice, CPU affinity, namespaces). Cost: one thread (64 KiB stack) and
     * one descriptor per running child; if the thread cannot be created the spawn fails at
     * FL_STEP_PDEATHSIG with pthread_create's errno (EAGAIN). */
    FL_SPAWN_DIE_WITH_PARENT = 1u << 6,
    /* The child starts in the cgroup v2 directory cgroup_fd (see fl_spawn_options.cgroup_fd), so
     * it and everything it starts can later be killed as one with fl_cgroup_kill. */
    FL_SPAWN_INTO_CGROUP = 1u << 7
};

/* The child's signal state at execve: every handler the parent installed is back to SIG_DFL,
 * SIGPIPE is SIG_DFL even if the parent ignores it, other ignored signals stay ignored (POSIX
 * semantics of execve), and the signal mask is empty whatever the calling thread's was.
 *
 * The PATH search runs with the parent's credentials, also when the child changes uid/gid; a
 * search that finds only candidates it may not execute fails at FL_STEP_RESOLVE with EACCES. */
typedef struct fl_spawn_options {
    /* A path, or a bare name searched in PATH like execvp: the PATH of envp when envp is given and
     * sets PATH, else this process's PATH, else "/bin:/usr/bin". Relative paths (and relative PATH
     * entries) are taken from the child's directory, cwd. A file that exists but is not executable
     * is remembered (EACCES) while the search goes on; a file the kernel refuses as ENOEXEC is run
     * with /bin/sh. */
    const char *program;
    const char *const *argv; /* NULL-terminated, argv[0] included; NULL means { program, NULL } */
    const char *const *envp; /* NULL-terminated "NAME=value"; NULL inherits this process's environ */
    const char *cwd;         /* NULL: inherit the working directory */
    const fl_fd_map *fds;    /* child_fd values must be distinct and >= 0 */
    size_t nfds;
    unsigned flags;          /* FL_SPAWN_* */
    int pgid;                /* with FL_SPAWN_NEW_PROCESS_GROUP */
    uint32_t uid, gid;       /* with FL_SPAWN_SET_UID / FL_SPAWN_SET_GID */
    const uint32_t *groups;  /* with FL_SPAWN_SET_GROUPS */
    size_t ngroups;
    /* With FL_SPAWN_INTO_CGROUP (ignored without it): a descriptor of a cgroup v2 directory,
     * opened O_RDONLY|O_DIRECTORY|O_CLOEXEC and owned by the caller. The child is in that cgroup
     * before it runs any program code: clone3(CLONE_INTO_CGROUP) (Linux 5.7) puts it there from
     * its first instruction; where that is not available (older kernel, clone3 denied, or the
     * kernel refused the flag) the child moves itself by writing "0" to cgroup.procs as its first
     * step, before setsid, credentials and chdir. The cgroup must be able to take processes: a
     * leaf without controllers enabled in its cgroup.subtree_control, not "domain invalid", and
     * writable for this process (cgroup v2 delegation rules); else the spawn fails at
     * FL_STEP_CGROUP with the kernel's errno. A refusal never moves the spawn strategy down the
     * ladder. FL_STEP_VALIDATE: EINVAL when cgroup_fd < 0 or is not a directory of a cgroup2
     * file system (a cgroup v1 hierarchy included), EBADF when it is not open.
     * Hazard: a spawn into a frozen cgroup (cgroup.freeze 1) blocks until the cgroup is thawed,
     * as the calling thread waits for the child to exec (vfork semantics). fl_spawn_detached
     * takes the flag too: the daemon runs in the cgroup. */
    fl_fd cgroup_fd;
} fl_spawn_options;

typedef struct fl_spawn_error {
    int step; /* fl_step */
    int err;  /* positive errno */
} fl_spawn_error;

typedef struct fl_process fl_process; /* opaque */

/* Starts a child. On success returns 0 and stores a new handle in *out; the caller must
 * fl_process_close it. On failure returns -errno, sets *out to NULL (out NULL is EINVAL), fills
 * *error (may be NULL) and leaves nothing behind: no zombie, no descriptor, no memory. */
int fl_spawn(const fl_spawn_options *opts, fl_process **out, fl_spawn_error *error);

/* Starts a detached process, the daemonize pattern: a double fork. The vfork-style child calls
 * setsid and forks the process that execs, then exits at once and is reaped here; the process
 * is re-parented to init (or the nearest subreaper), never waited for by this process and not
 * killed when it dies. It runs in a new session that it does not lead (so it cannot acquire a
 * controlling terminal) and leads a process group of its own (its pgid is its PID).
 *
 * On success returns 0 and stores its PID in *pid_out: for information only, as the PID may be
 * reused once it exits. Its descriptors are exactly the fd map, as for fl_spawn (a daemon should
 * get /dev/null or files for 0, 1 and 2, not this process's terminal or pipes). Failures are
 * reported as fl_spawn's, steps included (FL_STEP_CHDIR, FL_STEP_EXEC, ...), and leave nothing
 * behind: no zombie, no descriptor, no memory. EINVAL at FL_STEP_VALIDATE for pid_out NULL,
 * FL_SPAWN_DIE_WITH_PARENT, or FL_SPAWN_NEW_PROCESS_GROUP with a pgid other than 0;
 * FL_SPAWN_NEW_SESSION and FL_SPAWN_NEW_PROCESS_GROUP (pgid 0) are implied.
 *
 * Costs more than fl_spawn: the second fork copies this process's page tables (vfork semantics
 * cannot outlive the spawn), and the call waits until the process has called execve. */
int fl_spawn_detached(const fl_spawn_options *opts, int64_t *pid_out, fl_spawn_error *error);

int64_t fl_process_pid(const fl_process *p);
/* The descriptor that becomes readable when the child exits (a pidfd on Linux), or -1 when the
 * backend has none (Linux PID-only fallback). Owned by the handle: do not close it. */
fl_fd fl_process_fd(const fl_process *p);

/* fl_exit_status.kind. Windows has no signals; its exit codes map as follows:
 *   FL_EXITED    code = the 32-bit exit code as an int (GetExitCodeProcess), any value that is
 *                not one of the two cases below.
 *   FL_SIGNALED  code = 9 or 15: this library terminated the child (fl_process_signal with
 *                SIGKILL/SIGTERM: TerminateProcess) or its job (fl_process_signal_group:
 *                TerminateJobObject), and its exit code is 128 + that number. A child that
 *                exits with 137 by itself is FL_EXITED.
 *   FL_CRASHED   code = the NTSTATUS of an unhandled exception as an int, e.g. (int)0xC0000005
 *                for an access violation, (int)0xC0000409 for a failed fast-fail check: every
 *                exit code with both severity bits set (0xC0000000..0xFFFFFFFF). Windows cannot
 *                tell such a crash from a program that calls ExitProcess(0xC0000005) itself.
 *                Never reported on Linux. */
enum { FL_EXITED = 1, FL_SIGNALED = 2, FL_CRASHED = 3 };

typedef struct fl_exit_status {
    int kind;              /* FL_EXITED, FL_SIGNALED or (Windows only) FL_CRASHED */
    int code;              /* exit code (0..255 on Linux, 32 bits on Windows), signal number, or
                              with FL_CRASHED the NTSTATUS */
    int core_dumped;       /* with FL_SIGNALED: a core file was written */
    int64_t user_usec;     /* CPU time of the child in user mode, microseconds */
    int64_t system_usec;   /* CPU time of the child in the kernel, microseconds */
    /* Peak resident set size, KiB. Linux caveat: at execve the kernel folds the resident size of
     * the address space being left into this figure, and a child spawned by any method (fork,
     * vfork, posix_spawn, clone3) leaves its parent's. So it is max(child's peak, spawning
     * process's RSS at the spawn): from a JVM with 1 GiB resident, at least 1 GiB. */
    int64_t max_rss_kib;   /* Windows: the peak working set (GetProcessMemoryInfo), KiB; user and
                              system times come from GetProcessTimes (100 ns resolution) */
} fl_exit_status;

/* Sends signal sig (0..64; else -EINVAL; Windows: see the top of this file). 0 if sent; -ESRCH if the child has already exited
 * (whether or not it was reaped): a recycled PID is never signalled. sig 0 only checks. */
int fl_process_signal(fl_process *p, int sig);

/* Sends sig to the child's whole process group (the child must lead it: spawned with
 * FL_SPAWN_NEW_PROCESS_GROUP or FL_SPAWN_NEW_SESSION, else -EINVAL). Only while the child is not
 * reaped, so the group ID is surely still the child's; -ESRCH after that, even if members of the
 * group still run. Limits: a member that moved to another group or session (setsid, as daemons
 * do) is not reached, and once the leader is gone the group cannot be named safely. 0 if sent. */
int fl_process_signal_group(fl_process *p, int sig);

/* Waits up to timeout_ms (< 0: forever, 0: just check). Returns 1 and fills *status (may be NULL)
 * once the child has exited (every later call returns the same status), 0 on timeout, -EINTR if a
 * signal handler interrupted the wait (the caller keeps its own deadline), -ECHILD if something
 * else in the process reaped the child (a waitpid(-1)), other -errno on failure. */
int fl_process_wait(fl_process *p, int timeout_ms, fl_exit_status *status);

/* Releases the handle (NULL is ignored). A child that has not been reaped is not killed: it is put
 * on an orphan list and reaped later (by fl_reap_orphans, which fl_spawn and fl_process_close also
 * run), so it never stays a zombie for long. A child registered with a reactor skips the orphan
 * list: the reactor keeps its own reference, reaps it the moment it exits, reports the exit and
 * only then frees the handle.
 * The pidfd (fl_process_fd) stays open until this call, also after the child has been reaped,
 * because a caller may hold its number (in a poll set of its own, say): closing it behind the
 * caller's back would let the number name another file. Once the exit is known (fl_process_wait
 * returned 1 or -ECHILD, or a reactor reported it) the handle has no other use than its status:
 * close it then, or every reaped child keeps a descriptor. The Java API does so by itself. */
void fl_process_close(fl_process *p);

/* What a running child is doing now (the type is fl_stats: C has one namespace for typedefs and
 * functions, and the function is fl_process_stats). */
typedef struct fl_stats {
    char state;          /* as in proc(5): 'R' running, 'S' sleeping, 'D' disk sleep, 'T' stopped, ... */
    int threads;
    int64_t user_usec;   /* CPU time so far, user mode (clock-tick resolution) */
    int64_t system_usec; /* CPU time so far, kernel mode */
    int64_t rss_kib;     /* resident set size now */
} fl_stats;

/* Fills *out with the child's current statistics (Linux: /proc/<pid>/stat, read while the child
 * is known unreaped, so a recycled PID is never read as the child). 0; -ESRCH once the child has
 * exited (reaped or not); -ENOSYS without procfs; other -errno. */
int fl_process_stats(fl_process *p, fl_stats *out);

/* Reaps every orphaned child that has exited; returns how many remain. */
int fl_reap_orphans(void);

/* ---- The reactor: one thread watches the exits of many children -----------------------------
 *
 * A reactor reaps every process registered with it as soon as it exits (with the same raw waitid
 * and rusage as fl_process_wait) and reports the exit to the thread calling fl_reactor_wait,
 * together with the 64-bit token given at registration. One thread, any number of children; it
 * never calls waitpid(-1). The same wait also reports descriptors (the pipes to those children)
 * that became readable or writable: fl_reactor_watch_fd.
 *
 * Threads: fl_reactor_add, fl_reactor_watch_fd, fl_reactor_unwatch_fd and fl_reactor_wake may be
 * called from any thread at any time; fl_reactor_wait from one thread at a time; fl_reactor_close
 * once, when no other call is running.
 *
 * A registered process stays watched until its exit has been reported, even if its owner calls
 * fl_process_close first: the reactor holds its own reference, so a forgotten child is reaped the
 * moment it exits and its pidfd is closed then. fl_process_wait/fl_process_signal keep working on a
 * registered handle; whoever reaps first stores the status in the handle, and the reactor still
 * reports that same status for the token.
 *
 * A handle without a pidfd (fl_spawn_strategy_current() == FL_STRATEGY_PID_ONLY) is watched by a
 * small native waiter thread of its own (blocked in waitid(P_PID, WNOWAIT), all signals blocked),
 * which hands the exit to the reactor: correct on any kernel, one OS thread per such child. */
typedef struct fl_reactor fl_reactor; /* opaque */

/* A plain enum, no typedef: the name fl_reactor_backend belongs to the function below (C has one
 * namespace for typedefs and functions; the enum tag lives apart). Backends are passed as int. */
enum fl_reactor_backend {
    FL_REACTOR_BEST = 0,     /* fl_reactor_open: the best one that works here */
    FL_REACTOR_EPOLL = 1,    /* epoll: pidfds and watched descriptors, an eventfd for wake-ups */
    FL_REACTOR_IO_URING = 2, /* io_uring: POLL_ADD on pidfds (then waitid with rusage) and on
                                watched descriptors */
    FL_REACTOR_IOCP = 3      /* Windows: one I/O completion port; each child's job object posts
                                its messages there, and the overlapped pipe ends of
                                fl_fd_pipe_for_child their completions */
};
/* "epoll" or "io_uring" (Linux), "iocp" (Windows); "unknown" otherwise */
const char *fl_reactor_backend_name(int backend);

/* Opens a reactor with the given backend. FL_REACTOR_BEST tries io_uring, then epoll. An explicit
 * backend that this kernel or its seccomp profile refuses fails with its errno (-ENOSYS, -EPERM
 * when io_uring_disabled or a filter denies it, -EINVAL for an unknown backend). */
int fl_reactor_open(int backend, fl_reactor **out);
int fl_reactor_backend(const fl_reactor *r);

/* Starts watching p; its exit will be reported once, with token. 0 or -errno (-EEXIST if p is
 * already registered with a reactor, -ENOMEM, -EAGAIN when no waiter thread can be started). A
 * child that exited (or was reaped by fl_process_wait) before this call is reported too. Once its
 * exit has been reported p is no longer registered: adding it again reports the same status at
 * once. */
int fl_reactor_add(fl_reactor *r, fl_process *p, uint64_t token);

/* fl_reactor_event.kind */
enum { FL_EVENT_EXIT = 0, FL_EVENT_FD = 1 };

typedef struct fl_reactor_event {
    uint64_t token;
    int result;            /* FL_EVENT_EXIT: 1 status is valid; -ECHILD: reaped behind our back
                              (status lost); other -errno: waitid failed. FL_EVENT_FD: 0 */
    int kind;              /* FL_EVENT_EXIT (fl_reactor_add) or FL_EVENT_FD (fl_reactor_watch_fd) */
    fl_exit_status status; /* FL_EVENT_EXIT with result 1; zero otherwise */
} fl_reactor_event;

/* fl_reactor_watch_fd direction */
enum { FL_WATCH_READ = 1, FL_WATCH_WRITE = 2 };

/* Watches an ordinary descriptor (a pipe end) in the same wait as the exits: reported once, as
 * {token, FL_EVENT_FD, result 0}, when fd is readable (FL_WATCH_READ) or writable
 * (FL_WATCH_WRITE), or has hung up or failed (the caller's next read or write tells which). A
 * report is a hint to try the I/O, not a promise that it will not say EAGAIN. One-shot: to hear
 * about fd again after its report, watch it again (with the same or another token). Callable from
 * any thread, also while another thread is in fl_reactor_wait (as fl_reactor_add).
 *
 * 0 or -errno: -EINVAL for a direction other than exactly one of the two, or fd < 0; -EEXIST if
 * fd is armed already (watched and not reported yet, whatever the token); -ENOMEM; a backend's
 * error (e.g. -EPERM from epoll for a regular file, which is always ready: just do the I/O).
 *
 * The caller owns fd and must call fl_reactor_unwatch_fd before closing it: the reactor knows a
 * watch by its descriptor number, and io_uring holds a reference to the file while a poll is
 * armed (a pipe end that stays referenced never shows its peer EOF or EPIPE). */
int fl_reactor_watch_fd(fl_reactor *r, fl_fd fd, int direction, uint64_t token);

/* Forgets the watch of fd made with token, whether armed or already reported. 0 also when fd is
 * not watched at all; -ENOENT, and nothing changes, when fd is watched under another token (the
 * token names the watch, so a stale unwatch cannot cancel a newer owner's watch of a reused
 * descriptor number). Other -errno only if the backend could not cancel a poll still armed (the
 * watch is forgotten anyway).
 *
 * A report that a concurrent fl_reactor_wait has already collected may still be returned after
 * this call: callers ignore FL_EVENT_FD tokens they no longer know. On io_uring the cancellation
 * of a still-armed poll is submitted by the thread in fl_reactor_wait (it is woken for it), or by
 * the next call of fl_reactor_wait if none is waiting; the kernel drops its file reference then. */
int fl_reactor_unwatch_fd(fl_reactor *r, fl_fd fd, uint64_t token);

/* Waits up to timeout_ms (< 0 forever, 0 just check) for exits and descriptor reports and stores
 * up to max (> 0, else -EINVAL) of them in events. Returns how many were stored (0 only on timeout
 * or after fl_reactor_wake), -EINTR if a signal handler interrupted the wait, other -errno on
 * failure. Events beyond max stay queued for the next call; none is lost or reported twice (after
 * an io_uring completion-queue overflow that lost reports, every armed descriptor watch is
 * reported once, ready or not: a spurious report the caller's I/O answers with EAGAIN). */
int fl_reactor_wait(fl_reactor *r, fl_reactor_event *events, int max, int timeout_ms);

/* Makes a current or the next fl_reactor_wait return (possibly with 0 events). 0 or -errno. */
int fl_reactor_wake(fl_reactor *r);

/* Closes the reactor. Processes still registered are neither killed nor reaped: the reactor drops
 * its reference, so a handle its owner still holds works as before (and may join another
 * reactor), and one its owner has closed goes to the orphan list, reaped later by
 * fl_reap_orphans. Their exits are not reported. A waiter thread still blocked keeps what it needs
 * alive and frees it when its child exits. Descriptor watches are forgotten (unwatch them first
 * if their descriptors must close soon after: an io_uring ring, and the polls in it, go only with
 * the last waiter thread). NULL is ignored. */
void fl_reactor_close(fl_reactor *r);

/* ---- Whole-tree kill: cgroup v2 --------------------------------------------------------------
 *
 * A process group or session misses every descendant that called setsid (daemons do); a cgroup
 * does not: membership is inherited by every fork and only a process with write access to the
 * cgroup tree can leave. Spawn the child with FL_SPAWN_INTO_CGROUP into a leaf the caller created
 * (mkdir under a cgroup it may write, the systemd delegation of a user service for instance),
 * kill the tree with fl_cgroup_kill, wait until fl_cgroup_populated says 0, then rmdir the leaf.
 * cgroup_fd is a cgroup v2 directory opened O_RDONLY|O_DIRECTORY (the caller owns it). Both
 * functions answer -EBADF for a descriptor that is not open and -EINVAL for one that is not a
 * directory on a cgroup2 file system. */

/* Sends SIGKILL to every process in the cgroup and in its descendant cgroups. Linux 5.14+: one
 * write of "1" to cgroup.kill, which the kernel applies atomically, also to processes forking
 * while it runs. Before 5.14 (no cgroup.kill): the cgroup is frozen (cgroup.freeze, 5.2+), every
 * process listed in cgroup.procs of it and its descendants is killed, and it is thawed again
 * (unless it was frozen before the call); see cgroup_linux.c for why the PIDs are safe there and
 * the one remaining race. Returns 0 once the signal is sent (the processes may still be exiting:
 * wait with fl_cgroup_populated), or -errno: -ENOENT where neither file exists (the root cgroup,
 * a kernel before 5.2), -EACCES/-EPERM without write access. In the fallback a freeze that does
 * not complete within a second (a task in uninterruptible sleep) is followed by the kill anyway. */
int fl_cgroup_kill(fl_fd cgroup_fd);

/* Sends sig to every process in the cgroup and its descendant cgroups. SIGKILL is fl_cgroup_kill;
 * any other signal takes the freezing way (cgroup.kill knows only SIGKILL): freeze, signal each
 * listed PID, thaw. A frozen process can neither exit by itself nor fork, so no listed PID can
 * be recycled meanwhile; the signal is delivered when the cgroup thaws. 0 once sent (also to an
 * empty cgroup), -EINVAL for a signal number out of range, else as fl_cgroup_kill. */
int fl_cgroup_signal(fl_fd cgroup_fd, int sig);

/* Creates the cgroup parent_fd/name (mkdir; name is one path component) and opens it for
 * FL_SPAWN_INTO_CGROUP and the functions here: 0 and the descriptor in *out (the caller owns it),
 * or -errno: -EEXIST, -EACCES/-EPERM (not delegated to this user), -EAGAIN (cgroup.max.descendants
 * or cgroup.max.depth reached), -EINVAL (parent_fd is no cgroup2 directory, or name is not a
 * single component). */
int fl_cgroup_create(fl_fd parent_fd, const char *name, fl_fd *out);

/* Removes the empty cgroup parent_fd/name (rmdir): 0, or -errno: -EBUSY while a live process is in
 * it or it has child cgroups, -ENOENT when it is gone already. */
int fl_cgroup_remove(fl_fd parent_fd, const char *name);

/* Claims the cgroup for the calling process: an exclusive flock(2) on the directory's open file
 * description, held until every descriptor sharing that description is closed, which the kernel
 * does when the process dies, however it dies. The claim is how an owner says "in use" to others
 * that cannot judge by PID (a process in another PID namespace shows a number that means nothing
 * here). wait != 0 blocks until the claim is had; wait == 0 answers -EWOULDBLOCK at once when
 * another description holds it. 0 once claimed, or -errno (-EBADF, -EINVAL as above). */
int fl_cgroup_claim(fl_fd cgroup_fd, int wait);

/* Whether the cgroup or any descendant still has a live process ("populated" in cgroup.events):
 * 1 yes, 0 no (the leaf may now be removed with rmdir, which fails with EBUSY before), or -errno
 * (-ENOENT for the root cgroup, which has no cgroup.events). Exited processes do not count, even
 * when nobody has reaped them yet. */
int fl_cgroup_populated(fl_fd cgroup_fd);

#if defined(_WIN32)
/* The raw Win32 error (GetLastError) behind this thread's last -errno from the library, 0 if
 * none was mapped yet: for messages that want more than the errno (EIO hides many). */
uint32_t fl_win_last_error(void);
#endif

/* Which spawn mechanism this process uses now (Linux: learned by calling them; it can only move
 * down the ladder, e.g. when a seccomp filter denies clone3). */
typedef enum fl_spawn_strategy {
    FL_STRATEGY_CLONE3 = 1,       /* clone3(CLONE_VM|CLONE_VFORK|CLONE_PIDFD|CLONE_CLEAR_SIGHAND) */
    FL_STRATEGY_CLONE_PIDFD = 2,  /* clone(CLONE_VM|CLONE_VFORK|CLONE_PIDFD) */
    FL_STRATEGY_PIDFD_OPEN = 3,   /* clone(CLONE_VM|CLONE_VFORK) then pidfd_open */
    FL_STRATEGY_PID_ONLY = 4,     /* no pidfd at all: PID plus waitid(P_PID) */
    /* Windows: CreateProcessW puts the child in its job atomically (PROC_THREAD_ATTRIBUTE_JOB_LIST,
     * Windows 10 1607+). */
    FL_STRATEGY_WIN_JOB_LIST = 5,
    /* Windows without a working JOB_LIST (older Windows, Wine): CREATE_SUSPENDED, then
     * AssignProcessToJobObject, then ResumeThread: the child runs no code outside the job. */
    FL_STRATEGY_WIN_SUSPENDED = 6
} fl_spawn_strategy;
int fl_spawn_strategy_current(void);
const char *fl_spawn_strategy_name(int strategy);

/* Descriptors: all created close-on-exec. */
enum {
    FL_OPEN_READ = 1u << 0,
    FL_OPEN_WRITE = 1u << 1,
    FL_OPEN_APPEND = 1u << 2,
    FL_OPEN_CREATE = 1u << 3,
    FL_OPEN_EXCLUSIVE = 1u << 4, /* with CREATE: fail if it exists */
    FL_OPEN_TRUNCATE = 1u << 5,
    FL_OPEN_DIRECTORY = 1u << 6  /* with READ only: a directory (O_DIRECTORY), e.g. a cgroup */
};
/* Opens path; returns 0 and stores the descriptor in *out, or -errno. mode applies when a file is
 * created. */
int fl_fd_open(const char *path, unsigned flags, int mode, fl_fd *out);
/* pipe2(O_CLOEXEC): fds[0] reads, fds[1] writes. Windows: two synchronous anonymous-pipe ends,
 * fit for any child, which cannot be made non-blocking (fl_fd_set_nonblocking: -ENOTSUP). */
int fl_fd_pipe(fl_fd fds[2]);
/* A pipe whose end child_end (0 or 1; -1: none) is for a child and whose other end(s) stay in this
 * process, to be made non-blocking and watched. fds as fl_fd_pipe; -EINVAL for another child_end.
 * POSIX: exactly fl_fd_pipe (any end can be made non-blocking). Windows: a named pipe with a
 * unique name whose ends for this process are overlapped (fl_fd_set_nonblocking, EAGAIN,
 * fl_reactor_watch_fd and fl_communicate work on them) and whose child end is an ordinary
 * synchronous handle (a child's plain ReadFile/WriteFile on an overlapped handle is undefined).
 * Close the ends with fl_fd_close only. */
int fl_fd_pipe_for_child(fl_fd fds[2], int child_end);
int fl_fd_close(fl_fd fd);
/* Sets (on != 0) or clears O_NONBLOCK. 0 or -errno. */
int fl_fd_set_nonblocking(fl_fd fd, int on);
/* One read(2), retried on EINTR: the bytes read (0: end of file), or -errno (-EAGAIN: the
 * descriptor is non-blocking and nothing is there yet). */
int64_t fl_fd_read(fl_fd fd, void *buf, size_t len);
/* One write(2), retried on EINTR: the bytes written (possibly fewer than len), or -errno (-EAGAIN:
 * non-blocking and full). A pipe whose reader has gone gives -EPIPE and never a SIGPIPE, whatever
 * the process's disposition of SIGPIPE: the signal is blocked in the calling thread around the
 * write and the one this write raised is taken back (see fd_unix.c for the one exception). */
int64_t fl_fd_write(fl_fd fd, const void *buf, size_t len);

/* ---- Talking to a child over pipes: one thread, no deadlock ---------------------------------
 *
 * fl_communicate writes a child's stdin while it reads its stdout and stderr, in one poll(2) loop
 * in the calling thread, so neither side can block the other however much each writes. It returns
 * whenever the caller has something to do, and is called again to continue; the fl_io structs
 * carry the progress between calls. */
typedef struct fl_io {
    fl_fd fd;     /* the parent's end of a pipe; -1: not used. Made non-blocking by the call */
    void *buf;
    size_t len;   /* input: the bytes to write are buf[0..len); output: the room is buf[0..len) */
    size_t pos;   /* in/out: bytes written from / read into buf so far; the call goes on there */
    int done;     /* out: output: end of file seen; input: all len bytes written, or the reader has
                     gone (err EPIPE) */
    int err;      /* out: positive errno of a failed read or write; the stream is then done too */
} fl_io;

/* fl_communicate's result: a mask of what happened; several may be set at once. */
enum {
    FL_IO_INPUT_DONE = 1,   /* in->done became set in this call: close in->fd now (EOF for the
                               child) */
    FL_IO_FULL = 2,         /* an output not done has pos == len: drain or replace its buffer */
    FL_IO_OUTPUTS_DONE = 4, /* the last output not done became done in this call; or there is
                               nothing left to do at all (see below) */
    FL_IO_EXITED = 8        /* exit_fd polled readable (a pidfd: the child has exited) or failed */
};

/* One step of the conversation. in, out, err may each be NULL; a stream with fd < 0 or done set
 * is left alone ("not live"). Reads go straight into buf at pos, as much per read as there is
 * room; writes go from buf at pos. exit_fd (< 0: none) is polled for readability only; stop
 * passing it once FL_IO_EXITED was reported (it stays readable).
 *
 * The rule for the result: a bit is set only for something that happened in this call, with two
 * exceptions that stop the caller from spinning: an output that is full at entry returns
 * FL_IO_FULL at once (no I/O at all), and a call with nothing live and exit_fd < 0 returns
 * FL_IO_OUTPUTS_DONE at once. Likewise an input with pos == len at entry becomes done at once
 * (FL_IO_INPUT_DONE). Otherwise the call returns as soon as a bit is set, 0 when timeout_ms
 * (< 0: forever, 0: one pass without waiting) passed without one, -EINTR when a signal handler
 * interrupted poll (the caller checks its own state and calls again), -EINVAL for a live stream
 * with pos > len or no buf, other -errno when poll or making a descriptor non-blocking fails.
 * The structs are updated in every case, also on timeout or -EINTR.
 *
 * Per stream: an output's hang-up or error is read until read says 0 (done) or fails (err, done).
 * The input's reader gone (POLLERR/POLLHUP) shows as write's -EPIPE: done, err = EPIPE, without
 * SIGPIPE (fl_fd_write). A failing read or write (EIO, ...) sets err and done. */
int fl_communicate(fl_io *in, fl_io *out, fl_io *err, fl_fd exit_fd, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* FORKLESS_H */
