package dev.forkless;

import java.util.Objects;
import java.util.Optional;

/**
 * Why and how a {@link Supervisor}'s supervision ended; returned by {@link Supervisor#stop()},
 * delivered by {@link Supervisor#onTermination()} and by the last event,
 * {@link SupervisorEvent.Stopped}. When there is an outcome no child of the supervisor runs any
 * more, and every child it started has been reaped and closed.
 *
 * @param reason why supervision ended
 * @param restarts how many times the command was started again after the first start, successful
 *     or not (the same as {@link Supervisor#restarts()} at the end)
 * @param lastExit how the last child that ran ended (for {@link Reason#STOPPED}, usually the
 *     stop signal); empty if no child ever ran, or if the last one's status was lost
 * @param lastStartFailure why the last start attempt failed, when it did (normally a
 *     {@link ProcessStartException}; see {@link SupervisorEvent.StartFailed}); empty when the last
 *     attempt started a child
 */
public record SupervisorOutcome(Reason reason, int restarts, Optional<ExitStatus> lastExit,
                                Optional<Throwable> lastStartFailure) {
    /** Why supervision ended. */
    public enum Reason {
        /** {@link Supervisor#stop()} (or {@code close()}) ended it. */
        STOPPED,
        /**
         * The child ended, or failed to start, so often that one more restart would have exceeded
         * the crash-loop limit ({@link Supervisor.Builder#crashLoop}); supervision gave up.
         */
        CRASH_LOOP,
        /**
         * The child ended, or failed to start, and the {@link RestartPolicy} said not to start it
         * again: exit code 0 under {@link RestartPolicy#ON_FAILURE}, any end under
         * {@link RestartPolicy#NEVER}.
         */
        NOT_RESTARTED
    }

    /**
     * Checks the components.
     *
     * @param reason why supervision ended
     * @param restarts how many restarts there were, at least 0
     * @param lastExit the last child's status, or empty
     * @param lastStartFailure why the last start failed, or empty
     */
    public SupervisorOutcome {
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(lastExit, "lastExit");
        Objects.requireNonNull(lastStartFailure, "lastStartFailure");
        if (restarts < 0) {
            throw new IllegalArgumentException("restarts < 0: " + restarts);
        }
    }
}
