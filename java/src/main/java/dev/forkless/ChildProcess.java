package dev.forkless;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The {@link Process} view of a {@link Child} ({@link Child#toProcess()}), so that code written for
 * {@code Process} (Commons Exec, zt-exec, build tools) runs on Forkless unchanged.
 *
 * <p><b>What it copies from the JDK</b> (OpenJDK's Unix {@code ProcessImpl}, 17 and 25), because
 * such code depends on it, documented or not:
 * <ul>
 *   <li>{@link #exitValue()} is the exit code, or 128 + the signal number for a signal death (so
 *       143 after {@link #destroy()}, 137 after {@link #destroyForcibly()}); it throws
 *       {@link IllegalThreadStateException} while the process runs.</li>
 *   <li>{@code waitFor(timeout, unit)} reads {@code unit} first (null: {@link NullPointerException}),
 *       answers {@code true} at once for an exited process (interrupted or not), {@code false} at
 *       once for a timeout of zero or less, and is otherwise interruptible.</li>
 *   <li>{@link #destroy()} is {@link Signal#TERM}, {@link #destroyForcibly()} {@link Signal#KILL};
 *       both do nothing to a process that has exited, never throw, and then close the three
 *       streams (the JDK does: the {@code finally { p.destroy(); }} idiom releases the pipes).</li>
 *   <li>Streams: a stream that is not {@linkplain Stdio#piped() piped} (inherited, a file,
 *       {@code /dev/null}, stderr {@linkplain Stdio#toStdout() merged}) is the JDK's "null" stream:
 *       an input stream at end-of-file, an output stream whose writes throw
 *       {@code IOException("Stream closed")}. Piped ones are buffered, as the JDK's are (stdin
 *       needs {@code flush()} or {@code close()}).</li>
 *   <li>When the process exits, its pipes are reclaimed even if the caller never closes the
 *       streams (code written for the JDK rarely does: {@code Runtime.exec(cmd).waitFor()}): what
 *       is still in the stdout and stderr pipes is read into memory, where the streams go on
 *       serving it, and the descriptors are closed; stdin's descriptor is closed and later writes
 *       throw. As with the JDK, a grandchild that inherited a pipe and writes after the child's
 *       exit is not heard. Unlike the JDK, the reclaim never waits for a reader: if a thread is
 *       inside a read or write right then, that thread reclaims when it returns
 *       ({@link ChildProcessStreams}).</li>
 *   <li>{@link #onExit()} completes with this object, never on the reactor thread; every call
 *       returns a new future; cancelling one affects neither the process nor other futures.</li>
 *   <li>{@link #toString()}: {@code Process[pid=123, exitValue="not exited"]}, then
 *       {@code Process[pid=123, exitValue=0]}.</li>
 * </ul>
 *
 * <p><b>Where it is better than the JDK.</b> Signals go through the child's pidfd, never to a
 * reused PID; {@link #exitValue()} and {@link #isAlive()} ask the process itself, so they are
 * exact the moment it exits (the JDK's lag until its reaper thread has run); no thread per child.
 * {@link #toHandle()} is a {@link ChildProcessHandle} backed by the child for the same reasons.
 *
 * <p><b>Lost status.</b> If something in this JVM reaped the child behind Forkless's back
 * ({@code waitpid(-1)}, {@code ECHILD}), {@link #waitFor()} and {@link #exitValue()} throw the
 * child's {@link UncheckedIOException} rather than invent a code (the JDK reports 0 there);
 * {@link #isAlive()} is then false and {@code waitFor(timeout, unit)} true.
 *
 * <p><b>Closing.</b> {@code Process} has no {@code close()} (before JDK 26), and this view adds
 * none. It holds its {@code Child}: dropping the view and the child leaves the child to Forkless's
 * handling of an unreachable {@code Child} (its handle is released; it is killed only with
 * {@link Command#killOnUnreachable(boolean)}; the reactor reaps it, so it never stays a zombie).
 * Its pipes are reclaimed at the exit as above, or by their own safety net: the view's exit
 * callback holds the streams only weakly, never the view, so the streams of a dropped view are
 * collected with it and their pipes closed. Its stdin then reaches the child as end-of-file, as a
 * dropped {@code Child}'s does: a dropped view of a child that reads its stdin to the end
 * ({@code cat}) lets it finish, where a dropped JDK {@code Process} leaves it waiting forever. A
 * stream the caller still holds stays open, and is reclaimed at the exit. But a future from
 * {@link #onExit()} (or the handle's) that is still pending holds the view, so the child stays
 * reachable until it exits, as whoever waits on that future expects. Creating the view registers an exit callback, so with
 * {@code forkless.leakDetection} an unclosed child with a view counts as observed. Code that owns the
 * {@code Child} may still {@link Child#close()} it: that closes the pipes and applies the close
 * action; the view goes on answering from the exit status (waitFor, exitValue, isAlive, onExit),
 * and destroy() then does nothing, since a released handle cannot be signalled.
 *
 * <p>Thread-safe. Getting the view claims the child's piped streams (as {@link Child#stdout()}
 * does): use them through the view only.
 */
final class ChildProcess extends Process {
    private final Child child;
    private final long pid;
    /** This view's own exit future: reclaims the pipes, and answers after the child is closed. */
    private final CompletableFuture<ExitStatus> exit;
    private final OutputStream stdin;
    private final InputStream stdout;
    private final InputStream stderr;
    private final ChildProcessHandle handle;
    /** The status once this view has seen it: answers without the Child, also after its close. */
    private volatile ExitStatus known;

    /**
     * @throws IllegalStateException if the child is closed, or a piped stream is already used
     *     otherwise ({@link Child#output()}, a line reader, {@link Stdio#from(Child)})
     */
    ChildProcess(Child child) {
        this.child = child;
        this.pid = child.pid();
        OutputStream in = child.stdinOrNull();
        InputStream out = child.stdoutOrNull();
        InputStream err = child.stderrOrNull();
        this.stdin = in == null ? ChildProcessStreams.NullOutput.INSTANCE : new ChildProcessStreams.PipeOutput(in);
        this.stdout = out == null ? ChildProcessStreams.NullInput.INSTANCE : new ChildProcessStreams.PipeInput(out);
        this.stderr = err == null ? ChildProcessStreams.NullInput.INSTANCE : new ChildProcessStreams.PipeInput(err);
        this.exit = child.onExit();
        this.handle = new ChildProcessHandle(this, pid);
        // Not a lambda over this view: the future is reachable from the reactor until the exit,
        // and must not keep the Child reachable (that would defeat killOnUnreachable).
        ChildProcessStreams.reclaimOnExit(exit, stdin, stdout, stderr);
    }

    @Override
    public OutputStream getOutputStream() {
        return stdin;
    }

    @Override
    public InputStream getInputStream() {
        return stdout;
    }

    @Override
    public InputStream getErrorStream() {
        return stderr;
    }

    @Override
    public int waitFor() throws InterruptedException {
        ExitStatus status;
        try {
            status = child.waitFor();
        } catch (IllegalStateException closed) {
            try {
                status = exit.get();
            } catch (ExecutionException e) {
                throw lost(e.getCause());
            }
        }
        known = status;
        return exitValue(status);
    }

    @Override
    public boolean waitFor(long timeout, TimeUnit unit) throws InterruptedException {
        long nanos = unit.toNanos(timeout); // NullPointerException before anything else, as the JDK
        if (!isAlive()) {
            return true;
        }
        if (nanos <= 0) {
            return false;
        }
        try {
            return child.waitFor(Duration.ofNanos(nanos)).isPresent();
        } catch (UncheckedIOException lost) {
            return true; // it has exited; exitValue() reports the loss
        } catch (IllegalStateException closed) {
            try {
                exit.get(nanos, TimeUnit.NANOSECONDS);
                return true;
            } catch (TimeoutException e) {
                return !isAlive();
            } catch (ExecutionException lost) {
                return true;
            }
        }
    }

    @Override
    public int exitValue() {
        ExitStatus status = status();
        if (status == null) {
            throw new IllegalThreadStateException("process hasn't exited"); // the JDK's words
        }
        return exitValue(status);
    }

    @Override
    public boolean isAlive() {
        try {
            return status() == null;
        } catch (UncheckedIOException lost) {
            return false;
        }
    }

    @Override
    public void destroy() {
        destroy(Signal.TERM);
    }

    @Override
    public Process destroyForcibly() {
        destroy(Signal.KILL);
        return this;
    }

    @Override
    public boolean supportsNormalTermination() {
        return true;
    }

    @Override
    public long pid() {
        return pid;
    }

    @Override
    public CompletableFuture<Process> onExit() {
        // exit completes on the Child's callback executor, never on the reactor thread; a
        // dependent of it runs there too (or here, if the process has already exited).
        return exit.handle((status, lost) -> this);
    }

    /**
     * A {@link ChildProcessHandle}: pid, liveness, exit and signals through the child (race-free),
     * info, parent and children from the JDK's handle while the child runs. Always the same
     * object. {@link #info()}, {@link #children()} and {@link #descendants()} are
     * {@code Process}'s defaults, which ask this handle.
     */
    @Override
    public ProcessHandle toHandle() {
        return handle;
    }

    /**
     * Like the JDK's: {@code Process[pid=123, exitValue="not exited"]} or
     * {@code Process[pid=123, exitValue=143]}. Never throws, and does not wait for the process.
     */
    @Override
    public String toString() {
        ExitStatus status;
        try {
            status = status();
        } catch (RuntimeException lostOrClosed) {
            status = null;
        }
        return "Process[pid=" + pid + ", exitValue="
                + (status != null ? String.valueOf(exitValue(status)) : "\"not exited\"") + "]";
    }

    // For ChildProcessHandle.

    /** The view's exit future; dependents must not be given to callers directly. */
    CompletableFuture<ExitStatus> exitFuture() {
        return exit;
    }

    /**
     * Sends a signal.
     *
     * @return true if sent; false if the process has exited, the child is closed (its handle
     *     released: nothing can be signalled safely any more), or the system refused
     */
    boolean signal(Signal signal) {
        try {
            return child.kill(signal);
        } catch (IllegalStateException | UncheckedIOException notSent) {
            return false;
        }
    }

    private void destroy(Signal signal) {
        signal(signal); // the JDK ignores whether the signal went out, too
        ChildProcessStreams.abort(stdin);
        ChildProcessStreams.abort(stdout);
        ChildProcessStreams.abort(stderr);
    }

    /**
     * The status if the process has exited, else null. Exact: {@link Child#tryWait()} asks the
     * process when the reactor has not reported yet.
     *
     * @throws UncheckedIOException if the status is lost
     */
    private ExitStatus status() {
        ExitStatus status = known;
        if (status != null) {
            return status;
        }
        try {
            status = child.tryWait().orElse(null);
        } catch (IllegalStateException closed) {
            // The handle is released, but the reactor still reaps the process and completes this
            // view's future when it exits. That future hears of the exit a moment after the
            // Child (it completes on the callback executor): if the Child knows, wait that moment,
            // or a waitFor() on the Child followed by close() would read as "not exited" here.
            if (!exit.isDone() && !child.exitKnown()) {
                return null;
            }
            try {
                status = exit.join();
            } catch (CompletionException | CancellationException e) {
                throw lost(e.getCause() != null ? e.getCause() : e);
            }
        }
        if (status != null) {
            known = status;
        }
        return status;
    }

    private static RuntimeException lost(Throwable cause) {
        if (cause instanceof UncheckedIOException) {
            UncheckedIOException u = (UncheckedIOException) cause;
            return new UncheckedIOException(u.getMessage(), u.getCause()); // a fresh stack trace
        }
        if (cause instanceof RuntimeException) {
            return (RuntimeException) cause;
        }
        return new UncheckedIOException(new IOException("exit status unavailable", cause));
    }

    /** The JDK's Unix convention: the code, or 0x80 + the signal number. */
    private static int exitValue(ExitStatus status) {
        if (status.code().isPresent()) {
            return status.code().getAsInt();
        }
        // A Windows crash: the exit code Windows reports, as the JDK's Process does.
        return status.crashCode().isPresent() ? status.crashCode().getAsInt() : 128 + status.signalNumber().getAsInt();
    }
}
