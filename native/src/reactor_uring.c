/* The io_uring backend of the reactor: one ring, a one-shot IORING_OP_POLL_ADD per watched pidfd
 * or descriptor.
 *
 * Strategy. Every armed descriptor is one POLL_ADD request (POLLIN for pidfds and read watches,
 * POLLOUT for write watches; the kernel adds POLLERR and POLLHUP) whose user_data is the caller's
 * key; its completion (CQE) is the report, and since a poll request ends with its completion,
 * arming is one-shot by construction. A pidfd polls readable once its process has exited, and a
 * pidfd whose process is already a zombie completes the request at submission, so an exit before
 * arming is never missed; a pipe that is ready already completes at submission the same way. The
 * reactor's common part then reaps with waitid (it wants the rusage that IORING_OP_WAITID, 6.7,
 * does not give), or reports a descriptor watch. Wake-ups are an eventfd watched by a POLL_ADD
 * under a reserved key (FL_URING_WAKE_KEY); wait consumes that completion, drains the eventfd and
 * polls it again before returning.
 *
 * Threads. arm/rearm/disarm may come from any thread while one thread sleeps in wait. The
 * submission queue has a single producer, so filling an SQE, publishing the tail and any
 * io_uring_enter(to_submit) happen under `lock`; the waiter sleeps in io_uring_enter(GETEVENTS)
 * without it, which the kernel allows when the ring is not IORING_SETUP_SINGLE_ISSUER. Who
 * submits a POLL_ADD matters (see "Hazards"), so a poll is submitted by the waiter's thread: on
 * that thread (the reactor rearms from there) arm submits at once; on any other thread arm only
 * queues the SQE and kicks the waiter through the eventfd, and the waiter submits everything
 * queued before it sleeps and after every drain (one kick per batch). A kick is not a caller's
 * wake-up: wake() also sets `user_woken`, and wait returns 0 only for that. Only the waiter
 * consumes the completion queue, so its head needs no lock; it takes `lock` once per drain for
 * the bookkeeping below. wake() is a flag store and a write(2): async-signal-safe, no lock.
 *
 * Bookkeeping. A small hash set (under `lock`) holds every key with a poll in flight, marked
 * ARMED or CANCELLING. It lets disarm be free in the normal case (the key was reported, so nothing
 * is armed and no system call is made), and still correct when the key is armed: then an
 * IORING_OP_POLL_REMOVE by user_data releases the request (and the file reference it holds) and
 * the poll's -ECANCELED completion is swallowed, not reported. Arming a key that is still in
 * flight is refused with -EEXIST.
 *
 * Raw system calls, not liburing: Debian ships no static liburing, a shared one would be one more
 * library to find in the JVM, and the subset needed here (setup, three mmaps, enter, one probe) is
 * small. Ring access follows the kernel's documented protocol: the kernel's SQ head and CQ tail
 * are read with load-acquire, our SQ tail and CQ head published with store-release.
 *
 * Feature detection is by calling, never by kernel version: io_uring_setup fails with ENOSYS
 * (no io_uring, or a seccomp profile), EPERM (kernel.io_uring_disabled = 2, or 1 and not in
 * io_uring_group, or a filter), ENOMEM (before 5.12 rings are charged to RLIMIT_MEMLOCK: smaller
 * rings are tried first). We require IORING_FEAT_EXT_ARG (5.11: a timeout on the wait itself,
 * without a timeout SQE) and IORING_FEAT_NODROP (5.5, implied), and the probe must list POLL_ADD
 * and POLL_REMOVE (emulations such as gVisor implement only a few opcodes); otherwise
 * -EOPNOTSUPP. Any failure leaves no descriptor and no mapping, and the caller falls back to epoll.
 *
 * Alternatives considered.
 *   - IORING_OP_WAITID (6.7): reaps in the kernel but without rusage, and too new to rely on.
 *   - Multishot poll (IORING_POLL_ADD_MULTI, 5.13) for the eventfd: saves one submission per
 *     wake-up but needs 5.13; wake-ups are rare next to exits, so one-shot it is.
 *   - IORING_OP_MSG_RING (5.18) for wake-ups: not async-signal-safe from outside (it needs an SQE,
 *     hence the lock), and too new.
 *   - Submitting from the arming thread (simpler: no kick, one system call in arm): measured here
 *     to make that thread's epoll_wait fail with EINTR when the child exits; see the hazard.
 *   - IORING_SETUP_COOP_TASKRUN (5.19) would stop the interruption but leaves the completion
 *     waiting until the submitting thread next enters the kernel, which may be never.
 *
 * Hazards.
 *   - A poll's completion runs as task_work of the thread that *submitted* it (TWA_SIGNAL: that
 *     thread is woken from an interruptible sleep as by a signal without a handler; a system call
 *     that answers EINTR instead of restarting, such as epoll_wait, fails with EINTR there, which
 *     a JVM thread in a Selector would see). A thread blocked uninterruptibly would delay the
 *     completion; one that has exited hands it to a kernel fallback worker. Hence submission by
 *     the waiter. The exception: a full SQ (nobody drained 64 queued arms, e.g. no wait yet) is
 *     submitted by the arming thread rather than refused.
 *   - A request cancelled by the kernel (older kernels cancel a task's requests when it exits,
 *     ring teardown) completes with a negative res: the key is still reported, and the common
 *     part decides: waitid for a pidfd (then it rearms from its own thread), the caller's next
 *     read or write for a descriptor watch (a spurious report, which the contract allows).
 *   - CQ overflow: with NODROP the kernel keeps overflowed completions and flushes them into the
 *     ring on the next io_uring_enter(GETEVENTS), which every wait makes. Only if the kernel cannot
 *     allocate room for one does it drop it and answer -EBADR once; wait passes that up (a report
 *     may be lost: the common part re-checks every child and reports every descriptor watch). Kernels 5.11..5.18 may also
 *     refuse submissions with -EBUSY while overflowed completions are pending; such an SQE stays
 *     queued and the waiter (which flushes the overflow) submits it after its next drain.
 *   - A poll in flight holds a reference to its file. For a pidfd that only delays its release; for
 *     a pipe end it keeps the pipe open, so the child would never see EOF on its stdin, nor EPIPE
 *     on its stdout, after the parent closed its end. Hence the contract's "unwatch before
 *     close", and disarm's POLL_REMOVE of a poll still armed. The POLL_REMOVE goes through the
 *     waiter like every submission, so the reference is dropped once the waiter has run (at once
 *     when one is asleep in wait: it is kicked).
 *   - io_uring_setup makes its descriptor close-on-exec itself; a fork()ed copy of this process
 *     shares the rings (MAP_SHARED) and must not use this backend.
 */
#include <errno.h>
#include <linux/io_uring.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "reactor_backend.h"

/* The unified system call table gives these the same numbers on every architecture. */
#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#endif
#ifndef SYS_io_uring_enter
#define SYS_io_uring_enter 426
#endif
#ifndef SYS_io_uring_register
#define SYS_io_uring_register 427
#endif

/* Reserved user_data values (reactor_backend.h): the common part's keys never reach them, and arm
 * refuses them. */
#define FL_URING_WAKE_KEY UINT64_MAX
#define FL_URING_REMOVE_KEY (UINT64_MAX - 1)

/* The SQ only ever holds a few entries: each arm submits at once. The CQ must hold a completion
 * per watched descriptor to avoid the overflow path; 8192 entries are 128 KiB. Smaller CQs are
 * tried when the kernel says ENOMEM (RLIMIT_MEMLOCK accounting before 5.12). */
#define FL_URING_SQ_ENTRIES 64u
static const unsigned fl_uring_cq_sizes[] = {8192u, 2048u, 512u};

/* While an SQE waits for resubmission (after -EBUSY/-EAGAIN), the waiter sleeps at most this long
 * between attempts. */
#define FL_URING_RETRY_MS 10

enum { SET_EMPTY = 0, SET_ARMED = 1, SET_CANCELLING = 2 };

struct set_entry {
    uint64_t key;
    uint32_t state; /* SET_EMPTY: the slot is free */
};

struct fl_backend {
    int ring_fd;
    int wake_fd;

    /* Mappings, for munmap. cq_map == sq_map with IORING_FEAT_SINGLE_MMAP. */
    void *sq_map;
    size_t sq_map_len;
    void *cq_map;
    size_t cq_map_len;
    struct io_uring_sqe *sqes;
    size_t sqes_len;

    /* Submission ring: the kernel moves the head; we own the tail. */
    unsigned *sq_khead;
    unsigned *sq_ktail;
    unsigned *sq_array;
    unsigned sq_mask;
    unsigned sq_entries;

    /* Completion ring: the kernel moves the tail; the waiter owns the head. */
    unsigned *cq_khead;
    unsigned *cq_ktail;
    struct io_uring_cqe *cqes;
    unsigned cq_mask;

    /* Set by wake() before it writes the eventfd: tells a caller's wake-up from our own kicks. */
    int user_woken;

    pthread_mutex_t lock; /* guards the fields below, and every SQ write and submission */
    unsigned sq_tail;     /* our copy of the tail: entries before it are published */
    pthread_t waiter;     /* the thread that last called wait (valid if have_waiter) */
    int have_waiter;
    int kick_pending;     /* a kick is written and the waiter has not flushed since */
    int broken;           /* a -errno that makes every later call fail (the ring is unusable) */
    struct set_entry *set;
    size_t set_cap; /* a power of two, or 0 */
    size_t set_len;
};

/* ---- system calls ------------------------------------------------------------------------- */

static int sys_ret(long r) { return r < 0 ? -errno : (int)r; }

static int uring_setup(unsigned entries, struct io_uring_params *p) {
    return sys_ret(syscall(SYS_io_uring_setup, entries, p));
}

static int uring_enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags,
                       const void *arg, size_t argsz) {
    return sys_ret(syscall(SYS_io_uring_enter, fd, to_submit, min_complete, flags, arg, argsz));
}

static unsigned load_acquire(const unsigned *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static void store_release(unsigned *p, unsigned v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

/* ---- the set of keys in flight (lock held) ------------------------------------------------- */

static size_t set_hash(uint64_t k) { /* splitmix64's finalizer: keys differ in their high bits */
    k ^= k >> 30;
    k *= 0xbf58476d1ce4e5b9ull;
    k ^= k >> 27;
    k *= 0x94d049bb133111ebull;
    k ^= k >> 31;
    return (size_t)k;
}

static struct set_entry *set_find(fl_backend *b, uint64_t key) {
    if (b->set_cap == 0) return NULL;
    size_t mask = b->set_cap - 1;
    for (size_t i = set_hash(key) & mask;; i = (i + 1) & mask) {
        struct set_entry *e = &b->set[i];
        if (e->state == SET_EMPTY) return NULL;
        if (e->key == key) return e;
    }
}

static void set_place(struct set_entry *tab, size_t cap, uint64_t key, uint32_t state) {
    size_t mask = cap - 1, i = set_hash(key) & mask;
    while (tab[i].state != SET_EMPTY) i = (i + 1) & mask;
    tab[i].key = key;
    tab[i].state = state;
}

/* Adds a key known to be absent. 0 or -ENOMEM. Load stays at most 1/2, so probes stay short. */
static int set_add(fl_backend *b, uint64_t key, uint32_t state) {
    if ((b->set_len + 1) * 2 > b->set_cap) {
        size_t cap = b->set_cap ? b->set_cap * 2 : 64;
        struct set_entry *tab = calloc(cap, sizeof *tab);
        if (tab == NULL) return -ENOMEM;
        for (size_t i = 0; i < b->set_cap; i++)
            if (b->set[i].state != SET_EMPTY) set_place(tab, cap, b->set[i].key, b->set[i].state);
        free(b->set);
        b->set = tab;
        b->set_cap = cap;
    }
    set_place(b->set, b->set_cap, key, state);
    b->set_len++;
    return 0;
}

/* Removes e, shifting later members of its probe run back so no tombstones are needed. */
static void set_remove(fl_backend *b, struct set_entry *e) {
    size_t mask = b->set_cap - 1, hole = (size_t)(e - b->set);
    for (size_t i = (hole + 1) & mask; b->set[i].state != SET_EMPTY; i = (i + 1) & mask) {
        size_t home = set_hash(b->set[i].key) & mask;
        /* Move i into the hole unless its home lies cyclically in (hole, i]. */
        if (((i - home) & mask) >= ((i - hole) & mask)) {
            b->set[hole] = b->set[i];
            hole = i;
        }
    }
    b->set[hole].state = SET_EMPTY;
    b->set_len--;
}

/* ---- submission (lock held) ---------------------------------------------------------------- */

/* The next free SQE, zeroed, or NULL if the ring is full of entries the kernel has not taken. */
static struct io_uring_sqe *sqe_next(fl_backend *b) {
    if (b->sq_tail - load_acquire(b->sq_khead) >= b->sq_entries) return NULL;
    struct io_uring_sqe *sqe = &b->sqes[b->sq_tail & b->sq_mask];
    memset(sqe, 0, sizeof *sqe);
    return sqe;
}

static void sqe_publish(fl_backend *b) {
    b->sq_tail++;
    store_release(b->sq_ktail, b->sq_tail); /* the SQE's contents before the tail that shows it */
}

/* Hands every published entry to the kernel. 0 when none is left; -EBUSY/-EAGAIN when the kernel
 * refused for now (the entries stay queued; the waiter retries); other -errno when the ring is
 * unusable. Per-request failures are not errors here: they come back as CQEs. */
static int sq_flush(fl_backend *b) {
    for (;;) {
        unsigned pending = b->sq_tail - load_acquire(b->sq_khead);
        if (pending == 0) return 0;
        int r = uring_enter(b->ring_fd, pending, 0, 0, NULL, 0);
        if (r > 0 || r == -EINTR) continue;
        if (r == 0) return -EAGAIN; /* took nothing and said nothing: retry later */
        return r;
    }
}

static int queued(fl_backend *b) { return b->sq_tail != load_acquire(b->sq_khead); }

/* Makes the waiter submit what is queued: once per flush, since one write wakes it for all. */
static void kick(fl_backend *b) {
    if (b->kick_pending) return;
    b->kick_pending = 1;
    uint64_t one = 1;
    ssize_t w = write(b->wake_fd, &one, sizeof one);
    (void)w; /* EAGAIN: the counter is saturated, a wake-up is pending anyway */
}

static int on_waiter_thread(const fl_backend *b) {
    return b->have_waiter && pthread_equal(b->waiter, pthread_self());
}

/* Sees the queued entries submitted: now on the waiter's thread, else by the waiter after a kick.
 * 0 or -errno (the ring is unusable). */
static int submit_queued(fl_backend *b) {
    if (!on_waiter_thread(b)) {
        kick(b);
        return 0;
    }
    int r = sq_flush(b);
    /* Refused for now: the entries stay queued and the waiter (this thread) retries them soon. */
    return r == -EBUSY || r == -EAGAIN ? 0 : r;
}

/* Queues a POLL_ADD(events) whose completion will carry user_data, and sees it submitted: at once
 * on the waiter's thread, else by the waiter after a kick (see "Hazards": the thread that submits
 * a poll is the one its completion interrupts). 0, -EAGAIN (SQ full and the kernel refuses more
 * for now: nothing queued), or -errno (the ring is unusable). */
static int submit_poll_add(fl_backend *b, int fd, uint64_t user_data, unsigned events) {
    struct io_uring_sqe *sqe = sqe_next(b);
    if (sqe == NULL) {
        /* Full: no waiter is draining the queue (none yet, or it is busy). Submit from here rather
         * than fail; the completion then goes to this thread, as the hazard note says. */
        int r = sq_flush(b);
        if (r < 0 && r != -EBUSY && r != -EAGAIN) return r;
        if ((sqe = sqe_next(b)) == NULL) return -EAGAIN;
    }
    sqe->opcode = IORING_OP_POLL_ADD;
    sqe->fd = fd;
    sqe->poll32_events = events; /* native endianness since 5.9; POLLIN/POLLOUT fit 16 bits */
    sqe->user_data = user_data;
    sqe_publish(b);
    return submit_queued(b);
}

/* ---- the ops ------------------------------------------------------------------------------- */

static int uring_arm(fl_backend *b, int fd, uint64_t key, unsigned events) {
    if (fd < 0 || key == FL_URING_WAKE_KEY || key == FL_URING_REMOVE_KEY) return -EINVAL;
    if (events != POLLIN && events != POLLOUT) return -EINVAL;
    pthread_mutex_lock(&b->lock);
    int r = b->broken;
    if (r == 0 && set_find(b, key) != NULL) r = -EEXIST;
    if (r == 0) r = set_add(b, key, SET_ARMED);
    if (r == 0) {
        r = submit_poll_add(b, fd, key, events);
        if (r < 0) {
            /* Nothing was queued (-EAGAIN: a full SQ) or the ring broke: either way no completion
             * will come for this key. */
            struct set_entry *e = set_find(b, key);
            if (e != NULL) set_remove(b, e);
            if (r != -EAGAIN) b->broken = r;
        }
    }
    pthread_mutex_unlock(&b->lock);
    return r;
}

/* After a report nothing is armed, so rearming is arming. */
static int uring_rearm(fl_backend *b, int fd, uint64_t key, unsigned events) {
    return uring_arm(b, fd, key, events);
}

static int uring_disarm(fl_backend *b, int fd, uint64_t key) {
    (void)fd;
    pthread_mutex_lock(&b->lock);
    int r = 0;
    struct set_entry *e = set_find(b, key);
    if (e != NULL && e->state == SET_ARMED && b->broken == 0) {
        /* Still armed (or completed but not drained yet): remove the request by user_data, so it
         * drops its reference to the file now, and swallow its completion, whichever comes.
         * The POLL_REMOVE's own completion (0 or -ENOENT) is ignored. */
        struct io_uring_sqe *sqe = sqe_next(b);
        if (sqe == NULL && (sq_flush(b), (sqe = sqe_next(b)) == NULL)) {
            r = -EAGAIN;
        } else {
            sqe->opcode = IORING_OP_POLL_REMOVE;
            sqe->fd = -1;
            sqe->addr = key; /* the target's user_data (5.11 and later read it here) */
            sqe->user_data = FL_URING_REMOVE_KEY;
            sqe_publish(b);
            e->state = SET_CANCELLING;
            /* Through the waiter too: a flush here would also submit other threads' queued polls
             * from this thread. */
            r = submit_queued(b);
            if (r < 0) b->broken = r;
        }
    }
    pthread_mutex_unlock(&b->lock);
    return r;
}

static int uring_wake(fl_backend *b) {
    int saved = errno; /* async-signal-safe: a handler must not change errno */
    __atomic_store_n(&b->user_woken, 1, __ATOMIC_SEQ_CST); /* lock-free int: signal-safe */
    uint64_t one = 1;
    int r = 0;
    while (write(b->wake_fd, &one, sizeof one) < 0) {
        if (errno == EINTR) continue;
        /* EAGAIN: the counter is saturated, so a wake-up is pending anyway. */
        if (errno != EAGAIN) r = -errno;
        break;
    }
    errno = saved;
    return r;
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Takes completions off the CQ, up to max keys. Sets *woken if the wake-up key came by (then the
 * eventfd is drained and polled again). Returns the number of keys stored, or -errno. */
static int drain(fl_backend *b, uint64_t *keys, int max, int *woken) {
    unsigned head = *b->cq_khead; /* only this thread writes it */
    unsigned tail = load_acquire(b->cq_ktail); /* CQE contents are visible up to tail */
    int n = 0, rearm_wake = 0;
    pthread_mutex_lock(&b->lock);
    while (head != tail && n < max) {
        const struct io_uring_cqe *cqe = &b->cqes[head & b->cq_mask];
        uint64_t key = cqe->user_data;
        int32_t res = cqe->res;
        head++;
        if (key == FL_URING_REMOVE_KEY) continue;
        if (key == FL_URING_WAKE_KEY) {
            /* res: POLLIN, or -ECANCELED if a kernel cancelled it; either way poll again. Any
             * other failure would repeat on every wait: give up on the ring. */
            if (res < 0 && res != -ECANCELED && res != -EINTR && b->broken == 0) b->broken = res;
            rearm_wake = 1;
            continue;
        }
        struct set_entry *e = set_find(b, key);
        int swallow = e != NULL && e->state == SET_CANCELLING;
        if (e != NULL) set_remove(b, e);
        /* res > 0 (revents) or < 0 (cancelled, bad descriptor, ...): reported either way; the
         * caller's waitid decides. */
        if (!swallow) keys[n++] = key;
    }
    store_release(b->cq_khead, head); /* the kernel may reuse the slots we have read */

    int r = 0;
    if (rearm_wake) {
        *woken = 1;
        uint64_t v;
        while (read(b->wake_fd, &v, sizeof v) > 0) {
        }
        /* Drained before polling again, so a write in between is seen by the new poll. */
        if (b->broken == 0) r = submit_poll_add(b, b->wake_fd, FL_URING_WAKE_KEY, POLLIN);
    }
    b->kick_pending = 0; /* whatever a kick asked for is flushed below */
    if (r == 0 && queued(b)) {
        r = sq_flush(b);
        if (r == -EBUSY || r == -EAGAIN) r = 0; /* still queued: wait retries it */
    }
    if (r < 0 && b->broken == 0) b->broken = r;
    if (b->broken != 0 && n == 0) n = b->broken;
    pthread_mutex_unlock(&b->lock);
    return n;
}

static int uring_wait(fl_backend *b, uint64_t *keys, int max, int timeout_ms) {
    if (keys == NULL || max <= 0) return -EINVAL;
    int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
    for (;;) {
        /* A left-over SQE (refused with -EBUSY/-EAGAIN earlier) caps the sleep, so it gets
         * another chance soon even if nothing completes. */
        pthread_mutex_lock(&b->lock);
        b->waiter = pthread_self();
        b->have_waiter = 1;
        b->kick_pending = 0;
        int retry = 0;
        if (queued(b)) { /* arms from other threads, and the wake-up poll queued at open */
            int fr = sq_flush(b);
            if (fr < 0 && fr != -EBUSY && fr != -EAGAIN && b->broken == 0) b->broken = fr;
            retry = queued(b);
        }
        int broken = b->broken;
        pthread_mutex_unlock(&b->lock);
        if (broken != 0) return broken;

        int left = timeout_ms;
        if (timeout_ms > 0) {
            int64_t l = deadline - now_ms();
            left = l > 0 ? (int)l : 0;
        }
        if (retry && (left < 0 || left > FL_URING_RETRY_MS)) left = FL_URING_RETRY_MS;

        struct __kernel_timespec ts = {.tv_sec = left / 1000, .tv_nsec = (long long)(left % 1000) * 1000000};
        struct io_uring_getevents_arg arg;
        memset(&arg, 0, sizeof arg);
        arg.ts = left < 0 ? 0 : (uint64_t)(uintptr_t)&ts;
        /* Even a poll (timeout 0) enters the kernel: that runs pending task_work (completions of
         * polls this thread submitted) and flushes overflowed completions into the ring. */
        int r = uring_enter(b->ring_fd, 0, left == 0 ? 0 : 1,
                            IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg);

        int woken = 0;
        int n = drain(b, keys, max, &woken);
        if (n != 0) return n; /* keys, or the ring broke */
        /* A wake-up of ours (a kick: arms were queued) is not the caller's: wait on. */
        if (woken && __atomic_exchange_n(&b->user_woken, 0, __ATOMIC_SEQ_CST)) return 0;
        if (r < 0 && r != -ETIME && r != -EAGAIN && r != -EBUSY) return r; /* -EINTR, -EBADR, ... */
        /* Nothing to report: only swallowed completions, a POLL_REMOVE's, or the time is up. */
        if (timeout_ms == 0) return 0;
        if (timeout_ms > 0 && now_ms() >= deadline) return 0;
    }
}

static void uring_close_all(fl_backend *b) {
    if (b->sqes != NULL && b->sqes != MAP_FAILED) munmap(b->sqes, b->sqes_len);
    if (b->cq_map != NULL && b->cq_map != MAP_FAILED && b->cq_map != b->sq_map)
        munmap(b->cq_map, b->cq_map_len);
    if (b->sq_map != NULL && b->sq_map != MAP_FAILED) munmap(b->sq_map, b->sq_map_len);
    /* Closing the ring cancels every request in flight; the kernel drops their file references
     * asynchronously. */
    if (b->ring_fd >= 0) close(b->ring_fd);
    if (b->wake_fd >= 0) close(b->wake_fd);
    pthread_mutex_destroy(&b->lock);
    free(b->set);
    free(b);
}

static void uring_destroy(fl_backend *b) {
    if (b != NULL) uring_close_all(b);
}

static const fl_backend_ops uring_ops = {
    .kind = FL_REACTOR_IO_URING,
    .arm = uring_arm,
    .rearm = uring_rearm,
    .disarm = uring_disarm,
    .wait = uring_wait,
    .wake = uring_wake,
    .destroy = uring_destroy,
};

/* ---- opening ------------------------------------------------------------------------------- */

/* Whether the kernel implements the opcodes we use (IORING_REGISTER_PROBE, 5.6). */
static int probe_ops(int ring_fd) {
    size_t len = sizeof(struct io_uring_probe) + 256 * sizeof(struct io_uring_probe_op);
    struct io_uring_probe *probe = calloc(1, len);
    if (probe == NULL) return -ENOMEM;
    int r = sys_ret(syscall(SYS_io_uring_register, ring_fd, IORING_REGISTER_PROBE, probe, 256));
    if (r >= 0) {
        r = 0;
        const uint8_t need[] = {IORING_OP_POLL_ADD, IORING_OP_POLL_REMOVE};
        for (size_t i = 0; i < sizeof need; i++)
            if (need[i] >= probe->ops_len || !(probe->ops[need[i]].flags & IO_URING_OP_SUPPORTED))
                r = -EOPNOTSUPP;
    } else if (r == -EINVAL) {
        r = -EOPNOTSUPP; /* no probe: older than 5.6, which lacks EXT_ARG anyway */
    }
    free(probe);
    return r;
}

static int map_rings(fl_backend *b, const struct io_uring_params *p) {
    b->sq_map_len = p->sq_off.array + p->sq_entries * sizeof(unsigned);
    b->cq_map_len = p->cq_off.cqes + p->cq_entries * sizeof(struct io_uring_cqe);
    int single = (p->features & IORING_FEAT_SINGLE_MMAP) != 0; /* 5.4: one mapping for both */
    if (single && b->cq_map_len > b->sq_map_len) b->sq_map_len = b->cq_map_len;

    b->sq_map = mmap(NULL, b->sq_map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                     b->ring_fd, IORING_OFF_SQ_RING);
    if (b->sq_map == MAP_FAILED) return -errno;
    if (single) {
        b->cq_map = b->sq_map;
    } else {
        b->cq_map = mmap(NULL, b->cq_map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                         b->ring_fd, IORING_OFF_CQ_RING);
        if (b->cq_map == MAP_FAILED) return -errno;
    }
    b->sqes_len = p->sq_entries * sizeof(struct io_uring_sqe);
    b->sqes = mmap(NULL, b->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, b->ring_fd,
                   IORING_OFF_SQES);
    if (b->sqes == MAP_FAILED) return -errno;

    char *sq = b->sq_map, *cq = b->cq_map;
    b->sq_khead = (unsigned *)(sq + p->sq_off.head);
    b->sq_ktail = (unsigned *)(sq + p->sq_off.tail);
    b->sq_array = (unsigned *)(sq + p->sq_off.array);
    b->sq_mask = *(unsigned *)(sq + p->sq_off.ring_mask);
    b->sq_entries = *(unsigned *)(sq + p->sq_off.ring_entries);
    b->cq_khead = (unsigned *)(cq + p->cq_off.head);
    b->cq_ktail = (unsigned *)(cq + p->cq_off.tail);
    b->cqes = (struct io_uring_cqe *)(cq + p->cq_off.cqes);
    b->cq_mask = *(unsigned *)(cq + p->cq_off.ring_mask);

    /* SQE i always sits in array slot i: the indirection is never used. */
    for (unsigned i = 0; i < b->sq_entries; i++) b->sq_array[i] = i;
    b->sq_tail = *b->sq_ktail;
    return 0;
}

int fl_backend_uring_open(fl_backend **out, const fl_backend_ops **ops) {
    if (out == NULL || ops == NULL) return -EINVAL;
    *out = NULL;
    *ops = NULL;
    fl_backend *b = calloc(1, sizeof *b);
    if (b == NULL) return -ENOMEM;
    b->ring_fd = -1;
    b->wake_fd = -1;
    pthread_mutex_init(&b->lock, NULL);

    struct io_uring_params p;
    int r = -ENOMEM;
    for (size_t i = 0; i < sizeof fl_uring_cq_sizes / sizeof fl_uring_cq_sizes[0]; i++) {
        memset(&p, 0, sizeof p);
        /* CQSIZE (5.5): a CQ much larger than the SQ. CLAMP (5.6): a kernel with a lower maximum
         * shrinks it instead of refusing. Not SINGLE_ISSUER: submitters and the waiter differ. */
        p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
        p.cq_entries = fl_uring_cq_sizes[i];
        r = uring_setup(FL_URING_SQ_ENTRIES, &p);
        if (r != -ENOMEM) break;
    }
    if (r < 0) goto fail;
    b->ring_fd = r;

    /* EXT_ARG (5.11) gives wait its timeout; NODROP (5.5) keeps overflowed completions. */
    const unsigned need = IORING_FEAT_EXT_ARG | IORING_FEAT_NODROP;
    if ((p.features & need) != need) {
        r = -EOPNOTSUPP;
        goto fail;
    }
    if ((r = probe_ops(b->ring_fd)) < 0) goto fail;
    if ((r = map_rings(b, &p)) < 0) goto fail;

    b->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (b->wake_fd < 0) {
        r = -errno;
        goto fail;
    }
    pthread_mutex_lock(&b->lock);
    /* Queued only, with no kick: the first wait submits it from the waiter's thread. */
    b->kick_pending = 1;
    r = submit_poll_add(b, b->wake_fd, FL_URING_WAKE_KEY, POLLIN);
    pthread_mutex_unlock(&b->lock);
    if (r < 0) goto fail;

    *out = b;
    *ops = &uring_ops;
    return 0;

fail:
    uring_close_all(b);
    return r;
}
