package dev.forkless;

import dev.forkless.internal.Callbacks;
import dev.forkless.internal.Native;
import dev.forkless.internal.Reactor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Collects a child's output: {@link #collect} in the calling thread with the core's poll loop
 * ({@code fl_communicate}, no helper thread), {@link #collectAsync} on the reactor thread with
 * non-blocking reads multiplexed with every other child's exit and pipes (no thread at all).
 *
 * <p>Why two: the blocking form is the fast path (one thread moving bytes as fast as the pipe
 * allows, no hand-off); the asynchronous one lets hundreds of children be collected at once
 * without a thread each.
 */
final class Capture {
    private static final byte[] EMPTY = new byte[0];
    /** Scratch buffers of the poll loop: the core reads into them, Java copies out when full. */
    private static final int SCRATCH = 256 << 10;
    private static final int INPUT_CHUNK = 64 << 10;
    /** How long the blocking loop sleeps in the core before checking for an interrupt. */
    private static final int SLICE_MILLIS = 200;
    /** Bytes one stream may read per reactor turn before letting others have theirs. */
    private static final int TURN_BUDGET = 1 << 20;
    private static final ConcurrentLinkedQueue<ByteBuffer> POOL = new ConcurrentLinkedQueue<>();
    private static final int POOL_MAX = 8;
    /** Where bytes beyond the limit go; written by the reactor thread only, never read. */
    private static final byte[] DISCARD = new byte[64 << 10];

    private Capture() {
    }

    /** A growing byte array that keeps at most {@code limit} bytes and counts the rest. */
    static final class Sink {
        private final int limit;
        private byte[] buf = EMPTY;
        private int len;
        private boolean truncated;

        Sink(int limit) {
            this.limit = limit;
        }

        /**
         * Room for {@code n} more bytes, as far as the limit allows.
         *
         * @return how many of them fit (0 once the limit is reached)
         */
        int reserve(int n) {
            int fit = Math.min(n, limit - len);
            if (len + fit > buf.length) {
                // Doubling: the copies overlap with the child's writing; a power-of-two total fills
                // the last array exactly and needs no trimming copy.
                long cap = Math.max(8192, Math.max((long) buf.length * 2, (long) len + fit));
                buf = Arrays.copyOf(buf, (int) Math.min(cap, limit));
            }
            return fit;
        }

        void append(ByteBuffer src, int n) {
            int fit = reserve(n);
            src.get(buf, len, fit);
            len += fit;
            if (fit < n) {
                truncated = true;
            }
        }

        byte[] array() {
            return buf;
        }

        int length() {
            return len;
        }

        void added(int n) {
            len += n;
        }

        void markTruncated() {
            truncated = true;
        }

        boolean truncated() {
            return truncated;
        }

        byte[] bytes() {
            return len == buf.length ? buf : Arrays.copyOf(buf, len);
        }
    }

    private static ByteBuffer scratch(int size) {
        if (size == SCRATCH) {
            ByteBuffer b = POOL.poll();
            if (b != null) {
                return b.clear();
            }
        }
        return ByteBuffer.allocateDirect(size);
    }

    private static void recycle(ByteBuffer b) {
        if (b != null && b.capacity() == SCRATCH && POOL.size() < POOL_MAX) {
            POOL.offer(b);
        }
    }

    /** The streams a collection uses: the child's pipes, claimed for {@code who}. */
    private static PipeEnd[] claim(Child child, OutputOptions options, String who, boolean outlivesChild) {
        PipeEnd[] ends = {child.pipe(0), child.pipe(1), child.pipe(2)};
        if (options.inputBytes() != null && ends[0] == null) {
            throw new IllegalStateException("cannot feed input to " + child + ": its stdin is not"
                    + " Stdio.piped()");
        }
        int claimed = 0;
        try {
            for (; claimed < 3; claimed++) {
                if (ends[claimed] != null) {
                    ends[claimed].claim(who, outlivesChild);
                }
            }
        } catch (IllegalStateException e) {
            for (int i = 0; i < claimed; i++) {
                if (ends[i] != null) {
                    ends[i].unclaim(who);
                }
            }
            throw e;
        }
        return ends;
    }

    /**
     * Feeds the input and collects stdout and stderr in this thread, then waits for the exit.
     * The child's pipes are closed afterwards, also on failure.
     */
    static Output collect(Child child, OutputOptions options) throws InterruptedException {
        PipeEnd[] ends = claim(child, options, "output()", false);
        byte[] input = options.inputBytes();
        long grace = options.graceNanos();
        Sink[] sinks = {null, new Sink(options.limit()), new Sink(options.limit())};
        ByteBuffer[] bufs = new ByteBuffer[3];
        int[] fds = {-1, -1, -1, -1};
        boolean[] borrowed = new boolean[3];
        boolean exitFdBorrowed = false;
        int[] state = new int[12];
        int inputSent = 0;
        boolean cutOff = false;
        try {
            for (int i = 0; i < 3; i++) {
                if (ends[i] == null) {
                    continue;
                }
                if (i == 0 && (input == null || input.length == 0)) {
                    ends[0].close(); // no input: end-of-file at once, as a shell's </dev/null
                    continue;
                }
                fds[i] = ends[i].fd().borrow();
                if (fds[i] < 0) {
                    throw new IllegalStateException(ends[i].name() + " is closed");
                }
                borrowed[i] = true;
                bufs[i] = scratch(i == 0 ? INPUT_CHUNK : SCRATCH);
                state[4 * i + 1] = bufs[i].capacity();
            }
            if (fds[0] >= 0) {
                int n = Math.min(input.length, INPUT_CHUNK);
                bufs[0].put(0, input, 0, n);
                state[1] = n;
                inputSent = n;
            }
            boolean exited = false;
            long exitedAt = 0;
            boolean exitByFd = false;
            if (grace >= 0) {
                fds[3] = child.borrowExitFd(); // closed at the reap otherwise, under the poll
                exitByFd = fds[3] >= 0;
                exitFdBorrowed = exitByFd;
            }
            for (;;) {
                boolean outputsLeft = fds[1] >= 0 || fds[2] >= 0;
                if (!outputsLeft && fds[0] < 0) {
                    break;
                }
                int timeout = SLICE_MILLIS;
                if (grace >= 0 && !exitByFd && !exited) {
                    timeout = 20; // no pidfd to poll: look at the exit this often
                }
                if (exited) {
                    long left = grace - (System.nanoTime() - exitedAt); // no overflow for huge graces
                    if (left <= 0 && outputsLeft) {
                        cutOff = true;
                        break;
                    }
                    timeout = (int) Math.min(timeout, (left + 999_999) / 1_000_000);
                }
                int rc = Native.communicate(fds, bufs[0], bufs[1], bufs[2], state, timeout);
                if (rc < 0 && rc != -Native.EINTR) {
                    throw new UncheckedIOException(new IOException("collect the output of " + child
                            + ": poll: " + Native.describe(-rc)));
                }
                for (int i = 1; i < 3; i++) {
                    if (fds[i] < 0) {
                        continue;
                    }
                    int pos = state[4 * i];
                    if (pos > 0) {
                        sinks[i].append(bufs[i].position(0), pos);
                        state[4 * i] = 0;
                    }
                    if (state[4 * i + 2] != 0) {
                        if (state[4 * i + 3] != 0) {
                            throw new UncheckedIOException(new IOException("read from " + ends[i].name()
                                    + ": " + Native.describe(state[4 * i + 3])));
                        }
                        fds[i] = release(ends[i], borrowed, i);
                    }
                }
                if (fds[0] >= 0 && state[2] != 0) {
                    if (state[3] == 0 && inputSent < input.length) {
                        int n = Math.min(input.length - inputSent, INPUT_CHUNK);
                        bufs[0].put(0, input, inputSent, n);
                        inputSent += n;
                        state[0] = 0;
                        state[1] = n;
                        state[2] = 0;
                    } else {
                        // All written, or the child stopped reading (EPIPE): not an error, as in a
                        // shell. Closing delivers end-of-file.
                        fds[0] = release(ends[0], borrowed, 0);
                    }
                }
                if (grace >= 0 && !exited && ((rc > 0 && (rc & Native.IO_EXITED) != 0) || child.exitKnown())) {
                    exited = true;
                    exitedAt = System.nanoTime();
                    fds[3] = -1;
                }
                if (Thread.interrupted()) {
                    throw new InterruptedException("interrupted while collecting the output of " + child);
                }
            }
        } finally {
            if (exitFdBorrowed) {
                child.returnExitFd();
            }
            for (int i = 0; i < 3; i++) {
                if (ends[i] != null) {
                    release(ends[i], borrowed, i);
                }
                recycle(bufs[i]);
            }
        }
        ExitStatus status = child.waitFor();
        return new Output(status, sinks[1].bytes(), sinks[2].bytes(), sinks[1].truncated(),
                sinks[2].truncated(), cutOff);
    }

    private static int release(PipeEnd end, boolean[] borrowed, int i) {
        if (borrowed[i]) {
            borrowed[i] = false;
            end.fd().unborrow();
        }
        end.close();
        return -1;
    }

    // ---- asynchronous: everything below runs on the reactor thread, except start ------------

    /**
     * Starts collecting on the reactor thread; the future completes (on the callback executor)
     * once the child has exited and both streams are done.
     */
    static CompletableFuture<Output> collectAsync(Child child, OutputOptions options) {
        PipeEnd[] ends = claim(child, options, "outputAsync()", true);
        Reactor reactor;
        try {
            reactor = Reactor.get();
        } catch (Native.ErrnoException e) {
            for (PipeEnd end : ends) {
                if (end != null) {
                    end.unclaim("outputAsync()");
                }
            }
            throw new UncheckedIOException(new IOException(e.getMessage(), e));
        }
        // Asked for here, while the child is surely open: it may be closed before start runs.
        CompletableFuture<ExitStatus> exit = child.onExit(Runnable::run);
        Async a = new Async(child, ends, options, reactor);
        reactor.schedule(0, () -> a.start(exit));
        return a.result;
    }

    /** One asynchronous collection. Its fields are touched by the reactor thread only. */
    private static final class Async {
        final CompletableFuture<Output> result = new CompletableFuture<>();
        final Child child;
        final PipeEnd[] ends;
        final Reactor reactor;
        final byte[] input;
        final long grace;
        final Sink[] sinks;
        final int[] raw = {-1, -1, -1};
        final long[] tokens = new long[3];
        int inputSent;
        int open; // streams not yet done
        ExitStatus status;
        Reactor.Timer cutOffTimer;
        boolean cutOff;
        Throwable failure;

        Async(Child child, PipeEnd[] ends, OutputOptions options, Reactor reactor) {
            this.child = child;
            this.ends = ends;
            this.reactor = reactor;
            this.input = options.inputBytes();
            this.grace = options.graceNanos();
            this.sinks = new Sink[] {null, new Sink(options.limit()), new Sink(options.limit())};
        }

        void start(CompletableFuture<ExitStatus> exit) {
            for (int i = 0; i < 3; i++) {
                if (ends[i] == null) {
                    continue;
                }
                if (i == 0 && (input == null || input.length == 0)) {
                    ends[0].close();
                    continue;
                }
                raw[i] = ends[i].fd().borrow();
                if (raw[i] < 0) {
                    fail(new IllegalStateException(ends[i].name() + " is closed"));
                    return;
                }
                open++;
                turn(i);
            }
            exit.whenComplete((st, t) -> reactor.schedule(0, () -> exited(st, t)));
        }

        void exited(ExitStatus st, Throwable t) {
            if (t != null) {
                fail(t);
                return;
            }
            status = st;
            if (open > 0 && grace >= 0) {
                cutOffTimer = reactor.schedule(grace, () -> {
                    cutOff = true;
                    for (int i = 0; i < 3; i++) {
                        done(i);
                    }
                });
            }
            maybeComplete();
        }

        /** Moves what the pipe has now; watches it again when it runs dry. */
        void turn(int i) {
            if (raw[i] < 0 || result.isDone()) {
                return;
            }
            int budget = TURN_BUDGET;
            while (budget > 0) {
                int n;
                if (i == 0) {
                    n = Native.write(raw[0], input, inputSent, input.length - inputSent);
                    if (n > 0) {
                        inputSent += n;
                        if (inputSent == input.length) {
                            done(0);
                            return;
                        }
                    }
                } else {
                    Sink s = sinks[i];
                    int fit = s.reserve(64 << 10);
                    if (fit > 0) {
                        n = Native.read(raw[i], s.array(), s.length(), fit);
                        if (n > 0) {
                            s.added(n);
                        }
                    } else {
                        n = Native.read(raw[i], DISCARD, 0, DISCARD.length);
                        if (n > 0) {
                            s.markTruncated();
                        }
                    }
                    if (n == 0) {
                        done(i);
                        return;
                    }
                }
                if (n == -Native.EAGAIN) {
                    watch(i);
                    return;
                }
                if (n < 0) {
                    if (i == 0) { // EPIPE: the child stopped reading; not an error
                        done(0);
                        return;
                    }
                    fail(new UncheckedIOException(new IOException("read from " + ends[i].name() + ": "
                            + Native.describe(-n))));
                    return;
                }
                budget -= n;
            }
            reactor.schedule(0, () -> turn(i)); // let other children have a turn first
        }

        void watch(int i) {
            try {
                tokens[i] = reactor.watchFd(raw[i], i == 0 ? Native.WATCH_WRITE : Native.WATCH_READ,
                        () -> turn(i)); // the token stays: unwatch names the latest watch
            } catch (Native.ErrnoException e) {
                fail(new UncheckedIOException(new IOException(ends[i].name() + ": " + e.getMessage(), e)));
            }
        }

        /** Stream i is finished (or abandoned): unwatch, give the descriptor back, close. */
        void done(int i) {
            if (raw[i] < 0) {
                return;
            }
            reactor.unwatchFd(raw[i], tokens[i]);
            raw[i] = -1;
            ends[i].fd().unborrow();
            ends[i].close();
            open--;
            maybeComplete();
        }

        void fail(Throwable t) {
            if (failure == null) {
                failure = t;
            }
            for (int i = 0; i < 3; i++) {
                done(i);
            }
            maybeComplete();
        }

        void maybeComplete() {
            if (result.isDone() || open > 0 || (status == null && failure == null)) {
                return;
            }
            if (cutOffTimer != null) {
                cutOffTimer.cancel();
            }
            Output out = failure != null ? null : new Output(status, sinks[1].bytes(), sinks[2].bytes(),
                    sinks[1].truncated(), sinks[2].truncated(), cutOff);
            Throwable t = failure;
            Callbacks.EXECUTOR.execute(() -> {
                if (t != null) {
                    result.completeExceptionally(t);
                } else {
                    result.complete(out);
                }
            });
        }
    }

}
