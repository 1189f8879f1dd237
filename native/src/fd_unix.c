/* Descriptors for the caller: every one created close-on-exec, so none leaks into a child that
 * was not explicitly given it. Plus the plain I/O the pipes to a child need.
 *
 * SIGPIPE. A write to a pipe whose reader has gone raises SIGPIPE in the writing thread, and its
 * default action kills the whole process: a C program that talks to a child which exits early
 * would die for it. A JVM ignores SIGPIPE (HotSpot installs a handler that does nothing), but a
 * library must not rely on its host's dispositions, and changing the process-wide disposition
 * would be worse (it is inherited across exec and belongs to the program). MSG_NOSIGNAL exists for
 * sockets only, F_SETNOSIGPIPE only on macOS. So fl_fd_write uses the known technique:
 *   1. note whether SIGPIPE is pending already (for this thread or the process);
 *   2. block SIGPIPE in this thread (pthread_sigmask: other threads are untouched);
 *   3. write; on EPIPE the kernel queues the signal on this thread, where it stays blocked;
 *   4. on EPIPE, if SIGPIPE was not pending before and is now, take it with sigwait, which
 *      returns at once because it is pending (sigtimedwait with a zero timeout would do the same
 *      on Linux, but macOS lacks it and this file serves every Unix);
 *   5. restore the mask.
 * The exception: a SIGPIPE that was pending before the write (someone kill()ed us, or a write of
 * another thread with SIGPIPE blocked) is left alone, and so is ours then, since the two are one
 * pending signal; it is delivered when the mask is restored, as it would have been anyway. The
 * cost is three system calls per write (a fourth after EPIPE), small next to the copy of a
 * pipe-sized write. Looking up the disposition first (skip all this when SIGPIPE is ignored)
 * costs a call as well and races with a handler installed meanwhile. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "forkless.h"

int fl_fd_open(const char *path, unsigned flags, int mode, fl_fd *out) {
    if (path == NULL || out == NULL) return -EINVAL;
    int oflags = O_CLOEXEC | O_NOCTTY;
    int rw = flags & (FL_OPEN_READ | FL_OPEN_WRITE | FL_OPEN_APPEND);
    if (rw == FL_OPEN_READ) oflags |= O_RDONLY;
    else if (rw & FL_OPEN_READ) oflags |= O_RDWR;
    else if (rw != 0) oflags |= O_WRONLY;
    else return -EINVAL;
    if (flags & FL_OPEN_APPEND) oflags |= O_APPEND;
    if (flags & FL_OPEN_CREATE) oflags |= O_CREAT;
    if (flags & FL_OPEN_EXCLUSIVE) oflags |= O_EXCL;
    if (flags & FL_OPEN_TRUNCATE) oflags |= O_TRUNC;
    if (flags & FL_OPEN_DIRECTORY) {
        if (rw != FL_OPEN_READ) return -EINVAL;
        oflags |= O_DIRECTORY;
    }
    int fd;
    do {
        fd = open(path, oflags, mode);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return -errno;
    *out = fd;
    return 0;
}

int fl_fd_pipe(fl_fd fds[2]) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return -errno;
    fds[0] = p[0];
    fds[1] = p[1];
    return 0;
}

int fl_fd_pipe_for_child(fl_fd fds[2], int child_end) {
    /* Any POSIX pipe end can be made non-blocking; only Windows must know the child's end. */
    if (fds == NULL || child_end < -1 || child_end > 1) return -EINVAL;
    return fl_fd_pipe(fds);
}

int fl_fd_close(fl_fd fd) {
    if (fd < 0) return -EBADF;
    /* Linux releases the descriptor even when close reports EINTR: never retry. */
    if (close(fd) != 0 && errno != EINTR) return -errno;
    return 0;
}

int fl_fd_set_nonblocking(fl_fd fd, int on) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) return -errno;
    int want = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
    /* Already so: skip the second call (fl_communicate asks on every call). */
    if (want == flags) return 0;
    return fcntl(fd, F_SETFL, want) == 0 ? 0 : -errno;
}

int64_t fl_fd_read(fl_fd fd, void *buf, size_t len) {
    /* Above SSIZE_MAX the result is implementation-defined; Linux caps a read far lower anyway. */
    if (len > SSIZE_MAX) len = SSIZE_MAX;
    ssize_t n;
    do {
        n = read(fd, buf, len);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : (int64_t)n;
}

int64_t fl_fd_write(fl_fd fd, const void *buf, size_t len) {
    if (len > SSIZE_MAX) len = SSIZE_MAX;
    sigset_t pipe_only, old, pending;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    sigemptyset(&pending);
    sigpending(&pending);
    int was_pending = sigismember(&pending, SIGPIPE) == 1;
    int rc = pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
    if (rc != 0) return -rc;

    ssize_t n;
    do {
        n = write(fd, buf, len);
    } while (n < 0 && errno == EINTR);
    int64_t result = n < 0 ? -errno : (int64_t)n;

    if (result == -EPIPE && !was_pending) {
        sigemptyset(&pending);
        sigpending(&pending);
        int sig;
        /* Pending now and not before: ours. sigwait cannot block, the signal is there. */
        if (sigismember(&pending, SIGPIPE) == 1) sigwait(&pipe_only, &sig);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return result;
}
