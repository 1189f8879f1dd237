package dev.forkless.internal;

/**
 * An {@link ExitSource} that waits inside the core, in the calling thread ({@code fl_process_wait}
 * polls the pidfd).
 *
 * <p>A native wait cannot see {@link Thread#interrupt()}, so long waits are cut into slices of
 * {@value #SLICE_MILLIS} ms with an interrupt check between them. The exit itself is seen at once:
 * a slice ends as soon as the pidfd becomes readable. Many threads may wait at the same time; the
 * core serializes the reap and hands every one of them the same status.
 */
public final class BlockingExitSource implements ExitSource {
    /** The longest a waiting thread stays in native code before it checks for an interrupt. */
    static final int SLICE_MILLIS = 100;

    private final NativeProcess process;
    private volatile RawExit exit;

    /**
     * Creates one for a process.
     *
     * @param process the handle to wait on
     */
    public BlockingExitSource(NativeProcess process) {
        this.process = process;
    }

    @Override
    public RawExit poll() {
        RawExit e = exit;
        if (e == null) {
            try {
                e = remember(process.await(0));
            } catch (IllegalStateException released) {
                e = exit;
                if (e == null) {
                    throw released;
                }
            }
        }
        return e;
    }

    @Override
    public RawExit await(long timeoutNanos) throws InterruptedException {
        RawExit e = exit;
        if (e != null) {
            return e;
        }
        if (timeoutNanos == 0) {
            return poll();
        }
        long deadline = timeoutNanos > 0 ? System.nanoTime() + timeoutNanos : 0;
        for (;;) {
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            int slice = SLICE_MILLIS;
            if (timeoutNanos > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return poll();
                }
                // Round up: a 0.3 ms timeout must still wait, not degrade to a poll.
                slice = (int) Math.min(SLICE_MILLIS, (left + 999_999) / 1_000_000);
            }
            e = exit;
            if (e != null) {
                return e;
            }
            try {
                e = remember(process.await(slice));
            } catch (IllegalStateException released) {
                // Another thread collected the exit and then released the handle (Child.close):
                // the exit is known, or the handle was let go without one.
                e = exit;
                if (e == null) {
                    throw released;
                }
            }
            if (e != null) {
                return e;
            }
        }
    }

    private RawExit remember(RawExit e) {
        if (e != null) {
            exit = e;
        }
        return e;
    }
}
