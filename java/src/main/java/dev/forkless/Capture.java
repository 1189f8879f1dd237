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
    /**
     * At a cut-off (the grace after the exit, or a timeout's kill): the most rounds of reading
     * what the pipes hold already. Bounded because a writer outside the child's tree could keep
     * them full forever; a round moves up to a scratch buffer per stream, more than a pipe holds.
     */
    private static final int MAX_DRAIN_ROUNDS = 16;
    /**
     * After a timeout's kill: how long after the exit the pipes may take to end. The killed tree's
     * other members die a moment after the child (a cgroup.kill or a group's signal reaches each
     * in turn) and their pipe ends close only then; ending at the exit itself would cut off what
     * they wrote before. Only a writer outside the tree makes collection wait this long.
     */
    static final long KILL_GRACE_NANOS = 1_000_000_000L;
    /** Bytes one stream may read per reactor turn before letting others have theirs. */
    private static final int TURN_BUDGET = 1 << 20;
    /** Bytes one non-blocking read asks for. */
    private static final int READ_CHUNK = 64 << 10;
    private static final ConcurrentLinkedQueue<ByteBuffer> POOL = new ConcurrentLinkedQueue<>();
    private static final int POOL_MAX = 8;
    /** Where bytes beyond the limit go; written by the reactor thread only, never read. */
    private static final byte[] DISCARD = new byte[64 << 10];

    private Capture() {
    }

    /**
     * A growing byte array that keeps at most {@code limit} bytes; beyond, it counts the stream
     * as truncated or fails, as the options say.
     */
    static final class Sink {
        private final String stream;
        private final Object child; // for messages only
        private final int limit;
        private final boolean failBeyond;
        private final boolean usersLimit;
        private byte[] buf = EMPTY;
        private int len;
        private boolean truncated;

        Sink(String stream, Object child, OutputOptions options) {
            this(stream, child, options.limit(), options.failsBeyondLimit(), options.limitIsUsers());
        }

        /** Also the test seam: the array's own limit cannot be reached in a test's heap. */
        Sink(String stream, Object child, int limit, boolean failBeyond, boolean usersLimit) {
            this.stream = stream;
            this.child = child;
            this.limit = limit;
            this.failBeyond = failBeyond;
            this.usersLimit = usersLimit;
        }

        /**
         * The capacity to grow an array of {@code capacity} bytes to so that {@code need} bytes fit:
         * doubling (the copies overlap with the child's writing; a power-of-two total fills the
         * last array exactly and needs no trimming copy), at least 8 KiB, never past
         * {@code limit}. In long arithmetic: doubling 1 GiB overflows an int.
         */
        static int grownCapacity(int capacity, long need, int limit) {
            long cap = Math.max(8192, Math.max((long) capacity * 2, need));
            return (int) Math.min(cap, limit);
        }

        /**
         * Room for up to {@code n} more bytes, as far as the limit allows: the array grows to hold
         * them.
         *
         * @return how many of them fit (0 once the limit is reached)
         * @throws OutputTooLargeException if the heap cannot hold the grown array
         */
        int reserve(int n) {
            int fit = (int) Math.min(n, (long) limit - len);
            if (len + fit > buf.length) {
                int cap = grownCapacity(buf.length, (long) len + fit, limit);
                try {
                    buf = Arrays.copyOf(buf, cap);
                } catch (OutOfMemoryError e) {
                    throw heapFull(cap, e);
                }
            }
            return fit;
        }

        void append(ByteBuffer src, int n) {
            int fit = reserve(n);
            src.get(buf, len, fit);
            len += fit;
            if (fit < n) {
                overflowed();
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

        /**
         * Bytes arrived past the limit: the stream is truncated, or the collection fails.
         *
         * @throws OutputTooLargeException if the options say fail (always at the array's limit)
         */
        void overflowed() {
            if (!failBeyond) {
                truncated = true;
                return;
            }
            buf = EMPTY; // what was kept is dropped with the failure: free it now
            throw new OutputTooLargeException(stream + " of " + child + " went past " + limit + " bytes, "
                    + (usersLimit ? "the limit set with OutputOptions.maxBytes (Overflow.FAIL)"
                            : "the most a Java byte array can hold; set OutputOptions.maxBytes to keep"
                            + " a prefix, or read the stream (Child.stdout(), onStdoutLine) instead"),
                    stream, limit, null);
        }

        private OutputTooLargeException heapFull(long cap, OutOfMemoryError e) {
            buf = EMPTY;
            return new OutputTooLargeException(stream + " of " + child + ": " + len + " bytes collected, and"
                    + " this JVM's heap has no room for a buffer of " + cap + " bytes (raise -Xmx, set"
                    + " OutputOptions.maxBytes, or read the stream instead)", stream, cap, e);
        }

        boolean truncated() {
            return truncated;
        }

        /** The bytes, in an array of their exact length (one trimming copy if need be). */
        byte[] bytes() {
            if (len == buf.length) {
                return buf;
            }
            try {
                return Arrays.copyOf(buf, len);
            } catch (OutOfMemoryError e) {
                throw heapFull(len, e);
            }
        }

        /** Lets go of the bytes (the collection failed). */
        void drop() {
            buf = EMPTY;
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
        long startedAt = System.nanoTime();
        PipeEnd[] ends = claim(child, options, "output()", false);
        byte[] input = options.inputBytes();
        long grace = options.graceNanos();
        long timeout = options.timeoutNanos();
        Sink[] sinks = {null, new Sink("stdout", child, options), new Sink("stderr", child, options)};
        ByteBuffer[] bufs = new ByteBuffer[3];
        int[] fds = {-1, -1, -1, -1};
        boolean[] borrowed = new boolean[3];
        boolean exitFdBorrowed = false;
        int[] state = new int[12];
        int inputSent = 0;
        boolean cutOff = false;
        boolean timedOut = false;
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
            boolean watchExit = grace >= 0 || timeout >= 0;
            if (watchExit) {
                fds[3] = child.borrowExitFd(); // closed at the reap otherwise, under the poll
                exitByFd = fds[3] >= 0;
                exitFdBorrowed = exitByFd;
            }
            int drainRounds = 0;
            for (;;) {
                boolean outputsLeft = fds[1] >= 0 || fds[2] >= 0;
                if (!outputsLeft && fds[0] < 0) {
                    break;
                }
                int wait = SLICE_MILLIS;
                if (watchExit && !exitByFd && !exited) {
                    wait = 20; // no pidfd to poll: look at the exit this often
                }
                if (timeout >= 0 && !timedOut) {
                    long left = timeout - (System.nanoTime() - startedAt);
                    if (left <= 0) {
                        // Killed now; the pipes then hold what was written before, read below. The
                        // reading ends at end-of-file, or KILL_GRACE_NANOS after the exit however the
                        // grace was set: a pipe held by a process outside the tree would hold us.
                        timedOut = true;
                        child.killForOutput();
                        grace = KILL_GRACE_NANOS;
                        exitedAt = System.nanoTime(); // if it had exited already: from the kill
                    } else {
                        wait = (int) Math.min(wait, (left + 999_999) / 1_000_000);
                    }
                }
                boolean draining = false;
                if (exited) {
                    long left = grace - (System.nanoTime() - exitedAt); // no overflow for huge graces
                    if (left <= 0 && outputsLeft) {
                        // Read what the pipes hold already, without waiting for more.
                        draining = true;
                        wait = 0;
                    } else {
                        wait = (int) Math.min(wait, (left + 999_999) / 1_000_000);
                    }
                }
                int rc = Native.communicate(fds, bufs[0], bufs[1], bufs[2], state, wait);
                if (rc < 0 && rc != -Native.EINTR) {
                    throw new UncheckedIOException(new IOException("collect the output of " + child
                            + ": poll: " + Native.describe(-rc)));
                }
                boolean moved = false;
                for (int i = 1; i < 3; i++) {
                    if (fds[i] < 0) {
                        continue;
                    }
                    int pos = state[4 * i];
                    moved |= pos > 0 || state[4 * i + 2] != 0;
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
                if (draining && (!moved || ++drainRounds >= MAX_DRAIN_ROUNDS)) {
                    // Nothing more at once (or a writer outside the tree that never stops).
                    cutOff = fds[1] >= 0 || fds[2] >= 0;
                    break;
                }
                if (watchExit && !exited && ((rc > 0 && (rc & Native.IO_EXITED) != 0) || child.exitKnown())) {
                    exited = true;
                    exitedAt = System.nanoTime();
                    fds[3] = -1;
                }
                if (Thread.interrupted()) {
                    throw new InterruptedException("interrupted while collecting the output of " + child);
                }
            }
        } catch (RuntimeException | Error e) {
            sinks[1].drop();
            sinks[2].drop();
            throw e;
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
                sinks[2].truncated(), cutOff, timedOut);
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
     * once the child has exited and both streams are done. With {@code closeChild} (the
     * command's own child) the child is closed before the future completes.
     *
     * <p>The future is the collection's own: completing it from outside ({@code cancel},
     * {@code orTimeout}, {@code complete}) abandons the collection, kills the child (its tree
     * where it has one) and closes its pipes; the reactor reaps it when it exits.
     */
    static CompletableFuture<Output> collectAsync(Child child, OutputOptions options, boolean closeChild) {
        long startedAt = System.nanoTime();
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
            throw new UncheckedIOException(e.toPublic(null));
        }
        // Asked for here, while the child is surely open: it may be closed before start runs.
        CompletableFuture<ExitStatus> exit = child.onExit(Runnable::run);
        Async a = new Async(child, ends, options, reactor, closeChild);
        a.result.whenComplete((out, t) -> a.completed());
        long timeout = options.timeoutNanos();
        reactor.schedule(0, a.guard(() -> a.start(exit, timeout < 0 ? -1
                : Math.max(0, timeout - (System.nanoTime() - startedAt)))));
        return a.result;
    }

    /**
     * One asynchronous collection. Its fields are touched by the reactor thread only, except
     * {@link #finishing} and what {@link #completed} does.
     *
     * <p>Every task it gives the reactor runs through {@link #guard}: whatever one throws (an
     * {@code OutOfMemoryError} included) fails the collection, which closes the pipes (so the
     * child is not left blocked on a full one) and completes the future. The reactor itself
     * only logs what escapes, and could not know whose future to complete.
     */
    private static final class Async {
        final CompletableFuture<Output> result = new CompletableFuture<>();
        final Child child;
        final PipeEnd[] ends;
        final Reactor reactor;
        final byte[] input;
        final long grace;
        final boolean closeChild;
        final Sink[] sinks;
        final int[] raw = {-1, -1, -1};
        final long[] tokens = new long[3];
        /** Set just before this collection completes its future itself. */
        volatile boolean finishing;
        int inputSent;
        int open; // streams not yet done
        ExitStatus status;
        Reactor.Timer cutOffTimer;
        Reactor.Timer timeoutTimer;
        boolean cutOff;
        boolean timedOut;
        Throwable failure;

        Async(Child child, PipeEnd[] ends, OutputOptions options, Reactor reactor, boolean closeChild) {
            this.child = child;
            this.ends = ends;
            this.reactor = reactor;
            this.input = options.inputBytes();
            this.grace = options.graceNanos();
            this.closeChild = closeChild;
            this.sinks = new Sink[] {null, new Sink("stdout", child, options), new Sink("stderr", child, options)};
        }

        /** A reactor task that fails the collection on anything it throws. */
        Runnable guard(Runnable task) {
            return () -> {
                try {
                    task.run();
                } catch (Throwable t) {
                    fail(t);
                }
            };
        }

        void start(CompletableFuture<ExitStatus> exit, long timeoutNanos) {
            if (result.isDone()) {
                abandon(); // cancelled before it began
                return;
            }
            if (timeoutNanos >= 0) {
                timeoutTimer = reactor.schedule(timeoutNanos, guard(this::timeUp));
            }
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
            exit.whenComplete((st, t) -> reactor.schedule(0, guard(() -> exited(st, t))));
        }

        void exited(ExitStatus st, Throwable t) {
            if (t != null) {
                fail(t);
                return;
            }
            status = st;
            long g = timedOut ? KILL_GRACE_NANOS : grace;
            if (open > 0 && g >= 0) {
                cutOffTimer = reactor.schedule(g, guard(this::cutOffNow));
            }
            maybeComplete();
        }

        /** The timeout: kill, then read on until end-of-file or KILL_GRACE_NANOS after the exit. */
        void timeUp() {
            if (result.isDone()) {
                return;
            }
            timedOut = true;
            child.killForOutput();
            if (status != null && open > 0) { // exited already, a pipe held by someone else
                if (cutOffTimer != null) {
                    cutOffTimer.cancel();
                }
                cutOffTimer = reactor.schedule(KILL_GRACE_NANOS, guard(this::cutOffNow));
            }
        }

        /** Reads what the pipes hold already, then gives up on those still open. */
        void cutOffNow() {
            for (int i = 0; i < 3; i++) {
                if (raw[i] < 0) {
                    continue;
                }
                if (i > 0) {
                    drain(i);
                }
                if (raw[i] >= 0) {
                    cutOff |= i > 0;
                    done(i);
                }
            }
        }

        /** Reads without waiting, for a bounded amount; the stream is done if it ended. */
        void drain(int i) {
            for (int k = 0; k < MAX_DRAIN_ROUNDS * (SCRATCH / READ_CHUNK) && raw[i] >= 0; k++) {
                int n = readOnce(i);
                if (n == 0) {
                    done(i);
                } else if (n == -Native.EAGAIN) {
                    return;
                } else if (n < 0) {
                    throw readFailure(i, n);
                }
            }
        }

        /** One non-blocking read of stream 1 or 2 into its sink (or past the limit). */
        int readOnce(int i) {
            Sink s = sinks[i];
            int fit = s.reserve(READ_CHUNK);
            if (fit > 0) {
                int n = Native.read(raw[i], s.array(), s.length(), fit);
                if (n > 0) {
                    s.added(n);
                }
                return n;
            }
            int n = Native.read(raw[i], DISCARD, 0, DISCARD.length);
            if (n > 0) {
                s.overflowed();
            }
            return n;
        }

        UncheckedIOException readFailure(int i, int n) {
            return new UncheckedIOException(new IOException("read from " + ends[i].name() + ": "
                    + Native.describe(-n)));
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
                    n = readOnce(i);
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
                    fail(readFailure(i, n));
                    return;
                }
                budget -= n;
            }
            reactor.schedule(0, guard(() -> turn(i))); // let other children have a turn first
        }

        void watch(int i) {
            try {
                tokens[i] = reactor.watchFd(raw[i], i == 0 ? Native.WATCH_WRITE : Native.WATCH_READ,
                        guard(() -> turn(i))); // the token stays: unwatch names the latest watch
            } catch (Native.ErrnoException e) {
                fail(new UncheckedIOException(e.toPublic(ends[i].name())));
            }
        }

        /** Stream i is finished (or abandoned): unwatch, give the descriptor back, close. */
        void done(int i) {
            if (raw[i] < 0) {
                return;
            }
            int fd = raw[i];
            raw[i] = -1; // first: if what follows throws, the stream is not done twice
            open--;
            try {
                reactor.unwatchFd(fd, tokens[i]);
            } finally {
                ends[i].fd().unborrow();
                ends[i].close();
            }
            maybeComplete();
        }

        /** Ends the collection with {@code t}; must not throw (it is the last resort of guard). */
        void fail(Throwable t) {
            if (failure == null) {
                failure = t;
            }
            for (int i = 0; i < 3; i++) {
                try {
                    done(i);
                } catch (Throwable again) {
                    failure.addSuppressed(again);
                }
            }
            sinks[1].drop();
            sinks[2].drop();
            try {
                maybeComplete();
            } catch (Throwable again) {
                finishing = true;
                result.completeExceptionally(failure); // here, if even the hand-off failed
            }
        }

        void maybeComplete() {
            if (finishing || result.isDone() || open > 0 || (status == null && failure == null)) {
                return;
            }
            finishing = true;
            for (Reactor.Timer timer : new Reactor.Timer[] {cutOffTimer, timeoutTimer}) {
                if (timer != null) {
                    timer.cancel();
                }
            }
            Output out = null;
            if (failure == null) {
                try {
                    out = new Output(status, sinks[1].bytes(), sinks[2].bytes(), sinks[1].truncated(),
                            sinks[2].truncated(), cutOff, timedOut);
                } catch (Throwable t) {
                    failure = t;
                    sinks[1].drop();
                    sinks[2].drop();
                }
            }
            Output o = out;
            Throwable t = failure;
            // Off the reactor thread: the future's callbacks run where it completes, and closing the
            // command's child may wait for its tree.
            try {
                Callbacks.EXECUTOR.execute(() -> {
                    try {
                        if (closeChild) {
                            child.close();
                        }
                    } finally {
                        complete(o, t);
                    }
                });
            } catch (Throwable refused) {
                // No thread to hand it to (out of memory?): complete here rather than never. The
                // command's child is then left to its Cleaner: closing could wait on this thread.
                complete(o, t);
            }
        }

        private void complete(Output o, Throwable t) {
            if (t != null) {
                result.completeExceptionally(t);
            } else {
                result.complete(o);
            }
        }

        /**
         * The future is complete, by this collection or from outside. From outside ({@code cancel},
         * {@code orTimeout}, ...): kill the child now, in the completing thread (a signal, quick),
         * then close its pipes on the reactor thread.
         */
        void completed() {
            if (finishing) {
                return;
            }
            try {
                child.killForOutput();
            } finally {
                if (closeChild) {
                    Callbacks.EXECUTOR.execute(child::close); // it may wait for the tree: not here
                }
                reactor.schedule(0, guard(this::abandon));
            }
        }

        /** Closes the pipes of a collection whose future was completed from outside. */
        void abandon() {
            for (int i = 0; i < 3; i++) {
                if (raw[i] >= 0) {
                    done(i);
                } else if (ends[i] != null && !ends[i].isClosed()) {
                    ends[i].close(); // not begun: claimed, never borrowed
                }
            }
            if (timeoutTimer != null) {
                timeoutTimer.cancel();
            }
            if (cutOffTimer != null) {
                cutOffTimer.cancel();
            }
        }
    }
}
