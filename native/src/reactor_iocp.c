/*
 * The Windows reactor: one I/O completion port, fed by the job objects of the children.
 *
 * Strategy. Every child runs in a job of its own (spawn_win.c). fl_reactor_add associates that
 * job with the reactor's port (JobObjectAssociateCompletionPortInformation), and from then on the
 * kernel posts the job's messages to the port: JOB_OBJECT_MSG_NEW_PROCESS, EXIT_PROCESS,
 * ABNORMAL_EXIT_PROCESS, ACTIVE_PROCESS_ZERO, ... One thread in GetQueuedCompletionStatusEx hears
 * about any number of children; no thread per child, no WaitForMultipleObjects limit of 64.
 *
 * Hazards, and what is done about each:
 *   - The completion key identifies the job. A handle value would be a bad key: once a job handle
 *     is closed its value is reused for the next one, and a late message of the old job would be
 *     taken for the new one. Keys here come from a 64-bit counter and are never reused; a message
 *     whose key is no longer registered is dropped.
 *   - The messages are hints. Microsoft documents that their delivery is not guaranteed, the pid
 *     of EXIT_PROCESS (in lpOverlapped) may be a grandchild's, and ABNORMAL_EXIT_PROCESS is not
 *     sent everywhere (Wine 8 never sends it; nor does it send EXIT_PROCESS after
 *     TerminateJobObject, only ACTIVE_PROCESS_ZERO). So any exit-like message (EXIT_PROCESS,
 *     ABNORMAL_EXIT_PROCESS, ACTIVE_PROCESS_ZERO) only makes the reactor look: WaitForSingleObject
 *     (h, 0) on the child's own process handle, and GetExitCodeProcess once that says exited.
 *     A grandchild's exit finds the child running and is ignored.
 *   - "Delivery of messages to the completion port is not guaranteed" (Microsoft's words for job
 *     messages other than notification limits): a lost EXIT_PROCESS would leave a child
 *     unreported forever. So a wait that lasts also sweeps: at most once a second it checks every
 *     registered child's process handle (WaitForSingleObject(h, 0), one cheap call each) and
 *     reports the exited ones the messages missed. The messages give the latency; the sweep only
 *     guarantees the report.
 *   - Messages are posted only after the association: a child that exited before fl_reactor_add
 *     (or while it ran) would never be heard of. So right after binding, the process handle is
 *     checked once more, and if it is signalled a message of our own (FL_MSG_RECHECK) is posted.
 *   - A job can be associated with a completion port only once (ERROR_INVALID_PARAMETER after
 *     that, on Windows and Wine alike). A handle added to a second reactor after the first was
 *     closed is watched there by a thread-pool wait (RegisterWaitForSingleObject) that posts the
 *     same re-check message: correct, at the cost of a pool thread's wait slot.
 *
 * The port also carries wake-ups (fl_reactor_wake): a completion with key WAKE_KEY, which no
 * registration ever gets.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal_win.h"

#define WAKE_KEY UINT64_MAX
/* Our own message number for "look at this child now"; job messages are 1..13. */
#define FL_MSG_RECHECK 0x100
/* The longest a missed job message can delay a report (see the essay). */
#define SWEEP_MS 1000
/* pipe_win.c's keys have it; the job keys count up from 1 and never reach it. */
#define FD_KEY_BIT (1ull << 63)

typedef struct reg {
    uint64_t key, token;
    fl_process *p;
    HANDLE port;           /* the reactor's, for the thread-pool callback */
    HANDLE wait;           /* the fallback's RegisterWaitForSingleObject, or NULL */
    struct reg *next;
} reg;

/* A descriptor watch (fl_reactor_watch_fd): the pipe end, its key on the port (pipe_win.c's,
 * never reused, high bit set so it cannot meet a job's), and whether it is armed. */
typedef struct wfd {
    fl_fd fd;
    uint64_t key, token;
    int armed;
    HANDLE port;           /* for the thread-pool callback */
    HANDLE wait;           /* a thread-pool wait posting the packet (see pipe_win.c), or NULL */
    struct wfd *next;
} wfd;

typedef struct ready {
    fl_reactor_event ev;
    struct ready *next;
} ready;

struct fl_reactor {
    HANDLE port;
    uint64_t id;           /* never reused: pipe_win.c tells reactors apart by it */
    SRWLOCK lock;          /* guards everything below */
    uint64_t next_key;
    reg *regs;
    wfd *fds;
    ready *head, *tail;
    uint64_t messages[16]; /* job messages seen, by number (tests print them) */
    int ignore_job_messages; /* tests: act as if every job message were lost */
    ULONGLONG last_sweep;  /* only fl_reactor_wait's thread touches it */
};

static volatile LONG64 reactors_opened = 0;

const char *fl_reactor_backend_name(int backend) {
    switch (backend) {
        case FL_REACTOR_EPOLL: return "epoll";
        case FL_REACTOR_IO_URING: return "io_uring";
        case FL_REACTOR_IOCP: return "iocp";
        default: return "unknown";
    }
}

int fl_reactor_open(int backend, fl_reactor **out) {
    if (out == NULL) return -EINVAL;
    *out = NULL;
    if (backend == FL_REACTOR_EPOLL || backend == FL_REACTOR_IO_URING) return -ENOSYS;
    if (backend != FL_REACTOR_BEST && backend != FL_REACTOR_IOCP) return -EINVAL;
    fl_reactor *r = calloc(1, sizeof *r);
    if (r == NULL) return -ENOMEM;
    r->port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1);
    if (r->port == NULL) {
        int rc = fl_win_fail(GetLastError());
        free(r);
        return rc;
    }
    InitializeSRWLock(&r->lock);
    r->next_key = 1;
    r->id = (uint64_t)InterlockedIncrement64(&reactors_opened);
    *out = r;
    return 0;
}

int fl_reactor_backend(const fl_reactor *r) {
    (void)r;
    return FL_REACTOR_IOCP;
}

static int post(fl_reactor *r, DWORD msg, uint64_t key) {
    if (!PostQueuedCompletionStatus(r->port, msg, (ULONG_PTR)key, NULL)) {
        return fl_win_fail(GetLastError());
    }
    return 0;
}

/* The fallback watch: a thread-pool wait on the process handle that posts a re-check. It reads
 * only fields that never change, and release_reg blocks until it has finished. */
static VOID CALLBACK on_process_signalled(PVOID ctx, BOOLEAN timed_out) {
    (void)timed_out;
    reg *g = ctx;
    PostQueuedCompletionStatus(g->port, FL_MSG_RECHECK, (ULONG_PTR)g->key, NULL);
}

/* Forgets a registration that is no longer in the list; never with r->lock held (it may wait for
 * a callback, and drops a reference to the process). */
static void release_reg(reg *g) {
    if (g->wait != NULL) UnregisterWaitEx(g->wait, INVALID_HANDLE_VALUE);
    fl_process_unwatch(g->p);
    free(g);
}

static void unlink_reg(fl_reactor *r, reg *victim) {
    for (reg **l = &r->regs; *l != NULL; l = &(*l)->next) {
        if (*l == victim) {
            *l = victim->next;
            return;
        }
    }
}

int fl_reactor_add(fl_reactor *r, fl_process *p, uint64_t token) {
    if (r == NULL || p == NULL) return -EINVAL;
    reg *g = calloc(1, sizeof *g);
    if (g == NULL) return -ENOMEM;
    int state = fl_process_watch(p);
    if (state < 0) {
        free(g);
        return state;
    }
    g->p = p;
    g->token = token;
    g->port = r->port;
    AcquireSRWLockExclusive(&r->lock);
    g->key = r->next_key++;
    ReleaseSRWLockExclusive(&r->lock);

    /* Bound before g is listed, so no thread sees g half made; a message that arrives in between
     * finds no registration and is dropped, and the re-check below covers the exit it meant. */
    int rc = 0;
    if (state == 0) {
        JOBOBJECT_ASSOCIATE_COMPLETION_PORT acp;
        acp.CompletionKey = (PVOID)(ULONG_PTR)g->key;
        acp.CompletionPort = r->port;
        if (!SetInformationJobObject(p->job, JobObjectAssociateCompletionPortInformation, &acp,
                                     sizeof acp)) {
            /* Bound to another port before (ERROR_INVALID_PARAMETER): its owner moved the handle
             * from a closed reactor to this one. One thread-pool wait for this child instead. */
            if (!RegisterWaitForSingleObject(&g->wait, p->process, on_process_signalled, g,
                                             INFINITE, WT_EXECUTEONLYONCE)) {
                g->wait = NULL;
                rc = fl_win_fail(GetLastError());
            }
        }
    }
    if (rc < 0) {
        release_reg(g);
        return rc;
    }
    AcquireSRWLockExclusive(&r->lock);
    g->next = r->regs;
    r->regs = g;
    ReleaseSRWLockExclusive(&r->lock);
    /* The re-check after binding (see the essay): an exit before it posted nothing. If the post
     * fails the registration stays: a job message may still come. */
    if (state == 1 || WaitForSingleObject(p->process, 0) == WAIT_OBJECT_0) {
        post(r, FL_MSG_RECHECK, g->key);
    }
    return 0;
}

/* Handles one completion, r->lock held; returns a registration whose exit was queued (the caller
 * unwatches it after unlocking), or NULL. */
static reg *handle_locked(fl_reactor *r, uint64_t key, DWORD msg) {
    if (msg < 16) r->messages[msg]++;
    if (r->ignore_job_messages && msg != FL_MSG_RECHECK) return NULL;
    if (msg != JOB_OBJECT_MSG_EXIT_PROCESS && msg != JOB_OBJECT_MSG_ABNORMAL_EXIT_PROCESS &&
        msg != JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO && msg != FL_MSG_RECHECK) {
        return NULL; /* NEW_PROCESS, limits, ...: nothing to report */
    }
    reg *g = r->regs;
    while (g != NULL && g->key != key) g = g->next;
    if (g == NULL) return NULL; /* reported already, or a stale key of a forgotten job */
    ready *e = calloc(1, sizeof *e);
    if (e == NULL) {
        /* Try again later rather than lose the exit. */
        post(r, FL_MSG_RECHECK, key);
        return NULL;
    }
    int rc = fl_process_reap_nohang(g->p, &e->ev.status);
    if (rc == 0) { /* a grandchild's exit: the child still runs */
        free(e);
        return NULL;
    }
    e->ev.token = g->token;
    e->ev.kind = FL_EVENT_EXIT;
    e->ev.result = rc;
    if (rc != 1) memset(&e->ev.status, 0, sizeof e->ev.status);
    if (r->tail) r->tail->next = e;
    else r->head = e;
    r->tail = e;
    unlink_reg(r, g);
    return g;
}

static int take_ready_locked(fl_reactor *r, fl_reactor_event *events, int max) {
    int n = 0;
    while (n < max && r->head != NULL) {
        ready *e = r->head;
        r->head = e->next;
        if (r->head == NULL) r->tail = NULL;
        events[n++] = e->ev;
        free(e);
    }
    return n;
}

/* Reports every registered child whose process handle is signalled, r->lock held; returns the
 * finished registrations chained on top of done (through next: they are off the list). */
static reg *sweep_locked(fl_reactor *r, reg *done) {
    reg *g = r->regs;
    while (g != NULL) {
        reg *next = g->next;
        if (WaitForSingleObject(g->p->process, 0) == WAIT_OBJECT_0) {
            reg *f = handle_locked(r, g->key, FL_MSG_RECHECK);
            if (f != NULL) {
                f->next = done;
                done = f;
            }
        }
        g = next;
    }
    return done;
}

static void release_all(reg *done) {
    while (done != NULL) {
        reg *next = done->next;
        release_reg(done);
        done = next;
    }
}

/* A packet of a pipe end: an operation completed, our own "ready now", or the thread-pool wait's.
 * Reported once if its watch is armed; else stale (a cancelled read-ahead, a write nobody
 * watched) and dropped. r->lock held. */
static void fd_packet_locked(fl_reactor *r, uint64_t key) {
    wfd *w = r->fds;
    while (w != NULL && w->key != key) w = w->next;
    if (w == NULL || !w->armed) return;
    ready *e = calloc(1, sizeof *e);
    if (e == NULL) {
        /* Try again later rather than lose the report. */
        PostQueuedCompletionStatus(r->port, 0, (ULONG_PTR)key, NULL);
        return;
    }
    w->armed = 0;
    if (w->wait != NULL) {
        /* The callback only posts (no lock), and has run already: this does not block long. */
        UnregisterWaitEx(w->wait, INVALID_HANDLE_VALUE);
        w->wait = NULL;
    }
    e->ev.token = w->token;
    e->ev.kind = FL_EVENT_FD;
    e->ev.result = 0;
    if (r->tail) r->tail->next = e;
    else r->head = e;
    r->tail = e;
}

int fl_reactor_wait(fl_reactor *r, fl_reactor_event *events, int max, int timeout_ms) {
    if (r == NULL || events == NULL || max <= 0) return -EINVAL;
    ULONGLONG start = GetTickCount64();
    ULONGLONG deadline = timeout_ms < 0 ? 0 : start + (ULONGLONG)timeout_ms;
    if (r->last_sweep == 0) r->last_sweep = start;
    for (;;) {
        ULONGLONG now = GetTickCount64();
        reg *done = NULL;
        AcquireSRWLockExclusive(&r->lock);
        if (now - r->last_sweep >= SWEEP_MS) {
            done = sweep_locked(r, NULL);
            r->last_sweep = now;
        }
        int n = take_ready_locked(r, events, max);
        ReleaseSRWLockExclusive(&r->lock);
        release_all(done);
        if (n > 0) return n;

        /* Until the deadline, in slices that end at the next sweep. */
        ULONGLONG until = r->last_sweep + SWEEP_MS;
        if (timeout_ms >= 0 && deadline < until) until = deadline;
        DWORD wait = until > now ? (DWORD)(until - now) : 0;
        OVERLAPPED_ENTRY entries[64];
        ULONG got = 0;
        if (!GetQueuedCompletionStatusEx(r->port, entries, 64, &got, wait, FALSE)) {
            DWORD e = GetLastError();
            if (e != WAIT_TIMEOUT) return fl_win_fail(e);
            if (timeout_ms >= 0 && GetTickCount64() >= deadline) return 0;
            continue; /* time to sweep */
        }
        int woken = 0;
        AcquireSRWLockExclusive(&r->lock);
        for (ULONG i = 0; i < got; i++) {
            uint64_t key = (uint64_t)entries[i].lpCompletionKey;
            if (key == WAKE_KEY) {
                woken = 1;
                continue;
            }
            if (key & FD_KEY_BIT) {
                fd_packet_locked(r, key);
                continue;
            }
            reg *g = handle_locked(r, key, entries[i].dwNumberOfBytesTransferred);
            if (g != NULL) {
                g->next = done;
                done = g;
            }
        }
        n = take_ready_locked(r, events, max);
        ReleaseSRWLockExclusive(&r->lock);
        release_all(done);
        if (n > 0 || woken) return n;
        if (timeout_ms >= 0 && GetTickCount64() >= deadline) return 0;
        /* Only hints that changed nothing (NEW_PROCESS, a grandchild's exit): wait on. */
    }
}

int fl_reactor_wake(fl_reactor *r) {
    if (r == NULL) return -EINVAL;
    return post(r, 0, WAKE_KEY);
}

static VOID CALLBACK on_fd_event(PVOID ctx, BOOLEAN timed_out) {
    (void)timed_out;
    wfd *w = ctx;
    PostQueuedCompletionStatus(w->port, 0, (ULONG_PTR)w->key, NULL);
}

/* Descriptor watches work on the asynchronous pipe ends of fl_fd_pipe_for_child (pipe_win.c has
 * the strategy): the end is associated with this port at its first watch, and the completion of
 * its read-ahead or pending write, or a packet posted at once when it is ready already, is the
 * report. The lock order is r->lock, then the pipe's own. */
int fl_reactor_watch_fd(fl_reactor *r, fl_fd fd, int direction, uint64_t token) {
    if (r == NULL || fd == -1 || (direction != FL_WATCH_READ && direction != FL_WATCH_WRITE)) {
        return -EINVAL;
    }
    AcquireSRWLockExclusive(&r->lock);
    wfd *w = r->fds;
    while (w != NULL && w->fd != fd) w = w->next;
    if (w != NULL && w->armed) {
        ReleaseSRWLockExclusive(&r->lock);
        return -EEXIST;
    }
    int created = 0;
    if (w == NULL) {
        w = calloc(1, sizeof *w);
        if (w == NULL) {
            ReleaseSRWLockExclusive(&r->lock);
            return -ENOMEM;
        }
        w->fd = fd;
        w->port = r->port;
        created = 1;
    }
    HANDLE ev = NULL;
    uint64_t key = 0;
    int rc = fl_pipe_arm(fd, direction, r->port, r->id, &key, &ev);
    if (rc == 0) {
        w->key = key;
        w->token = token;
        w->armed = 1;
        if (ev != NULL && !RegisterWaitForSingleObject(&w->wait, ev, on_fd_event, w, INFINITE,
                                                       WT_EXECUTEONLYONCE)) {
            w->wait = NULL;
            w->armed = 0;
            rc = fl_win_fail(GetLastError());
        }
    }
    if (rc < 0 && created) {
        free(w);
    } else if (created) {
        w->next = r->fds;
        r->fds = w;
    }
    ReleaseSRWLockExclusive(&r->lock);
    return rc;
}

int fl_reactor_unwatch_fd(fl_reactor *r, fl_fd fd, uint64_t token) {
    if (r == NULL) return -EINVAL;
    AcquireSRWLockExclusive(&r->lock);
    wfd **l = &r->fds;
    while (*l != NULL && (*l)->fd != fd) l = &(*l)->next;
    wfd *w = *l;
    if (w != NULL && w->token != token) {
        ReleaseSRWLockExclusive(&r->lock);
        return -ENOENT;
    }
    if (w != NULL) *l = w->next;
    ReleaseSRWLockExclusive(&r->lock);
    if (w == NULL) return 0;
    if (w->wait != NULL) UnregisterWaitEx(w->wait, INVALID_HANDLE_VALUE);
    /* The read-ahead is cancelled and waited for, so the caller may close fd next; its packet,
     * if any, finds no watch and is dropped. */
    fl_pipe_disarm(fd);
    free(w);
    return 0;
}

void fl_reactor_close(fl_reactor *r) {
    if (r == NULL) return;
    /* The jobs stay associated with the port; once it is closed the kernel drops their messages,
     * and a stale key could never match anything anyway. */
    while (r->regs != NULL) {
        reg *g = r->regs;
        r->regs = g->next;
        release_reg(g);
    }
    while (r->fds != NULL) {
        wfd *w = r->fds;
        r->fds = w->next;
        if (w->wait != NULL) UnregisterWaitEx(w->wait, INVALID_HANDLE_VALUE);
        free(w);
    }
    while (r->head != NULL) {
        ready *e = r->head;
        r->head = e->next;
        free(e);
    }
    CloseHandle(r->port);
    free(r);
}

void fl_iocp_ignore_job_messages(fl_reactor *r, int on) {
    AcquireSRWLockExclusive(&r->lock);
    r->ignore_job_messages = on;
    ReleaseSRWLockExclusive(&r->lock);
}

void fl_iocp_job_messages(fl_reactor *r, uint64_t counts[16]) {
    AcquireSRWLockShared(&r->lock);
    memcpy(counts, r->messages, sizeof r->messages);
    ReleaseSRWLockShared(&r->lock);
}
