package dev.forkless;

import dev.forkless.internal.Callbacks;
import dev.forkless.internal.LazyLogger;
import dev.forkless.internal.NativeLoader;
import dev.forkless.internal.Reactor;

import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Keeps a command running: starts it, starts it again when it ends (per a {@link RestartPolicy},
 * after an exponential backoff delay), gives up on a crash loop, and stops it gracefully.
 * <pre>{@code
 * try (Supervisor s = Supervisor.builder(Command.of("my-server", "--port", "8080"))
 *         .restart(RestartPolicy.ALWAYS)
 *         .backoff(Duration.ofMillis(200), Duration.ofSeconds(10), 2.0)
 *         .crashLoop(5, Duration.ofMinutes(1))
 *         .listener(e -> log.info(e.toString()))
 *         .start()) {
 *     ...                                    // the server runs, restarted as needed
 * }                                          // close() = stop(): TERM, 10 s grace, then KILL
 * }</pre>
 *
 * <p><b>The cycle.</b> {@link Builder#start()} starts the command in the calling thread. When
 * the child ends (or a start fails), the supervisor reaps and closes it, and then either ends
 * supervision ({@link SupervisorOutcome.Reason#NOT_RESTARTED}: the policy says no;
 * {@link SupervisorOutcome.Reason#CRASH_LOOP}: too many restarts in the crash-loop window) or
 * starts the command again after the backoff delay. {@link #stop()} ends it from outside
 * ({@link SupervisorOutcome.Reason#STOPPED}). Once supervision has ended it does not start
 * again; build a new supervisor for that.
 *
 * <p><b>Backoff.</b> The n-th restart in a row after runs shorter than
 * {@link Builder#resetBackoffAfter the reset time} waits {@code initial × multiplier^(n-1)},
 * at most {@code max}, optionally shortened by a random {@link Builder#jitter jitter}; a child that
 * ran at least the reset time counts as stable, and the restart after it waits {@code initial}
 * again (Akka's backoff supervisor, systemd's {@code RestartSec=}/{@code RestartMaxDelaySec=}).
 * Clean exits count like failures here: a program that exits 0 at once, restarted under
 * {@link RestartPolicy#ALWAYS}, backs off as a crashing one does.
 *
 * <p><b>Crash loop.</b> If a restart would be the {@code (maxRestarts + 1)}-th within the
 * crash-loop window, the supervisor gives up instead: a {@link SupervisorEvent.CrashLoop} event,
 * then the end (Erlang's restart intensity; systemd's {@code StartLimitBurst=} in
 * {@code StartLimitIntervalSec=}). Restarts are counted when they are decided, failed starts
 * included.
 *
 * <p><b>Stopping.</b> {@link #stop()} cancels a pending restart, sends the child the stop signal
 * ({@link Signal#TERM} by default), waits up to the stop grace for it to exit, then sends
 * {@link Signal#KILL} ({@link Child#terminate(Signal, Duration)}). Only the child itself is
 * signalled, not processes it started: a command that runs helpers should pass the signal on to
 * them (or {@code exec} its program, for a shell script), or use
 * {@link Command#onClose(CloseAction) onClose}{@code (}{@link CloseAction#KILL_TREE}{@code )}, whose
 * tree kill runs when the stopped child is closed. When {@code stop()} returns no child
 * of the supervisor runs, none is a zombie and every one is closed (called from a listener: closed
 * once the listener returns).
 *
 * <p><b>Threads.</b> A supervisor has no thread of its own: it learns of exits through
 * {@link Child#onExit}, waits out backoff delays on the Forkless reactor's timers, and starts
 * restarts on the pool where {@link Child#onExit()} completes its futures (the common
 * {@link java.util.concurrent.ForkJoinPool}, or Forkless's small callback pool on machines with two
 * processors or fewer). Every method is thread-safe; a {@code stop()} racing a restart either
 * prevents it or stops the child it started, never leaving one running.
 *
 * <p><b>Listeners</b> receive {@link SupervisorEvent}s one at a time, in order, on a thread of
 * that same pool, never while the supervisor holds its lock: they may call any method of the
 * supervisor, {@code stop()} included (which then does not wait for the events still to be
 * delivered after the listener returns). An exception a listener throws is logged (level
 * {@code WARNING}, {@link System.Logger} {@code "dev.forkless"}) and changes nothing. A listener
 * that blocks delays later events, {@code stop()} and {@link #onTermination()}.
 *
 * <p><b>The command's own settings</b> apply to every child, unchanged: its
 * {@link CloseAction} (the supervisor closes only children that have ended),
 * {@link Stdio} settings (a {@linkplain Stdio#piped() piped} stream gives each child a new pipe,
 * to be read from the {@link SupervisorEvent.Started} event's child), environment, directory,
 * process group. A {@link Stdio#from(Child)} or {@link Stdio#fd(OwnedFd)} whose source is used up
 * or closed makes the later starts fail ({@link SupervisorEvent.StartFailed}).
 */
public final class Supervisor implements AutoCloseable {
    private static final System.Logger LOG = LazyLogger.FORKLESS;

    /** Where a supervisor is in its cycle; see {@link #state()}. */
    public enum State {
        /** A child runs. */
        RUNNING,
        /** No child runs; a restart is scheduled after the backoff delay. */
        BACKING_OFF,
        /** {@link #stop()} is stopping the child. */
        STOPPING,
        /** Supervision has ended ({@link #onTermination()} says why); no child runs. */
        FINISHED
    }

    // Configuration, fixed at start.
    private final Command command;
    private final RestartPolicy policy;
    private final long initialNanos;
    private final long maxNanos;
    private final double multiplier;
    private final double jitter;
    private final long resetAfterNanos;
    private final int maxRestarts;
    private final Duration window;
    private final long windowNanos;
    private final Signal stopSignal;
    private final Duration stopGrace;
    private final List<Consumer<? super SupervisorEvent>> listeners;

    // The cycle. Held only for quick work (the spawn itself is one: microseconds), never while a
    // listener runs or a child is being terminated.
    private final Object lock = new Object();
    private State state = State.RUNNING;       // guarded by lock
    private Child child;                       // guarded by lock; null unless RUNNING or STOPPING
    private long childPid;                     // guarded by lock
    private long childStartNanos;              // guarded by lock
    private Object pendingRestart;             // guarded by lock; the token of the scheduled one
    private Reactor.Timer pendingTimer;        // guarded by lock; null with the fallback timer
    private int restarts;                      // guarded by lock
    private int consecutive;                   // guarded by lock; the backoff step
    private final ArrayDeque<Long> recentRestarts = new ArrayDeque<>(); // guarded by lock; nanoTime
    private ExitStatus lastExit;               // guarded by lock
    private Throwable lastStartFailure;        // guarded by lock

    /** Completed (under the lock) the moment supervision has ended. */
    private final CompletableFuture<SupervisorOutcome> finished = new CompletableFuture<>();
    /** Completed after the last event has been delivered (and the last child closed). */
    private final CompletableFuture<SupervisorOutcome> termination = new CompletableFuture<>();

    // Deliveries, run one at a time in order on the callback pool: events, and the closing of
    // each ended child after its events (so a listener always gets an open child in Started).
    private final ArrayDeque<Runnable> deliveries = new ArrayDeque<>(); // guarded by itself
    private boolean delivering;                // guarded by deliveries
    private volatile Thread deliveryThread;

    private Supervisor(Builder b) {
        this.command = b.command;
        this.policy = b.restart;
        this.initialNanos = nanos(b.initialBackoff);
        this.maxNanos = nanos(b.maxBackoff);
        this.multiplier = b.multiplier;
        this.jitter = b.jitter;
        this.resetAfterNanos = nanos(b.resetBackoffAfter);
        this.maxRestarts = b.maxRestarts;
        this.window = b.window;
        this.windowNanos = nanos(b.window);
        this.stopSignal = b.stopSignal;
        this.stopGrace = b.stopGrace;
        this.listeners = List.copyOf(b.listeners);
    }

    /**
     * A builder of a supervisor for {@code command}, with every option at its default (see
     * {@link Builder}).
     *
     * @param command what to keep running; spawned again for every restart
     * @return a new builder
     */
    public static Builder builder(Command command) {
        return new Builder(command);
    }

    /**
     * The settings of a {@link Supervisor}, then {@link #start()}. Each setter returns this
     * builder; {@code start()} may be called more than once, for independent supervisors of the
     * same command. Defaults:
     * <ul>
     *   <li>{@link #restart restart}: {@link RestartPolicy#ON_FAILURE};</li>
     *   <li>{@link #backoff backoff}: 100 ms initial, 30 s at most, multiplier 2.0 (100 ms,
     *       200 ms, 400 ms, ..., 25.6 s, 30 s, 30 s, ...);</li>
     *   <li>{@link #jitter jitter}: 0 (the delays are exact);</li>
     *   <li>{@link #resetBackoffAfter resetBackoffAfter}: 10 s;</li>
     *   <li>{@link #crashLoop crashLoop}: 5 restarts within 60 s (with the default backoff a
     *       child that fails at once is started 6 times over about 3 s, then given up);</li>
     *   <li>{@link #stopSignal stopSignal}: {@link Signal#TERM};</li>
     *   <li>{@link #stopGrace stopGrace}: 10 s;</li>
     *   <li>no listener.</li>
     * </ul>
     * Not thread-safe (a supervisor is).
     */
    public static final class Builder {
        private final Command command;
        private RestartPolicy restart = RestartPolicy.ON_FAILURE;
        private Duration initialBackoff = Duration.ofMillis(100);
        private Duration maxBackoff = Duration.ofSeconds(30);
        private double multiplier = 2.0;
        private double jitter;
        private Duration resetBackoffAfter = Duration.ofSeconds(10);
        private int maxRestarts = 5;
        private Duration window = Duration.ofSeconds(60);
        private Signal stopSignal = Signal.TERM;
        private Duration stopGrace = Duration.ofSeconds(10);
        private final List<Consumer<? super SupervisorEvent>> listeners = new ArrayList<>();

        private Builder(Command command) {
            this.command = Objects.requireNonNull(command, "command");
        }

        /**
         * When the command is started again. Default: {@link RestartPolicy#ON_FAILURE}.
         *
         * @param policy the policy
         * @return this builder
         */
        public Builder restart(RestartPolicy policy) {
            this.restart = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /**
         * The exponential backoff between restarts: the n-th restart in a row waits
         * {@code initial × multiplier^(n-1)}, at most {@code max}. Default: 100 ms, 30 s, 2.0.
         * {@code multiplier} 1.0 gives a fixed delay; {@code initial} zero restarts at once.
         *
         * @param initial the first delay, zero or more
         * @param max the longest delay, at least {@code initial}
         * @param multiplier the growth per restart, 1.0 or more
         * @return this builder
         * @throws IllegalArgumentException if a value is out of range
         */
        public Builder backoff(Duration initial, Duration max, double multiplier) {
            Objects.requireNonNull(initial, "initial");
            Objects.requireNonNull(max, "max");
            if (initial.isNegative()) {
                throw new IllegalArgumentException("initial backoff is negative: " + initial);
            }
            if (max.compareTo(initial) < 0) {
                throw new IllegalArgumentException("max backoff " + max + " < initial " + initial);
            }
            if (!(multiplier >= 1.0) || Double.isInfinite(multiplier)) {
                throw new IllegalArgumentException("backoff multiplier must be finite and >= 1: " + multiplier);
            }
            this.initialBackoff = initial;
            this.maxBackoff = max;
            this.multiplier = multiplier;
            return this;
        }

        /**
         * Randomizes the backoff delays, so that many supervisors whose children fail together
         * (a shared database went away) do not restart them in lockstep: each delay is shortened
         * by a random fraction of up to {@code jitter} of itself (0.2: a delay of 1 s becomes
         * 0.8 s to 1 s). The maximum stays a maximum. Default: 0, exact delays.
         *
         * @param jitter 0.0 to 1.0
         * @return this builder
         * @throws IllegalArgumentException if out of range
         */
        public Builder jitter(double jitter) {
            if (!(jitter >= 0.0 && jitter <= 1.0)) {
                throw new IllegalArgumentException("jitter must be within 0..1: " + jitter);
            }
            this.jitter = jitter;
            return this;
        }

        /**
         * How long a child must run to count as stable: the restart after it waits the initial
         * delay again, however many restarts came before. Default: 10 s. {@code Duration.ZERO}
         * makes every delay the initial one (a fixed {@code RestartSec=}, as systemd has by
         * default).
         *
         * @param stableRun zero or more
         * @return this builder
         * @throws IllegalArgumentException if negative
         */
        public Builder resetBackoffAfter(Duration stableRun) {
            Objects.requireNonNull(stableRun, "stableRun");
            if (stableRun.isNegative()) {
                throw new IllegalArgumentException("negative: " + stableRun);
            }
            this.resetBackoffAfter = stableRun;
            return this;
        }

        /**
         * Crash-loop detection: when a restart would make more than {@code maxRestarts} restarts
         * within {@code window}, supervision gives up ({@link SupervisorEvent.CrashLoop}, outcome
         * {@link SupervisorOutcome.Reason#CRASH_LOOP}). Default: 5 within 60 s.
         * {@code Duration.ZERO} turns detection off (restarts go on as long as the policy says,
         * like {@code StartLimitIntervalSec=0} in systemd); {@code maxRestarts} 0 gives up at the
         * first restart.
         *
         * @param maxRestarts how many restarts the window may hold, 0 or more
         * @param window the sliding window, zero or more
         * @return this builder
         * @throws IllegalArgumentException if a value is negative
         */
        public Builder crashLoop(int maxRestarts, Duration window) {
            Objects.requireNonNull(window, "window");
            if (maxRestarts < 0) {
                throw new IllegalArgumentException("maxRestarts < 0: " + maxRestarts);
            }
            if (window.isNegative()) {
                throw new IllegalArgumentException("negative window: " + window);
            }
            this.maxRestarts = maxRestarts;
            this.window = window;
            return this;
        }

        /**
         * The polite signal {@link Supervisor#stop()} sends first. Default: {@link Signal#TERM}.
         *
         * @param signal e.g. {@link Signal#INT} for a program that shuts down cleanly on Ctrl+C
         * @return this builder
         */
        public Builder stopSignal(Signal signal) {
            this.stopSignal = Objects.requireNonNull(signal, "signal");
            return this;
        }

        /**
         * How long {@link Supervisor#stop()} waits after the stop signal before it sends
         * {@link Signal#KILL}. Default: 10 s. Zero kills right after the stop signal.
         *
         * @param grace zero or more
         * @return this builder
         * @throws IllegalArgumentException if negative
         */
        public Builder stopGrace(Duration grace) {
            Objects.requireNonNull(grace, "grace");
            if (grace.isNegative()) {
                throw new IllegalArgumentException("negative stop grace: " + grace);
            }
            this.stopGrace = grace;
            return this;
        }

        /**
         * Adds a listener of the supervisor's events (see {@link SupervisorEvent} for their order
         * and {@link Supervisor} for the thread they run on). Listeners run in the order they
         * were added. Default: none.
         *
         * @param listener receives every event
         * @return this builder
         */
        public Builder listener(Consumer<? super SupervisorEvent> listener) {
            listeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /**
         * Starts supervising: starts the command in the calling thread, then returns. A start
         * that fails is not thrown: it is a {@link SupervisorEvent.StartFailed} event, handled
         * like any later failure (a restart after the backoff delay, under the default policy).
         *
         * @return the running supervisor; stop it (try-with-resources) when done
         * @throws UnsatisfiedLinkError if the native library cannot be loaded (see
         *     {@link Forkless#unavailabilityCause()})
         */
        public Supervisor start() {
            NativeLoader.ensureLoaded();
            Supervisor s = new Supervisor(this);
            synchronized (s.lock) {
                s.attempt(0);
            }
            return s;
        }
    }

    /**
     * Stops supervising: cancels a pending restart, or stops the running child (the stop signal,
     * then {@link Signal#KILL} after the stop grace; see the class comment), closes it, and
     * waits until the listeners have received the last event, {@link SupervisorEvent.Stopped}.
     * Called from a listener, it returns once the child is stopped and reaped: its closing and
     * the remaining events follow when the listener returns.
     *
     * <p>If supervision has already ended (crash loop, policy, an earlier {@code stop()}), this
     * only returns that outcome. Concurrent calls all wait for the same stop. An interrupt does
     * not cut the stop short: as {@link Child#terminate(Signal, Duration)} does, it skips the
     * rest of the grace (the child is killed) and the interrupt status is kept.
     *
     * @return why and how supervision ended: {@link SupervisorOutcome.Reason#STOPPED} unless it
     *     had ended before
     */
    public SupervisorOutcome stop() {
        Child victim = null;
        boolean mine = false;
        synchronized (lock) {
            if (state == State.RUNNING || state == State.BACKING_OFF) {
                mine = true;
                victim = child;
                state = State.STOPPING;
                pendingRestart = null;
                if (pendingTimer != null) {
                    pendingTimer.cancel();
                    pendingTimer = null;
                }
            }
        }
        if (mine) {
            ExitStatus status = null;
            Throwable lost = null;
            if (victim != null) {
                try {
                    status = victim.terminate(stopSignal, stopGrace).status();
                } catch (UncheckedIOException | IllegalStateException e) {
                    // ECHILD, or closed behind our back through current(): its close action ran.
                    lost = e;
                }
            }
            synchronized (lock) {
                Instant at = Instant.now();
                if (victim != null) {
                    reportEnd(victim, at, status, lost);
                }
                finish(SupervisorOutcome.Reason.STOPPED, at);
            }
        }
        SupervisorOutcome outcome = finished.join();
        if (Thread.currentThread() != deliveryThread) {
            termination.join();
        }
        return outcome;
    }

    /**
     * The same as {@link #stop()}.
     */
    @Override
    public void close() {
        stop();
    }

    /**
     * Where the supervisor is now.
     *
     * @return the state
     */
    public State state() {
        synchronized (lock) {
            return state;
        }
    }

    /**
     * The child running now. It may end at any moment, and the supervisor then closes it (its
     * methods throw {@link IllegalStateException} after that). Use it to look, signal or read;
     * do not close it: that is the supervisor's job.
     *
     * @return the child, while one runs (also while {@link #stop()} is stopping it)
     */
    public Optional<Child> current() {
        synchronized (lock) {
            return Optional.ofNullable(child);
        }
    }

    /**
     * How many times the command has been started again after the first start, successful or
     * not.
     *
     * @return 0 or more
     */
    public int restarts() {
        synchronized (lock) {
            return restarts;
        }
    }

    /**
     * A future of why and how supervision ended, completed once it has ended and the listeners
     * have received the last event ({@link SupervisorEvent.Stopped}); never exceptionally. Each
     * call returns a new future: completing or cancelling it affects nothing else.
     *
     * @return a new future of the outcome
     */
    public CompletableFuture<SupervisorOutcome> onTermination() {
        return termination.copy();
    }

    /**
     * Like {@code "Supervisor[sleep, RUNNING, pid=1234, restarts=2]"}.
     */
    @Override
    public String toString() {
        synchronized (lock) {
            return "Supervisor[" + command.program() + ", " + state
                    + (child != null ? ", pid=" + childPid : "") + ", restarts=" + restarts + "]";
        }
    }

    // ---- the cycle (all under the lock) ------------------------------------------------------

    /** Starts the command (start number {@code n}, 0 for the first), or handles its failure. */
    private void attempt(int n) {
        Child c;
        try {
            c = command.spawn();
        } catch (Throwable t) { // ProcessStartException mostly; whatever it is, supervision goes on
            Instant at = Instant.now();
            lastStartFailure = t;
            post(new SupervisorEvent.StartFailed(at, t, n));
            decide(at, policy.restartsAfterFailure(), 0);
            return;
        }
        child = c;
        childPid = c.pid();
        childStartNanos = System.nanoTime();
        lastStartFailure = null;
        state = State.RUNNING;
        post(new SupervisorEvent.Started(Instant.now(), c, childPid, n));
        // Completed on the reactor thread, handled on the pool: never inline here, under the lock.
        c.onExit(Runnable::run).whenCompleteAsync((status, failure) -> ended(c, status, failure),
                Callbacks.EXECUTOR);
    }

    /** A child's exit, reported by the reactor. */
    private void ended(Child c, ExitStatus status, Throwable failure) {
        synchronized (lock) {
            if (c != child || state != State.RUNNING) {
                return; // stop() is handling it
            }
            Instant at = Instant.now();
            long ran = reportEnd(c, at, status, failure);
            decide(at, status != null ? policy.restartsAfter(status) : policy.restartsAfterFailure(), ran);
        }
    }

    /** Reports the end of the current child, has it closed after the event; returns its run time. */
    private long reportEnd(Child c, Instant at, ExitStatus status, Throwable failure) {
        long ran = System.nanoTime() - childStartNanos;
        child = null;
        if (status != null) {
            lastExit = status;
            post(new SupervisorEvent.Exited(at, childPid, status, Duration.ofNanos(ran)));
        } else {
            Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                    ? failure.getCause() : failure;
            post(new SupervisorEvent.ExitStatusLost(at, childPid, cause, Duration.ofNanos(ran)));
        }
        enqueue(c::close); // it has ended: close() only releases the handle
        return ran;
    }

    /** After an end or a failed start: restart later, or end supervision. */
    private void decide(Instant at, boolean restart, long ranNanos) {
        if (!restart) {
            finish(SupervisorOutcome.Reason.NOT_RESTARTED, at);
            return;
        }
        if (windowNanos > 0) {
            long now = System.nanoTime();
            while (!recentRestarts.isEmpty() && now - recentRestarts.peekFirst() >= windowNanos) {
                recentRestarts.pollFirst();
            }
            if (recentRestarts.size() >= maxRestarts) {
                post(new SupervisorEvent.CrashLoop(at, recentRestarts.size(), window));
                finish(SupervisorOutcome.Reason.CRASH_LOOP, at);
                return;
            }
            recentRestarts.addLast(now);
        }
        if (ranNanos >= resetAfterNanos) {
            consecutive = 0;
        }
        consecutive++;
        long delay = delayNanos(consecutive);
        state = State.BACKING_OFF;
        Object token = new Object();
        pendingRestart = token;
        post(new SupervisorEvent.RestartScheduled(at, Duration.ofNanos(delay), restarts + 1, consecutive));
        // The reactor thread only hands the restart over: spawning and events happen on the pool.
        Runnable fire = () -> Callbacks.EXECUTOR.execute(() -> restart(token));
        try {
            pendingTimer = Reactor.get().schedule(delay, fire);
        } catch (Exception | LinkageError noReactor) {
            // The reactor could not start (EMFILE?): the JDK's delay thread, then; the token
            // check makes a restart that is no longer wanted harmless.
            pendingTimer = null;
            CompletableFuture.delayedExecutor(delay, TimeUnit.NANOSECONDS, Callbacks.EXECUTOR)
                    .execute(() -> restart(token));
        }
    }

    /** The backoff delay of the n-th restart in a row, from 1. */
    private long delayNanos(int n) {
        double d = initialNanos * Math.pow(multiplier, n - 1);
        if (!(d < maxNanos)) { // also infinity
            d = maxNanos;
        }
        if (jitter > 0) {
            d *= 1.0 - jitter * ThreadLocalRandom.current().nextDouble();
        }
        return (long) d;
    }

    /** The scheduled restart, on the pool. */
    private void restart(Object token) {
        synchronized (lock) {
            if (pendingRestart != token || state != State.BACKING_OFF) {
                return; // stopped (or superseded) meanwhile
            }
            pendingRestart = null;
            pendingTimer = null;
            restarts++;
            attempt(restarts);
        }
    }

    private void finish(SupervisorOutcome.Reason reason, Instant at) {
        state = State.FINISHED;
        SupervisorOutcome outcome = new SupervisorOutcome(reason, restarts, Optional.ofNullable(lastExit),
                Optional.ofNullable(lastStartFailure));
        post(new SupervisorEvent.Stopped(at, outcome));
        enqueue(() -> termination.complete(outcome));
        finished.complete(outcome);
    }

    // ---- delivery ----------------------------------------------------------------------------

    private void post(SupervisorEvent event) {
        if (!listeners.isEmpty()) {
            enqueue(() -> deliver(event));
        }
    }

    private void deliver(SupervisorEvent event) {
        for (Consumer<? super SupervisorEvent> l : listeners) {
            try {
                l.accept(event);
            } catch (Throwable t) {
                try {
                    LOG.log(System.Logger.Level.WARNING, "supervisor of " + command.program()
                            + ": listener " + l + " threw on " + event.kind(), t);
                } catch (Throwable ignored) {
                    // Logging failed too: supervision goes on regardless.
                }
            }
        }
    }

    private void enqueue(Runnable r) {
        synchronized (deliveries) {
            deliveries.add(r);
            if (delivering) {
                return;
            }
            delivering = true;
        }
        try {
            Callbacks.EXECUTOR.execute(this::drain);
        } catch (RejectedExecutionException e) {
            drain(); // not expected of these pools; late delivery beats none
        }
    }

    private void drain() {
        deliveryThread = Thread.currentThread();
        for (;;) {
            Runnable r;
            synchronized (deliveries) {
                r = deliveries.poll();
                if (r == null) {
                    deliveryThread = null; // before another thread may start draining
                    delivering = false;
                    return;
                }
            }
            try {
                r.run();
            } catch (Throwable t) {
                try {
                    LOG.log(System.Logger.Level.WARNING, "supervisor of " + command.program()
                            + ": delivery failed", t);
                } catch (Throwable ignored) {
                    // as above
                }
            }
        }
    }

    private static long nanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException tooLong) {
            return Long.MAX_VALUE;
        }
    }
}
