/*
 * fl_communicate on Windows: feed a child's stdin and drain its stdout and stderr from one
 * thread, with the contract of forkless.h (communicate_unix.c has the why: without this, a
 * parent that writes all input first deadlocks against a child whose output fills its pipe).
 *
 * Strategy. The streams must be the overlapped ends of fl_fd_pipe_for_child (pipe_win.c); a
 * synchronous pipe cannot be waited on without a thread per stream, and gives -ENOTSUP (from
 * fl_fd_set_nonblocking, which the call applies to every live stream as on POSIX). Each round
 * asks pipe_win.c whether a stream can move now (fl_pipe_ready_or_event): the input when no
 * buffered write is pending, an output when its read-ahead has completed (data or end of file)
 * or bytes are there. Those get one fl_fd_write/fl_fd_read, exactly as the POSIX loop does after
 * poll. The others hand over the event of their pending operation (the output's read-ahead is
 * started for that), and WaitForMultipleObjects waits on those events plus exit_fd (a process
 * handle) until one is signalled or the time is up. At most four handles: far below
 * MAXIMUM_WAIT_OBJECTS (64). The operations waited for here post no completion packet to a
 * reactor unless the end is associated with one (then the reactor drops the packet: no watch).
 *
 * The differences from POSIX, and why:
 *   - The input is done once all its bytes were written *and* the last buffered write has
 *     completed (fl_fd_write accepts up to 64 KiB that the pipe may still hold): only then is a
 *     reader that has gone known for sure (err EPIPE). The exception is an input with
 *     pos == len at entry, done at once as on POSIX; fl_fd_close does not drop its pending bytes
 *     (pipe_win.c lets the end linger until they are taken).
 *   - No -EINTR: nothing interrupts WaitForMultipleObjects here (not alertable).
 */
#include <errno.h>
#include <stddef.h>

#include "communicate.h"
#include "internal_win.h"


/* One write of everything left, or with nothing left the question whether the last write has
 * completed (a 0-byte write: 0 yes, -EAGAIN not yet). 1 when the input became done. */
static int write_some(fl_io *in) {
    int64_t n = fl_fd_write(in->fd, (const char *)in->buf + in->pos, in->len - in->pos);
    if (n == -EAGAIN) return 0;
    if (n < 0) {
        in->err = (int)-n; /* EPIPE: the reader has gone */
    } else if (in->pos < in->len) {
        in->pos += (size_t)n;
        return 0; /* the next round waits for this write, then asks again */
    }
    in->done = 1;
    return 1;
}


int fl_communicate(fl_io *in, fl_io *out, fl_io *err, fl_fd exit_fd, int timeout_ms) {
    if (!fl_io_valid(in) || !fl_io_valid(out) || !fl_io_valid(err)) return -EINVAL;

    /* The states that need the caller before anything can move. */
    int result = fl_io_entry_state(in, out, err);
    if (result != 0) return result;
    if (!fl_io_live(in) && !fl_io_live(out) && !fl_io_live(err) && exit_fd < 0) return FL_IO_OUTPUTS_DONE;

    fl_io *streams[3] = {in, out, err};
    for (int i = 0; i < 3; i++) {
        if (!fl_io_live(streams[i])) continue;
        int rc = fl_fd_set_nonblocking(streams[i]->fd, 1);
        if (rc < 0) return rc;
    }

    ULONGLONG deadline = timeout_ms > 0 ? GetTickCount64() + (ULONGLONG)timeout_ms : 0;
    for (;;) {
        HANDLE wait[4];
        DWORD n = 0;
        int outputs_live = 0;
        for (int i = 0; i < 3; i++) {
            fl_io *s = streams[i];
            if (!fl_io_live(s)) continue;
            if (s != in) outputs_live++;
            HANDLE ev = NULL;
            int rc = fl_pipe_ready_or_event(s->fd, &ev);
            if (rc < 0) return rc;
            if (rc == 0) {
                wait[n++] = ev;
            } else if (s == in) {
                result |= write_some(in) ? FL_IO_INPUT_DONE : 0;
            } else {
                result |= fl_io_read_some(s);
            }
        }
        if (outputs_live > 0 && !fl_io_live(out) && !fl_io_live(err)) result |= FL_IO_OUTPUTS_DONE;
        if (exit_fd >= 0) {
            DWORD w = WaitForSingleObject((HANDLE)exit_fd, 0);
            if (w == WAIT_OBJECT_0 || w == WAIT_FAILED) result |= FL_IO_EXITED;
            else wait[n++] = (HANDLE)exit_fd;
        }
        if (result != 0) return result;
        if (timeout_ms == 0) return 0;
        if (n < (DWORD)(fl_io_live(in) + fl_io_live(out) + fl_io_live(err) + (exit_fd >= 0))) {
            if (timeout_ms > 0 && GetTickCount64() >= deadline) return 0;
            continue; /* a stream moved without a result bit: look again before waiting */
        }
        DWORD left = INFINITE;
        if (timeout_ms > 0) {
            ULONGLONG now = GetTickCount64();
            if (now >= deadline) return 0;
            left = (DWORD)(deadline - now);
        }
        DWORD w = WaitForMultipleObjects(n, wait, FALSE, left);
        if (w == WAIT_TIMEOUT) return 0;
        if (w == WAIT_FAILED) return fl_win_fail(GetLastError());
    }
}
