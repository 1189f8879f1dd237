package dev.forkless.internal;

/**
 * Where a {@code Child} learns that its process exited.
 *
 * <p>Today the only implementation is {@link BlockingExitSource}, which waits in the calling
 * thread. The shared reactor (one daemon thread watching every pidfd with epoll) will be another:
 * it completes a future per child, and {@link #await} parks on that future. {@code Child} only
 * talks to this interface, so the switch does not touch the public API.
 *
 * <p>Every method is thread-safe and may be called by any number of threads at once. Once an exit
 * has been observed, every later call returns the same {@link RawExit}.
 */
public interface ExitSource {
    /**
     * The exit if it has happened, without blocking; reaps the child if it has just exited.
     *
     * @return the exit, or null while the child runs
     */
    RawExit poll();

    /**
     * Waits for the exit.
     *
     * @param timeoutNanos how long at most; negative waits as long as it takes
     * @return the exit, or null if the timeout passed first
     * @throws InterruptedException if the calling thread is interrupted while waiting (the child is
     *     unaffected)
     */
    RawExit await(long timeoutNanos) throws InterruptedException;

    /**
     * Waits for the exit, however long it takes, ignoring interrupts (the interrupt status is kept
     * and restored on return). For {@code close()} after a kill, where the exit is imminent.
     *
     * @return the exit
     */
    default RawExit awaitUninterruptibly() {
        boolean interrupted = false;
        try {
            for (;;) {
                try {
                    return await(-1);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
