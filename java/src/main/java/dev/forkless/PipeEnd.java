package dev.forkless;

import dev.forkless.internal.Native;
import dev.forkless.internal.Reactor;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * This JVM's end of a pipe to a child ({@link Stdio#piped()}), shared by the stream, the channel
 * and the collectors that may consume it.
 *
 * <p>The descriptor is non-blocking; a blocking {@link #read} or {@link #write} that finds the
 * pipe empty (full) asks the reactor to report it readable (writable) and parks until then. No
 * thread blocks in native code, so a virtual thread gives its carrier back, and an interrupt or a
 * {@link #close()} from another thread ends the wait. The reactor's callback only unparks: the
 * descriptor itself is used by the thread that borrowed it, so {@code close()} during a read
 * closes it once that read has let go ({@link OwnedFd#borrow()}), never under it.
 *
 * <p>Only one consumer kind may use an end: {@link #claim} records who ({@code "stdout()"},
 * {@code "output()"}, ...), so two collectors never split one stream's bytes between them.
 */
final class PipeEnd implements AutoCloseable {
    private final OwnedFd fd;
    private final boolean input; // the child's stdin: this end writes
    private final String name;   // "stdout of pid 123 (cat)"
    private final ReentrantLock lock = new ReentrantLock(); // one blocking call at a time
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile Thread parked;
    private String consumer;     // guarded by this
    private boolean outlivesChild; // guarded by this: the consumer reads on after Child.close()
    // Bytes read ahead by available(); guarded by lock.
    private byte[] ahead;
    private int aheadPos;
    private int aheadEnd;
    private boolean aheadEof;

    PipeEnd(OwnedFd fd, boolean input, String name) {
        this.fd = fd;
        this.input = input;
        this.name = name;
    }

    String name() {
        return name;
    }

    /** Whether a collector that outlives the Child (outputAsync, onStdoutLine) reads this end. */
    synchronized boolean isCollected() {
        return outlivesChild;
    }

    /**
     * Records the consumer; the same consumer may claim again.
     *
     * @param outlivesChild whether it reads on after {@link Child#close()} (until end-of-file),
     *     so that close must leave the pipe open
     * @throws IllegalStateException if another consumer has it, or it was given away
     */
    synchronized void claim(String who, boolean outlivesChild) {
        if (consumer == null) {
            consumer = who;
            this.outlivesChild = outlivesChild;
        } else if (!consumer.equals(who)) {
            throw new IllegalStateException(name + " is already used by " + consumer
                    + "; it cannot also be used by " + who);
        }
    }

    /** Undoes a claim that did not take effect (a spawn that failed). */
    synchronized void unclaim(String who) {
        if (who.equals(consumer)) {
            consumer = null;
            outlivesChild = false;
        }
    }

    /** The descriptor, for the poll loop of {@code output()}; callers borrow it through this. */
    OwnedFd fd() {
        return fd;
    }

    boolean isClosed() {
        return closed.get();
    }

    /** A non-blocking read or write of the borrowed descriptor: bytes, or -errno. */
    private interface Io {
        int call(int raw);
    }

    /**
     * Runs {@code io} until it does not say {@code EAGAIN}, parking for a readiness report in
     * between; under {@link #lock}.
     *
     * @return bytes moved (0: end of file for a read)
     */
    private int transfer(int direction, Io io) throws IOException {
        int raw = borrow();
        try {
            for (;;) {
                int n = io.call(raw);
                if (n != -Native.EAGAIN) {
                    return check(n);
                }
                await(raw, direction);
            }
        } finally {
            fd.unborrow();
        }
    }

    /** Bytes read ahead by {@link #available()} and not yet taken; under {@link #lock}. */
    private int aheadLeft() {
        return aheadEnd - aheadPos;
    }

    /**
     * Reads at least one byte, parking while the pipe is empty.
     *
     * @return bytes read, or -1 at end of file
     */
    int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        lock.lock();
        try {
            int n = Math.min(len, aheadLeft());
            if (n > 0) {
                System.arraycopy(ahead, aheadPos, b, off, n);
                aheadPos += n;
                return n;
            }
            if (aheadEof) {
                return -1;
            }
            n = transfer(Native.WATCH_READ, raw -> Native.read(raw, b, off, len));
            return n == 0 ? -1 : n;
        } finally {
            lock.unlock();
        }
    }

    /**
     * As {@link #read(byte[], int, int)}, into a buffer: at least one byte, or -1. A read-only
     * buffer is refused before anything is read (a direct one would otherwise be written through
     * its address), even with nothing remaining.
     */
    int read(ByteBuffer dst) throws IOException {
        if (dst.isReadOnly()) {
            throw new ReadOnlyBufferException();
        }
        if (!dst.hasRemaining()) {
            return 0;
        }
        if (!dst.isDirect()) {
            int n = read(dst.array(), dst.arrayOffset() + dst.position(), dst.remaining());
            if (n > 0) {
                dst.position(dst.position() + n);
            }
            return n;
        }
        lock.lock();
        try {
            int n = Math.min(dst.remaining(), aheadLeft());
            if (n > 0) {
                dst.put(ahead, aheadPos, n);
                aheadPos += n;
                return n;
            }
            if (aheadEof) {
                return -1;
            }
            n = transfer(Native.WATCH_READ, raw -> Native.readBuffer(raw, dst, dst.position(), dst.remaining()));
            if (n == 0) {
                return -1;
            }
            dst.position(dst.position() + n);
            return n;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Bytes that can be read without blocking: what a non-blocking read finds now (kept for the
     * next read), 0 if none or at end of file.
     */
    int available() throws IOException {
        lock.lock();
        try {
            if (aheadLeft() == 0 && !aheadEof) {
                if (ahead == null) {
                    ahead = new byte[8192];
                }
                int raw = borrow();
                try {
                    int n = Native.read(raw, ahead, 0, ahead.length);
                    aheadPos = 0;
                    aheadEnd = 0;
                    if (n == 0) {
                        aheadEof = true;
                    } else if (n != -Native.EAGAIN) {
                        aheadEnd = check(n);
                    }
                } finally {
                    fd.unborrow();
                }
            }
            return aheadLeft();
        } finally {
            lock.unlock();
        }
    }

    /** Writes everything, parking while the pipe is full. */
    void write(byte[] b, int off, int len) throws IOException {
        lock.lock();
        try {
            int done = 0;
            while (done < len) {
                int at = off + done;
                int left = len - done;
                done += transfer(Native.WATCH_WRITE, raw -> Native.write(raw, b, at, left));
            }
        } finally {
            lock.unlock();
        }
    }

    /** Writes what the buffer holds (all of it), parking while the pipe is full. */
    int write(ByteBuffer src) throws IOException {
        int len = src.remaining();
        if (!src.isDirect()) {
            write(src.array(), src.arrayOffset() + src.position(), len);
            src.position(src.position() + len);
            return len;
        }
        lock.lock();
        try {
            while (src.hasRemaining()) {
                int n = transfer(Native.WATCH_WRITE,
                        raw -> Native.writeBuffer(raw, src, src.position(), src.remaining()));
                src.position(src.position() + n);
            }
            return len;
        } finally {
            lock.unlock();
        }
    }

    private int borrow() throws IOException {
        int raw = closed.get() ? -1 : fd.borrow();
        if (raw < 0) {
            throw new IOException(name + ": stream closed");
        }
        return raw;
    }

    private int check(int n) throws IOException {
        if (n >= 0) {
            return n;
        }
        if (closed.get()) {
            throw new IOException(name + ": stream closed");
        }
        String what = input ? "write to " : "read from ";
        if (n == -Native.EPIPE) {
            throw new IOException(what + name + ": Broken pipe (EPIPE): the child has closed its end");
        }
        throw new IOException(what + name + ": " + Native.describe(-n));
    }

    /**
     * Parks until the reactor reports the descriptor ready, {@link #close()} runs, or the thread is
     * interrupted (then {@link InterruptedIOException}, with the interrupt status kept).
     */
    private void await(int raw, int direction) throws IOException {
        Reactor reactor;
        try {
            reactor = Reactor.get();
        } catch (Native.ErrnoException e) {
            throw e.toPublic(name);
        }
        Thread me = Thread.currentThread();
        AtomicBoolean ready = new AtomicBoolean();
        long token;
        try {
            token = reactor.watchFd(raw, direction, () -> {
                ready.set(true);
                LockSupport.unpark(me);
            });
        } catch (Native.ErrnoException e) {
            throw e.toPublic(name);
        }
        parked = me;
        try {
            while (!ready.get()) {
                if (closed.get()) {
                    throw new IOException(name + ": stream closed");
                }
                if (Thread.currentThread().isInterrupted()) {
                    throw new InterruptedIOException((input ? "write to " : "read from ") + name
                            + " interrupted");
                }
                LockSupport.park(this);
            }
        } finally {
            parked = null;
            // Always, even after the report: epoll keeps a disabled registration otherwise, and
            // this is the last moment the number surely still names this pipe.
            reactor.unwatchFd(raw, token);
        }
    }

    /**
     * Closes this end: for the child's stdin that delivers end-of-file; for its output, a child
     * that writes more gets {@code EPIPE}/{@code SIGPIPE}. A thread blocked in {@link #read} or
     * {@link #write} wakes with an {@link IOException}; the descriptor is closed once it has let
     * go. Idempotent.
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            Thread t = parked;
            if (t != null) {
                LockSupport.unpark(t);
            }
            fd.close();
        }
    }

    @Override
    public String toString() {
        return name + (closed.get() ? " (closed)" : "");
    }
}
