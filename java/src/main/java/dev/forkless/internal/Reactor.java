package dev.forkless.internal;

import java.io.UncheckedIOException;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The one reactor of this JVM: a daemon platform thread, {@value #THREAD_NAME}, that learns of
 * every Forkless child's exit from the core ({@code fl_reactor_wait}) and completes that child's
 * {@link ExitState#future()}. One thread for any number of children; nobody else blocks in native
 * code to wait (waiting threads park on the future, which is what virtual threads need).
 *
 * <p>Started lazily, by the first spawn (or {@link #backendName()}). The core reaps each child
 * itself, by its pidfd (or by PID with a waiter thread of its own where there is no pidfd), and
 * never calls {@code waitpid(-1)}; this thread never waits for a child either, so children of
 * {@link java.lang.ProcessBuilder} are left to the JDK.
 *
 * <p>Backend: the system property {@code forkless.reactor} = {@code epoll} | {@code io_uring} |
 * {@code auto} (or unset: the core's best, io_uring then epoll). An explicit backend that this
 * kernel or its seccomp profile refuses falls back (io_uring to epoll, epoll to the best) with a
 * {@code WARNING} on the {@link System.Logger} {@code "dev.forkless"}; so does an unknown value.
 *
 * <p>Tokens: each registration gets a new token, put into the map <em>before</em>
 * {@code fl_reactor_add} (an exit can be reported the moment it is added) and removed when its
 * exit is reported. The map also keeps each {@link ExitState} alive while its child runs, whether
 * or not its {@code Child} is still reachable. A reported exit (or lost status) also finishes the
 * child's {@link NativeProcess}: its handle, and the pidfd with it, is closed at once, before the
 * future completes, not when the owner gets round to closing the {@code Child}.
 *
 * <p>The same wait reports pipes ({@link #watchFd}): a thread blocked reading a child's stdout
 * parks until this thread says the pipe is readable, and the collectors of {@code outputAsync} and
 * {@code onStdoutLine} read on this thread with non-blocking calls. It also runs short timers
 * ({@link #schedule}), and the safety nets of dropped objects ({@link Cleaners}) after each batch
 * of events and at least every {@value #CLEANUP_MILLIS} ms (so an idle JVM with Forkless loaded
 * sees this thread wake once a second); Forkless adds no other thread of its own (but for the
 * core's native holder thread of each running {@code dieWithParent()} child, see there).
 *
 * <p>The thread must survive anything: a failure while completing one exit is logged at
 * {@code ERROR} and the loop goes on; a failing {@code fl_reactor_wait} (other than
 * {@code EINTR}) is logged and retried after {@value #BACKOFF_MILLIS} ms. The reactor is never
 * closed: it lives as long as the JVM.
 */
public final class Reactor {
    /** The name of the reactor thread. */
    public static final String THREAD_NAME = "forkless-reactor";
    /** The system property choosing the backend. */
    public static final String BACKEND_PROPERTY = "forkless.reactor";
    /** How often, at least, the reactor thread runs {@link Cleaners}' pending actions. */
    static final int CLEANUP_MILLIS = 1000;
    /** How long run() parks between polls once the JVM is shutting down (see start()). */
    private static final long EXIT_POLL_NANOS = 1_000_000;
    /** Set by the shutdown hook that start() registers. */
    private static volatile boolean exiting;
    private static final int MAX_EVENTS = 256;
    private static final long BACKOFF_MILLIS = 10;
    private static final System.Logger LOG = LazyLogger.FORKLESS;
    private static final Object START_LOCK = new Object();
    private static volatile Reactor instance;

    private static volatile Thread thread;

    private final long handle;
    private final int backend;
    private final ConcurrentHashMap<Long, Watch> watched = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Long, Runnable> fdWatches = new ConcurrentHashMap<>();
    private final AtomicLong tokens = new AtomicLong();
    private final PriorityQueue<Timer> timers = new PriorityQueue<>(); // guarded by itself

    /** A watched child: the handle to finish at its exit, and the state to complete. */
    private record Watch(NativeProcess process, ExitState state) {
    }

    /** A task {@link #schedule}d on the reactor thread; {@link #cancel()} it if no longer needed. */
    public static final class Timer implements Comparable<Timer> {
        private final long due;
        private final long seq;
        private final Runnable task;
        private volatile boolean cancelled;

        private Timer(long due, long seq, Runnable task) {
            this.due = due;
            this.seq = seq;
            this.task = task;
        }

        /** Makes sure the task does not run (if it has not started yet). */
        public void cancel() {
            cancelled = true;
        }

        @Override
        public int compareTo(Timer o) {
            int c = Long.compare(due - o.due, 0);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }

    private Reactor(long handle, int backend) {
        this.handle = handle;
        this.backend = backend;
    }

    /**
     * The reactor, started on first use. A failure to start (e.g. {@code EMFILE}) is not kept:
     * the next call tries again.
     *
     * @return the reactor
     * @throws Native.ErrnoException if no backend could be opened, or its thread could not start
     *     ({@code EAGAIN}); nothing is left open then
     */
    public static Reactor get() throws Native.ErrnoException {
        Reactor r = instance;
        if (r != null) {
            return r;
        }
        synchronized (START_LOCK) {
            r = instance;
            if (r == null) {
                r = start();
                instance = r;
            }
            return r;
        }
    }

    /**
     * The name of the backend in use, starting the reactor if needed.
     *
     * @return {@code "epoll"} or {@code "io_uring"}
     * @throws UncheckedIOException if the reactor cannot be started
     */
    public static String backendName() {
        try {
            return Native.reactorBackendName(get().backend);
        } catch (Native.ErrnoException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Starts the reactor if it is not running, for {@link Cleaners}, whose actions it runs. A
     * failure is ignored here: the spawn that needs the reactor reports it.
     */
    static void startForCleanup() {
        if (instance == null) {
            try {
                get();
            } catch (Native.ErrnoException | RuntimeException e) {
                // No reactor yet; a later registration or spawn tries again.
            }
        }
    }

    private static Reactor start() throws Native.ErrnoException {
        String property = System.getProperty(BACKEND_PROPERTY);
        int wanted;
        if (property == null || property.isEmpty() || property.equals("auto")) {
            wanted = Native.REACTOR_BEST;
        } else if (property.equals("epoll")) {
            wanted = Native.REACTOR_EPOLL;
        } else if (property.equals("io_uring")) {
            wanted = Native.REACTOR_IO_URING;
        } else {
            LOG.log(System.Logger.Level.WARNING, BACKEND_PROPERTY + "=" + property
                    + " is not one of epoll, io_uring, auto; using the best backend available");
            wanted = Native.REACTOR_BEST;
        }
        // The thread before the native reactor: a thread that cannot start (RLIMIT_NPROC, a
        // container's pids limit: "unable to create native thread") must not leave a ring and an
        // eventfd behind on every spawn that tries again. It waits for the reactor, or for null
        // when opening one fails, and then ends.
        CompletableFuture<Reactor> handOver = new CompletableFuture<>();
        // A platform thread on purpose: it spends its life blocked in native code.
        Thread t = new Thread(null, () -> {
            Reactor self = handOver.join();
            if (self != null) {
                self.run();
            }
        }, THREAD_NAME, 0, false);
        t.setDaemon(true);
        t.setContextClassLoader(null);
        try {
            t.start();
        } catch (OutOfMemoryError noThread) {
            // HotSpot's word for a failed pthread_create (EAGAIN: a thread or process limit), not
            // an exhausted heap.
            Native.ErrnoException e = new Native.ErrnoException("start the " + THREAD_NAME + " thread ("
                    + noThread.getMessage() + ")", Native.EAGAIN);
            e.initCause(noThread);
            throw e;
        }
        try {
            Reactor r = open(wanted, property);
            thread = t; // before the thread runs anything of the reactor's
            handOver.complete(r);
            exitPromptly(r);
            return r;
        } finally {
            handOver.complete(null); // no reactor: the thread ends
        }
    }

    // HotSpot's last safepoint at exit waits about 300 ms while any thread is in native code
    // (VM_Exit::wait_for_threads_in_native_to_block, JDK 17 to 25), which the reactor thread always
    // is: every JVM that spawned would exit that much later. Once shutdown begins, run() polls and
    // parks in Java between polls, so exits still reach other shutdown hooks.
    private static void exitPromptly(Reactor r) {
        try {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                exiting = true;
                Native.reactorWake(r.handle);
            }, THREAD_NAME + "-exit"));
        } catch (IllegalStateException shuttingDown) {
            exiting = true;
        }
    }

    private static Reactor open(int wanted, String property) throws Native.ErrnoException {
        long[] out = new long[1];
        int rc = Native.reactorOpen(wanted, out);
        if (rc < 0 && wanted != Native.REACTOR_BEST) {
            int fallback = wanted == Native.REACTOR_IO_URING ? Native.REACTOR_EPOLL : Native.REACTOR_BEST;
            String syscall = wanted == Native.REACTOR_IO_URING ? "io_uring_setup" : "epoll_create1";
            LOG.log(System.Logger.Level.WARNING, BACKEND_PROPERTY + "=" + property + " unavailable: "
                    + syscall + ": " + Native.describe(-rc) + "; using "
                    + (fallback == Native.REACTOR_EPOLL ? "epoll" : "the best backend available"));
            rc = Native.reactorOpen(fallback, out);
        }
        if (rc < 0) {
            throw new Native.ErrnoException("start the reactor", -rc);
        }
        return new Reactor(out[0], Native.reactorBackend(out[0]));
    }

    /**
     * Whether the calling thread is the reactor thread (running a callback attached with
     * {@code onExit(Runnable::run)}): it must not park waiting for an exit that only it can report.
     *
     * @return true on the reactor thread
     */
    public static boolean isReactorThread() {
        return Thread.currentThread() == thread;
    }

    /**
     * Starts watching a process: its {@link ExitState#future()} will be completed when it exits,
     * even after the handle is released (the core keeps a reference of its own).
     *
     * @param process a live handle
     * @param state the state to complete
     * @throws Native.ErrnoException if the core refuses ({@code ENOMEM}; {@code EAGAIN} when no
     *     waiter thread can be started for a child without a pidfd); nothing is watched then
     */
    public void watch(NativeProcess process, ExitState state) throws Native.ErrnoException {
        long token = tokens.incrementAndGet();
        watched.put(token, new Watch(process, state));
        int rc;
        try {
            rc = process.addTo(handle, token);
        } catch (RuntimeException | Error e) {
            watched.remove(token);
            throw e;
        }
        if (rc < 0) {
            watched.remove(token);
            throw new Native.ErrnoException("watch child " + process.pid(), -rc);
        }
    }

    /**
     * Reports once, on the reactor thread, when {@code fd} is readable ({@link Native#WATCH_READ})
     * or writable ({@link Native#WATCH_WRITE}), or has hung up or failed. {@code ready} must be
     * quick and must not throw; it may watch again. The caller keeps the descriptor open until
     * {@link #unwatchFd} has returned.
     *
     * @param fd a descriptor the caller owns
     * @param direction {@link Native#WATCH_READ} or {@link Native#WATCH_WRITE}
     * @param ready what to run on the reactor thread
     * @return the token, for {@link #unwatchFd}
     * @throws Native.ErrnoException if the core refuses (e.g. {@code ENOMEM})
     */
    public long watchFd(int fd, int direction, Runnable ready) throws Native.ErrnoException {
        long token = tokens.incrementAndGet();
        fdWatches.put(token, ready);
        int rc = Native.reactorWatchFd(handle, fd, direction, token);
        if (rc < 0) {
            fdWatches.remove(token);
            throw new Native.ErrnoException("watch descriptor " + fd, -rc);
        }
        return token;
    }

    /**
     * Stops a watch (armed or already reported), before the caller closes the descriptor. A
     * report already on its way is dropped.
     *
     * @param fd the descriptor given to {@link #watchFd}
     * @param token its token
     */
    public void unwatchFd(int fd, long token) {
        fdWatches.remove(token);
        Native.reactorUnwatchFd(handle, fd, token); // fails only if the fd is not watched: fine
    }

    /**
     * Runs {@code task} on the reactor thread after {@code delayNanos}. Tasks must be quick.
     *
     * @param delayNanos how long from now
     * @param task what to run
     * @return the timer, to cancel it
     */
    public Timer schedule(long delayNanos, Runnable task) {
        // Capped (at ~73 years) so that due times never overflow and compare correctly.
        long delay = Math.min(Math.max(0, delayNanos), Long.MAX_VALUE >> 2);
        Timer t = new Timer(System.nanoTime() + delay, tokens.incrementAndGet(), task);
        boolean first;
        synchronized (timers) {
            timers.add(t);
            first = timers.peek() == t;
        }
        if (first && !isReactorThread()) {
            Native.reactorWake(handle); // the thread may be asleep for longer than the delay
        }
        return t;
    }

    /**
     * Runs the timers due now (not those they schedule: a task that reschedules itself at once
     * runs again only after the next wait, so it cannot starve the descriptors); returns the
     * milliseconds until the next one (0 if under a millisecond), at most the cleanup period.
     */
    private int runTimers() {
        long now = System.nanoTime();
        for (;;) {
            Timer t;
            synchronized (timers) {
                t = timers.peek();
                if (t == null) {
                    return CLEANUP_MILLIS;
                }
                if (t.due - now > 0) {
                    return (int) Math.max(0, Math.min(CLEANUP_MILLIS, (t.due - System.nanoTime()) / 1_000_000));
                }
                timers.poll();
            }
            if (!t.cancelled) {
                try {
                    t.task.run();
                } catch (Throwable e) {
                    log(e);
                }
            }
        }
    }

    /**
     * How many children are watched right now (registered, exit not yet reported).
     *
     * @return the count
     */
    public int watchedCount() {
        return watched.size();
    }

    private void run() {
        long[] events = new long[MAX_EVENTS * Native.EVENT_LENGTH];
        int timeout = CLEANUP_MILLIS;
        for (;;) {
            try {
                if (exiting) {
                    LockSupport.parkNanos(EXIT_POLL_NANOS);
                }
                int n = Native.reactorWait(handle, events, MAX_EVENTS, exiting ? 0 : timeout);
                if (n < 0) {
                    if (n != -Native.EINTR) {
                        LOG.log(System.Logger.Level.ERROR, "forkless reactor: fl_reactor_wait: "
                                + Native.describe(-n) + "; retrying in " + BACKOFF_MILLIS + " ms");
                        backOff();
                    }
                    continue;
                }
                for (int i = 0; i < n; i++) {
                    try {
                        dispatch(events, i * Native.EVENT_LENGTH);
                    } catch (Throwable t) {
                        // A last resort: the owners of pipe watches and timers (outputAsync, line
                        // readers) catch everything in their tasks and complete their futures;
                        // this thread cannot know whose future an escaped failure belongs to.
                        log(t);
                    }
                }
                Cleaners.runPending();
                Cgroups.removeEmptyLeaves();
                timeout = runTimers();
            } catch (Throwable t) {
                log(t);
                backOff();
            }
        }
    }

    private void dispatch(long[] events, int at) {
        long token = events[at + Native.EVENT_TOKEN];
        int result = (int) events[at + Native.EVENT_RESULT];
        if (events[at + Native.EVENT_KIND] == Native.EVENT_KIND_FD) {
            Runnable ready = fdWatches.remove(token);
            if (ready != null) { // else unwatched meanwhile
                ready.run();
            }
            return;
        }
        Watch w = watched.remove(token);
        if (w == null) {
            LOG.log(System.Logger.Level.ERROR, "forkless reactor: exit reported for unknown token "
                    + token);
            return;
        }
        ExitState state = w.state();
        // The handle first, so that whoever the future wakes finds the pidfd already closed: a
        // reaped child holds no descriptor, closed by its owner or not (see NativeProcess).
        if (result == 1) {
            RawExit exit = RawExit.of(events, at + Native.EVENT_STATUS);
            try {
                w.process().finished(exit);
            } finally {
                state.future().complete(exit);
            }
        } else if (result == -Native.ECHILD) {
            try {
                w.process().finished(null);
            } finally {
                state.future().completeExceptionally(new UncheckedIOException(Native.ioException(
                        "child " + state.pid() + " was reaped by someone else (waitpid(-1) elsewhere in"
                                + " this process)", Native.ECHILD)));
            }
        } else {
            state.future().completeExceptionally(new UncheckedIOException(Native.ioException(
                    "wait for child " + state.pid(), -result)));
        }
    }

    private static void log(Throwable t) {
        try {
            LOG.log(System.Logger.Level.ERROR, "forkless reactor: failure in a task (an exit, a pipe"
                    + " watch or a timer)", t);
        } catch (Throwable ignored) {
            // Even logging failed (out of memory?): keep the thread alive regardless.
        }
    }

    private static void backOff() {
        try {
            Thread.sleep(BACKOFF_MILLIS);
        } catch (InterruptedException e) {
            // Nobody should interrupt this thread; it keeps running either way.
        }
    }
}
