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
 * <p>This object is also the state a {@link java.lang.ref.Cleaner} action may release: it never
 * refers to the public {@code Child} that wraps it.
 */
public final class NativeProcess {
    private final long handle;
    private final long pid;
    private int users;         // guarded by this
    private boolean released;  // guarded by this: no new users
    private boolean closed;    // guarded by this: fl_process_close was called (or is being called)

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

    private long enter() {
        synchronized (this) {
            if (released) {
                throw new IllegalStateException("the process handle has been released");
            }
            users++;
            return handle;
        }
    }

    private void leave() {
        boolean close;
        synchronized (this) {
            users--;
            close = released && users == 0 && !closed;
            if (close) {
                closed = true;
            }
        }
        if (close) {
            Native.close(handle);
        }
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
        try {
            long[] status = new long[Native.STATUS_LENGTH];
            for (;;) {
                int rc = Native.waitFor(h, timeoutMillis, status);
                if (rc == 1) {
                    return RawExit.of(status);
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
        try {
            return Native.reactorAdd(reactor, h, token);
        } finally {
            leave();
        }
    }

    /**
     * {@code fl_process_fd}: the pidfd, owned by the handle; valid until {@link #release()}.
     *
     * @return the descriptor, or -1 without one
     * @throws IllegalStateException after {@link #release()}
     */
    public int fd() {
        long h = enter();
        try {
            return Native.processFd(h);
        } finally {
            leave();
        }
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
     * runs as soon as no call is in progress. A child that has not been reaped is not killed: the
     * core puts it on its orphan list and reaps it after it exits. Idempotent, thread-safe.
     */
    public void release() {
        boolean close;
        synchronized (this) {
            if (released) {
                return;
            }
            released = true;
            close = users == 0;
            if (close) {
                closed = true;
            }
        }
        if (close) {
            Native.close(handle);
        }
    }
}
