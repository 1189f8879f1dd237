package dev.forkless;

import java.util.Objects;

/**
 * How {@link Child#terminate(Signal, java.time.Duration)} ended a child, or
 * {@link Child#terminateTree(Signal, java.time.Duration)} its tree.
 *
 * @param status the exit status
 * @param way which way it ended
 */
public record Termination(ExitStatus status, Way way) {
    /** Which way a termination went. */
    public enum Way {
        /** The child had exited before anything was sent. */
        ALREADY_EXITED,
        /** The child exited within the grace period after the first signal. */
        STOPPED,
        /** The grace period passed (or the caller was interrupted) and {@link Signal#KILL} ended it. */
        KILLED
    }

    /**
     * Checks the components.
     *
     * @param status the exit status
     * @param way which way it ended
     */
    public Termination {
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(way, "way");
    }
}
