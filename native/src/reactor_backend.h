/* The seam between the reactor's common part (reactor_linux.c: slots, tokens, reaping, waiter
 * threads for PID-only children, descriptor watches) and the kernel mechanism that reports ready
 * descriptors (reactor_epoll.c, reactor_uring.c). Not part of the public API.
 *
 * A backend knows nothing about processes: it watches descriptors for readiness (POLLIN for
 * pidfds and read watches, POLLOUT for write watches; hang-up and error always count) and reports
 * the 64-bit key each was armed with. Arming is one-shot: once a key has been reported, the
 * backend reports it again only after it is armed again. It also owns the wake-up mechanism (an
 * eventfd) so fl_reactor_wake can interrupt a wait from another thread. Keys UINT64_MAX and
 * UINT64_MAX - 1 are the backends' own; the common part never arms them.
 *
 * Threads: arm/rearm/disarm/wake may be called from any thread concurrently with one thread in
 * wait; the backend does its own locking where the kernel interface needs it (an io_uring
 * submission queue has a single producer). */
#ifndef FL_REACTOR_BACKEND_H
#define FL_REACTOR_BACKEND_H

#include <stdint.h>

#include "internal.h"

typedef struct fl_backend fl_backend; /* each backend defines its own struct */

typedef struct fl_backend_ops {
    int kind; /* FL_REACTOR_EPOLL, FL_REACTOR_IO_URING */
    /* Starts watching fd for events (POLLIN or POLLOUT); reported once, with key. fd may have
     * been armed before and reported since, and not disarmed (a descriptor watch armed again
     * after its report). 0 or -errno. */
    int (*arm)(fl_backend *b, int fd, uint64_t key, unsigned events);
    /* Watches fd again after it was reported (a pidfd that was readable but there was nothing to
     * reap). */
    int (*rearm)(fl_backend *b, int fd, uint64_t key, unsigned events);
    /* Forgets fd, armed or reported, before the caller closes it; a report of key not yet
     * collected is never returned after this. 0 (also when fd is not watched) or -errno. */
    int (*disarm)(fl_backend *b, int fd, uint64_t key);
    /* Waits up to timeout_ms (< 0 forever, 0 poll) and stores up to max reported keys. A wake-up
     * is consumed here and never reported as a key. Returns the count (0 on timeout or wake-up),
     * -EINTR, or -errno. */
    int (*wait)(fl_backend *b, uint64_t *keys, int max, int timeout_ms);
    /* Makes a current or the next wait return. Async-signal-safe and callable from any thread. */
    int (*wake)(fl_backend *b);
    /* Releases everything; called once, when nothing else can call in. */
    void (*destroy)(fl_backend *b);
} fl_backend_ops;

/* Each returns 0 and sets *out and *ops, or -errno saying why this backend is unavailable here
 * (io_uring: -ENOSYS, -EPERM for io_uring_disabled or a seccomp filter, -EINVAL/-EOPNOTSUPP when
 * a needed feature is missing). */
FL_HIDDEN int fl_backend_epoll_open(fl_backend **out, const fl_backend_ops **ops);
FL_HIDDEN int fl_backend_uring_open(fl_backend **out, const fl_backend_ops **ops);

#endif /* FL_REACTOR_BACKEND_H */
