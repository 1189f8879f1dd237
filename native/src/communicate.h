/* The platform-neutral steps of fl_communicate, shared by communicate_unix.c (poll) and
 * communicate_win.c (overlapped pipes); not part of the public API. */
#ifndef FL_COMMUNICATE_H
#define FL_COMMUNICATE_H

#include "forkless.h"

#if defined(__GNUC__) && !defined(_WIN32)
#define FL_COMMUNICATE_HIDDEN __attribute__((visibility("hidden")))
#else
#define FL_COMMUNICATE_HIDDEN
#endif

/* The stream is to be served: open (fd >= 0) and not done. */
FL_COMMUNICATE_HIDDEN int fl_io_live(const fl_io *io);
/* A live stream's pos and len fit, with a buffer unless len is 0. */
FL_COMMUNICATE_HIDDEN int fl_io_valid(const fl_io *io);
/* The states that need the caller before anything can move, reported at once: an input with
 * nothing left (then done: FL_IO_INPUT_DONE), an output whose buffer is full (FL_IO_FULL). 0 if
 * none. */
FL_COMMUNICATE_HIDDEN int fl_io_entry_state(fl_io *in, fl_io *out, fl_io *err);
/* One read into the room left. FL_IO_FULL when the buffer became full; the stream is done on
 * end of file or failure (err set); -EAGAIN is nothing yet (another reader was quicker). */
FL_COMMUNICATE_HIDDEN int fl_io_read_some(fl_io *io);

#endif
