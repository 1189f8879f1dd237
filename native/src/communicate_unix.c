/*
 * fl_communicate: feed a child's stdin and drain its stdout and stderr from one thread.
 *
 * The problem. A parent that writes all of stdin first and only then reads stdout deadlocks as
 * soon as the child's output fills its pipe (64 KiB on Linux) before the input is consumed: the
 * child blocks in write, the parent in write too. Reading stdout to the end before stderr
 * deadlocks the same way on a child that writes much to stderr. Every stream must make progress
 * whenever it can.
 *
 * Strategy. One poll(2) over the live streams, in the caller's thread: POLLOUT on the input,
 * POLLIN on the outputs, POLLIN on an optional exit descriptor (a pidfd). Each ready stream gets
 * one read or write, straight into or out of the caller's buffer at pos: a read takes all the
 * room there is (a pipe hands over what it holds up to that), a write offers everything left
 * (a non-blocking pipe takes what fits). Then the loop polls again. The call returns whenever the
 * caller has to act (close the finished input, drain a full buffer, notice that all output has
 * ended or that the child has exited) and keeps its progress in the fl_io structs, so the caller
 * chooses buffer sizes, timeouts and what "done" means (e.g. stop at the exit even though a
 * grandchild still holds stdout open, which would otherwise keep the outputs alive forever).
 *
 * Alternatives. A thread per stream (what java.lang.Process users end up writing) costs threads
 * and hand-offs; epoll would need a set created and torn down per conversation for at most four
 * descriptors, where poll needs one call per round; select cannot take descriptors above
 * FD_SETSIZE, which a JVM easily has. Long-lived asynchronous pipes belong to the reactor
 * (fl_reactor_watch_fd); this is the synchronous form, like Rust std's read2 or Python's
 * communicate().
 *
 * Hazards.
 *   - Blocking descriptors: a blocking write of more than PIPE_BUF bytes to a pipe blocks until
 *     all of it is in, whatever poll said. So every live stream is made non-blocking on each call
 *     (fcntl once to look, and a second time only if the flag is missing). O_NONBLOCK belongs to
 *     the open file, shared with every copy of the descriptor; the parent's pipe ends are
 *     close-on-exec and never given to a child, so no one else sees the change.
 *   - The child's reader gone: the input's poll says POLLERR and the write says EPIPE, which
 *     would raise SIGPIPE; fl_fd_write keeps the signal from this process (see fd_unix.c). The
 *     input is then done with err EPIPE, and the caller decides whether that matters (a child
 *     that ignores its stdin is normal).
 *   - POLLHUP on an output with data still buffered: the data is read first; the stream is done
 *     only when read says 0.
 *   - poll interrupted by a signal handler returns -EINTR instead of retrying, so a caller (a
 *     JVM thread being interrupted, a C program with its own flags) can look at its state.
 *   - A spinning caller: a bit is reported once, when it happens, except the two states in which
 *     calling again without acting could not make progress (a full buffer at entry, nothing left
 *     at all), which are reported at once. exit_fd stays readable, so the caller stops passing it
 *     after FL_IO_EXITED.
 */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <time.h>

#include "communicate.h"
#include "forkless.h"

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/* One write of everything left. 1 when the input became done (all written, or failed). */
static int write_some(fl_io *in) {
    int64_t n = fl_fd_write(in->fd, (const char *)in->buf + in->pos, in->len - in->pos);
    if (n >= 0) {
        in->pos += (size_t)n;
        if (in->pos < in->len) return 0;
    } else if (n == -EAGAIN) {
        return 0; /* POLLOUT promised less room than this write needs to go in atomically (up to
                     PIPE_BUF bytes must; not on Linux, which says POLLOUT for a free page) */
    } else {
        in->err = (int)-n; /* EPIPE: the reader has gone */
    }
    in->done = 1;
    return 1;
}


int fl_communicate(fl_io *in, fl_io *out, fl_io *err, fl_fd exit_fd, int timeout_ms) {
    fl_io *outputs[2] = {out, err};
    if (!fl_io_valid(in) || !fl_io_valid(out) || !fl_io_valid(err)) return -EINVAL;

    /* The states that need the caller before anything can move. */
    int result = fl_io_entry_state(in, out, err);
    if (result != 0) return result;

    fl_io *streams[3] = {in, out, err};
    for (int i = 0; i < 3; i++) {
        if (!fl_io_live(streams[i])) continue;
        int rc = fl_fd_set_nonblocking(streams[i]->fd, 1);
        if (rc < 0) return rc;
    }

    int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
    for (;;) {
        struct pollfd pfd[4];
        fl_io *owner[4];
        nfds_t n = 0;
        if (fl_io_live(in)) {
            pfd[n] = (struct pollfd){.fd = in->fd, .events = POLLOUT};
            owner[n++] = in;
        }
        int outputs_live = 0;
        for (int i = 0; i < 2; i++) {
            if (!fl_io_live(outputs[i])) continue;
            pfd[n] = (struct pollfd){.fd = outputs[i]->fd, .events = POLLIN};
            owner[n++] = outputs[i];
            outputs_live++;
        }
        if (exit_fd >= 0) {
            pfd[n] = (struct pollfd){.fd = exit_fd, .events = POLLIN};
            owner[n++] = NULL;
        }
        /* Only at entry: every round that ends a stream returns before coming back here. */
        if (n == 0) return FL_IO_OUTPUTS_DONE;

        int left = timeout_ms;
        if (timeout_ms > 0) {
            int64_t l = deadline - now_ms();
            left = l > 0 ? (int)l : 0;
        }
        int ready = poll(pfd, n, left);
        if (ready < 0) return -errno; /* -EINTR included: the caller looks at its state */
        if (ready == 0) return 0;     /* poll never wakes before its timeout */

        for (nfds_t k = 0; k < n; k++) {
            if (pfd[k].revents == 0) continue;
            /* POLLHUP/POLLERR/POLLNVAL too: the read or write says what happened. */
            if (owner[k] == NULL) result |= FL_IO_EXITED;
            else if (owner[k] == in) result |= write_some(in) ? FL_IO_INPUT_DONE : 0;
            else result |= fl_io_read_some(owner[k]);
        }
        if (outputs_live > 0 && !fl_io_live(out) && !fl_io_live(err)) result |= FL_IO_OUTPUTS_DONE;
        if (result != 0) return result;
        if (timeout_ms == 0) return 0;
        if (timeout_ms > 0 && now_ms() >= deadline) return 0;
    }
}
