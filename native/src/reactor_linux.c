/*
 * The reactor's common part on Linux: registrations, tokens, reaping, the waiter threads of
 * children that have no pidfd, and descriptor watches. The kernel mechanism that reports ready
 * descriptors is a backend behind reactor_backend.h (reactor_epoll.c, reactor_uring.c).
 *
 * Strategy. Every registered child occupies a slot; the backend is armed with the slot's key,
 * (slot index << 32) | generation, never with a descriptor number or a PID, which the kernel
 * reuses. The generation changes whenever a slot is freed, so a late or duplicate report for a
 * slot that has since been reused names a key that no longer matches and is ignored. Arming is
 * one-shot: a report means "look now", and the reactor then reaps without blocking, with the same
 * raw waitid and rusage as fl_process_wait and under the handle's lock. Nothing to reap (a
 * spurious report) arms it again; anything else becomes the one event of that token, and the
 * slot, the arming and the reactor's reference on the handle go.
 *
 * Ownership. The reactor holds a reference on every handle it watches, so an owner may close its
 * handle at any time: a child nobody waits for any more is still reaped the moment it exits, and
 * its pidfd closed then, rather than sitting on the orphan list until the next spawn. A handle
 * can be watched by one reactor at a time (-EEXIST), and fl_process_wait may race with the
 * reactor: whoever reaps first stores the status in the handle and the other reads it from there.
 *
 * PID-only children (no pidfd: kernels before 5.3, or a seccomp profile that denies them) cannot
 * be put in an epoll set or a ring. Each gets a detached native thread with a small stack that
 * blocks in waitid(P_PID, pid, WEXITED|WNOWAIT): it observes the exit without reaping, so the PID
 * stays ours until the reactor reaps it under the handle's lock, and it hands the slot key to the
 * reactor through a ready list plus a backend wake-up. One OS thread per such child is what the
 * JDK pays for every child; here it is the last rung of the ladder only. Hazards:
 *   - All signals are blocked in the waiter (set around pthread_create, which copies the mask):
 *     a process-directed signal such as SIGCHLD or the JVM's SIGQUIT must go to a thread that
 *     expects it, not to a thread this library made.
 *   - The waiter never reaps and never marks the handle lost. If someone else reaps the child
 *     first (fl_process_wait, or a waitpid(-1) elsewhere), waitid says ECHILD and the waiter posts
 *     the key anyway: the reactor's reap then finds the stored status or the loss.
 *   - A waiter outlives fl_reactor_close when its child is still running. The reactor's memory is
 *     therefore reference counted (one reference per running waiter), and its backend, whose wake
 *     a waiter still calls, is destroyed only with the last reference. After the close a waiter's
 *     post is dropped.
 *   - A waiter whose child was reaped elsewhere after the waiter's last look and whose PID was
 *     then reused by another child of this process waits for that child instead; it only posts a
 *     stale key, late. (A window of a few instructions, and the PID must cycle through pid_max.)
 *
 * Descriptor watches (fl_reactor_watch_fd: the pipes to the children, watched in the same wait
 * as their exits). A table indexed by descriptor number holds each watch's token, state and
 * generation, as libuv's loop does: O(1) without hashing, and no larger than the kernel's own
 * descriptor table (a few bytes per number up to the highest one watched). A watch is armed in the
 * backend with a key of its own: bit 63 set (slot keys never have it: slot indices stay below
 * 2^30), the descriptor in bits 31..61, the watch's generation in bits 0..30, bit 62 clear (so no
 * key reaches the backends' reserved all-ones values). The generation changes on every watch and
 * unwatch, so a report that was already on its way for an earlier watch of the same number is
 * recognised and dropped, like a stale slot key. Watch and unwatch call the backend under the
 * reactor's lock (lock order reactor -> backend, as in fl_reactor_close), which makes them atomic
 * against each other and against the report. The token is the caller's and travels in the table,
 * not in the key, so tokens need not be unique and unwatch can check that it names the watch it
 * means. When the backend has lost reports (-EBADR), every armed watch is disarmed and reported
 * from a list of its own: a spurious report costs the caller one EAGAIN, a lost one a hang.
 *
 * Events beyond the caller's max are never lost: the reactor asks the backend for at most as many
 * keys as there is room for events (each key yields at most one), so surplus exits stay ready in
 * the kernel, and keys posted by waiter threads stay on the ready list for the next wait.
 *
 * Alternatives considered. A SIGCHLD handler or signalfd is process-wide: it sees
 * java.lang.Process's children as well and invites waitpid(-1), which steals them. Reaping with
 * IORING_OP_WAITID (6.7) loses the rusage. One thread per child is the JDK's cost this replaces.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "reactor_backend.h"
#include "sys_linux.h"

/* Keys fetched from the backend per call; each becomes at most one event. */
#define KEY_BATCH 128

/* Slot indices stay below this, so a slot key never has bit 63 set: that bit marks the keys of
 * descriptor watches (and no key gets near the backends' reserved all-ones values). */
#define MAX_SLOTS (INT32_MAX / 2)

/* Descriptor-watch keys: tag | fd << 31 | generation, generation in 31 bits (never 0). */
#define FD_KEY_TAG (UINT64_C(1) << 63)
#define FD_KEY_SHIFT 31
#define FD_GEN_MASK UINT32_C(0x7fffffff)

enum { SLOT_FREE = 0, SLOT_PIDFD, SLOT_WAITER };

enum {
    FDW_FREE = 0, /* not watched (never, or unwatched) */
    FDW_ARMED,    /* armed in the backend, not reported yet */
    FDW_IDLE,     /* reported; epoll may still hold it, disabled */
    FDW_PENDING   /* the backend lost reports: disarmed there, on the pending list to be reported */
};

struct fdwatch {
    uint64_t token;
    uint32_t gen;         /* part of the key; bumped on every watch and unwatch */
    int32_t next;         /* pending list; -1 ends it */
    unsigned char state;  /* FDW_* */
    unsigned char queued; /* on the pending list */
};

struct slot {
    fl_process *p;     /* NULL when free */
    uint64_t token;
    uint32_t gen;      /* part of the key; bumped on every free */
    int32_t next;      /* free list, or ready list while queued; -1 ends either */
    unsigned char kind;
    unsigned char armed;  /* the backend watches its pidfd */
    unsigned char queued; /* on the ready list */
};

struct fl_reactor {
    pthread_mutex_t lock;  /* guards everything below except ops/b/kind, which never change */
    int refs;              /* 1 for the owner until fl_reactor_close, 1 per running waiter */
    int closed;
    const fl_backend_ops *ops;
    fl_backend *b;
    struct slot *slots;
    int32_t nslots, cap;
    int32_t free_head;
    int32_t ready_head, ready_tail; /* FIFO of slots whose exit was handed over */
    struct fdwatch *fdw;            /* indexed by descriptor number */
    size_t fdw_cap;
    int32_t fd_pending_head, fd_pending_tail; /* FIFO of FDW_PENDING descriptors */
    atomic_int woken;               /* fl_reactor_wake called; the next wait returns */
};

static uint64_t make_key(int32_t idx, uint32_t gen) { return (uint64_t)(uint32_t)idx << 32 | gen; }

static uint64_t make_fd_key(int fd, uint32_t gen) {
    return FD_KEY_TAG | (uint64_t)(uint32_t)fd << FD_KEY_SHIFT | gen;
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *fl_reactor_backend_name(int backend) {
    switch (backend) {
    case FL_REACTOR_EPOLL: return "epoll";
    case FL_REACTOR_IO_URING: return "io_uring";
    default: return "unknown";
    }
}

/* ---- lifetime ---------------------------------------------------------------------------- */

static void reactor_unref(fl_reactor *r) {
    pthread_mutex_lock(&r->lock);
    int left = --r->refs;
    pthread_mutex_unlock(&r->lock);
    if (left > 0) return;
    /* Nobody can call wake any more: now the backend's descriptors may go. */
    r->ops->destroy(r->b);
    free(r->fdw);
    free(r->slots);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

/* io_uring answers these where the kernel lacks it, a sysctl or seccomp profile denies it, or a
 * needed opcode is missing. ENOMEM too: before 5.12 rings are charged to RLIMIT_MEMLOCK, and a
 * small limit refuses them while epoll works fine (if memory is really short, epoll fails too). */
static int uring_not_here(int rc) {
    return rc == -ENOSYS || rc == -EPERM || rc == -EINVAL || rc == -EOPNOTSUPP || rc == -ENOMEM;
}

int fl_reactor_open(int backend, fl_reactor **out) {
    if (out == NULL) return -EINVAL;
    *out = NULL;
    fl_backend *b = NULL;
    const fl_backend_ops *ops = NULL;
    int rc;
    switch (backend) {
    case FL_REACTOR_BEST:
        rc = fl_backend_uring_open(&b, &ops);
        if (rc < 0 && uring_not_here(rc)) rc = fl_backend_epoll_open(&b, &ops);
        break;
    case FL_REACTOR_EPOLL: rc = fl_backend_epoll_open(&b, &ops); break;
    case FL_REACTOR_IO_URING: rc = fl_backend_uring_open(&b, &ops); break;
    default: return -EINVAL;
    }
    if (rc < 0) return rc;

    fl_reactor *r = calloc(1, sizeof *r);
    if (r == NULL) {
        ops->destroy(b);
        return -ENOMEM;
    }
    pthread_mutex_init(&r->lock, NULL);
    r->refs = 1;
    r->ops = ops;
    r->b = b;
    r->free_head = -1;
    r->ready_head = r->ready_tail = -1;
    r->fd_pending_head = r->fd_pending_tail = -1;
    atomic_init(&r->woken, 0);
    *out = r;
    return 0;
}

int fl_reactor_backend(const fl_reactor *r) { return r->ops->kind; }

/* ---- slots (all with r->lock held) ------------------------------------------------------- */

static int32_t slot_alloc_locked(fl_reactor *r) {
    if (r->free_head >= 0) {
        int32_t idx = r->free_head;
        r->free_head = r->slots[idx].next;
        return idx;
    }
    if (r->nslots == r->cap) {
        if (r->cap >= MAX_SLOTS) return -ENOMEM;
        int32_t cap = r->cap == 0 ? 64 : (r->cap > MAX_SLOTS / 2 ? MAX_SLOTS : r->cap * 2);
        struct slot *s = realloc(r->slots, (size_t)cap * sizeof *s);
        if (s == NULL) return -ENOMEM;
        r->slots = s;
        r->cap = cap;
    }
    int32_t idx = r->nslots++;
    memset(&r->slots[idx], 0, sizeof r->slots[idx]);
    r->slots[idx].gen = 1;
    return idx;
}

static void slot_free_locked(fl_reactor *r, int32_t idx) {
    struct slot *s = &r->slots[idx];
    s->p = NULL;
    s->kind = SLOT_FREE;
    s->armed = 0;
    s->queued = 0;
    /* Generation 0 is never used, so a zeroed key can never match. */
    if (++s->gen == 0) s->gen = 1;
    s->next = r->free_head;
    r->free_head = idx;
}

/* The slot a key names, or NULL if the key is stale (freed since, or never issued). */
static struct slot *slot_of_locked(fl_reactor *r, uint64_t key) {
    uint64_t idx = key >> 32;
    if (idx >= (uint64_t)r->nslots) return NULL;
    struct slot *s = &r->slots[idx];
    if (s->p == NULL || s->gen != (uint32_t)key) return NULL;
    return s;
}

/* Queues a key on the ready list; 0 if it is stale or already queued. */
static int ready_push_locked(fl_reactor *r, uint64_t key) {
    struct slot *s = slot_of_locked(r, key);
    if (s == NULL || s->queued) return 0;
    int32_t idx = (int32_t)(key >> 32);
    s->queued = 1;
    s->next = -1;
    if (r->ready_tail >= 0) r->slots[r->ready_tail].next = idx;
    else r->ready_head = idx;
    r->ready_tail = idx;
    return 1;
}

/* Takes the oldest ready key; 0 if the list is empty. */
static int ready_pop_locked(fl_reactor *r, uint64_t *key) {
    int32_t idx = r->ready_head;
    if (idx < 0) return 0;
    struct slot *s = &r->slots[idx];
    r->ready_head = s->next;
    if (r->ready_head < 0) r->ready_tail = -1;
    s->queued = 0;
    *key = make_key(idx, s->gen);
    return 1;
}

/* Hands a key to fl_reactor_wait: from a waiter thread (holding a reference, so r->b is alive
 * for the wake), or from fl_reactor_add. */
static void post(fl_reactor *r, uint64_t key) {
    pthread_mutex_lock(&r->lock);
    int queued = !r->closed && ready_push_locked(r, key);
    pthread_mutex_unlock(&r->lock);
    if (queued) r->ops->wake(r->b);
}

/* ---- waiter threads (PID-only children) -------------------------------------------------- */

struct waiter {
    fl_reactor *r;
    int64_t pid;
    uint64_t key;
};

static void *waiter_main(void *arg) {
    struct waiter w = *(struct waiter *)arg;
    free(arg);
    siginfo_t si;
    long rc;
    /* WNOWAIT: see the exit, leave the zombie, so the PID stays this child's until the reactor
     * reaps it under the handle's lock. Whatever the answer (the exit, or ECHILD because someone
     * reaped it first), the reactor's own reap decides what to report. */
    do {
        memset(&si, 0, sizeof si);
        rc = FL_SYS5(SYS_waitid, P_PID, w.pid, &si, WEXITED | WNOWAIT, NULL);
    } while (rc == -EINTR);
    post(w.r, w.key);
    reactor_unref(w.r);
    return NULL;
}

static int start_waiter(fl_reactor *r, int64_t pid, uint64_t key) {
    struct waiter *w = malloc(sizeof *w);
    if (w == NULL) return -ENOMEM;
    w->r = r;
    w->pid = pid;
    w->key = key;
    pthread_mutex_lock(&r->lock);
    r->refs++;
    pthread_mutex_unlock(&r->lock);

    int rc = fl_thread_start_small(waiter_main, w);
    if (rc != 0) {
        free(w);
        reactor_unref(r); /* never the last: the caller holds the reactor open */
        return -rc;
    }
    return 0;
}

/* ---- registration ------------------------------------------------------------------------ */

int fl_reactor_add(fl_reactor *r, fl_process *p, uint64_t token) {
    if (r == NULL || p == NULL) return -EINVAL;
    int done = fl_process_watch(p);
    if (done < 0) return done;

    pthread_mutex_lock(&r->lock);
    int32_t idx = slot_alloc_locked(r);
    if (idx < 0) {
        pthread_mutex_unlock(&r->lock);
        fl_process_unwatch(p);
        return idx;
    }
    struct slot *s = &r->slots[idx];
    s->p = p;
    s->token = token;
    s->kind = p->pidfd >= 0 ? SLOT_PIDFD : SLOT_WAITER;
    uint64_t key = make_key(idx, s->gen);
    if (done) {
        /* Reaped (or lost) before it was registered: nothing will ever become readable for it
         * on the PID-only path, so hand it over directly; the reap reads the stored result. */
        int queued = ready_push_locked(r, key);
        pthread_mutex_unlock(&r->lock);
        if (queued) r->ops->wake(r->b);
        return 0;
    }
    /* Armed outside the lock: a report can arrive before arm returns, and the wait thread then
     * finds the slot already filled in. */
    int kind = s->kind;
    if (kind == SLOT_PIDFD) s->armed = 1;
    pthread_mutex_unlock(&r->lock);

    int rc = kind == SLOT_PIDFD ? r->ops->arm(r->b, p->pidfd, key, POLLIN)
                                : start_waiter(r, p->pid, key);
    if (rc < 0) {
        pthread_mutex_lock(&r->lock);
        slot_free_locked(r, idx);
        pthread_mutex_unlock(&r->lock);
        fl_process_unwatch(p);
        return rc;
    }
    return 0;
}

/* ---- descriptor watches ------------------------------------------------------------------ */

/* Makes fdw[fd] exist (zeroed: FDW_FREE). 0 or -ENOMEM. */
static int fdw_reserve_locked(fl_reactor *r, int fd) {
    if ((size_t)fd < r->fdw_cap) return 0;
    size_t cap = r->fdw_cap < 64 ? 64 : r->fdw_cap * 2;
    if (cap < (size_t)fd + 1) cap = (size_t)fd + 1;
    struct fdwatch *t = realloc(r->fdw, cap * sizeof *t);
    if (t == NULL) return -ENOMEM;
    memset(t + r->fdw_cap, 0, (cap - r->fdw_cap) * sizeof *t);
    r->fdw = t;
    r->fdw_cap = cap;
    return 0;
}

static void fdw_next_gen(struct fdwatch *w) {
    w->gen = (w->gen + 1) & FD_GEN_MASK;
    if (w->gen == 0) w->gen = 1; /* 0 is never issued */
}

int fl_reactor_watch_fd(fl_reactor *r, fl_fd fd, int direction, uint64_t token) {
    if (r == NULL || fd < 0) return -EINVAL;
    unsigned events;
    switch (direction) {
    case FL_WATCH_READ: events = POLLIN; break;
    case FL_WATCH_WRITE: events = POLLOUT; break;
    default: return -EINVAL;
    }
    pthread_mutex_lock(&r->lock);
    int rc = fdw_reserve_locked(r, fd);
    if (rc == 0) {
        struct fdwatch *w = &r->fdw[fd];
        if (w->state == FDW_ARMED || w->state == FDW_PENDING) {
            rc = -EEXIST; /* a report is still owed to the watch in place */
        } else {
            fdw_next_gen(w);
            w->token = token;
            w->state = FDW_ARMED;
            /* Under the lock: a report that arrives at once waits for the state above, and an
             * unwatch cannot slip between the table and the backend. */
            rc = r->ops->arm(r->b, fd, make_fd_key(fd, w->gen), events);
            /* Nothing armed (epoll may still hold it from an earlier watch, disabled: harmless). */
            if (rc < 0) w->state = FDW_FREE;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return rc;
}

int fl_reactor_unwatch_fd(fl_reactor *r, fl_fd fd, uint64_t token) {
    if (r == NULL || fd < 0) return -EINVAL;
    pthread_mutex_lock(&r->lock);
    int rc = 0;
    if ((size_t)fd < r->fdw_cap && r->fdw[fd].state != FDW_FREE) {
        struct fdwatch *w = &r->fdw[fd];
        if (w->token != token) {
            rc = -ENOENT; /* another owner's watch of a reused number: not ours to cancel */
        } else {
            /* Disarmed also when idle: epoll still holds it (disabled) and would keep it as long
             * as any copy of the descriptor lives. A pending entry stays on its list, where the
             * state tells it is gone; a new watch bumps the generation past any late report. */
            rc = r->ops->disarm(r->b, fd, make_fd_key(fd, w->gen));
            w->state = FDW_FREE;
            fdw_next_gen(w);
        }
    }
    pthread_mutex_unlock(&r->lock);
    return rc;
}

/* Acts on a reported descriptor-watch key: 1 and *ev filled if it is the report of the watch in
 * place, 0 for a stale one (unwatched, or watched anew, since). */
static int handle_fd_key(fl_reactor *r, uint64_t key, fl_reactor_event *ev) {
    size_t fd = (size_t)((key & ~FD_KEY_TAG) >> FD_KEY_SHIFT);
    uint32_t gen = (uint32_t)key & FD_GEN_MASK;
    int got = 0;
    pthread_mutex_lock(&r->lock);
    if (fd < r->fdw_cap && r->fdw[fd].gen == gen && r->fdw[fd].state == FDW_ARMED) {
        r->fdw[fd].state = FDW_IDLE;
        memset(ev, 0, sizeof *ev);
        ev->token = r->fdw[fd].token;
        ev->kind = FL_EVENT_FD;
        got = 1;
    }
    pthread_mutex_unlock(&r->lock);
    return got;
}

/* ---- waiting ----------------------------------------------------------------------------- */

/* Acts on one reported key: 1 and *ev filled if it produced the token's event, else 0 (stale
 * key, or a spurious report after which the child is watched again). */
static int handle_key(fl_reactor *r, uint64_t key, fl_reactor_event *ev) {
    if (key & FD_KEY_TAG) return handle_fd_key(r, key, ev);
    pthread_mutex_lock(&r->lock);
    struct slot *s = slot_of_locked(r, key);
    if (s == NULL) {
        pthread_mutex_unlock(&r->lock);
        return 0;
    }
    /* Only this thread frees slots or drops the reactor's reference, so p and the fields read
     * here stay valid after the unlock (the slot array itself may move: re-find by key). */
    fl_process *p = s->p;
    uint64_t token = s->token;
    int kind = s->kind;
    int armed = s->armed;
    pthread_mutex_unlock(&r->lock);

    fl_exit_status st;
    memset(&st, 0, sizeof st);
    int rc = fl_process_reap_nohang(p, &st);
    if (rc == 0) {
        /* Reported but not exited (nothing to reap yet): watch it again. */
        rc = kind == SLOT_PIDFD ? r->ops->rearm(r->b, p->pidfd, key, POLLIN)
                                : start_waiter(r, p->pid, key);
        if (rc == 0) return 0;
        /* It can no longer be watched: report that rather than fall silent. */
    }
    if (armed) r->ops->disarm(r->b, p->pidfd, key);
    memset(ev, 0, sizeof *ev);
    ev->token = token;
    ev->kind = FL_EVENT_EXIT;
    ev->result = rc;
    if (rc == 1) ev->status = st;

    pthread_mutex_lock(&r->lock);
    slot_free_locked(r, (int32_t)(key >> 32));
    pthread_mutex_unlock(&r->lock);
    fl_process_unwatch(p); /* may finish the handle, if its owner has closed it */
    return 1;
}

/* Events from keys on the ready list, then from descriptor watches owed a report, up to max. */
static int take_ready(fl_reactor *r, fl_reactor_event *events, int max) {
    int n = 0;
    while (n < max) {
        uint64_t key;
        pthread_mutex_lock(&r->lock);
        int got = ready_pop_locked(r, &key);
        pthread_mutex_unlock(&r->lock);
        if (!got) break;
        n += handle_key(r, key, &events[n]);
    }
    pthread_mutex_lock(&r->lock);
    while (n < max && r->fd_pending_head >= 0) {
        int32_t fd = r->fd_pending_head;
        struct fdwatch *w = &r->fdw[fd];
        r->fd_pending_head = w->next;
        if (r->fd_pending_head < 0) r->fd_pending_tail = -1;
        w->queued = 0;
        if (w->state != FDW_PENDING) continue; /* unwatched meanwhile */
        w->state = FDW_IDLE;
        memset(&events[n], 0, sizeof events[n]);
        events[n].token = w->token;
        events[n].kind = FL_EVENT_FD;
        n++;
    }
    pthread_mutex_unlock(&r->lock);
    return n;
}

/* For when the backend says it dropped reports. Queues every watched child whose pidfd is
 * readable now; each is then reaped and disarmed (an io_uring poll still armed is removed) as
 * usual. And owes every armed descriptor watch a report: asking poll(2) would only tell which of
 * them are ready *now*, and the others' polls might be the lost ones, so all are disarmed (their
 * late completions, if any, are swallowed) and reported, ready or not. */
static void rescan(fl_reactor *r) {
    pthread_mutex_lock(&r->lock);
    for (int32_t i = 0; i < r->nslots; i++) {
        struct slot *s = &r->slots[i];
        if (s->p == NULL || s->kind != SLOT_PIDFD) continue;
        struct pollfd pfd = {.fd = s->p->pidfd, .events = POLLIN};
        if (poll(&pfd, 1, 0) > 0) ready_push_locked(r, make_key(i, s->gen));
    }
    for (size_t fd = 0; fd < r->fdw_cap; fd++) {
        struct fdwatch *w = &r->fdw[fd];
        if (w->state != FDW_ARMED) continue;
        r->ops->disarm(r->b, (int)fd, make_fd_key((int)fd, w->gen));
        w->state = FDW_PENDING;
        if (w->queued) continue;
        w->queued = 1;
        w->next = -1;
        if (r->fd_pending_tail >= 0) r->fdw[r->fd_pending_tail].next = (int32_t)fd;
        else r->fd_pending_head = (int32_t)fd;
        r->fd_pending_tail = (int32_t)fd;
    }
    pthread_mutex_unlock(&r->lock);
}

int fl_reactor_wait(fl_reactor *r, fl_reactor_event *events, int max, int timeout_ms) {
    if (r == NULL || events == NULL || max <= 0) return -EINVAL;
    int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
    for (;;) {
        int n = take_ready(r, events, max);
        if (n < max) {
            /* Block only when there is nothing to return yet and no wake-up is owed. */
            int left = timeout_ms;
            if (n > 0 || atomic_load(&r->woken)) {
                left = 0;
            } else if (timeout_ms > 0) {
                int64_t l = deadline - now_ms();
                left = l > 0 ? (int)l : 0;
            }
            uint64_t keys[KEY_BATCH];
            int want = max - n < KEY_BATCH ? max - n : KEY_BATCH;
            int k = r->ops->wait(r->b, keys, want, left);
            if (k == -EBADR) {
                /* The backend lost a report (an io_uring CQ overflow the kernel could not keep):
                 * look at every pidfd directly instead, and report every descriptor watch. */
                rescan(r);
                continue;
            }
            if (k < 0 && n == 0) return k; /* -EINTR included: the caller keeps its deadline */
            for (int i = 0; i < k; i++) n += handle_key(r, keys[i], &events[n]);
            /* A waiter thread's wake-up is what may have ended the backend's wait. */
            if (n < max) n += take_ready(r, events + n, max - n);
        }
        if (n > 0) return n;
        if (atomic_exchange(&r->woken, 0)) return 0;
        if (timeout_ms == 0) return 0;
        if (timeout_ms > 0 && now_ms() >= deadline) return 0;
        /* Only spurious reports, or a waiter's wake-up whose key an earlier wait already took:
         * not a reason to return early. */
    }
}

int fl_reactor_wake(fl_reactor *r) {
    if (r == NULL) return -EINVAL;
    atomic_store(&r->woken, 1);
    return r->ops->wake(r->b);
}

void fl_reactor_close(fl_reactor *r) {
    if (r == NULL) return;
    pthread_mutex_lock(&r->lock);
    r->closed = 1; /* waiter threads still running post nothing from now on */
    for (int32_t i = 0; i < r->nslots; i++) {
        struct slot *s = &r->slots[i];
        if (s->p == NULL) continue;
        fl_process *p = s->p;
        if (s->armed) r->ops->disarm(r->b, p->pidfd, make_key(i, s->gen));
        slot_free_locked(r, i);
        /* The owner's reference may be gone already: then an unreaped child goes to the orphan
         * list here. Lock order reactor -> process is the only order anywhere. */
        fl_process_unwatch(p);
    }
    r->ready_head = r->ready_tail = -1;
    /* Descriptor watches need nothing here: the backend's destroy ends their polls (closing the
     * ring cancels them; an epoll set holds no reference), and fdw goes with the memory. */
    pthread_mutex_unlock(&r->lock);
    reactor_unref(r);
}
