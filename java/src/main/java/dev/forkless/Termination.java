package dev.forkless;

import java.util.Objects;

/**
 * How {@link Child#terminate(Signal, java.time.Duration)} ended a child, or
 * {@link Child#terminateTree(Signal, java.time.Duration)} its tree, and what the signals could
 * reach ({@link #scope()}): a tree stopped through a process group may leave processes running
 * that {@link Way#STOPPED} does not speak of.
 *
 * @param status the child's exit status
 * @param way which way it ended
 * @param scope what the signals were sent to
 */
public record Termination(ExitStatus status, Way way, Scope scope) {
    /** Which way a termination went. */
    public enum Way {
        /** The child (with a cgroup: every process of its tree) had exited before anything was sent. */
        ALREADY_EXITED,
        /**
         * It ended within the grace period after the first signal: with {@link Scope#CGROUP} every
         * process of the tree; with {@link Scope#PROCESS_GROUP} and {@link Scope#CHILD} the child
         * (members of the group that outlived it, and processes that left the group, may still
         * run).
         */
        STOPPED,
        /** The grace period passed (or the caller was interrupted) and {@link Signal#KILL} ended it. */
        KILLED
    }

    /** What the signals of a termination were sent to: the mechanism in use. */
    public enum Scope {
        /** {@link Child#terminate}: the child alone. */
        CHILD,
        /**
         * {@link Child#terminateTree} through the process group the child leads (no cgroup:
         * {@link TreeKill#PROCESS_GROUP}, or {@link TreeKill#AUTO} where this JVM has no cgroup).
         * Not reached: descendants that moved to another group or session (a daemon calling
         * {@code setsid}), and members still running once the child had been reaped.
         */
        PROCESS_GROUP,
        /**
         * {@link Child#terminateTree} through the child's own cgroup: every descendant, daemons
         * that called {@code setsid} included, also after the child itself had exited.
         */
        CGROUP
    }

    /**
     * Checks the components.
     *
     * @param status the exit status
     * @param way which way it ended
     * @param scope what the signals were sent to
     */
    public Termination {
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(way, "way");
        Objects.requireNonNull(scope, "scope");
    }

    /**
     * A termination of the child alone ({@link Scope#CHILD}).
     *
     * @param status the exit status
     * @param way which way it ended
     */
    public Termination(ExitStatus status, Way way) {
        this(status, way, Scope.CHILD);
    }

    /**
     * Whether the signals could reach descendants that left the child's process group or session
     * (daemons that called {@code setsid}): true only for {@link Scope#CGROUP}. When false after a
     * {@link Child#terminateTree}, such processes may still be running whatever {@link #way()}
     * says.
     *
     * @return true if escaped descendants were within reach
     */
    public boolean reachedEscapedDescendants() {
        return scope == Scope.CGROUP;
    }
}
