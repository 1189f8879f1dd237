/*
 * The Windows process handle: wait, terminate, statistics, close, and the orphan list.
 *
 * A process HANDLE names the process itself, never a number that could be reused: as long as we
 * hold it, the PID stays allocated and TerminateProcess cannot reach another program. So the
 * race-freedom the Linux backend gets from pidfds is here by construction. Windows has no zombies
 * to reap either: "reaping" is reading the exit code and the accounting once the handle is
 * signalled, and this file does it exactly once and keeps the result in the handle.
 *
 * Every child runs in a job object of its own (spawn_win.c). The job is what makes a whole tree
 * addressable (fl_process_signal_group → TerminateJobObject: descendants cannot leave the job
 * unless it allows breakaway, which ours never does) and what FL_SPAWN_DIE_WITH_PARENT uses:
 * JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE kills the tree when the last job handle goes, which the
 * kernel does also when this process dies, however it dies. Hazard: that makes closing the job
 * handle a kill. So a handle whose child still runs and was spawned with that flag is not
 * destroyed by fl_process_close: it goes on the orphan list with its job handle open and is
 * finished by fl_reap_orphans once the child has exited (the child lives on, as on Linux, and
 * still dies with us). Without the flag the job handle is simply closed: the job then lives on
 * until its last process exits, killing nothing.
 *
 * Signals do not exist; fl_process_signal maps the few that have a Windows meaning:
 *   0        is the child still running (WaitForSingleObject(h, 0))
 *   SIGKILL, SIGTERM   TerminateProcess(h, 128 + sig): no clean-up runs in the child, as SIGKILL
 *   SIGINT   CTRL_BREAK_EVENT to the child's console process group: the console's graceful
 *            stop. Only for a child spawned with FL_SPAWN_NEW_PROCESS_GROUP (or NEW_SESSION),
 *            else -EINVAL: the event goes to a whole group, and without a group of its own that
 *            group would include this process. Only console programs attached to our console
 *            receive it (GUI programs and consoles of their own do not; 0 is still returned).
 *   others   -EINVAL
 * fl_process_signal_group with SIGKILL/SIGTERM terminates the whole job (the tree); SIGINT there
 * is the same CTRL_BREAK as above (a console group is the tree's console programs).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal_win.h"

#include <psapi.h>    /* after windows.h, which they assume */
#include <tlhelp32.h>

static SRWLOCK orphans_lock = SRWLOCK_INIT;
static fl_process *orphans;

fl_process *fl_process_new_win(int64_t pid, HANDLE process, HANDLE job, unsigned flags) {
    fl_process *p = calloc(1, sizeof *p);
    if (p == NULL) return NULL;
    p->pid = pid;
    p->process = process;
    p->job = job;
    p->flags = flags;
    p->refs = 1;
    InitializeSRWLock(&p->lock);
    return p;
}

int64_t fl_process_pid(const fl_process *p) { return p->pid; }

fl_fd fl_process_fd(const fl_process *p) { return (fl_fd)(intptr_t)p->process; }

static int64_t filetime_usec(FILETIME ft) {
    ULARGE_INTEGER u;
    u.LowPart = ft.dwLowDateTime;
    u.HighPart = ft.dwHighDateTime;
    return (int64_t)(u.QuadPart / 10); /* 100 ns units */
}

/* Fills p->status from an exited process, with p->lock held exclusively. */
static void finish_locked(fl_process *p) {
    DWORD code = 0;
    fl_exit_status st;
    memset(&st, 0, sizeof st);
    if (!GetExitCodeProcess(p->process, &code)) code = (DWORD)-1;
    if (p->killed_sig != 0 && code == FL_WIN_KILL_CODE(p->killed_sig)) {
        st.kind = FL_SIGNALED;
        st.code = p->killed_sig;
    } else if ((code & 0xC0000000u) == 0xC0000000u) {
        st.kind = FL_CRASHED;
        st.code = (int)code;
    } else {
        st.kind = FL_EXITED;
        st.code = (int)code;
    }
    FILETIME created, exited, kernel, user;
    if (GetProcessTimes(p->process, &created, &exited, &kernel, &user)) {
        st.user_usec = filetime_usec(user);
        st.system_usec = filetime_usec(kernel);
    }
    PROCESS_MEMORY_COUNTERS mc;
    memset(&mc, 0, sizeof mc);
    mc.cb = sizeof mc;
    if (GetProcessMemoryInfo(p->process, &mc, sizeof mc)) {
        st.max_rss_kib = (int64_t)(mc.PeakWorkingSetSize / 1024);
    }
    p->status = st;
    p->done = 1;
}

/* 1 (status stored) once the process handle is signalled, 0 if not after timeout_ms. */
static int wait_handle(fl_process *p, DWORD timeout_ms, fl_exit_status *status) {
    AcquireSRWLockShared(&p->lock);
    int done = p->done;
    if (done && status) *status = p->status;
    ReleaseSRWLockShared(&p->lock);
    if (done) return 1;
    DWORD w = WaitForSingleObject(p->process, timeout_ms);
    if (w == WAIT_TIMEOUT) return 0;
    if (w != WAIT_OBJECT_0) return fl_win_fail(GetLastError());
    AcquireSRWLockExclusive(&p->lock);
    if (!p->done) finish_locked(p);
    if (status) *status = p->status;
    ReleaseSRWLockExclusive(&p->lock);
    return 1;
}

int fl_process_reap_nohang(fl_process *p, fl_exit_status *status) {
    return wait_handle(p, 0, status);
}

int fl_process_wait(fl_process *p, int timeout_ms, fl_exit_status *status) {
    if (p == NULL) return -EINVAL;
    /* INFINITE is 0xFFFFFFFF: a negative timeout means forever, as on Linux. */
    return wait_handle(p, timeout_ms < 0 ? INFINITE : (DWORD)timeout_ms, status);
}

/* Whether the process still runs: 1, 0, or -errno. */
static int running(fl_process *p) {
    DWORD w = WaitForSingleObject(p->process, 0);
    if (w == WAIT_TIMEOUT) return 1;
    if (w == WAIT_OBJECT_0) return 0;
    return fl_win_fail(GetLastError());
}

static int ctrl_break(fl_process *p) {
    if (!(p->flags & (FL_SPAWN_NEW_PROCESS_GROUP | FL_SPAWN_NEW_SESSION))) return -EINVAL;
    int r = running(p);
    if (r <= 0) return r == 0 ? -ESRCH : r;
    /* The group ID of a CREATE_NEW_PROCESS_GROUP child is its PID. */
    if (!GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, (DWORD)p->pid)) {
        return fl_win_fail(GetLastError());
    }
    return 0;
}

int fl_process_signal(fl_process *p, int sig) {
    if (p == NULL || sig < 0 || sig > 64) return -EINVAL;
    if (sig == 0) {
        int r = running(p);
        return r == 1 ? 0 : r == 0 ? -ESRCH : r;
    }
    if (sig == FL_SIG_INT) return ctrl_break(p);
    if (sig != FL_SIG_KILL && sig != FL_SIG_TERM) return -EINVAL;
    AcquireSRWLockExclusive(&p->lock);
    int rc = 0;
    if (p->done || running(p) == 0) {
        rc = -ESRCH;
    } else {
        /* Recorded before the call: once TerminateProcess returns the exit may already be read
         * by a waiter, which must see the mark. A child that exits with the same code just before
         * the terminate is reported as killed, which it nearly was. */
        int prev = p->killed_sig;
        p->killed_sig = sig;
        if (!TerminateProcess(p->process, FL_WIN_KILL_CODE(sig))) {
            DWORD e = GetLastError();
            p->killed_sig = prev;
            /* ACCESS_DENIED is what TerminateProcess says for a process that is exiting. */
            rc = running(p) == 0 ? -ESRCH : fl_win_fail(e);
        }
    }
    ReleaseSRWLockExclusive(&p->lock);
    return rc;
}

int fl_process_signal_group(fl_process *p, int sig) {
    if (p == NULL || sig < 0 || sig > 64) return -EINVAL;
    if (sig == FL_SIG_INT) return ctrl_break(p);
    if (sig != 0 && sig != FL_SIG_KILL && sig != FL_SIG_TERM) return -EINVAL;
    if (p->job == NULL) return -EINVAL;
    JOBOBJECT_BASIC_ACCOUNTING_INFORMATION acct;
    if (!QueryInformationJobObject(p->job, JobObjectBasicAccountingInformation, &acct,
                                   sizeof acct, NULL)) {
        return fl_win_fail(GetLastError());
    }
    if (acct.ActiveProcesses == 0) return -ESRCH;
    if (sig == 0) return 0;
    AcquireSRWLockExclusive(&p->lock);
    int prev = p->killed_sig;
    if (!p->done) p->killed_sig = sig;
    int rc = 0;
    if (!TerminateJobObject(p->job, FL_WIN_KILL_CODE(sig))) {
        p->killed_sig = prev;
        rc = fl_win_fail(GetLastError());
    }
    ReleaseSRWLockExclusive(&p->lock);
    return rc;
}

/* The thread count from a process snapshot: the one documented source that works for another
 * process without debug privileges (NtQueryInformationProcess would be undocumented API). Costs
 * a snapshot of every process, a few hundred microseconds; 0 if the snapshot fails. */
static int thread_count(DWORD pid) {
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    if (snap == INVALID_HANDLE_VALUE) return 0;
    PROCESSENTRY32W e;
    e.dwSize = sizeof e;
    int n = 0;
    for (BOOL ok = Process32FirstW(snap, &e); ok; ok = Process32NextW(snap, &e)) {
        if (e.th32ProcessID == pid) {
            n = (int)e.cntThreads;
            break;
        }
    }
    CloseHandle(snap);
    return n;
}

int fl_process_stats(fl_process *p, fl_stats *out) {
    if (p == NULL || out == NULL) return -EINVAL;
    int r = running(p);
    if (r <= 0) return r == 0 ? -ESRCH : r;
    memset(out, 0, sizeof *out);
    out->state = 'R'; /* Windows has no cheap per-process scheduler state */
    out->threads = thread_count((DWORD)p->pid);
    FILETIME created, exited, kernel, user;
    if (!GetProcessTimes(p->process, &created, &exited, &kernel, &user)) {
        return fl_win_fail(GetLastError());
    }
    out->user_usec = filetime_usec(user);
    out->system_usec = filetime_usec(kernel);
    PROCESS_MEMORY_COUNTERS mc;
    memset(&mc, 0, sizeof mc);
    mc.cb = sizeof mc;
    if (GetProcessMemoryInfo(p->process, &mc, sizeof mc)) {
        out->rss_kib = (int64_t)(mc.WorkingSetSize / 1024);
    }
    return 0;
}

static void destroy(fl_process *p) {
    if (p->job != NULL) CloseHandle(p->job);
    CloseHandle(p->process);
    free(p);
}

/* Whether destroying p now would kill its tree (KILL_ON_JOB_CLOSE with members left). */
static int closing_kills(fl_process *p) {
    if (!(p->flags & FL_SPAWN_DIE_WITH_PARENT) || p->job == NULL) return 0;
    JOBOBJECT_BASIC_ACCOUNTING_INFORMATION acct;
    if (!QueryInformationJobObject(p->job, JobObjectBasicAccountingInformation, &acct,
                                   sizeof acct, NULL)) {
        return 1; /* cannot tell: keep it, fl_reap_orphans asks again */
    }
    return acct.ActiveProcesses > 0;
}

int fl_reap_orphans(void) {
    fl_process *done = NULL;
    int left = 0;
    AcquireSRWLockExclusive(&orphans_lock);
    fl_process **link = &orphans;
    while (*link != NULL) {
        fl_process *p = *link;
        if (closing_kills(p)) {
            left++;
            link = &p->next_orphan;
        } else {
            *link = p->next_orphan;
            p->next_orphan = done;
            done = p;
        }
    }
    ReleaseSRWLockExclusive(&orphans_lock);
    while (done != NULL) {
        fl_process *next = done->next_orphan;
        destroy(done);
        done = next;
    }
    return left;
}

void fl_process_unref(fl_process *p) {
    AcquireSRWLockExclusive(&p->lock);
    int last = --p->refs == 0;
    ReleaseSRWLockExclusive(&p->lock);
    if (!last) return;
    if (closing_kills(p)) {
        AcquireSRWLockExclusive(&orphans_lock);
        p->next_orphan = orphans;
        orphans = p;
        ReleaseSRWLockExclusive(&orphans_lock);
    } else {
        destroy(p);
    }
}

void fl_process_close(fl_process *p) {
    if (p == NULL) return;
    fl_process_unref(p);
    fl_reap_orphans();
}

int fl_process_watch(fl_process *p) {
    AcquireSRWLockExclusive(&p->lock);
    int rc;
    if (p->watched) {
        rc = -EEXIST;
    } else {
        p->watched = 1;
        p->refs++;
        rc = p->done ? 1 : 0;
    }
    ReleaseSRWLockExclusive(&p->lock);
    return rc;
}

void fl_process_unwatch(fl_process *p) {
    AcquireSRWLockExclusive(&p->lock);
    p->watched = 0;
    ReleaseSRWLockExclusive(&p->lock);
    fl_process_unref(p);
}
