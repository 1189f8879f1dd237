/* Descriptors for the caller: every one created close-on-exec, so none leaks into a child that
 * was not explicitly given it. */
#include <errno.h>
#include <fcntl.h>
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

int fl_fd_close(fl_fd fd) {
    if (fd < 0) return -EBADF;
    /* Linux releases the descriptor even when close reports EINTR: never retry. */
    if (close(fd) != 0 && errno != EINTR) return -errno;
    return 0;
}
