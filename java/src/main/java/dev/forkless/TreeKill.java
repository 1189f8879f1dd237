package dev.forkless;

/**
 * How a child is set up so that its whole tree (everything it starts, and what those start) can be
 * killed as one with {@link Child#killTree(Signal)}; chosen with {@link Command#treeKill(TreeKill)}.
 *
 * <p>Every choice also starts the child in a new process group of its own (so a terminal's Ctrl+C
 * does not reach the tree directly, the same on every machine), unless the command asked for
 * {@link Command#newSession()}, which makes one too.
 */
public enum TreeKill {
    /**
     * A cgroup when this JVM can have one ({@link Forkless#cgroupDirectory()}), else the process
     * group, with what the process group misses (daemons that call {@code setsid}; see
     * {@link #PROCESS_GROUP}). Falls back without an error but not silently: the first child that
     * falls back logs a {@code WARNING} on the {@link System.Logger} {@code "dev.forkless"}, once
     * per JVM, with the reason and the remedy (a cgroup delegated to this JVM's user, or
     * {@code -Dforkless.cgroup}). {@link Child#treeMechanism()} tells which one a child got, and
     * {@link Forkless#cgroupUnavailableReason()} why there is no cgroup. As a non-root user a cgroup
     * needs delegation; docs/trees.md says what each mechanism guarantees.
     */
    AUTO,
    /**
     * A cgroup v2 leaf of its own, or no child at all: the spawn fails with
     * {@link SpawnStep#CGROUP} when none can be had here (the reason is in the exception).
     *
     * <p>The child is spawned straight into the leaf ({@code clone3} with
     * {@code CLONE_INTO_CGROUP}), so not one of its instructions runs outside it, and everything
     * it starts inherits it. Only a process that may write to the cgroup tree can leave, so a
     * daemon that calls {@code setsid} is still killed with the tree, and the tree can be killed
     * even after the child itself has exited ({@code cgroup.kill}, atomic also against processes
     * forking meanwhile; on kernels before 5.14 by freezing the leaf, signalling every member and
     * thawing it). The leaf is removed once the child's handle is released and its last process
     * has exited.
     *
     * <p>Where: under {@code -Dforkless.cgroup=<directory>}, else under this JVM's own cgroup;
     * either must be a cgroup v2 directory this JVM may create cgroups in: as root, or delegated
     * to its user (a systemd unit with {@code Delegate=yes}, {@code systemd-run --user -p
     * Delegate=yes ...}, a container with its own cgroup namespace), with this JVM running inside
     * the delegated subtree. A {@code forkless.cgroup} that cannot be used is also logged as a
     * {@code WARNING} when cgroups are first needed.
     */
    CGROUP,
    /**
     * The process group only: the child leads a new group, and the group is signalled while the
     * child is known not to be reaped (so the group's number is surely still its own). Limits: a
     * descendant that moved to another group or session (a daemon calling {@code setsid}) is not
     * reached, and once the child has exited and been reaped the group can no longer be named.
     */
    PROCESS_GROUP
}
