/* Declarations shared between the Windows backend's files (spawn_win.c, process_win.c,
 * reactor_iocp.c, quote_win.c, errors_win.c); not part of the public API. The Linux files use
 * internal.h instead: the two never meet in one build. */
#ifndef FL_INTERNAL_WIN_H
#define FL_INTERNAL_WIN_H

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <stdint.h>
#include <wchar.h>

#include "forkless.h"

#ifdef __cplusplus
extern "C" { /* the tests include this header too */
#endif

/* The signal numbers of the public API are Linux's (Java mirrors them); mingw's signal.h has
 * only the C ones, so the backend names the few it maps itself. */
enum { FL_SIG_INT = 2, FL_SIG_KILL = 9, FL_SIG_TERM = 15 };

/* The exit code a child killed by fl_process_signal(SIGKILL/SIGTERM) or a tree kill is given:
 * 128 + signal, what a POSIX shell shows for a signalled child. The handle remembers that it
 * killed, so a child that chose to exit with 137 itself is still reported as FL_EXITED. */
#define FL_WIN_KILL_CODE(sig) (128u + (unsigned)(sig))

/* The Windows process handle. */
struct fl_process {
    int64_t pid;
    HANDLE process;        /* waitable; PROCESS_ALL_ACCESS from CreateProcessW */
    HANDLE job;            /* the job the child (and its descendants) run in; never inheritable */
    unsigned flags;        /* FL_SPAWN_* given at spawn */
    SRWLOCK lock;          /* guards everything below */
    int done;              /* status is valid */
    int killed_sig;        /* we terminated it (process or tree) with FL_WIN_KILL_CODE(sig) */
    fl_exit_status status;
    /* References: 1 for the owner (fl_process_close), 1 while a reactor watches it. */
    int refs;
    int watched;
    struct fl_process *next_orphan;
};

/* errors_win.c: a Win32 error code as a positive errno value (the table is documented there). */
int fl_win_errno(DWORD win32_error);
/* The last Win32 error this thread's failing forkless call saw (0 if none): for messages that
 * want more than the errno. Set by the backend wherever it maps an error. */
uint32_t fl_win_last_error(void); /* also public, in forkless.h */
int fl_win_fail(DWORD win32_error); /* remembers it, returns -errno */

/* quote_win.c. UTF-8 to a malloc'd UTF-16 string: 0, -EILSEQ (not valid UTF-8), -ENOMEM. */
int fl_win_utf16(const char *s, wchar_t **out);
/* Whether path names a batch file (.bat or .cmd, in any case, also with the trailing dots and
 * spaces Windows strips from file names). */
int fl_win_is_batch(const wchar_t *path);
/* Builds the command line of an ordinary program: argv[0] and the arguments quoted so that both
 * CommandLineToArgvW and the Microsoft C runtime give back exactly argv. 0, -EINVAL (argv[0] with
 * a double quote: the runtimes read argv[0] without escapes, so it cannot be represented),
 * -EILSEQ, -E2BIG (longer than 32766 UTF-16 units), -ENOMEM. */
int fl_win_command_line(const char *const *argv, wchar_t **out);
/* The command line for a batch file run by cmd.exe; see quote_win.c for the rule. bat_path is
 * the resolved batch file, argv[0] is not used. 0, -EINVAL (an argument cmd.exe would read as
 * syntax), -EILSEQ, -E2BIG, -ENOMEM. */
int fl_win_batch_command_line(const wchar_t *cmd_exe, const wchar_t *bat_path,
                              const char *const *argv, wchar_t **out);

/* process_win.c */
fl_process *fl_process_new_win(int64_t pid, HANDLE process, HANDLE job, unsigned flags);
/* For the reactor: as on Linux (see internal.h). */
int fl_process_watch(fl_process *p);
void fl_process_unwatch(fl_process *p);
/* 1 with *status filled once the process has exited (the status is computed once and kept), 0 if
 * it still runs, -errno if Windows cannot tell. */
int fl_process_reap_nohang(fl_process *p, fl_exit_status *status);
void fl_process_unref(fl_process *p);

/* reactor_iocp.c, for the tests: how many job messages of each number (JOB_OBJECT_MSG_*, 1..13)
 * the reactor has received so far. */
void fl_iocp_job_messages(fl_reactor *r, uint64_t counts[16]);
/* reactor_iocp.c, for the tests: drop every job message as if the kernel had lost it, so only the
 * once-a-second sweep can find exits. */
void fl_iocp_ignore_job_messages(fl_reactor *r, int on);

/* pipe_win.c: the asynchronous (overlapped) pipe ends of fl_fd_pipe_for_child. The fl_fd_*
 * functions try these first; -ENOENT means "not an asynchronous end". */
int fl_pipe_is_async(fl_fd fd);
int64_t fl_pipe_read(fl_fd fd, void *buf, size_t len);
int64_t fl_pipe_write(fl_fd fd, const void *buf, size_t len);
int fl_pipe_set_nonblocking(fl_fd fd, int on);
/* 1 if fd was an asynchronous end (its state is gone now; the caller closes the handle), 2 if it
 * was one with a write pending (pipe_win.c closes the handle when the write completes), else 0. */
int fl_pipe_close(fl_fd fd);
/* For the reactor: associates fd with port (once) and starts what makes it report direction.
 * Either a packet with *key is already posted or will be queued by the operation's completion;
 * or, when that operation started before the association, *wait_event is set: the caller waits
 * for it (a thread-pool wait) and posts the packet itself. -ENOTSUP for a handle that is not an
 * asynchronous end, -EINVAL when it is associated with another port. port_id names the reactor
 * (never reused, unlike the port's handle value). */
int fl_pipe_arm(fl_fd fd, int direction, HANDLE port, uint64_t port_id, uint64_t *key,
                HANDLE *wait_event);
/* Cancels a pending read-ahead (waiting until it ended); a pending write stays. */
void fl_pipe_disarm(fl_fd fd);
/* For fl_communicate: 1 if an I/O call on fd would not say EAGAIN now, 0 with *ev set to an
 * event that is signalled when that changes (starting a read-ahead if needed), -ENOTSUP. */
int fl_pipe_ready_or_event(fl_fd fd, HANDLE *ev);

/* spawn_win.c, for the tests: forces the CREATE_SUSPENDED → AssignProcessToJobObject →
 * ResumeThread path (on != 0) as if PROC_THREAD_ATTRIBUTE_JOB_LIST were missing, or forgets the
 * probe result (on == 0) so the next spawn probes again. */
void fl_win_force_suspended_spawn(int on);

#ifdef __cplusplus
}
#endif

#endif /* FL_INTERNAL_WIN_H */
