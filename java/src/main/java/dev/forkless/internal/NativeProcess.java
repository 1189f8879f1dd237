package dev.forkless.internal;

import java.io.UncheckedIOException;

/**
 * Owns one {@code fl_process} handle and makes it safe to use from many threads.
 *
 * <p>The core requires {@code fl_process_close} to be the last call on a handle, while a blocking
 * wait may be inside the core in another thread for as long as the child runs. So every native call
 * here holds a use count for its duration, and {@link #release()} only marks the handle: the last
 * user out (or {@code release()} itself, if there is none) calls {@code fl_process_close}. Nothing
 * can ever touch a freed handle, and the handle is closed exactly once.
 *
 * <p>Calls after {@link #release()} throw {@link IllegalStateException}; calls that started
 * before it complete normally.
 *
 * <p><b>Finished.</b> Once the child's final result is known (it was reaped, by the reactor or by
 * {@link #await}, or its status was lost to someone else's {@code waitpid(-1)}), the core's handle
 * has no use left: it can no longer signal anything, and its pidfd would only hold a descriptor.
 * So the handle is closed then, by the same last-user-out rule, without waiting for
 * {@link #release()}: a reaped child holds no descriptor whether or not its owner ever closes it
 * (a build tool running {@code pb.start().waitFor()} thousands of times would otherwise hold one
 * pidfd per child until a garbage collection). From then on this object answers by itself, as the
 * core would for a reaped child: {@link #await} the stored status, {@link #signal},
 * {@link #signalGroup} and {@link #stats} {@code -ESRCH}, {@link #fd()} -1. A call already inside
 * the core keeps the handle open until it returns, so a signal racing the reap is decided under
 * the core's lock (where a reaped child is never signalled) and never reaches a recycled PID.
 *
 * <p>This object is also the state a {@link java.lang.ref.Cleaner} action may release: it never
 * refers to the public {@code Child} that wraps it.
 */
public final class NativeProcess {
    private final long handle;
    private final long pid;
    private int users;         // guarded by this
    private boolean released;  // guarded by this: no new users
    private boolean closed;    // guarded by this: fl_process_close was called (or is being called)
    private boolean finished;  // guarded by this: the final result is known; close when unused
    private RawExit finalExit; // guarded by this: with finished, the status; null if it was lost

    /**
     * Takes ownership of a handle returned by {@link Native#spawn}.
     *
     * @param handle the {@code fl_process*}
     * @param pid the child's process id
     */
    public NativeProcess(long handle, long pid) {
        this.handle = handle;
        this.pid = pid;
    }

    /**
     * The child's process id, fixed at spawn.
     *
     * @return the pid
     */
    public long pid() {
        return pid;
    }

    /**
     * Starts a call: the handle, or 0 when it has been closed because the child finished (the
     * caller then answers from {@link #finalExit} and must not {@link #leave()}).
     */
    private long enter() {
        synchronized (this) {
            if (released) {
                throw new IllegalStateException("the process handle has been released");
            }
            if (closed) {
                return 0;
            }
            users++;
            return handle;
        }
    }

    private void leave() {
        boolean close;
        synchronized (this) {
            users--;
            close = closeNowLocked();
        }
        if (close) {
            Native.close(handle);
        }
    }

    /** Whether the caller must close the handle now (it is then marked closed). */
    private boolean closeNowLocked() {
        boolean close = (released || finished) && users == 0 && !closed;
        if (close) {
            closed = true;
        }
        return close;
    }

    /** Records the final result; the first one stays (a later report carries the same). */
    private synchronized void settle(RawExit exit) {
        if (!finished) {
            finished = true;
            finalExit = exit;
        }
    }

    /**
     * Records the final result the reactor reported: the status, or null when it was lost
     * ({@code ECHILD}). Closes the handle now if no call is in progress, else when the last one
     * returns. Not for any other failure: a child the reactor could not watch may still run.
     *
     * @param exit the status, or null if lost
     */
    void finished(RawExit exit) {
        boolean close;
        synchronized (this) {
            settle(exit);
            close = closeNowLocked();
        }
        if (close) {
            Native.close(handle);
        }
    }

    /** The answer of a wait once the handle is closed: the status, or the loss. */
    private synchronized RawExit finalAnswer() {
        if (finalExit == null) {
            throw new UncheckedIOException(Native.ioException("wait for pid " + pid, Native.ECHILD));
        }
        return finalExit;
    }

    /**
     * {@code fl_process_wait}.
     *
     * @param timeoutMillis negative forever, 0 just check
     * @return the exit; null on timeout, or early when a signal handler interrupted the wait
     *     (callers loop on their own deadline)
     * @throws IllegalStateException after {@link #release()}
     * @throws UncheckedIOException if the core fails (ECHILD: someone else reaped the child)
     */
    public RawExit await(int timeoutMillis) {
        long h = enter();
        if (h == 0) {
            return finalAnswer();
        }
        try {
            long[] status = new long[Native.STATUS_LENGTH];
            for (;;) {
                int rc = Native.waitFor(h, timeoutMillis, status);
                if (rc == 1) {
                    RawExit exit = RawExit.of(status);
                    settle(exit); // closed as this call leaves, if it is the last one
                    return exit;
                }
                if (rc == 0) {
                    return null;
                }
                if (rc == -Native.EINTR) {
                    if (timeoutMillis != 0) {
                        return null; // the caller re-checks its deadline and comes back
                    }
                    continue;
                }
                if (rc == -Native.ECHILD) {
                    settle(null); // lost for good: the core answers ECHILD from now on
                }
                throw new UncheckedIOException(Native.ioException("wait for pid " + pid, -rc));
            }
        } finally {
            leave();
        }
    }

    /**
     * {@code fl_process_signal}.
     *
     * @param sig the signal number
     * @return 0 sent, -ESRCH already exited, other -errno
     * @throws IllegalStateException after {@link #release()}
     */
    public int signal(int sig) {
        long h = enter();
        if (h == 0) {
            return -Native.ESRCH; // reaped: nothing to reach, as the core answers
        }
        try {
            return Native.signal(h, sig);
        } finally {
            leave();
        }
    }

    /**
     * {@code fl_process_signal_group}.
     *
     * @param sig the signal number
     * @return 0 sent, -ESRCH leader reaped, -EINVAL not a group leader, other -errno
     * @throws IllegalStateException after {@link #release()}
     */
    public int signalGroup(int sig) {
        long h = enter();
        if (h == 0) {
            return -Native.ESRCH; // reaped: nothing to reach, as the core answers
        }
        try {
            return Native.signalGroup(h, sig);
        } finally {
            leave();
        }
    }

    /**
     * {@code fl_process_stats}.
     *
     * @param out at least {@link Native#STATS_LENGTH} long
     * @return 0, -ESRCH once exited, other -errno
     * @throws IllegalStateException after {@link #release()}
     */
    public int stats(long[] out) {
        long h = enter();
        if (h == 0) {
            return -Native.ESRCH; // reaped: nothing to reach, as the core answers
        }
        try {
            return Native.stats(h, out);
        } finally {
            leave();
        }
    }

    /**
     * {@code fl_reactor_add}: hands the process to a reactor, which keeps a reference of its own
     * (it still reaps the child after {@link #release()}).
     *
     * @param reactor the {@code fl_reactor*}
     * @param token reported with the exit
     * @return 0, or -errno
     * @throws IllegalStateException after {@link #release()}
     */
    int addTo(long reactor, long token) {
        long h = enter();
        if (h == 0) {
            throw new IllegalStateException("the process handle has been closed after the exit");
        }
        try {
            return Native.reactorAdd(reactor, h, token);
        } finally {
            leave();
        }
    }

    /**
     * {@code fl_process_fd}: the pidfd, owned by the handle. For information only: it is closed
     * with the handle, when the child has finished and no call is in progress, so the number may
     * name another file by the time it is used. To poll it, {@link #borrowFd()} it.
     *
     * @return the descriptor, or -1 without one (PID-only, or the child has finished)
     * @throws IllegalStateException after {@link #release()}
     */
    public int fd() {
        long h = enter();
        if (h == 0) {
            return -1;
        }
        try {
            return Native.processFd(h);
        } finally {
            leave();
        }
    }

    /**
     * The pidfd, kept open (the handle counts the borrower as a call in progress) until
     * {@link #unborrowFd()}, which must follow exactly once if this returned a descriptor.
     *
     * @return the descriptor, or -1 without one (PID-only, or the child has finished): then there
     *     is nothing to give back
     * @throws IllegalStateException after {@link #release()}
     */
    public int borrowFd() {
        long h = enter();
        if (h == 0) {
            return -1;
        }
        int fd;
        try {
            fd = Native.processFd(h);
        } catch (RuntimeException | Error e) {
            leave();
            throw e;
        }
        if (fd < 0) {
            leave();
        }
        return fd;
    }

    /** Gives back a descriptor from {@link #borrowFd()}; the handle may close now. */
    public void unborrowFd() {
        leave();
    }

    /**
     * Whether {@link #release()} was called.
     *
     * @return true once released
     */
    public synchronized boolean isReleased() {
        return released;
    }

    /**
     * Gives the handle back to the core: no new calls are accepted, and {@code fl_process_close}
     * runs as soon as no call is in progress (unless it already ran when the child finished). A
     * child that has not been reaped is not killed: the core reaps it after it exits (its
     * reactor, or the orphan list). Idempotent, thread-safe.
     */
    public void release() {
        boolean close;
        synchronized (this) {
            if (released) {
                return;
            }
            released = true;
            close = closeNowLocked();
        }
        if (close) {
            Native.close(handle);
        }
    }
}
