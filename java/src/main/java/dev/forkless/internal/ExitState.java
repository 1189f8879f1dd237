package dev.forkless.internal;

import java.util.concurrent.CompletableFuture;

/**
 * What Forkless knows about one child's exit, shared by the three parties that outlive each other
 * in any order: the public {@code Child}, the {@link Reactor} (which completes {@link #future()}
 * when the child exits, and holds this object until then), and the {@code Child}'s
 * {@link java.lang.ref.Cleaner} action (which must not refer to the {@code Child}).
 *
 * <p>The future is internal: its dependents are Forkless's own (threads parked in
 * {@code waitFor}, the bridges that {@code Child.onExit} builds), never user callbacks, because it
 * is completed on the reactor thread. It completes normally with the exit, or exceptionally with
 * an {@link java.io.UncheckedIOException} when the status is lost ({@code ECHILD}: something else
 * in this process reaped the child) or the core failed to wait.
 */
public final class ExitState {
    private final long pid;
    private final String program;
    private final Throwable createdAt;
    private final CompletableFuture<RawExit> future = new CompletableFuture<>();
    private volatile boolean observed;

    /**
     * Creates the state of a child just spawned.
     *
     * @param pid its process id
     * @param program the program as given, for messages
     * @param createdAt where it was spawned, when leak detection is on; else null
     */
    public ExitState(long pid, String program, Throwable createdAt) {
        this.pid = pid;
        this.program = program;
        this.createdAt = createdAt;
    }

    /**
     * The child's process id.
     *
     * @return the pid
     */
    public long pid() {
        return pid;
    }

    /**
     * The program as given.
     *
     * @return the program
     */
    public String program() {
        return program;
    }

    /**
     * Where the child was spawned, recorded only with leak detection on.
     *
     * @return the stack of the spawn, or null
     */
    public Throwable createdAt() {
        return createdAt;
    }

    /**
     * The exit, completed once (later completions are ignored): by the reactor thread, or earlier
     * by a non-blocking check that reaped the child first (the reactor then reports the same
     * status).
     *
     * @return the internal future; never hand it to user code
     */
    public CompletableFuture<RawExit> future() {
        return future;
    }

    /** Records that someone asked for the exit (for leak detection). */
    public void markObserved() {
        observed = true;
    }

    /**
     * Whether someone has seen (or asked to be told about) the exit.
     *
     * @return true once a wait returned the exit or an {@code onExit} future was requested
     */
    public boolean isObserved() {
        return observed;
    }
}
