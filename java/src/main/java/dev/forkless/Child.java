package dev.forkless;

import dev.forkless.internal.BlockingExitSource;
import dev.forkless.internal.Cleaners;
import dev.forkless.internal.ExitSource;
import dev.forkless.internal.Native;
import dev.forkless.internal.NativeProcess;
import dev.forkless.internal.RawExit;

import java.io.UncheckedIOException;
import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A running (or finished) child process started by {@link Command#spawn()}.
 *
 * <p>A {@code Child} refers to its process itself, not to a number: on Linux it holds a pidfd.
 * Signals can never reach an unrelated process that happens to reuse the PID, and waiting reaps
 * exactly this child (never another child of the JVM, so {@link java.lang.Process} children are
 * left alone).
 *
 * <p><b>Closing.</b> {@code Child} is {@link AutoCloseable}; {@link #close()} applies the
 * command's {@link CloseAction} (default {@link CloseAction#KILL}: kill it if it still runs, then
 * reap it) and releases the handle. After {@code close()} every method except {@code close()}
 * and {@code toString()} throws {@link IllegalStateException}. A {@code Child} that becomes
 * unreachable without being closed has its handle released by a {@link Cleaner}, as with
 * {@link CloseAction#LEAVE_RUNNING}: the process is not killed, and Forkless reaps it after it
 * exits. That is a safety net against leaks; close children explicitly.
 *
 * <p><b>Threads.</b> Every method is thread-safe. Any number of threads may wait for the same
 * child; all of them get the same {@link ExitStatus}. Blocking waits currently block the calling
 * thread (checking for interrupts at least every 100 ms).
 */
public final class Child implements AutoCloseable {
    private final NativeProcess process;
    private final ExitSource exits;
    private final CloseAction closeAction;
    private final String program;
    private final long pid;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Cleaner.Cleanable cleanable;
    private volatile ExitStatus status;

    Child(NativeProcess process, CloseAction closeAction, String program) {
        this.process = process;
        this.exits = new BlockingExitSource(process);
        this.closeAction = closeAction;
        this.program = program;
        this.pid = process.pid();
        // The action refers to the handle only, never to this Child (it would never be collected).
        this.cleanable = Cleaners.CLEANER.register(this, process::release);
    }

    private void ensureOpen() {
        if (closed.get()) {
            throw new IllegalStateException("child " + pid + " (" + program + ") is closed");
        }
    }

    private Optional<ExitStatus> toStatus(RawExit raw) {
        if (raw == null) {
            return Optional.empty();
        }
        ExitStatus s = status;
        if (s == null) {
            s = ExitStatus.of(raw);
            status = s;
        }
        return Optional.of(s);
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
     * Waits for the child to exit and reaps it.
     *
     * @return how it ended; the same status on every call
     * @throws InterruptedException if the calling thread is interrupted while waiting; the child is
     *     unaffected
     * @throws IllegalStateException after {@link #close()}, also when another thread closes the
     *     child with {@link CloseAction#LEAVE_RUNNING} during the wait
     * @throws UncheckedIOException if the child was reaped behind Forkless's back (by code in this
     *     process calling {@code waitpid(-1)}), so its status is lost ({@code ECHILD})
     */
    public ExitStatus waitFor() throws InterruptedException {
        ensureOpen();
        try {
            return toStatus(exits.await(-1)).orElseThrow();
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Waits at most {@code timeout} for the child to exit.
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
        try {
            if (timeout.isZero() || timeout.isNegative()) {
                return toStatus(exits.poll());
            }
            long nanos;
            try {
                nanos = timeout.toNanos();
            } catch (ArithmeticException tooLong) {
                nanos = -1; // about 292 years or more: as good as forever
            }
            return toStatus(exits.await(nanos));
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Checks, without blocking, whether the child has exited, and reaps it if so.
     *
     * @return how it ended, or empty while it runs
     * @throws IllegalStateException after {@link #close()}
     * @throws UncheckedIOException if the status is lost ({@code ECHILD}, see {@link #waitFor()})
     */
    public Optional<ExitStatus> tryWait() {
        ensureOpen();
        try {
            return toStatus(exits.poll());
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Whether the child is still running (it has not exited, or it exited but nobody has checked
     * yet). Same as {@code tryWait().isEmpty()}.
     *
     * @return true while it runs
     * @throws IllegalStateException after {@link #close()}
     */
    public boolean isAlive() {
        return tryWait().isEmpty();
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
            throw new UncheckedIOException(new Native.ErrnoException(
                    "kill(" + signal.signalName() + ") of child " + pid + " (" + program + ")", -rc));
        } catch (IllegalStateException released) {
            ensureOpen(); // closed meanwhile: say so in this class's words
            throw released;
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Applies the command's {@link CloseAction} and releases the child's handle. Only the first call
     * does anything; it is safe to call from any thread and any number of times.
     * <ul>
     *   <li>{@link CloseAction#KILL} (default): if still running, {@link Signal#KILL}; then waits
     *       for the exit and reaps it.</li>
     *   <li>{@link CloseAction#WAIT}: waits for the exit and reaps it; if interrupted, behaves as
     *       {@code LEAVE_RUNNING} and keeps the interrupt status.</li>
     *   <li>{@link CloseAction#LEAVE_RUNNING}: returns at once; Forkless reaps the child after it
     *       exits.</li>
     * </ul>
     * Threads blocked in {@link #waitFor()} when {@code close()} starts receive the exit status
     * (with {@code KILL} or {@code WAIT}) or an {@link IllegalStateException} (with
     * {@code LEAVE_RUNNING}).
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            switch (closeAction) {
                case KILL:
                    if (exits.poll() == null) {
                        int rc = process.signal(Signal.KILL.number());
                        if (rc != 0 && rc != -Native.ESRCH) {
                            break; // cannot kill it: do not wait forever, let the core adopt it
                        }
                    }
                    toStatus(exits.awaitUninterruptibly());
                    break;
                case WAIT:
                    try {
                        toStatus(exits.await(-1));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    break;
                case LEAVE_RUNNING:
                    break;
                default:
                    throw new AssertionError(closeAction);
            }
        } catch (UncheckedIOException lost) {
            // ECHILD: something else in this process reaped the child (a waitpid(-1)); there is
            // nothing left to kill or wait for, and the handle is released below all the same.
        } finally {
            cleanable.clean(); // releases the handle once, and deregisters the safety net
        }
    }

    /**
     * Like {@code "Child[pid=1234, sleep, running]"}, {@code "Child[pid=1234, true, exit 0]"} or
     * {@code "Child[pid=1234, sleep, closed]"}. Never blocks and never throws.
     */
    @Override
    public String toString() {
        ExitStatus s = status;
        String state = s != null ? s.toString() : closed.get() ? "closed" : "running";
        return "Child[pid=" + pid + ", " + program + ", " + state + "]";
    }
}
