/* Small native threads of the core's own: the no-pidfd waiter of reactor_linux.c and the
 * die-with-parent holder of spawn_linux.c. Both live as long as a child does, so they are made
 * cheap (a 64 KiB stack) and deaf: every signal is blocked in them (glibc keeps its internal ones),
 * so a process-directed signal meant for the JVM (HotSpot's SIGQUIT, a user's SIGTERM) is always
 * delivered to one of the JVM's own threads, never to a thread that would not handle it. The mask
 * is set around pthread_create, which copies the creator's mask into the new thread; the creator's
 * own mask is restored at once. Everything else the new thread inherits from its creator (the
 * holder depends on that: credentials, no_new_privs, seccomp, nice, affinity) is left alone. */
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "internal.h"

#define FL_SMALL_STACK (64 * 1024)

int fl_thread_start_small(void *(*fn)(void *), void *arg) {
    pthread_attr_t attr;
    int rc = pthread_attr_init(&attr);
    if (rc != 0) return rc;
    rc = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (rc == 0) {
        long min = sysconf(_SC_THREAD_STACK_MIN);
        rc = pthread_attr_setstacksize(&attr, min > FL_SMALL_STACK ? (size_t)min : FL_SMALL_STACK);
    }
    if (rc == 0) {
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        pthread_t t;
        rc = pthread_create(&t, &attr, fn, arg);
        if (rc == EINVAL) { /* the static TLS does not fit the small stack: the default size */
            pthread_attr_destroy(&attr);
            pthread_attr_init(&attr);
            pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
            rc = pthread_create(&t, &attr, fn, arg);
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    pthread_attr_destroy(&attr);
    return rc;
}
