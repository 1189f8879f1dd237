package dev.forkless;

/**
 * When a {@link Supervisor} starts its command again after the child has ended: the
 * {@code Restart=} of a systemd service, the {@code permanent}/{@code transient}/{@code temporary}
 * of an Erlang child specification.
 *
 * <p>A child <em>fails</em> when it does not exit by itself with code 0: a non-zero exit code, or
 * death by any signal (a {@code SIGKILL} from the kernel's out-of-memory killer, a {@code SIGSEGV},
 * and also a {@code SIGTERM} sent by someone other than the supervisor; systemd, unlike this, counts
 * {@code SIGHUP}, {@code SIGINT}, {@code SIGTERM} and {@code SIGPIPE} as clean). A start that
 * fails ({@link ProcessStartException}: the program is missing, the directory is gone, no more
 * processes) is a failure too. Whatever the policy, a restart waits for the backoff delay and
 * counts towards crash-loop detection (see {@link Supervisor.Builder}), and
 * {@link Supervisor#stop()} never leads to a restart.
 */
public enum RestartPolicy {
    /**
     * Start the command again after every end, successful or not (systemd {@code Restart=always},
     * Erlang {@code permanent}): for services that must run until stopped.
     */
    ALWAYS,
    /**
     * The default. Start the command again after a failure (see the class comment); after exit
     * code 0 supervision ends (systemd {@code Restart=on-failure}, Erlang {@code transient}).
     */
    ON_FAILURE,
    /**
     * Never start the command again: supervision ends with the first child's end or failed start
     * (systemd {@code Restart=no}, Erlang {@code temporary}). What remains is the graceful
     * {@link Supervisor#stop()}, the events and the outcome.
     */
    NEVER;

    /** Whether a child that ended with {@code status} is started again. */
    boolean restartsAfter(ExitStatus status) {
        return this == ALWAYS || (this == ON_FAILURE && !status.success());
    }

    /** Whether a failed start (or a lost exit status) is followed by another attempt. */
    boolean restartsAfterFailure() {
        return this != NEVER;
    }
}
