/*
 * The epoll backend of the reactor: one epoll set of pidfds and watched descriptors (pipes to the
 * children), plus an eventfd for wake-ups.
 *
 * Strategy. A pidfd polls readable once its process has exited (kernel 5.3), and stays readable
 * after the exit until it is closed, also once the process has been reaped. So "watch a child"
 * is an EPOLL_CTL_ADD of its pidfd, and a child that exited before the ADD is reported at once
 * (epoll checks the current state when a descriptor is added). Each pidfd is armed with
 * EPOLLONESHOT: once reported it stays silent until the reactor rearms it (EPOLL_CTL_MOD) after a
 * spurious report, or removes it (EPOLL_CTL_DEL) after the reap. Level-triggered without ONESHOT
 * would report a reaped child's pidfd on every wait until the DEL; edge-triggered would lose the
 * exit of a child whose report the reactor could not act on.
 *
 * What epoll reports for a pidfd is data.u64, the key the reactor chose (slot index and
 * generation), never the descriptor number: a number is reused as soon as the handle closes its
 * pidfd, and a late report for the old child would then name the new one.
 *
 * Descriptor watches (fl_reactor_watch_fd) are the same one-shot arming with EPOLLIN or EPOLLOUT;
 * epoll adds EPOLLHUP and EPOLLERR by itself, so a pipe whose peer has gone is reported too. A
 * descriptor stays in the set, disabled, after its one-shot report: watching it again is an
 * EPOLL_CTL_ADD that says EEXIST, then an EPOLL_CTL_MOD, which rearms it (the common part does not
 * track set membership; one extra call per rewatch is cheaper than the bookkeeping). Unwatching
 * is EPOLL_CTL_DEL. Hazard: epoll knows a member by descriptor number *and* open file, and drops
 * it only when the file's last descriptor closes, so a descriptor closed while a copy lives on
 * (say in a child forked meanwhile by java.lang.Process) would stay a member, reporting under its
 * old key; hence "unwatch before close" in the contract.
 *
 * Wake-ups: an eventfd, registered level-triggered (no ONESHOT) under a reserved key that no slot
 * can produce. wake writes 1 to it (write(2) on an eventfd is async-signal-safe and lock-free, so
 * any thread, or a signal handler, may call it); wait drains it and reports nothing for it.
 * Several wakes before a wait collapse into one return, which is all the contract promises.
 *
 * Alternatives. A self-pipe does the same with two descriptors and a buffer that can fill up;
 * signalfd(SIGCHLD) would be process-wide and would see java.lang.Process's children too; a
 * thread blocked in waitid per child is what this design replaces. io_uring (reactor_uring.c)
 * does the same job with fewer system calls where it is allowed.
 *
 * Locking: none here. The kernel serialises epoll_ctl against epoll_wait, so arm/rearm/disarm from
 * any thread while another waits is safe by construction.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "reactor_backend.h"

/* Reserved (reactor_backend.h): no key of the common part has all bits set. */
#define WAKE_KEY UINT64_MAX

/* How many epoll events one wait collects at most; more stay ready in the kernel. */
#define BATCH 128

struct fl_backend {
    int epfd;
    int wakefd;
};

static int ctl(fl_backend *b, int op, int fd, uint64_t key, unsigned events) {
    /* EPOLLIN/EPOLLOUT have poll's values, but say so rather than rely on it. */
    uint32_t want = ((events & POLLIN) ? EPOLLIN : 0) | ((events & POLLOUT) ? EPOLLOUT : 0);
    struct epoll_event ev = {.events = want | EPOLLONESHOT, .data = {.u64 = key}};
    return epoll_ctl(b->epfd, op, fd, &ev) == 0 ? 0 : -errno;
}

static int ep_arm(fl_backend *b, int fd, uint64_t key, unsigned events) {
    int rc = ctl(b, EPOLL_CTL_ADD, fd, key, events);
    /* Still a member, disabled after its one-shot report: rearm it. */
    if (rc == -EEXIST) rc = ctl(b, EPOLL_CTL_MOD, fd, key, events);
    return rc;
}

static int ep_rearm(fl_backend *b, int fd, uint64_t key, unsigned events) {
    return ctl(b, EPOLL_CTL_MOD, fd, key, events);
}

static int ep_disarm(fl_backend *b, int fd, uint64_t key) {
    (void)key;
    /* Before 2.6.9 DEL wanted a non-NULL event; passing one costs nothing. */
    struct epoll_event ev = {0};
    if (epoll_ctl(b->epfd, EPOLL_CTL_DEL, fd, &ev) == 0 || errno == ENOENT) return 0;
    return -errno;
}

static void drain_wake(fl_backend *b) {
    uint64_t v;
    /* Non-blocking: a concurrent wait (there is none by contract) or a spurious report finds it
     * empty and gets EAGAIN, not a hang. */
    while (read(b->wakefd, &v, sizeof v) < 0 && errno == EINTR) {
    }
}

static int ep_wait(fl_backend *b, uint64_t *keys, int max, int timeout_ms) {
    if (max <= 0) return -EINVAL;
    struct epoll_event evs[BATCH];
    int n = epoll_wait(b->epfd, evs, max < BATCH ? max : BATCH, timeout_ms);
    if (n < 0) return -errno;
    int count = 0;
    for (int i = 0; i < n; i++) {
        if (evs[i].data.u64 == WAKE_KEY) {
            drain_wake(b);
        } else {
            keys[count++] = evs[i].data.u64;
        }
    }
    return count;
}

static int ep_wake(fl_backend *b) {
    uint64_t one = 1;
    ssize_t n;
    do {
        n = write(b->wakefd, &one, sizeof one);
    } while (n < 0 && errno == EINTR);
    /* EAGAIN: the counter is at its maximum, so a wake-up is pending anyway. */
    if (n < 0 && errno != EAGAIN) return -errno;
    return 0;
}

static void ep_destroy(fl_backend *b) {
    close(b->wakefd);
    close(b->epfd);
    free(b);
}

static const fl_backend_ops epoll_ops = {
    .kind = FL_REACTOR_EPOLL,
    .arm = ep_arm,
    .rearm = ep_rearm,
    .disarm = ep_disarm,
    .wait = ep_wait,
    .wake = ep_wake,
    .destroy = ep_destroy,
};

int fl_backend_epoll_open(fl_backend **out, const fl_backend_ops **ops) {
    fl_backend *b = malloc(sizeof *b);
    if (b == NULL) return -ENOMEM;
    int rc;
    b->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (b->epfd < 0) {
        rc = -errno;
        free(b);
        return rc;
    }
    b->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (b->wakefd < 0) {
        rc = -errno;
        close(b->epfd);
        free(b);
        return rc;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data = {.u64 = WAKE_KEY}};
    if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, b->wakefd, &ev) != 0) {
        rc = -errno;
        ep_destroy(b);
        return rc;
    }
    *out = b;
    *ops = &epoll_ops;
    return 0;
}
