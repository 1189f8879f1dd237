/* The platform-neutral steps of fl_communicate (see communicate.h); the waiting is the
 * platform's: communicate_unix.c (poll), communicate_win.c (overlapped pipes). */
#include <errno.h>
#include <stddef.h>

#include "communicate.h"

int fl_io_live(const fl_io *io) { return io != NULL && io->fd >= 0 && !io->done; }

int fl_io_valid(const fl_io *io) {
    return !fl_io_live(io) || (io->pos <= io->len && (io->buf != NULL || io->len == 0));
}

int fl_io_entry_state(fl_io *in, fl_io *out, fl_io *err) {
    int result = 0;
    if (fl_io_live(in) && in->pos == in->len) {
        in->done = 1;
        result |= FL_IO_INPUT_DONE;
    }
    if ((fl_io_live(out) && out->pos == out->len) || (fl_io_live(err) && err->pos == err->len)) {
        result |= FL_IO_FULL;
    }
    return result;
}

int fl_io_read_some(fl_io *io) {
    int64_t n = fl_fd_read(io->fd, (char *)io->buf + io->pos, io->len - io->pos);
    if (n > 0) {
        io->pos += (size_t)n;
        return io->pos == io->len ? FL_IO_FULL : 0;
    }
    if (n == -EAGAIN) return 0;
    if (n < 0) io->err = (int)-n;
    io->done = 1;
    return 0;
}
