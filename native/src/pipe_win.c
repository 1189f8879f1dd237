/*
 * Asynchronous pipe ends on Windows: what fl_fd_set_nonblocking, fl_fd_read/fl_fd_write with
 * -EAGAIN, fl_reactor_watch_fd and fl_communicate stand on.
 *
 * The problem. Windows has no non-blocking pipes: anonymous pipes (CreatePipe) are synchronous,
 * a ReadFile on an empty one blocks, and PIPE_NOWAIT exists only for LAN Manager compatibility
 * (Microsoft says not to use it). Asynchronous I/O is overlapped I/O, which needs a handle opened
 * with FILE_FLAG_OVERLAPPED; that flag is fixed when the handle's file object is created and is
 * part of the file object, so every duplicate (a child's inherited copy too) shares it. A child
 * that does plain ReadFile/WriteFile (lpOverlapped NULL) on such a handle is outside what
 * Microsoft documents: it "can incorrectly report that the operation is complete", and it does
 * go wrong when two threads of the child use the handle at once (stdout and stderr being one
 * pipe, for one).
 *
 * The strategy, as libuv (uv_pipe with UV_NONBLOCK_PIPE on one end) and Rust std (anon_pipe with
 * one overlapped end) do it: a named pipe with a unique name, opened as the pair of its two ends
 * (the server from CreateNamedPipeW, the client from CreateFileW), where only this process's end
 * is overlapped and the child's end is an ordinary synchronous handle. Which end is whose must be
 * known when the pipe is made, hence fl_fd_pipe_for_child(fds, child_end); fl_fd_pipe keeps giving
 * two synchronous ends that may go to any child (and cannot be made non-blocking: -ENOTSUP).
 * PIPE_REJECT_REMOTE_CLIENTS and FILE_FLAG_FIRST_PIPE_INSTANCE with one instance: nobody else can
 * open our pipe, and a name that exists already fails instead of joining someone else's pipe.
 *
 * An overlapped end is an "apipe": state kept here in a table keyed by the handle value (the
 * fl_fd), made by fl_fd_pipe_for_child and freed by fl_fd_close. Non-blocking on an apipe means:
 *   - read: bytes left from an earlier completed read-ahead (below) first; else PeekNamedPipe:
 *     nothing there is -EAGAIN, a gone writer (ERROR_BROKEN_PIPE) is 0 (end of file), bytes there
 *     are read at once with an overlapped ReadFile that cannot wait (at most what Peek saw).
 *   - write: copied into a buffer of the apipe (up to 64 KiB) and written from there with an
 *     overlapped WriteFile; the call returns the count at once, like a write into the kernel's pipe
 *     buffer. While that write is pending the next one is -EAGAIN; the error of a finished one
 *     (a reader gone: ERROR_NO_DATA / ERROR_BROKEN_PIPE) is the next write's -EPIPE.
 *   - readiness (fl_reactor_watch_fd): read is an overlapped ReadFile into the apipe's 64 KiB
 *     read-ahead buffer (bytes that fl_fd_read hands out first); its completion, data or end of
 *     file, is the report. libuv uses a zero-byte read instead (no buffer pinned per pipe); a
 *     real read is chosen here because it is defined by every implementation of named pipes,
 *     Wine's included, and makes the next fl_fd_read a copy. Write readiness is the completion of
 *     the pending write (or at once when none is pending).
 *   Blocking mode (the default, also for apipes) waits for the same operations to complete.
 *
 * Completions reach the reactor's port because the reactor associates the handle with it
 * (CreateIoCompletionPort) at the first watch, with a key that is never reused; a handle can
 * be associated with one port only, ever, so an apipe can be watched by one reactor in its
 * lifetime (another: the port's ERROR_INVALID_PARAMETER, -EINVAL). Operations we wait for
 * ourselves (blocking calls, the immediate reads, fl_communicate) use an event whose low bit is
 * set, which tells Windows not to queue a completion packet for them.
 *
 * Hazards:
 *   - The OVERLAPPED and the buffers belong to the kernel until the operation completes: nothing
 *     is freed before that. fl_fd_close cancels a read-ahead (CancelIoEx) and waits for it to
 *     end. A pending write is not cancelled (its bytes were accepted, and POSIX keeps them in the
 *     pipe after the writer closes): the end lingers, open, until the write completes, and a
 *     thread-pool wait then closes it. A reader that never reads keeps it open (as the bytes of
 *     a POSIX pipe stay as long as its reader). A 0-byte fl_fd_write says -EAGAIN while a write
 *     is pending, 0 once it completed: the way to learn that everything was taken.
 *   - A packet may still arrive for an operation that was cancelled or whose watch was dropped;
 *     the reactor drops keys it no longer arms, and an early packet of a re-armed watch is only a
 *     spurious report ("a hint to try the I/O", as forkless.h says).
 *   - An operation started before the handle was associated with the port (a write before the
 *     first watch, a read-ahead of fl_communicate) may never post there: Windows looks at the
 *     file's port when the operation completes, but Wine may decide when it starts (not relied
 *     on either way). So a watch of such an operation waits for its event with a thread-pool
 *     wait that posts the packet instead (fl_pipe_arm's *wait_event).
 *   - A blocking fl_fd_read/fl_fd_write holds the end's lock while it waits; a watch of the same
 *     end from another thread waits for it. A blocking end is not one to watch anyway.
 *   - The state is found by handle value without a reference count: an fl_fd_* call racing
 *     with fl_fd_close of the same end is a use after close, as with a POSIX descriptor.
 *   - The table is found by handle value: a handle closed with CloseHandle instead of fl_fd_close
 *     leaves a stale entry that a new handle with the same value would inherit. Always close
 *     through fl_fd_close.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal_win.h"

#define APIPE_BUF 65536u
#define BUCKETS 256

struct apipe {
    HANDLE h;
    int write_end;          /* 1: we write (the child reads), 0: we read */
    int nonblocking;
    SRWLOCK lock;           /* guards what follows; held across a blocking wait */
    HANDLE port;            /* the completion port it is associated with, or NULL */
    uint64_t port_id;       /* that reactor's never-reused id: a port handle value is reused */
    uint64_t key;           /* its completion key there (never reused) */
    /* The one operation that may stay pending across calls: the read-ahead or the buffered
     * write. ov_async.hEvent = ev_async (low bit clear: a completion packet when associated). */
    OVERLAPPED ov_async;
    HANDLE ev_async;
    int pending;            /* an operation on ov_async has started and not been collected */
    int pending_posts;      /* it started after association: its completion reaches the port */
    char *buf;              /* APIPE_BUF bytes: read-ahead data or the write's copy */
    DWORD len, pos;         /* read-ahead: bytes buf[pos..len) not handed out yet; write: len */
    int eof;                /* read-ahead saw the writer gone */
    DWORD error;            /* a finished buffered write failed with this (0: no) */
    HANDLE ev_sync;         /* for operations waited for here (used with the low bit set) */
    HANDLE linger;          /* fl_fd_close with a write pending: the wait that finishes it */
    struct apipe *next;
};

static SRWLOCK table_lock = SRWLOCK_INIT;
static struct apipe *table[BUCKETS];
static volatile LONG64 next_key = 0;
static volatile LONG pipe_serial = 0;

static unsigned bucket(HANDLE h) {
    return (unsigned)(((uintptr_t)h >> 2) % BUCKETS);
}

static struct apipe *find(fl_fd fd) {
    HANDLE h = (HANDLE)fd;
    AcquireSRWLockShared(&table_lock);
    struct apipe *a = table[bucket(h)];
    while (a != NULL && a->h != h) a = a->next;
    ReleaseSRWLockShared(&table_lock);
    return a;
}

/* An event handle with the low bit set: the operation completes without a port packet. */
static HANDLE quiet(HANDLE ev) {
    return (HANDLE)((uintptr_t)ev | 1);
}

static void free_apipe(struct apipe *a) {
    if (a->ev_async) CloseHandle(a->ev_async);
    if (a->ev_sync) CloseHandle(a->ev_sync);
    free(a->buf);
    free(a);
}

static struct apipe *new_apipe(HANDLE h, int write_end) {
    struct apipe *a = calloc(1, sizeof *a);
    if (a == NULL) return NULL;
    a->h = h;
    a->write_end = write_end;
    InitializeSRWLock(&a->lock);
    a->buf = malloc(APIPE_BUF);
    a->ev_async = CreateEventW(NULL, TRUE, FALSE, NULL);
    a->ev_sync = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (a->buf == NULL || a->ev_async == NULL || a->ev_sync == NULL) {
        free_apipe(a);
        return NULL;
    }
    a->key = (uint64_t)InterlockedIncrement64(&next_key) | (1ull << 63);
    return a;
}

static int is_epipe(DWORD e) {
    return e == ERROR_NO_DATA || e == ERROR_BROKEN_PIPE || e == ERROR_PIPE_NOT_CONNECTED;
}

int fl_fd_pipe_for_child(fl_fd fds[2], int child_end) {
    if (fds == NULL || child_end < -1 || child_end > 1) return -EINVAL;
    wchar_t name[96];
    /* Unique per process and call; the PID and tick count make a clash with a name another
     * process left behind improbable, and FIRST_PIPE_INSTANCE turns one into an error. */
    swprintf(name, sizeof name / sizeof name[0], L"\\\\.\\pipe\\forkless-%lu-%ld-%llu",
             (unsigned long)GetCurrentProcessId(), (long)InterlockedIncrement(&pipe_serial),
             (unsigned long long)GetTickCount64());
    int async_read = child_end != 0, async_write = child_end != 1;
    /* The read end is the server (inbound), the write end the client. */
    HANDLE r = CreateNamedPipeW(name,
                                PIPE_ACCESS_INBOUND | FILE_FLAG_FIRST_PIPE_INSTANCE |
                                    (async_read ? FILE_FLAG_OVERLAPPED : 0),
                                PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT |
                                    PIPE_REJECT_REMOTE_CLIENTS,
                                1, APIPE_BUF, APIPE_BUF, 0, NULL);
    if (r == INVALID_HANDLE_VALUE) return fl_win_fail(GetLastError());
    /* FILE_READ_ATTRIBUTES: a child may ask what its handle is (GetFileType, the C runtimes). */
    HANDLE w = CreateFileW(name, GENERIC_WRITE | FILE_READ_ATTRIBUTES, 0, NULL, OPEN_EXISTING,
                           async_write ? FILE_FLAG_OVERLAPPED : FILE_ATTRIBUTE_NORMAL, NULL);
    if (w == INVALID_HANDLE_VALUE) {
        int rc = fl_win_fail(GetLastError());
        CloseHandle(r);
        return rc;
    }
    struct apipe *ar = NULL, *aw = NULL;
    if ((async_read && (ar = new_apipe(r, 0)) == NULL) ||
        (async_write && (aw = new_apipe(w, 1)) == NULL)) {
        if (ar) free_apipe(ar);
        CloseHandle(r);
        CloseHandle(w);
        return -ENOMEM;
    }
    AcquireSRWLockExclusive(&table_lock);
    if (ar) {
        ar->next = table[bucket(r)];
        table[bucket(r)] = ar;
    }
    if (aw) {
        aw->next = table[bucket(w)];
        table[bucket(w)] = aw;
    }
    ReleaseSRWLockExclusive(&table_lock);
    fds[0] = (fl_fd)(intptr_t)r;
    fds[1] = (fl_fd)(intptr_t)w;
    return 0;
}

int fl_pipe_is_async(fl_fd fd) {
    return find(fd) != NULL;
}

/* Waits for the pending operation and collects it, a->lock held. Never fails: its outcome is
 * kept in the apipe (bytes, eof, error). */
static void collect(struct apipe *a, BOOL wait) {
    if (!a->pending) return;
    DWORD n = 0;
    if (!wait && !HasOverlappedIoCompleted(&a->ov_async)) return;
    BOOL ok = GetOverlappedResult(a->h, &a->ov_async, &n, TRUE);
    DWORD e = ok ? 0 : GetLastError();
    a->pending = 0;
    a->pending_posts = 0;
    if (a->write_end) {
        if (!ok) a->error = e;
        /* A byte-mode pipe completes a write in full; were it short, the rest is lost to the
         * reader just as after a failed write, so report it the same way. */
        else if (n < a->len) a->error = ERROR_NO_DATA;
        a->len = 0;
    } else {
        a->pos = 0;
        a->len = ok ? n : 0;
        if (!ok && e == ERROR_BROKEN_PIPE) a->eof = 1;
        else if (!ok && e != ERROR_OPERATION_ABORTED) a->error = e;
    }
}

/* Starts the read-ahead, a->lock held; 0 (pending or done: collect tells) or -errno. */
static int start_read_ahead(struct apipe *a) {
    memset(&a->ov_async, 0, sizeof a->ov_async);
    a->ov_async.hEvent = a->ev_async;
    ResetEvent(a->ev_async);
    if (!ReadFile(a->h, a->buf, APIPE_BUF, NULL, &a->ov_async)) {
        DWORD e = GetLastError();
        if (e == ERROR_BROKEN_PIPE) {
            a->eof = 1;
            return 0;
        }
        if (e != ERROR_IO_PENDING) {
            a->error = e;
            return 0;
        }
    }
    a->pending = 1;
    a->pending_posts = a->port != NULL;
    return 0;
}

/* A read waited for here; -errno, or bytes (0: end of file). */
static int64_t read_now(struct apipe *a, void *buf, DWORD want) {
    OVERLAPPED ov;
    memset(&ov, 0, sizeof ov);
    ov.hEvent = quiet(a->ev_sync);
    ResetEvent(a->ev_sync);
    DWORD n = 0;
    if (!ReadFile(a->h, buf, want, NULL, &ov)) {
        DWORD e = GetLastError();
        if (e != ERROR_IO_PENDING) return e == ERROR_BROKEN_PIPE ? 0 : fl_win_fail(e);
    }
    if (!GetOverlappedResult(a->h, &ov, &n, TRUE)) {
        DWORD e = GetLastError();
        return e == ERROR_BROKEN_PIPE ? 0 : fl_win_fail(e);
    }
    return n;
}

int64_t fl_pipe_read(fl_fd fd, void *buf, size_t len) {
    struct apipe *a = find(fd);
    if (a == NULL) return -ENOENT;
    if (a->write_end) return -EBADF;
    DWORD want = len > 0x40000000u ? 0x40000000u : (DWORD)len;
    int64_t rc;
    AcquireSRWLockExclusive(&a->lock);
    collect(a, !a->nonblocking);
    if (a->pos < a->len) {
        DWORD n = a->len - a->pos < want ? a->len - a->pos : want;
        memcpy(buf, a->buf + a->pos, n);
        a->pos += n;
        rc = n;
    } else if (a->error != 0) {
        rc = fl_win_fail(a->error);
        a->error = 0;
    } else if (a->eof) {
        rc = 0;
    } else if (a->pending) {
        rc = -EAGAIN; /* non-blocking: the read-ahead is still out */
    } else if (!a->nonblocking) {
        rc = read_now(a, buf, want);
    } else {
        DWORD avail = 0;
        if (!PeekNamedPipe(a->h, NULL, 0, NULL, &avail, NULL)) {
            DWORD e = GetLastError();
            rc = e == ERROR_BROKEN_PIPE ? 0 : fl_win_fail(e);
        } else if (avail == 0) {
            rc = -EAGAIN;
        } else {
            rc = read_now(a, buf, avail < want ? avail : want);
        }
    }
    ReleaseSRWLockExclusive(&a->lock);
    return rc;
}

int64_t fl_pipe_write(fl_fd fd, const void *buf, size_t len) {
    struct apipe *a = find(fd);
    if (a == NULL) return -ENOENT;
    if (!a->write_end) return -EBADF;
    int64_t rc;
    AcquireSRWLockExclusive(&a->lock);
    collect(a, !a->nonblocking);
    if (a->error != 0) {
        DWORD e = a->error;
        a->error = 0;
        rc = is_epipe(e) ? -EPIPE : fl_win_fail(e);
    } else if (a->pending) {
        rc = -EAGAIN;
    } else if (len == 0) {
        rc = 0;
    } else if (!a->nonblocking) {
        /* Straight from the caller's buffer, waited for here. */
        OVERLAPPED ov;
        memset(&ov, 0, sizeof ov);
        ov.hEvent = quiet(a->ev_sync);
        ResetEvent(a->ev_sync);
        DWORD n = 0, want = len > 0x40000000u ? 0x40000000u : (DWORD)len;
        BOOL ok = WriteFile(a->h, buf, want, NULL, &ov);
        if (!ok && GetLastError() == ERROR_IO_PENDING) ok = TRUE;
        if (ok) ok = GetOverlappedResult(a->h, &ov, &n, TRUE);
        if (!ok) {
            DWORD e = GetLastError();
            rc = is_epipe(e) ? -EPIPE : fl_win_fail(e);
        } else {
            rc = n;
        }
    } else {
        DWORD n = len > APIPE_BUF ? APIPE_BUF : (DWORD)len;
        memcpy(a->buf, buf, n);
        a->len = n;
        memset(&a->ov_async, 0, sizeof a->ov_async);
        a->ov_async.hEvent = a->ev_async;
        ResetEvent(a->ev_async);
        if (!WriteFile(a->h, a->buf, n, NULL, &a->ov_async) && GetLastError() != ERROR_IO_PENDING) {
            DWORD e = GetLastError();
            a->len = 0;
            rc = is_epipe(e) ? -EPIPE : fl_win_fail(e);
        } else {
            /* Done or pending: either way the bytes are the pipe's now. */
            a->pending = 1;
            a->pending_posts = a->port != NULL;
            rc = n;
        }
    }
    ReleaseSRWLockExclusive(&a->lock);
    return rc;
}

int fl_pipe_set_nonblocking(fl_fd fd, int on) {
    struct apipe *a = find(fd);
    if (a == NULL) return -ENOENT;
    AcquireSRWLockExclusive(&a->lock);
    a->nonblocking = on != 0;
    ReleaseSRWLockExclusive(&a->lock);
    return 0;
}

int fl_pipe_arm(fl_fd fd, int direction, HANDLE port, uint64_t port_id, uint64_t *key,
                HANDLE *wait_event) {
    struct apipe *a = find(fd);
    *wait_event = NULL;
    if (a == NULL) return -ENOTSUP;
    AcquireSRWLockExclusive(&a->lock);
    int rc = 0;
    if (a->port == NULL) {
        if (CreateIoCompletionPort(a->h, port, (ULONG_PTR)a->key, 0) == NULL) {
            rc = fl_win_fail(GetLastError());
        } else {
            a->port = port;
            a->port_id = port_id;
        }
    } else if (a->port_id != port_id) {
        /* One port per handle for its whole life; compared by reactor id, since a closed
         * reactor's port handle value may come back as a new reactor's. */
        rc = -EINVAL;
    }
    *key = a->key;
    int ready = 0;
    if (rc == 0) {
        collect(a, FALSE);
        if (direction == FL_WATCH_READ && !a->write_end) {
            if (a->pos < a->len || a->eof || a->error) ready = 1;
            else if (!a->pending) start_read_ahead(a);
            /* Completed at once, failed, or at end: report now. */
            if (!ready && (!a->pending || a->eof || a->error)) ready = 1;
        } else if (direction == FL_WATCH_WRITE && a->write_end) {
            if (!a->pending || a->error) ready = 1;
        } else {
            ready = 1; /* the wrong direction for this end: it will never be ready otherwise;
                          report, and let the caller's I/O say what is wrong */
        }
        if (ready) {
            if (!PostQueuedCompletionStatus(port, 0, (ULONG_PTR)a->key, NULL)) {
                rc = fl_win_fail(GetLastError());
            }
        } else if (!a->pending_posts) {
            *wait_event = a->ev_async;
        }
    }
    ReleaseSRWLockExclusive(&a->lock);
    return rc;
}

void fl_pipe_disarm(fl_fd fd) {
    struct apipe *a = find(fd);
    if (a == NULL) return;
    AcquireSRWLockExclusive(&a->lock);
    /* A read-ahead is cancelled (the handle may be closed next); bytes it got before the cancel
     * stay for the next read. A write is not: its bytes were accepted. */
    if (a->pending && !a->write_end) {
        CancelIoEx(a->h, &a->ov_async);
        collect(a, TRUE);
    }
    ReleaseSRWLockExclusive(&a->lock);
}

int fl_pipe_ready_or_event(fl_fd fd, HANDLE *ev) {
    struct apipe *a = find(fd);
    if (a == NULL) return -ENOTSUP;
    int rc;
    AcquireSRWLockExclusive(&a->lock);
    collect(a, FALSE);
    if (a->write_end) {
        rc = a->pending ? 0 : 1;
    } else if (a->pos < a->len || a->eof || a->error) {
        rc = 1;
    } else {
        if (!a->pending) start_read_ahead(a);
        collect(a, FALSE);
        rc = a->pending ? 0 : 1;
    }
    *ev = rc == 0 ? a->ev_async : NULL;
    ReleaseSRWLockExclusive(&a->lock);
    return rc;
}

/* The end of a lingering close: the write finished (drained or refused); now the handle goes. */
static VOID CALLBACK linger_done(PVOID ctx, BOOLEAN timed_out) {
    (void)timed_out;
    struct apipe *a = ctx;
    DWORD n;
    GetOverlappedResult(a->h, &a->ov_async, &n, FALSE);
    UnregisterWait(a->linger); /* one-shot and fired; from inside the callback: never blocks */
    CloseHandle(a->h);
    free_apipe(a);
}

int fl_pipe_close(fl_fd fd) {
    HANDLE h = (HANDLE)fd;
    AcquireSRWLockExclusive(&table_lock);
    struct apipe **l = &table[bucket(h)];
    while (*l != NULL && (*l)->h != h) l = &(*l)->next;
    struct apipe *a = *l;
    if (a != NULL) *l = a->next;
    ReleaseSRWLockExclusive(&table_lock);
    if (a == NULL) return 0;
    AcquireSRWLockExclusive(&a->lock);
    collect(a, FALSE);
    if (a->pending && a->write_end) {
        /* Bytes fl_fd_write accepted are not dropped by a close, as on POSIX where they stay in
         * the pipe: the handle stays open until the write completes (the reader took them, or
         * went away), then a thread-pool wait closes it. The reader sees the end of file then. */
        if (RegisterWaitForSingleObject(&a->linger, a->ev_async, linger_done, a, INFINITE,
                                        WT_EXECUTEONLYONCE | WT_EXECUTEINWAITTHREAD)) {
            ReleaseSRWLockExclusive(&a->lock);
            return 2;
        }
    }
    if (a->pending) {
        CancelIoEx(a->h, &a->ov_async);
        collect(a, TRUE);
    }
    ReleaseSRWLockExclusive(&a->lock);
    free_apipe(a);
    return 1;
}
