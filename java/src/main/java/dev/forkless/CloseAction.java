package dev.forkless;

/**
 * What {@link Child#close()} does with a child that may still be running; chosen per command with
 * {@link Command#onClose(CloseAction)}. The default is {@link #KILL}, so a {@code try}-with-resources
 * block bounds the child's lifetime.
 *
 * <p>Whatever the action, the child is never left a zombie: a child that is still running when its
 * handle is let go is reaped by Forkless after it exits.
 */
public enum CloseAction {
    /**
     * The default. If the child is still running, send it {@link Signal#KILL}; then wait for it to
     * exit and reap it. {@code close()} returns once the process is gone (normally microseconds
     * after the signal; longer only if the process is stuck in an uninterruptible kernel call).
     * Only the child itself is signalled, not processes it started.
     */
    KILL,
    /**
     * Like {@link #KILL}, for the child's whole tree: {@link Signal#KILL} to every process in it
     * (see {@link Child#killTree(Signal)}), then wait for the child. A command with this action
     * is set up with {@link TreeKill#AUTO} unless it chose with {@link Command#treeKill}: in a
     * cgroup of its own where this JVM can have one, so {@code close()} returns once every
     * process of the tree has exited (waiting up to 5 s for processes stuck in the kernel), daemons
     * that called {@code setsid} included; else in a process group of its own, whose members
     * that left it are not reached (Forkless logs a {@code WARNING} once when this happens; see
     * {@link TreeKill#AUTO} and {@link Child#treeMechanism()}). The same holds for a
     * {@link Command#dieWithParent()} child when the JVM is killed with {@code SIGKILL}: its whole
     * tree dies with a cgroup, only the child itself without one.
     */
    KILL_TREE,
    /**
     * Wait for the child to exit, however long that takes, then reap it. If the thread calling
     * {@code close()} is interrupted while waiting, the handle is let go as with
     * {@link #LEAVE_RUNNING} and the thread's interrupt status is set again.
     */
    WAIT,
    /**
     * Let the child run on. {@code close()} returns at once and releases the handle; Forkless's
     * reactor reaps the child when it exits. The child can no longer be waited for or signalled
     * through this library; waits already in progress (and {@code onExit()} futures) still
     * receive its status.
     */
    LEAVE_RUNNING
}
