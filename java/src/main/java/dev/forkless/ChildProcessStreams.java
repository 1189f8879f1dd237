package dev.forkless;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.ref.WeakReference;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The streams of a {@link ChildProcess}: the JDK's "null" streams for a stream that is not piped,
 * and buffered wrappers of the child's pipes that are reclaimed when the process exits.
 *
 * <p><b>Reclaiming.</b> OpenJDK's {@code ProcessImpl} closes a child's pipes when its reaper
 * thread sees the exit: it reads what is left in the stdout and stderr pipes into memory (the
 * stream serves it from there) and closes stdin. Code written for {@code Process} relies on it
 * without knowing: {@code Runtime.exec(cmd).waitFor()} in a loop leaks nothing on the JDK. The JDK
 * does it while holding the stream's monitor, so its reaper thread waits for any read in
 * progress, possibly for as long as a grandchild keeps the pipe open. Here the exit callback runs
 * on a shared callback thread that must not wait for a reader: every read and write holds a
 * {@link ReentrantLock}; the exit only {@link ReentrantLock#tryLock() tries} it, and when a thread
 * is inside the stream, that thread reclaims as it leaves (it sees the flag: the flag is set
 * before the try, and the holder checks it after unlocking, so one of the two always does).
 * Draining uses {@code available()}, which never blocks.
 *
 * <p><b>Dropped streams.</b> The exit callback holds the streams weakly (see
 * {@link #reclaimOnExit}): a stream that nobody holds any more is collected with its pipe, and the
 * pipe's safety net closes it. So a dropped view's stdin reaches the child as end-of-file, as a
 * dropped {@code Child}'s does, and a child reading to end-of-file ({@code cat}) finishes instead
 * of waiting forever as it would behind a dropped JDK {@code Process}.
 */
final class ChildProcessStreams {
    private ChildProcessStreams() {
    }

    /** As the JDK's {@code ProcessBuilder.NullInputStream}: always at end-of-file. */
    static final class NullInput extends InputStream {
        static final NullInput INSTANCE = new NullInput();

        private NullInput() {
        }

        @Override
        public int read() {
            return -1;
        }

        @Override
        public int available() {
            return 0;
        }
    }

    /**
     * As the JDK's {@code ProcessBuilder.NullOutputStream}: every write of at least one byte
     * throws (a zero-length array write does not, as there); flush and close do nothing.
     */
    static final class NullOutput extends OutputStream {
        static final NullOutput INSTANCE = new NullOutput();

        private NullOutput() {
        }

        @Override
        public void write(int b) throws IOException {
            throw new IOException("Stream closed");
        }
    }

    /**
     * After the exit, reclaims each pipe (off the reactor thread: see {@link Child#onExit()}).
     *
     * <p>The callback holds the streams weakly. {@code exit} is reachable from the reactor until
     * the child exits, and a strong reference here would keep every pipe of a dropped view open
     * for that long: a dropped view of {@code cat} would then never see end-of-file on its stdin,
     * and never exit (the JDK's {@code Process} behaves so). Weakly held, a stream nobody holds any
     * more is collected with its pipe, whose own safety net closes it, as for a dropped
     * {@link Child}; a stream somebody still holds is reclaimed here as usual.
     */
    static void reclaimOnExit(CompletableFuture<?> exit, OutputStream stdin, InputStream stdout,
                              InputStream stderr) {
        WeakReference<OutputStream> in = new WeakReference<>(stdin);
        WeakReference<InputStream> out = new WeakReference<>(stdout);
        WeakReference<InputStream> err = new WeakReference<>(stderr);
        exit.whenComplete((status, lost) -> {
            InputStream o = out.get();
            if (o instanceof PipeInput) {
                ((PipeInput) o).processExited();
            }
            InputStream e = err.get();
            if (e instanceof PipeInput) {
                ((PipeInput) e).processExited();
            }
            OutputStream i = in.get();
            if (i instanceof PipeOutput) {
                ((PipeOutput) i).processExited();
            }
        });
    }

    /**
     * For {@code destroy()}: closes a stream without waiting for a thread that uses it (that
     * thread wakes with an {@link IOException}, as the pipe closes under it).
     */
    static void abort(Object stream) {
        if (stream instanceof PipeInput) {
            ((PipeInput) stream).closeQuietly();
        } else if (stream instanceof PipeOutput) {
            ((PipeOutput) stream).abort();
        }
    }

    /**
     * The reclaim protocol shared by both pipe wrappers: every use holds {@link #use}; the exit
     * only tries it, and a thread inside reclaims as it leaves (see the class comment).
     */
    private static final class Reclaim {
        private final ReentrantLock use = new ReentrantLock();
        private final Runnable action; // runs once, under the lock
        private volatile boolean exited;
        private volatile boolean reclaimed;

        Reclaim(Runnable action) {
            this.action = action;
        }

        void enter() {
            use.lock();
        }

        void leave() {
            use.unlock();
            if (exited && !reclaimed && !use.isHeldByCurrentThread()) {
                tryNow();
            }
        }

        /** For a close that must not wait for a thread inside: true if it may go ahead now. */
        boolean tryEnter() {
            return use.tryLock();
        }

        void processExited() {
            exited = true;
            tryNow();
        }

        private void tryNow() {
            if (!use.tryLock()) {
                return; // the thread inside reclaims as it leaves
            }
            try {
                if (!reclaimed) {
                    reclaimed = true;
                    action.run();
                }
            } finally {
                use.unlock();
            }
        }
    }

    /** The child's stdout or stderr: buffered, as the JDK's; the pipe closes at the exit. */
    static final class PipeInput extends BufferedInputStream {
        private final Object closeLock = new Object(); // between close() and the reclaim
        private final Reclaim reclaim = new Reclaim(this::reclaimPipe);

        PipeInput(InputStream pipe) {
            super(pipe);
        }

        @Override
        public int read() throws IOException {
            reclaim.enter();
            try {
                return super.read();
            } finally {
                reclaim.leave();
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            reclaim.enter();
            try {
                return super.read(b, off, len);
            } finally {
                reclaim.leave();
            }
        }

        @Override
        public long skip(long n) throws IOException {
            reclaim.enter();
            try {
                return super.skip(n);
            } finally {
                reclaim.leave();
            }
        }

        @Override
        public int available() throws IOException {
            reclaim.enter();
            try {
                return super.available();
            } finally {
                reclaim.leave();
            }
        }

        /**
         * The use lock first, then the monitor, as in every other method: JDK 25's
         * {@code transferTo} takes the monitor and then calls {@link #read(byte[], int, int)}.
         */
        @Override
        public long transferTo(OutputStream out) throws IOException {
            reclaim.enter();
            try {
                return super.transferTo(out);
            } finally {
                reclaim.leave();
            }
        }

        /** Not under the use lock: closing wakes a blocked reader rather than waiting for it. */
        @Override
        public void close() throws IOException {
            synchronized (closeLock) {
                super.close();
            }
        }

        void closeQuietly() {
            try {
                close();
            } catch (IOException ignored) {
                // the pipe is closed all the same
            }
        }

        void processExited() {
            reclaim.processExited();
        }

        /** Reads what is left into memory and closes the pipe. */
        private void reclaimPipe() {
            synchronized (closeLock) {
                InputStream pipe = in;
                if (pipe == null) {
                    return; // closed by the caller
                }
                try {
                    byte[] rest = drain(pipe);
                    pipe.close();
                    in = rest == null ? NullInput.INSTANCE : new ByteArrayInputStream(rest);
                } catch (IOException e) {
                    // Left as it is, as the JDK does: reads report the pipe's own error.
                }
            }
        }

        /** What the pipe holds now (the JDK's drainInputStream): null if nothing. */
        private static byte[] drain(InputStream pipe) throws IOException {
            byte[] a = null;
            int n = 0;
            int j;
            while ((j = pipe.available()) > 0) {
                a = a == null ? new byte[j] : Arrays.copyOf(a, n + j);
                int r = pipe.read(a, n, j);
                if (r < 0) {
                    break;
                }
                n += r;
            }
            return a == null || n == a.length ? a : Arrays.copyOf(a, n);
        }
    }

    /**
     * The child's stdin: buffered, as the JDK's (so {@code flush()} or {@code close()} sends); at
     * the exit the pipe is closed and writes that reach it throw {@code IOException("Stream
     * closed")}.
     */
    static final class PipeOutput extends BufferedOutputStream {
        private final Reclaim reclaim = new Reclaim(this::reclaimPipe);

        PipeOutput(OutputStream pipe) {
            super(pipe);
        }

        @Override
        public void write(int b) throws IOException {
            reclaim.enter();
            try {
                super.write(b);
            } finally {
                reclaim.leave();
            }
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            reclaim.enter();
            try {
                super.write(b, off, len);
            } finally {
                reclaim.leave();
            }
        }

        @Override
        public void flush() throws IOException {
            reclaim.enter();
            try {
                super.flush();
            } finally {
                reclaim.leave();
            }
        }

        @Override
        public void close() throws IOException {
            reclaim.enter();
            try {
                super.close(); // flushes, then closes the pipe
            } finally {
                reclaim.leave();
            }
        }

        /**
         * Closes the pipe first, without the lock (a writer blocked on a full pipe wakes with an
         * IOException), then this stream if no one is inside it: what was buffered is dropped,
         * the process is being destroyed.
         */
        void abort() {
            OutputStream pipe = out; // possibly already the null stream: closing it is harmless
            try {
                pipe.close();
            } catch (IOException ignored) {
                // closed all the same
            }
            if (reclaim.tryEnter()) {
                try {
                    super.close(); // its flush fails on the closed pipe; it is closed after that
                } catch (IOException ignored) {
                    // as above
                } finally {
                    reclaim.leave();
                }
            }
        }

        void processExited() {
            reclaim.processExited();
        }

        /** Closes the pipe; later writes reach the null stream, which says "Stream closed". */
        private void reclaimPipe() {
            try {
                out.close();
            } catch (IOException ignored) {
                // nothing else to do; the JDK carries on too
            }
            out = NullOutput.INSTANCE;
        }
    }
}
