package dev.forkless;

import dev.forkless.internal.Callbacks;
import dev.forkless.internal.Cgroups;
import dev.forkless.internal.Cleaners;
import dev.forkless.internal.ExitState;
import dev.forkless.internal.LeakReports;
import dev.forkless.internal.Native;
import dev.forkless.internal.NativeProcess;
import dev.forkless.internal.RawExit;
import dev.forkless.internal.Reactor;

import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * A running (or finished) child process started by {@link Command#spawn()}.
 *
 * <p>A {@code Child} refers to its process itself, not to a number: on Linux it holds a pidfd.
 * Signals can never reach an unrelated process that happens to reuse the PID, and waiting reaps
 * exactly this child (never another child of the JVM, so {@link java.lang.Process} children are
 * left alone).
 *
 * <p><b>Exits.</b> One daemon thread per JVM, {@code forkless-reactor}, watches every child and
 * reaps it the moment it exits (see {@link Forkless#reactorBackend()}). Waiting never blocks in
 * native code: {@link #waitFor()} parks the calling thread until the reactor reports the exit, so
 * it is interruptible and costs a virtual thread no carrier. {@link #tryWait()} and
 * {@link #isAlive()} also check the process directly, so they are exact even before the reactor
 * has reported.
 *
 * <p><b>Closing.</b> {@code Child} is {@link AutoCloseable}; {@link #close()} applies the
 * command's {@link CloseAction} (default {@link CloseAction#KILL}: kill it if it still runs, then
 * wait for it) and releases the handle. After {@code close()} every method except {@code close()}
 * and {@code toString()} throws {@link IllegalStateException}. Closing is not needed to give back
 * the child's process descriptor: the handle is released as soon as the child has been reaped
 * (the moment it exits, or a wait or {@link #tryWait()} that saw it), so waited children that are
 * never closed hold no pidfd. What {@code close()} still releases after the exit: the pipes
 * ({@link Stdio#piped()}), which may hold unread output, and the cgroup of a
 * {@link Command#treeKill(TreeKill) tree} (a descriptor and a directory), which may still hold
 * the child's descendants for {@link #killTree()} to reach. A {@code Child} that becomes
 * unreachable without being closed has its handle released by a cleanup action that the reactor
 * thread runs within about a second after the garbage collector finds it: the process is
 * not killed (unless the command asked for {@link Command#killOnUnreachable(boolean)}), and the
 * reactor reaps it when it exits, so it never stays a zombie. That is a safety net; close
 * children explicitly. With the system property {@code forkless.leakDetection=true} such a child
 * is reported (see {@link Forkless}).
 *
 * <p><b>Threads.</b> Every method is thread-safe. Any number of threads may wait for the same
 * child; all of them get the same {@link ExitStatus}.
 */
public final class Child implements AutoCloseable {
    /** CompletableFuture's default async executor (the common pool, or a thread per task). */

    private final NativeProcess process;
    private final ExitState state;
    private final CompletableFuture<RawExit> exit;
    private final StatusCell status = new StatusCell();
    private final CloseAction closeAction;
    private final String program;
    private final long pid;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Cleanup cleanup;
    private final Cleaner.Cleanable cleanable;
    private final PipeEnd[] pipes; // stdin, stdout, stderr; null where not Stdio.piped()
    private final Object[] faces = new Object[6]; // streams, then channels; guarded by itself
    private volatile Process processView;
    /** How long close() with KILL_TREE waits for the last process of a killed cgroup to go. */
    private static final long TREE_EXIT_WAIT_NANOS = 5_000_000_000L;
    private final Cgroups.Leaf leaf; // null: no cgroup of its own
    private final boolean groupLeader; // spawned to lead a process group (or session) of its own

    Child(NativeProcess process, ExitState state, CloseAction closeAction, String program,
          boolean killOnUnreachable, PipeEnd[] pipes, Cgroups.Leaf leaf, boolean groupLeader) {
        this.pipes = pipes;
        this.leaf = leaf;
        this.groupLeader = groupLeader;
        this.process = process;
        this.state = state;
        this.exit = state.future();
        this.closeAction = closeAction;
        this.program = program;
        this.pid = process.pid();
        // The action refers to the handle and the shared state only, never to this Child (it
        // would never be collected).
        this.cleanup = new Cleanup(process, state, killOnUnreachable, leaf);
        this.cleanable = Cleaners.register(this, cleanup);
    }

    /** The public status of the raw exit, made once so every caller gets the same instance. */
    private static final class StatusCell {
        private ExitStatus value; // guarded by this

        synchronized ExitStatus of(RawExit raw) {
            if (value == null) {
                value = ExitStatus.of(raw);
            }
            return value;
        }

        synchronized ExitStatus peek() {
            return value;
        }
    }

    /**
     * The cleanup action, run once: by {@link #close()} (explicit), or by the reactor thread
     * ({@link Cleaners}) when the Child became unreachable without it.
     */
    private static final class Cleanup implements Runnable {
        private final NativeProcess process;
        private final ExitState state;
        private final boolean killOnUnreachable;
        private final Cgroups.Leaf leaf;
        volatile boolean explicit;

        Cleanup(NativeProcess process, ExitState state, boolean killOnUnreachable, Cgroups.Leaf leaf) {
            this.process = process;
            this.state = state;
            this.killOnUnreachable = killOnUnreachable;
            this.leaf = leaf;
        }

        @Override
        public void run() {
            try {
                if (!explicit) {
                    if (killOnUnreachable && !state.future().isDone()) {
                        process.signal(Signal.KILL.number()); // ESRCH: it has exited meanwhile
                    }
                    if (state.createdAt() != null && !state.isObserved()) {
                        LeakReports.report(state);
                    }
                }
            } catch (RuntimeException e) {
                // Nothing may stop the release below.
            } finally {
                process.release();
                if (leaf != null) {
                    leaf.release(); // removed now if empty, else once its last process has exited
                }
            }
        }
    }

    private void ensureOpen() {
        if (closed.get()) {
            throw new IllegalStateException("child " + pid + " (" + program + ") is closed");
        }
    }

    private ExitStatus observe(RawExit raw) {
        state.markObserved();
        return status.of(raw);
    }

    /**
     * A lost status ({@code ECHILD}) is one exception object stored in the future; each caller
     * gets a fresh one, with its own stack trace and the stored one's cause.
     */
    private static RuntimeException rethrow(Throwable cause) {
        if (cause instanceof UncheckedIOException) {
            return new UncheckedIOException(cause.getMessage(), ((UncheckedIOException) cause).getCause());
        }
        if (cause instanceof RuntimeException) {
            return (RuntimeException) cause;
        }
        if (cause instanceof Error) {
            throw (Error) cause;
        }
        return new IllegalStateException(cause);
    }

    /** The exit if the future has it; null while running; throws if the status is lost. */
    private RawExit now() {
        if (!exit.isDone()) {
            return null;
        }
        try {
            return exit.join();
        } catch (CompletionException e) {
            throw rethrow(e.getCause());
        }
    }

    /**
     * The exit if known, else a non-blocking reap ({@code fl_process_wait} with timeout 0) that
     * completes the future first if the child has just exited: exact, not late by the reactor's
     * latency. The reactor's later report carries the same status (the first completion wins).
     */
    private RawExit poll() {
        RawExit raw = now();
        if (raw != null) {
            return raw;
        }
        try {
            raw = process.await(0);
        } catch (IllegalStateException released) {
            raw = now(); // released by close() in another thread, maybe after the exit was known
            if (raw != null) {
                return raw;
            }
            ensureOpen();
            throw released;
        } catch (UncheckedIOException lost) {
            exit.completeExceptionally(lost);
            return now();
        }
        if (raw == null) {
            return null;
        }
        exit.complete(raw);
        return now();
    }

    /**
     * Waits in native code, in this thread: only for the reactor thread itself (a callback from
     * {@code onExit(Runnable::run)} waiting for another child), which would otherwise park until
     * an exit that only it can report, forever. It delays every other exit meanwhile; the
     * {@link #onExit(Executor)} documentation says not to do this.
     *
     * @param timeoutNanos negative: forever
     * @return the exit, or null on timeout
     */
    private RawExit awaitHere(long timeoutNanos) {
        long deadline = System.nanoTime() + timeoutNanos;
        for (;;) {
            RawExit raw = now();
            if (raw != null) {
                return raw;
            }
            int slice = -1;
            if (timeoutNanos >= 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return poll();
                }
                slice = (int) Math.min(Integer.MAX_VALUE, (left + 999_999) / 1_000_000);
            }
            try {
                raw = process.await(slice); // null on timeout or EINTR: the loop re-checks
            } catch (UncheckedIOException lost) {
                exit.completeExceptionally(lost);
            }
            if (raw != null) {
                exit.complete(raw);
            }
        }
    }

    /**
     * The child's process id. Informational only (logs, tools): Forkless itself never acts on the
     * number, because after the child is reaped the system may give it to another process.
     *
     * @return the pid
     * @throws IllegalStateException after {@link #close()}
     */
    public long pid() {
        ensureOpen();
        return pid;
    }

    /**
     * Waits for the child to exit. The calling thread parks until the reactor has reaped the child
     * (a virtual thread unmounts); it does not block in native code.
     *
     * @return how it ended; the same status on every call
     * @throws InterruptedException if the calling thread is interrupted while waiting; the child is
     *     unaffected
     * @throws IllegalStateException after {@link #close()} (a wait already in progress when
     *     another thread closes the child goes on and returns the status)
     * @throws UncheckedIOException if the child was reaped behind Forkless's back (by code in this
     *     process calling {@code waitpid(-1)}), so its status is lost ({@code ECHILD})
     */
    public ExitStatus waitFor() throws InterruptedException {
        ensureOpen();
        try {
            return observe(Reactor.isReactorThread() ? awaitHere(-1) : exit.get());
        } catch (ExecutionException e) {
            throw rethrow(e.getCause());
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Waits at most {@code timeout} for the child to exit. When the timeout passes, the process is
     * checked once more directly (as {@link #tryWait()} does), so an exit that happened just before
     * is not missed.
     *
     * @param timeout how long; zero or negative only checks, like {@link #tryWait()}
     * @return how it ended, or empty if it is still running when the timeout passes
     * @throws InterruptedException if the calling thread is interrupted while waiting
     * @throws IllegalStateException after {@link #close()}
     * @throws UncheckedIOException if the status is lost ({@code ECHILD}, see {@link #waitFor()})
     */
    public Optional<ExitStatus> waitFor(Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        ensureOpen();
        if (timeout.isZero() || timeout.isNegative()) {
            return tryWait();
        }
        long nanos;
        try {
            nanos = timeout.toNanos();
        } catch (ArithmeticException tooLong) {
            return Optional.of(waitFor()); // about 292 years or more: as good as forever
        }
        try {
            if (Reactor.isReactorThread()) {
                RawExit raw = awaitHere(nanos);
                return raw == null ? Optional.empty() : Optional.of(observe(raw));
            }
            return Optional.of(observe(exit.get(nanos, TimeUnit.NANOSECONDS)));
        } catch (TimeoutException e) {
            return tryWait();
        } catch (ExecutionException e) {
            throw rethrow(e.getCause());
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Checks, without blocking, whether the child has exited, and reaps it if so. Exact: it asks
     * the process itself when the reactor has not reported the exit yet.
     *
     * @return how it ended, or empty while it runs
     * @throws IllegalStateException after {@link #close()}
     * @throws UncheckedIOException if the status is lost ({@code ECHILD}, see {@link #waitFor()})
     */
    public Optional<ExitStatus> tryWait() {
        ensureOpen();
        try {
            RawExit raw = poll();
            return raw == null ? Optional.empty() : Optional.of(observe(raw));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Whether the child is still running. Same as {@code tryWait().isEmpty()}: exact, and it reaps
     * a child that has just exited.
     *
     * @return true while it runs
     * @throws IllegalStateException after {@link #close()}
     */
    public boolean isAlive() {
        return tryWait().isEmpty();
    }

    /**
     * A future completed when the child exits, with its status; completed off the reactor thread,
     * on the common {@link java.util.concurrent.ForkJoinPool} when its parallelism is at least 2,
     * else (two processors or fewer) on a pool of at most four daemon threads named
     * {@code forkless-callback-N}. Callbacks attached to it, {@code async} or not, therefore never
     * run on the reactor thread, and a slow one does not delay other children's exits (as in the
     * common pool, callbacks that block occupy a pool thread each while they do).
     *
     * <p>Each call returns a new future. Completing or cancelling it affects neither the child
     * nor other callers' futures. It completes exceptionally with an {@link UncheckedIOException}
     * when the status is lost ({@code ECHILD}, see {@link #waitFor()}). Closing the child does not
     * complete it early: it completes when the process exits (with {@link CloseAction#KILL},
     * right after {@code close()} killed it).
     *
     * @return a new future of the exit status
     * @throws IllegalStateException after {@link #close()}
     */
    public CompletableFuture<ExitStatus> onExit() {
        return onExit(Callbacks.EXECUTOR);
    }

    /**
     * Like {@link #onExit()}, but the returned future is completed by a task run on
     * {@code executor}, so its non-async callbacks run there.
     *
     * <p>{@code onExit(Runnable::run)} completes it directly on the reactor thread (or in the
     * calling thread, if the child has already exited): no thread hop, but every callback then
     * runs on the one thread that reports every child's exit. Such callbacks must be quick and
     * should never block: they delay every other exit. (Waiting there for another child, or
     * closing one, still works: it then blocks the reactor thread in native code until that
     * child exits.) If {@code executor} rejects the task, the
     * future is completed exceptionally with the rejection.
     *
     * @param executor runs the completion; {@code Runnable::run} for the reactor thread
     * @return a new future of the exit status
     * @throws IllegalStateException after {@link #close()}
     */
    public CompletableFuture<ExitStatus> onExit(Executor executor) {
        Objects.requireNonNull(executor, "executor");
        ensureOpen();
        state.markObserved();
        CompletableFuture<ExitStatus> result = new CompletableFuture<>();
        StatusCell cell = status; // the callback must not capture this Child
        exit.whenComplete((raw, failure) -> {
            Runnable complete = () -> {
                if (failure == null) {
                    result.complete(cell.of(raw));
                } else {
                    result.completeExceptionally(failure);
                }
            };
            try {
                executor.execute(complete);
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        return result;
    }

    /**
     * Sends a signal to the child (only to the child, not to processes it started).
     *
     * @param signal the signal, e.g. {@link Signal#TERM}
     * @return true if it was sent; false if the child had already exited (whether or not it was
     *     reaped), in which case nothing was sent to anyone
     * @throws IllegalStateException after {@link #close()}
     * @throws UncheckedIOException if the system refuses (not expected for one's own child)
     */
    public boolean kill(Signal signal) {
        Objects.requireNonNull(signal, "signal");
        ensureOpen();
        try {
            int rc = process.signal(signal.number());
            if (rc == 0) {
                return true;
            }
            if (rc == -Native.ESRCH) {
                return false;
            }
            throw new UncheckedIOException(Native.ioException(
                    "kill(" + signal.signalName() + ") of child " + pid + " (" + program + ")", -rc));
        } catch (IllegalStateException released) {
            ensureOpen(); // closed meanwhile: say so in this class's words
            throw released;
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Sends {@link Signal#KILL} to the child's whole tree; see {@link #killTree(Signal)}.
     *
     * @return true if sent; false if nobody was left to receive it
     * @throws IllegalStateException if the child was spawned without a tree
     *     ({@link #treeMechanism()} is empty), whether it still runs or not; or after
     *     {@link #close()}
     */
    public boolean killTree() {
        return killTree(Signal.KILL);
    }

    /**
     * Sends a signal to the child's whole tree. Returns once the signal is sent: to wait for the
     * tree to be gone, {@link #close()} with {@link CloseAction#KILL_TREE}.
     * <ul>
     *   <li>With a cgroup ({@link #cgroup()}, see {@link TreeKill#CGROUP}): every process in it,
     *       whatever session or group it moved to, also after the child itself has exited and been
     *       reaped. {@link Signal#KILL} is one atomic {@code cgroup.kill}; other signals freeze the
     *       cgroup, signal every member and thaw it (so no listed PID can be recycled meanwhile).
     *       </li>
     *   <li>Otherwise with the process group the child leads ({@link TreeKill#PROCESS_GROUP},
     *       {@link Command#newProcessGroup()}, {@link Command#newSession()}): the child and
     *       whatever stayed in its group (forks, pipelines, a shell's jobs), signalled only while
     *       the child is not reaped, so the group's number is surely still its own. Not reached: a
     *       descendant that moved to another group or session (a daemon calling {@code setsid}, a
     *       nested {@code newProcessGroup}), and anything left once the child has been reaped.</li>
     * </ul>
     * Which of the two a child has is {@link #treeMechanism()}: check it where setsid daemons
     * matter (a {@link TreeKill#AUTO} child gets the process group where this JVM cannot have
     * cgroups, and Forkless logs a warning once).
     *
     * <p>A child spawned without a tree (no {@link Command#treeKill}, {@link CloseAction#KILL_TREE},
     * {@link Command#newProcessGroup()} or {@link Command#newSession()}) is refused at once,
     * running or exited alike, so the mistake shows on the first call rather than only on the path
     * where the child happens to still run. There is no best-effort walk of its descendants: the
     * walk races with every fork and misses orphans; use {@link #descendants()} for that.
     *
     * @param signal the signal
     * @return true if sent; false if nobody was left to receive it (cgroup: no live process in
     *     it; process group: the child had exited and been reaped)
     * @throws IllegalStateException if the child was spawned without a tree
     *     ({@link #treeMechanism()} is empty), whether it still runs or not; or after
     *     {@link #close()}
     * @throws UncheckedIOException if the system refuses
     */
    public boolean killTree(Signal signal) {
        Objects.requireNonNull(signal, "signal");
        ensureOpen();
        requireTree();
        try {
            if (leaf != null) {
                int rc = leaf.signal(signal.number());
                if (rc >= 0) {
                    return rc == 1;
                }
                ensureOpen(); // -EBADF: closed meanwhile
                throw new UncheckedIOException(Native.ioException("killTree(" + signal.signalName()
                        + ") of child " + pid + " (" + program + ") through the cgroup " + leaf, -rc));
            }
            int rc = process.signalGroup(signal.number());
            if (rc == 0) {
                return true;
            }
            if (rc == -Native.ESRCH) {
                return false;
            }
            if (rc == -Native.EINVAL) {
                // It moved itself into another group (setpgid): its old group is not ours to name.
                throw new IllegalStateException("child " + pid + " (" + program + ") no longer leads the"
                        + " process group it was spawned in");
            }
            throw new UncheckedIOException(Native.ioException(
                    "killTree(" + signal.signalName() + ") of child " + pid + " (" + program + ")", -rc));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    private void requireTree() {
        if (leaf == null && !groupLeader) {
            throw new IllegalStateException("child " + pid + " (" + program + ") has neither a cgroup"
                    + " nor a process group of its own: spawn it with Command.treeKill(...),"
                    + " onClose(CloseAction.KILL_TREE), newProcessGroup() or newSession()");
        }
    }

    /**
     * How {@link #killTree}, {@link #terminateTree} and {@link CloseAction#KILL_TREE} reach the
     * child's tree: {@link TreeKill#CGROUP} (every descendant, {@code setsid} daemons included,
     * also after the child has exited), {@link TreeKill#PROCESS_GROUP} (the group the child leads:
     * not its members that left it, nor anything once the child is reaped), or empty when the
     * child has no tree of its own. Never {@link TreeKill#AUTO}: this is what AUTO became. Fixed
     * at the spawn.
     *
     * @return the mechanism, or empty
     */
    public Optional<TreeKill> treeMechanism() {
        if (leaf != null) {
            return Optional.of(TreeKill.CGROUP);
        }
        return groupLeader ? Optional.of(TreeKill.PROCESS_GROUP) : Optional.empty();
    }

    /**
     * The child's own cgroup, the directory its whole tree lives in, when it got one
     * ({@link Command#treeKill(TreeKill)}). Empty for a child in its process group only. The
     * directory is removed after {@link #close()} once its last process has exited.
     *
     * @return the cgroup directory, e.g. {@code /sys/fs/cgroup/user.slice/.../forkless-4711-1a2b3c4d/c1}
     */
    public Optional<Path> cgroup() {
        return leaf == null ? Optional.empty() : Optional.of(leaf.path());
    }

    /**
     * What the child is doing now: state, CPU time so far, resident memory, threads (Linux: read
     * from {@code /proc/<pid>/stat} while the child is known not to be reaped, so a recycled PID is
     * never reported as this child).
     *
     * @return the statistics, or empty once the child has exited (reaped or not)
     * @throws IllegalStateException after {@link #close()}
     * @throws UncheckedIOException if they cannot be read (no procfs: {@code ENOSYS})
     */
    public Optional<ProcessStats> stats() {
        ensureOpen();
        try {
            long[] v = new long[Native.STATS_LENGTH];
            int rc = process.stats(v);
            if (rc == -Native.ESRCH) {
                return Optional.empty();
            }
            if (rc < 0) {
                throw new UncheckedIOException(Native.ioException(
                        "statistics of child " + pid + " (" + program + ")", -rc));
            }
            return Optional.of(new ProcessStats((char) v[0], (int) v[1], Duration.ofNanos(v[2] * 1000),
                    Duration.ofNanos(v[3] * 1000), v[4] * 1024));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * The processes the child has started, and theirs, as the system sees them now.
     * <ul>
     *   <li>With a cgroup ({@link #cgroup()}): every live process in it but the child, in the
     *       kernel's order: orphans re-parented to init and daemons that called {@code setsid}
     *       included, also after the child itself has exited.</li>
     *   <li>Otherwise by parent links in {@code /proc}, only while the child runs: its descendants
     *       are found through its PID, which is checked to still be this child before and after
     *       the walk. A grandchild whose parent has exited is re-parented (to init or a
     *       subreaper) and no longer appears. Children first, as the JDK orders them.</li>
     * </ul>
     * A listed process may exit at any moment after the list is made (and its number be reused).
     *
     * @return the descendants; empty once none is left (cgroup) or the child has exited
     * @throws IllegalStateException after {@link #close()}
     */
    public List<ProcessHandle> descendants() {
        ensureOpen();
        try {
            if (leaf != null) {
                List<ProcessHandle> all = new java.util.ArrayList<>();
                for (long member : leaf.members()) {
                    if (member != pid) {
                        ProcessHandle.of(member).ifPresent(all::add);
                    }
                }
                return all;
            }
            if (!isAlive()) {
                return List.of();
            }
            List<ProcessHandle> all = ProcessHandle.of(pid).map(h -> h.descendants().toList()).orElse(List.of());
            return isAlive() ? all : List.of();
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Stops the child gracefully: {@link Signal#TERM}, then {@link Signal#KILL} if it has not
     * exited within {@code grace}; see {@link #terminate(Signal, Duration)}.
     *
     * @param grace how long to wait after the first signal
     * @return how it ended and which way
     * @throws IllegalStateException after {@link #close()}
     */
    public Termination terminate(Duration grace) {
        return terminate(Signal.TERM, grace);
    }

    /**
     * Stops the child gracefully: sends {@code first}, waits up to {@code grace} for it to exit,
     * then sends {@link Signal#KILL} and waits for that. Only the child is signalled, not the
     * processes it started. If the calling thread is interrupted during the grace period the
     * {@code KILL} is sent at once (the child is still stopped; the interrupt status is kept).
     *
     * @param first the polite signal, e.g. {@link Signal#TERM}, {@link Signal#INT}
     * @param grace how long to wait after it; zero or negative kills at once after sending it
     * @return the exit status and whether the child had already exited, stopped after
     *     {@code first}, or was killed
     * @throws IllegalStateException after {@link #close()}
     * @throws UncheckedIOException if the status is lost ({@code ECHILD}, see {@link #waitFor()})
     */
    public Termination terminate(Signal first, Duration grace) {
        return stop(first, grace, false);
    }

    /**
     * Stops the child's whole tree gracefully: {@link Signal#TERM}, then {@link Signal#KILL} to
     * what is left after {@code grace}; see {@link #terminateTree(Signal, Duration)}.
     *
     * @param grace how long to wait after the first signal
     * @return the child's exit status, which way the tree ended, and what was reached
     * @throws IllegalStateException if the child was spawned without a tree, whether it still
     *     runs or not, or after {@link #close()}
     */
    public Termination terminateTree(Duration grace) {
        return terminateTree(Signal.TERM, grace);
    }

    /**
     * Stops the child's whole tree gracefully, as a CI runner cancels a job: sends {@code first}
     * to the tree ({@link #killTree(Signal)}), waits up to {@code grace}, then sends
     * {@link Signal#KILL} to whatever is left and waits for it.
     * <ul>
     *   <li>With a cgroup ({@link #cgroup()}): "left" means any process of the cgroup, so the wait
     *       lasts until the whole tree has exited, daemons included, and the KILL reaches every
     *       straggler. Returns once all of them are gone (waiting up to 5 s after the KILL for
     *       processes stuck in the kernel).</li>
     *   <li>With a process group only: the wait is for the child. Members that outlive it cannot
     *       be signalled afterwards (its group can no longer be named once it is reaped), so a
     *       member that ignores {@code first} runs on if the child exits within the grace.</li>
     * </ul>
     * Interrupted during the grace period: the KILL is sent at once, and the interrupt status is
     * kept. A grace too long to count in nanoseconds (about 292 years or more) waits as long as
     * it takes.
     *
     * <p>The result's {@link Termination#scope()} says which of the two it was
     * ({@link Termination.Scope#CGROUP} or {@link Termination.Scope#PROCESS_GROUP}), and
     * {@link Termination#reachedEscapedDescendants()} whether {@code setsid} daemons were within
     * reach: with a process group, {@code STOPPED} speaks for the child only.
     *
     * @param first the polite signal, e.g. {@link Signal#TERM}
     * @param grace how long to wait after it
     * @return the child's exit status; {@link Termination.Way#ALREADY_EXITED} if nothing of the
     *     tree was running, {@link Termination.Way#STOPPED} if it all ended within the grace,
     *     {@link Termination.Way#KILLED} if the KILL was needed
     * @throws IllegalStateException if the child was spawned without a tree (see
     *     {@link #killTree(Signal)}), whether it still runs or not, or after {@link #close()}
     * @throws UncheckedIOException if the status is lost or the system refuses a signal
     */
    public Termination terminateTree(Signal first, Duration grace) {
        return stop(first, grace, true);
    }

    /** terminate() and terminateTree(): the child alone, or its tree. */
    private Termination stop(Signal first, Duration grace, boolean tree) {
        Objects.requireNonNull(first, "first");
        Objects.requireNonNull(grace, "grace");
        ensureOpen();
        if (tree) {
            requireTree();
        }
        boolean cgroupTree = tree && leaf != null;
        Termination.Scope scope = !tree ? Termination.Scope.CHILD
                : cgroupTree ? Termination.Scope.CGROUP : Termination.Scope.PROCESS_GROUP;
        Optional<ExitStatus> done = tryWait();
        if (done.isPresent() && (!cgroupTree || leaf.populated() != 1)) {
            return new Termination(done.get(), Termination.Way.ALREADY_EXITED, scope);
        }
        boolean interrupted = false;
        if (tree ? killTree(first) : kill(first)) {
            try {
                if (cgroupTree) {
                    // The child is in its cgroup: an empty cgroup means it has exited too.
                    if (!leaf.awaitEmpty(saturatedNanos(grace)) && Thread.interrupted()) {
                        interrupted = true;
                    }
                    done = tryWait();
                } else {
                    done = waitFor(grace);
                }
            } catch (InterruptedException e) {
                interrupted = true;
            }
        } else {
            done = tryWait(); // exited between the check and the signal
        }
        try {
            boolean treeLeft = cgroupTree && leaf.populated() == 1;
            if (done.isPresent() && !treeLeft) {
                return new Termination(done.get(), Termination.Way.STOPPED, scope);
            }
            if (tree) {
                killTree(Signal.KILL);
            } else {
                kill(Signal.KILL);
            }
            ExitStatus st;
            for (;;) {
                try {
                    st = waitFor();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (cgroupTree) {
                leaf.awaitEmpty(TREE_EXIT_WAIT_NANOS);
                if (Thread.interrupted()) {
                    interrupted = true;
                }
                return new Termination(st, Termination.Way.KILLED, scope);
            }
            // A child that exited of its own accord just as KILL was due is not "killed".
            return new Termination(st, st.signal().orElse(null) == Signal.KILL
                    ? Termination.Way.KILLED : Termination.Way.STOPPED, scope);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The duration in nanoseconds, 0 if negative, {@link Long#MAX_VALUE} if too long to count. */
    static long saturatedNanos(Duration d) {
        if (d.isNegative()) {
            return 0;
        }
        try {
            return d.toNanos();
        } catch (ArithmeticException tooLong) {
            return Long.MAX_VALUE;
        }
    }

    /**
     * Applies the command's {@link CloseAction} and releases the child's handle. Only the first call
     * does anything; it is safe to call from any thread and any number of times.
     * <ul>
     *   <li>{@link CloseAction#KILL} (default): if still running, {@link Signal#KILL}; then waits
     *       (uninterruptibly, keeping the interrupt status) until the reactor has reaped it.</li>
     *   <li>{@link CloseAction#WAIT}: waits for the exit; if interrupted, behaves as
     *       {@code LEAVE_RUNNING} and keeps the interrupt status.</li>
     *   <li>{@link CloseAction#LEAVE_RUNNING}: returns at once; the reactor reaps the child when
     *       it exits.</li>
     * </ul>
     * Threads already blocked in {@link #waitFor()} when {@code close()} starts go on waiting and
     * receive the exit status, whatever the action; futures from {@link #onExit()} complete when
     * the process exits. An explicit {@code close()} never counts as a leak and never triggers
     * {@link Command#killOnUnreachable(boolean)}.
     *
     * <p>Before the action, this JVM's ends of the child's pipes are closed (the child sees
     * end-of-file on stdin, and {@code EPIPE}/{@code SIGPIPE} if it writes to stdout or stderr
     * later), except those an {@link #outputAsync} or {@link #onStdoutLine} collection is reading:
     * those stay open until end-of-file.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        // The pipes first: a child blocked writing to a pipe nobody reads, or reading a stdin
        // nobody closes, would otherwise never finish (WAIT). Collectors keep theirs to the end.
        for (PipeEnd end : pipes) {
            if (end != null && !end.isCollected()) {
                end.close();
            }
        }
        try {
            switch (closeAction) {
                case KILL:
                case KILL_TREE:
                    if (closeAction == CloseAction.KILL_TREE) {
                        if (leaf != null) {
                            leaf.signal(Signal.KILL.number());
                        } else {
                            process.signalGroup(Signal.KILL.number()); // ESRCH: the leader is gone
                        }
                    }
                    if (poll() == null) {
                        int rc = process.signal(Signal.KILL.number());
                        if (rc != 0 && rc != -Native.ESRCH) {
                            break; // cannot kill it: do not wait forever; the reactor reaps it
                        }
                    }
                    if (Reactor.isReactorThread()) {
                        awaitHere(-1);
                    } else {
                        status.of(exit.join()); // uninterruptible; keeps the interrupt status
                    }
                    if (closeAction == CloseAction.KILL_TREE && leaf != null) {
                        leaf.awaitEmpty(TREE_EXIT_WAIT_NANOS);
                    }
                    break;
                case WAIT:
                    try {
                        status.of(Reactor.isReactorThread() ? awaitHere(-1) : exit.get());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } catch (ExecutionException lost) {
                        // ECHILD: nothing left to wait for
                    }
                    break;
                case LEAVE_RUNNING:
                    break;
                default:
                    throw new AssertionError(closeAction);
            }
        } catch (UncheckedIOException | CompletionException lost) {
            // ECHILD: something else in this process reaped the child (a waitpid(-1)); there is
            // nothing left to kill or wait for, and the handle is released below all the same.
        } finally {
            cleanup.explicit = true;
            cleanable.clean(); // releases the handle once, and deregisters the safety net
            Reference.reachabilityFence(this);
        }
    }

    /** This JVM's end of the child's stream 0, 1 or 2, or null if it is not piped. */
    PipeEnd pipe(int stream) {
        ensureOpen();
        return pipes[stream];
    }

    /** Whether the exit is known already (without asking the process). */
    boolean exitKnown() {
        return exit.isDone();
    }

    /**
     * The pidfd while the handle is open, -1 without one (PID-only), once the child has finished
     * (the handle is closed at the reap) or once released. Informational: to poll it, use
     * {@link #borrowExitFd()}.
     */
    int exitFd() {
        try {
            return process.fd();
        } catch (IllegalStateException released) {
            return -1;
        }
    }

    /**
     * The pidfd, kept open until {@link #returnExitFd()} (which must follow once when this returned
     * a descriptor): the handle closes when the child is reaped, and a number used after that could
     * name another file.
     *
     * @return the descriptor, or -1 (none: PID-only, finished, or released)
     */
    int borrowExitFd() {
        try {
            return process.borrowFd();
        } catch (IllegalStateException released) {
            return -1;
        }
    }

    /** Gives back a descriptor from {@link #borrowExitFd()}. */
    void returnExitFd() {
        process.unborrowFd();
    }

    /** The pid, for messages (also after close). */
    long pidForDisplay() {
        return pid;
    }

    private static final String[] STREAMS = {"stdin", "stdout", "stderr"};

    private Object face(int stream, boolean channel) {
        PipeEnd end = pipe(stream);
        if (end == null) {
            throw new IllegalStateException(STREAMS[stream] + " of " + this + " is not Stdio.piped()");
        }
        end.claim(STREAMS[stream] + "()/" + STREAMS[stream] + "Channel()", false);
        synchronized (faces) {
            int at = stream + (channel ? 3 : 0);
            if (faces[at] == null) {
                if (stream == 0) {
                    faces[at] = channel ? new PipeStreams.Sink(end) : new PipeStreams.Out(end);
                } else {
                    faces[at] = channel ? new PipeStreams.Source(end) : new PipeStreams.In(end);
                }
            }
            return faces[at];
        }
    }

    /**
     * The child's standard input, when the command set {@link Stdio#piped()} for it. Closing the
     * stream delivers end-of-file to the child; {@link #close()} closes it too (but
     * {@link #waitFor()} does not: a child that reads until end-of-file waits for it). A write
     * parks the calling thread while the pipe is full (a virtual thread releases its carrier) and
     * can be interrupted ({@link java.io.InterruptedIOException}); writing after the child has
     * closed its end fails with an {@link java.io.IOException} ({@code EPIPE}), never a signal.
     * Every call returns the same stream.
     *
     * @return the stream
     * @throws IllegalStateException if stdin is not piped, or its pipe is used otherwise
     *     ({@link #output()}), or after {@link #close()}
     */
    public OutputStream stdin() {
        return (OutputStream) face(0, false);
    }

    /**
     * The child's standard output, when the command set {@link Stdio#piped()} for it (with
     * {@link Stdio#toStdout()} for stderr, both arrive here). A read parks while the pipe is empty
     * and can be interrupted ({@link java.io.InterruptedIOException}); it returns -1 once the
     * child and every process that inherited the pipe have closed it. Every call returns the same
     * stream; {@link #stdoutChannel()} reads the same pipe.
     *
     * @return the stream
     * @throws IllegalStateException if stdout is not piped, or its pipe is used otherwise
     *     ({@link #output()}, {@link #onStdoutLine}, {@link Stdio#from(Child)}), or after
     *     {@link #close()}
     */
    public InputStream stdout() {
        return (InputStream) face(1, false);
    }

    /**
     * The child's standard error, when the command set {@link Stdio#piped()} for it; otherwise as
     * {@link #stdout()}.
     *
     * @return the stream
     * @throws IllegalStateException if stderr is not piped or its pipe is used otherwise, or after
     *     {@link #close()}
     */
    public InputStream stderr() {
        return (InputStream) face(2, false);
    }

    /**
     * {@link #stdin()} as a blocking channel: {@code write} writes the whole buffer.
     *
     * @return the channel
     * @throws IllegalStateException as {@link #stdin()}
     */
    public WritableByteChannel stdinChannel() {
        return (WritableByteChannel) face(0, true);
    }

    /**
     * {@link #stdout()} as a blocking channel: {@code read} reads at least one byte, or returns
     * -1 at end-of-file. Its {@code read} throws {@link java.nio.ReadOnlyBufferException} for a
     * read-only buffer (heap or direct) before reading anything.
     *
     * @return the channel
     * @throws IllegalStateException as {@link #stdout()}
     */
    public ReadableByteChannel stdoutChannel() {
        return (ReadableByteChannel) face(1, true);
    }

    /**
     * {@link #stderr()} as a blocking channel, refusing read-only buffers as
     * {@link #stdoutChannel()} does.
     *
     * @return the channel
     * @throws IllegalStateException as {@link #stderr()}
     */
    public ReadableByteChannel stderrChannel() {
        return (ReadableByteChannel) face(2, true);
    }

    /**
     * Collects the child's output with {@link OutputOptions#defaults()}; see
     * {@link #output(OutputOptions)}.
     *
     * @return the output and exit status
     * @throws InterruptedException if interrupted (the pipes are then closed)
     */
    public Output output() throws InterruptedException {
        return output(OutputOptions.defaults());
    }

    /**
     * Writes the options' input to the child's piped stdin (then closes it; a piped stdin without
     * input is closed at once), reads its piped stdout and stderr until end-of-file (or the
     * options' cut-off after the exit), then waits for the exit. Streams that are not piped are
     * not collected (their bytes in the result are empty).
     *
     * <p>By default everything is kept (up to {@value OutputOptions#MAX_MAX_BYTES} bytes per
     * stream, then {@link OutputTooLargeException}) and there is no timeout. With
     * {@link OutputOptions#timeout(java.time.Duration)} the child (its tree, where it has a cgroup
     * or process group of its own) is killed when the time is up, and the result holds what it
     * wrote before, its killed status and {@link Output#timedOut()} true.
     *
     * <p>All in the calling thread, without a helper thread: one {@code poll} loop in the core
     * moves the bytes in both directions, so a child that writes a lot before reading its input
     * cannot deadlock. The thread blocks in native code for up to 200 ms at a time (a virtual
     * thread keeps its carrier; prefer {@link #outputAsync(OutputOptions)} there) and checks for
     * an interrupt in between.
     *
     * @param options input, limit, timeout, cut-off
     * @return the output and exit status
     * @throws InterruptedException if interrupted: the pipes are then closed, the child is left
     *     running
     * @throws OutputTooLargeException if a stream goes past what may be kept (see
     *     {@link OutputOptions}); the pipes are then closed, the child is left running
     * @throws IllegalStateException if a pipe is already used otherwise (e.g. {@link #stdout()}
     *     was called), input is given but stdin is not piped, or after {@link #close()}
     * @throws UncheckedIOException if reading fails ({@code EIO}; not expected for pipes), or the
     *     timeout's kill is refused
     */
    public Output output(OutputOptions options) throws InterruptedException {
        Objects.requireNonNull(options, "options");
        ensureOpen();
        try {
            return Capture.collect(this, options);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Like {@link #output(OutputOptions)}, without blocking any thread: the reactor thread reads
     * the pipes (non-blocking, multiplexed with every other child's) and the future completes on
     * the {@link #onExit()} executor once the child has exited and its output is complete.
     * Hundreds of children can be collected at once with no thread beyond the reactor.
     *
     * <p>The future fails with {@link OutputTooLargeException} where {@code output} would throw
     * it (never with an {@code OutOfMemoryError} on the reactor thread), and with whatever else
     * goes wrong while collecting: it always completes, and the pipes are closed by then.
     * Completing it from outside ({@code cancel(...)}, {@code orTimeout(...)},
     * {@code complete(...)}) stops the collection: the child is sent {@link Signal#KILL} at once,
     * by the completing thread (its whole tree where it has a cgroup or process group of its own),
     * its pipes are closed, and the reactor reaps it when it has died. To keep the child running,
     * do not complete this future; use a dependent one ({@code thenApply}, ...) instead.
     *
     * @param options input, limit, timeout, cut-off
     * @return the future output
     * @throws IllegalStateException as {@link #output(OutputOptions)}
     */
    public CompletableFuture<Output> outputAsync(OutputOptions options) {
        Objects.requireNonNull(options, "options");
        ensureOpen();
        return Capture.collectAsync(this, options, false);
    }

    /**
     * Kills what an output timeout or a cancelled {@code outputAsync} stops: the whole tree where
     * the child has one (a cgroup, or a process group it leads), else the child. Nothing once the
     * child is closed (its close action has dealt with it) or gone.
     */
    void killForOutput() {
        try {
            if (leaf != null) {
                killTree(Signal.KILL);
                return;
            }
            int rc = process.signalGroup(Signal.KILL.number());
            if (rc == -Native.EINVAL) { // no process group of its own
                kill(Signal.KILL);
            } else if (rc < 0 && rc != -Native.ESRCH) {
                throw new UncheckedIOException(Native.ioException("kill the process group of child "
                        + pid + " (" + program + ")", -rc));
            }
        } catch (IllegalStateException closedMeanwhile) {
            // Closed: its close action (kill by default) has dealt with it.
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** The longest line {@link #onStdoutLine(Consumer)} and its relatives deliver whole, in chars. */
    public static final int DEFAULT_MAX_LINE_LENGTH = 1 << 20;

    /**
     * Hands every line the child writes to stdout to {@code consumer}, decoded as UTF-8; see
     * {@link #onStdoutLine(Charset, Executor, Consumer)}.
     *
     * @param consumer receives each line, without its terminator
     * @return a future completed after the last line has been delivered (end-of-file)
     */
    public CompletableFuture<Void> onStdoutLine(Consumer<String> consumer) {
        return onStdoutLine(StandardCharsets.UTF_8, Callbacks.EXECUTOR, consumer);
    }

    /**
     * Hands every line the child writes to stdout (piped) to {@code consumer}, as it arrives, with
     * lines of at most {@value #DEFAULT_MAX_LINE_LENGTH} chars; see
     * {@link #onStdoutLine(Charset, int, Executor, Consumer)}.
     *
     * @param charset how the bytes are decoded
     * @param executor where the consumer runs
     * @param consumer receives each line
     * @return a future completed after the last line has been delivered
     * @throws IllegalStateException if stdout is not piped or already used otherwise, or after
     *     {@link #close()}
     */
    public CompletableFuture<Void> onStdoutLine(Charset charset, Executor executor, Consumer<String> consumer) {
        return lines(1, charset, DEFAULT_MAX_LINE_LENGTH, executor, consumer);
    }

    /**
     * Hands every line the child writes to stdout (piped) to {@code consumer}, as it arrives,
     * without a thread per stream: the reactor thread reads and decodes, {@code executor} runs the
     * consumer (default, in {@link #onStdoutLine(Consumer)}: the {@link #onExit()} executor;
     * {@code Runnable::run} runs it on the reactor thread, which must then be quick). Lines are
     * delivered in order, one batch at a time: while the consumer is busy nothing more is read,
     * so a slow consumer slows the child (its pipe fills) rather than growing memory.
     *
     * <p>Lines end at {@code \n}, {@code \r} or {@code \r\n}, not included; a last line without a
     * terminator is delivered at end-of-file; malformed input becomes U+FFFD. A line longer than
     * {@code maxLineLength} chars (default {@value #DEFAULT_MAX_LINE_LENGTH}) is delivered in
     * pieces of {@code maxLineLength} chars (one fewer where a surrogate pair would be split),
     * each as a line of its own, the last piece up to the line's end: nothing is dropped, and
     * memory stays bounded however long a line the child writes ({@code head -c 1G /dev/zero}).
     *
     * <p>If the consumer or the executor throws (anything, an {@code Error} included), delivery
     * stops, the pipe is closed (the child gets {@code EPIPE} if it writes on) and the future
     * completes with that exception; so does any failure while reading. The future always
     * completes. The pipe stays open when the {@code Child} is closed: the stream ends at
     * end-of-file.
     *
     * @param charset how the bytes are decoded
     * @param maxLineLength the longest piece delivered, in chars, at least 2
     * @param executor where the consumer runs
     * @param consumer receives each line
     * @return a future completed after the last line has been delivered
     * @throws IllegalArgumentException if {@code maxLineLength} is below 2
     * @throws IllegalStateException if stdout is not piped or already used otherwise, or after
     *     {@link #close()}
     */
    public CompletableFuture<Void> onStdoutLine(Charset charset, int maxLineLength, Executor executor,
                                                Consumer<String> consumer) {
        return lines(1, charset, maxLineLength, executor, consumer);
    }

    /**
     * As {@link #onStdoutLine(Consumer)}, for stderr.
     *
     * @param consumer receives each line
     * @return a future completed after the last line has been delivered
     */
    public CompletableFuture<Void> onStderrLine(Consumer<String> consumer) {
        return onStderrLine(StandardCharsets.UTF_8, Callbacks.EXECUTOR, consumer);
    }

    /**
     * As {@link #onStdoutLine(Charset, Executor, Consumer)}, for stderr.
     *
     * @param charset how the bytes are decoded
     * @param executor where the consumer runs
     * @param consumer receives each line
     * @return a future completed after the last line has been delivered
     */
    public CompletableFuture<Void> onStderrLine(Charset charset, Executor executor, Consumer<String> consumer) {
        return lines(2, charset, DEFAULT_MAX_LINE_LENGTH, executor, consumer);
    }

    /**
     * As {@link #onStdoutLine(Charset, int, Executor, Consumer)}, for stderr.
     *
     * @param charset how the bytes are decoded
     * @param maxLineLength the longest piece delivered, in chars, at least 2
     * @param executor where the consumer runs
     * @param consumer receives each line
     * @return a future completed after the last line has been delivered
     */
    public CompletableFuture<Void> onStderrLine(Charset charset, int maxLineLength, Executor executor,
                                                Consumer<String> consumer) {
        return lines(2, charset, maxLineLength, executor, consumer);
    }

    private CompletableFuture<Void> lines(int stream, Charset charset, int maxLineLength, Executor executor,
                                          Consumer<String> consumer) {
        Objects.requireNonNull(charset, "charset");
        Objects.requireNonNull(executor, "executor");
        Objects.requireNonNull(consumer, "consumer");
        if (maxLineLength < 2) {
            throw new IllegalArgumentException("maxLineLength must be at least 2 (a surrogate pair): "
                    + maxLineLength);
        }
        PipeEnd end = pipe(stream);
        if (end == null) {
            throw new IllegalStateException(STREAMS[stream] + " of " + this + " is not Stdio.piped()");
        }
        return LineReader.start(end, stream == 1 ? "onStdoutLine" : "onStderrLine", charset, maxLineLength,
                executor, consumer);
    }

    /**
     * A {@link java.lang.Process} view of this child, for code written against {@code Process}
     * (Commons Exec, zt-exec, build tools). It behaves as a JDK process does on Unix: its streams
     * are this child's pipes, buffered (flush stdin), or the JDK's null streams where a stream is
     * not {@linkplain Stdio#piped() piped} (input at end-of-file, writes throw);
     * {@code exitValue()} is the exit code or 128 + the signal number; {@code destroy()} sends
     * {@link Signal#TERM} and {@code destroyForcibly()} {@link Signal#KILL} (race-free, through the
     * pidfd), and both then close the streams; {@code onExit()} completes off the reactor thread.
     * As with the JDK, the pipes are closed when the child exits even if nobody closes the
     * streams; what stdout and stderr still hold stays readable. {@code toHandle()} is backed by
     * this child (exact, race-free {@code isAlive}/{@code onExit}/{@code destroy}); info, parent
     * and children come from the system while it runs.
     *
     * <p>The view takes over the piped streams: read and write them through it only (not with
     * {@link #output()}, line readers or {@link Stdio#from(Child)}). Every call returns the same
     * object.
     *
     * <p>{@code Process} has no {@code close()}: the view holds this child, and dropping both
     * leaves the child to the usual handling of an unreachable {@code Child}, pipes included: the
     * streams of a dropped view are collected with it (unless the caller still holds them), so its
     * stdin is closed and the child sees end-of-file, as it would on {@link #close()}. A child
     * reading stdin to the end ({@code cat}) behind a dropped view therefore finishes (a dropped
     * JDK {@code Process} leaves it waiting). Waiting is enough to release the child's handle:
     * {@code toProcess().waitFor()} without anything else leaks no descriptor. {@link #close()}
     * still closes the pipes and applies the close action; the view then keeps answering
     * {@code waitFor}, {@code exitValue}, {@code isAlive} and {@code onExit}, and its
     * {@code destroy()} does nothing.
     *
     * @return the process view
     * @throws IllegalStateException after {@link #close()}, or if a piped stream is already used
     *     otherwise
     */
    public Process toProcess() {
        ensureOpen();
        Process p = processView;
        if (p == null) {
            synchronized (faces) {
                p = processView;
                if (p == null) {
                    p = new ChildProcess(this);
                    processView = p;
                }
            }
        }
        return p;
    }

    /** For {@link ChildProcess}: the piped stdin as a stream, or null when not piped. */
    OutputStream stdinOrNull() {
        return pipe(0) == null ? null : stdin();
    }

    /** For {@link ChildProcess}: the piped stdout as a stream, or null when not piped. */
    InputStream stdoutOrNull() {
        return pipe(1) == null ? null : stdout();
    }

    /** For {@link ChildProcess}: the piped stderr as a stream, or null when not piped. */
    InputStream stderrOrNull() {
        return pipe(2) == null ? null : stderr();
    }

    /**
     * Like {@code "Child[pid=1234, sleep, running]"}, {@code "Child[pid=1234, true, exit 0]"} or
     * {@code "Child[pid=1234, sleep, closed]"}. Never blocks and never throws.
     */
    @Override
    public String toString() {
        ExitStatus s = status.peek();
        if (s == null && exit.isDone() && !exit.isCompletedExceptionally()) {
            s = status.of(exit.getNow(null));
        }
        String st = s != null ? s.toString() : closed.get() ? "closed" : "running";
        return "Child[pid=" + pid + ", " + program + ", " + st + "]";
    }
}
