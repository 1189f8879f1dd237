package dev.forkless;

import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * Something that happened to a {@link Supervisor}, as its listeners receive it
 * ({@link Supervisor.Builder#listener}).
 *
 * <p>The order is always:
 * <pre>
 * (Started | StartFailed)                       the first start, in Supervisor.Builder.start()
 * then per child that started:     Exited | ExitStatusLost
 * then, after each end or failed start, one of:
 *     RestartScheduled, then (Started | StartFailed) after the delay
 *     CrashLoop, then Stopped                   gave up
 *     Stopped                                   the policy said no, or stop() was called
 * </pre>
 * {@link Stopped} is always the last event, exactly once. Every event carries the moment it
 * happened ({@link #time()}), which is earlier than the moment a listener receives it: listeners
 * run one event at a time, in this order, on a pool thread (see {@link Supervisor}).
 *
 * <p>Each kind is a record; {@link #kind()} names it for a {@code switch} on Java 17:
 * <pre>{@code
 * Supervisor.builder(cmd).listener(e -> {
 *     if (e instanceof SupervisorEvent.Exited x && !x.status().success()) {
 *         log.warn("pid " + x.pid() + " failed: " + x.status() + " after " + x.ranFor());
 *     }
 * })
 * }</pre>
 */
public sealed interface SupervisorEvent {
    /** The kinds of event, one per record. */
    enum Kind {
        /** {@link Started}. */
        STARTED,
        /** {@link StartFailed}. */
        START_FAILED,
        /** {@link Exited}. */
        EXITED,
        /** {@link ExitStatusLost}. */
        EXIT_STATUS_LOST,
        /** {@link RestartScheduled}. */
        RESTART_SCHEDULED,
        /** {@link CrashLoop}. */
        CRASH_LOOP,
        /** {@link Stopped}. */
        STOPPED
    }

    /**
     * Which kind of event this is.
     *
     * @return the kind
     */
    Kind kind();

    /**
     * When it happened (not when the listener received it).
     *
     * @return the moment
     */
    Instant time();

    /**
     * A child was started.
     *
     * <p>The child stays open at least until every listener has received this event: a listener
     * may attach to it, e.g. {@link Child#onStdoutLine} for a command with a
     * {@linkplain Stdio#piped() piped} stdout (which must be read, or the child blocks once the
     * pipe is full). The supervisor closes it after its end; do not close it yourself.
     *
     * @param time when it was started
     * @param child the child
     * @param pid its process id (still readable after the child is closed)
     * @param restart 0 for the first start, then 1, 2, ... for each restart
     */
    record Started(Instant time, Child child, long pid, int restart) implements SupervisorEvent {
        /**
         * Checks the components.
         *
         * @param time when
         * @param child the child
         * @param pid its pid
         * @param restart which start
         */
        public Started {
            Objects.requireNonNull(time, "time");
            Objects.requireNonNull(child, "child");
        }

        @Override
        public Kind kind() {
            return Kind.STARTED;
        }
    }

    /**
     * A start failed. It counts as a failure: under {@link RestartPolicy#ALWAYS} and
     * {@link RestartPolicy#ON_FAILURE} another attempt follows after the backoff delay, unless that
     * would be a crash loop.
     *
     * @param time when it failed
     * @param cause a {@link ProcessStartException} (program missing, directory gone, {@code EAGAIN},
     *     ...); or whatever else {@link Command#spawn()} threw, e.g. an
     *     {@link IllegalStateException} for a {@link Stdio#fd} descriptor closed since the command
     *     was built
     * @param restart 0 for the first start, then 1, 2, ... for each restart
     */
    record StartFailed(Instant time, Throwable cause, int restart) implements SupervisorEvent {
        /**
         * Checks the components.
         *
         * @param time when
         * @param cause why
         * @param restart which start
         */
        public StartFailed {
            Objects.requireNonNull(time, "time");
            Objects.requireNonNull(cause, "cause");
        }

        @Override
        public Kind kind() {
            return Kind.START_FAILED;
        }
    }

    /**
     * The child ended, by itself or because {@link Supervisor#stop()} stopped it; it has been
     * reaped.
     *
     * @param time when the supervisor learned of the end
     * @param pid the child's process id
     * @param status how it ended
     * @param ranFor how long it ran, from its start to this event
     */
    record Exited(Instant time, long pid, ExitStatus status, Duration ranFor) implements SupervisorEvent {
        /**
         * Checks the components.
         *
         * @param time when
         * @param pid which child
         * @param status how it ended
         * @param ranFor how long it ran
         */
        public Exited {
            Objects.requireNonNull(time, "time");
            Objects.requireNonNull(status, "status");
            Objects.requireNonNull(ranFor, "ranFor");
        }

        @Override
        public Kind kind() {
            return Kind.EXITED;
        }
    }

    /**
     * The child ended but its status is lost: something else in this JVM reaped it
     * ({@code waitpid(-1)}, see {@link Child#waitFor()}), or someone closed it through
     * {@link Supervisor#current()} before {@link Supervisor#stop()} could stop it. Counts as a
     * failure.
     *
     * @param time when the supervisor learned of it
     * @param pid the child's process id
     * @param cause the error: an {@link UncheckedIOException} ({@code ECHILD}); or the
     *     {@link IllegalStateException} of a child closed behind the supervisor's back
     * @param ranFor how long it ran, at most
     */
    record ExitStatusLost(Instant time, long pid, Throwable cause, Duration ranFor)
            implements SupervisorEvent {
        /**
         * Checks the components.
         *
         * @param time when
         * @param pid which child
         * @param cause the error
         * @param ranFor how long it ran
         */
        public ExitStatusLost {
            Objects.requireNonNull(time, "time");
            Objects.requireNonNull(cause, "cause");
            Objects.requireNonNull(ranFor, "ranFor");
        }

        @Override
        public Kind kind() {
            return Kind.EXIT_STATUS_LOST;
        }
    }

    /**
     * The command will be started again after {@code delay}, unless {@link Supervisor#stop()}
     * comes first.
     *
     * @param time when the restart was decided (the end or failed start just reported)
     * @param delay the backoff delay
     * @param restart which restart it will be: 1 for the first
     * @param consecutive how many starts in a row have ended early (without running for the
     *     backoff reset time), this one included: the step of the exponential backoff, from 1
     */
    record RestartScheduled(Instant time, Duration delay, int restart, int consecutive)
            implements SupervisorEvent {
        /**
         * Checks the components.
         *
         * @param time when
         * @param delay how long until the restart
         * @param restart which restart
         * @param consecutive the backoff step
         */
        public RestartScheduled {
            Objects.requireNonNull(time, "time");
            Objects.requireNonNull(delay, "delay");
        }

        @Override
        public Kind kind() {
            return Kind.RESTART_SCHEDULED;
        }
    }

    /**
     * Supervision gives up: one more restart would have made more than {@code maxRestarts}
     * within {@code window} ({@link Supervisor.Builder#crashLoop}). {@link Stopped} follows, with
     * {@link SupervisorOutcome.Reason#CRASH_LOOP}.
     *
     * @param time when it gave up
     * @param restarts the restarts made within the window (the limit)
     * @param window the window
     */
    record CrashLoop(Instant time, int restarts, Duration window) implements SupervisorEvent {
        /**
         * Checks the components.
         *
         * @param time when
         * @param restarts how many
         * @param window within how long
         */
        public CrashLoop {
            Objects.requireNonNull(time, "time");
            Objects.requireNonNull(window, "window");
        }

        @Override
        public Kind kind() {
            return Kind.CRASH_LOOP;
        }
    }

    /**
     * Supervision has ended, for any reason; the last event. No child of the supervisor runs any
     * more.
     *
     * @param time when it ended
     * @param outcome why and how
     */
    record Stopped(Instant time, SupervisorOutcome outcome) implements SupervisorEvent {
        /**
         * Checks the components.
         *
         * @param time when
         * @param outcome why
         */
        public Stopped {
            Objects.requireNonNull(time, "time");
            Objects.requireNonNull(outcome, "outcome");
        }

        @Override
        public Kind kind() {
            return Kind.STOPPED;
        }
    }
}
