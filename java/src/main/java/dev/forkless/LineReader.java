package dev.forkless;

import dev.forkless.internal.Native;
import dev.forkless.internal.Reactor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * Streams a child's output to a consumer line by line, without a thread of its own: the reactor
 * thread reads what the pipe has (non-blocking), decodes it and cuts it into lines, and hands the
 * batch to the executor; only after the batch has been delivered is the pipe watched again. So one
 * batch at most is in flight per stream: lines arrive in order, a slow consumer holds the child
 * back (its pipe fills up) instead of filling this JVM's memory, and a consumer that runs on the
 * reactor thread ({@code Runnable::run}) still works.
 *
 * <p>Lines end at {@code \n}, {@code \r} or {@code \r\n} (as {@link java.io.BufferedReader}
 * reads them); the terminator is not part of the line. A last line without a terminator is
 * delivered at end-of-file. Malformed input is replaced with U+FFFD. A line longer than
 * {@code maxLineLength} chars is delivered in pieces of that many (one fewer rather than split a
 * surrogate pair): a child that never writes a terminator ({@code head -c 1G /dev/zero}) would
 * otherwise grow the pending line until the reactor thread runs out of memory.
 *
 * <p>Every step that runs on the reactor thread or the executor ends the stream on any
 * {@code Throwable}: the pipe is closed (the child is not left blocked on a full pipe) and the
 * future completes exceptionally. The reactor only logs what escapes a task; it could not know
 * which future to complete.
 */
final class LineReader {
    private static final int CHUNK = 64 << 10;

    private final PipeEnd end;
    private final Reactor reactor;
    private final Executor executor;
    private final Consumer<String> consumer;
    private final int maxLineLength;
    private final CharsetDecoder decoder;
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private final byte[] bytes = new byte[CHUNK];
    private final ByteBuffer in = ByteBuffer.wrap(bytes);
    // Room for the decoder's most chars per byte: a chunk always decodes whole (leftover bytes
    // are only an incomplete sequence, so a read never gets zero room and reads as end-of-file).
    private final CharBuffer chars;
    private final StringBuilder partial = new StringBuilder();
    private boolean afterCr; // the previous chunk ended with '\r': a leading '\n' is its pair
    private int raw = -1;
    private long token; // of the latest watch: unwatch must name it (the core checks)

    private LineReader(PipeEnd end, Reactor reactor, Charset charset, int maxLineLength, Executor executor,
                       Consumer<String> consumer) {
        this.maxLineLength = maxLineLength;
        this.end = end;
        this.reactor = reactor;
        this.executor = executor;
        this.consumer = consumer;
        this.decoder = charset.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
                .onUnmappableCharacter(CodingErrorAction.REPLACE);
        this.chars = CharBuffer.allocate((int) Math.ceil(CHUNK * (double) decoder.maxCharsPerByte()) + 16);
    }

    static CompletableFuture<Void> start(PipeEnd end, String who, Charset charset, int maxLineLength,
                                         Executor executor, Consumer<String> consumer) {
        end.claim(who, true);
        Reactor reactor;
        try {
            reactor = Reactor.get();
        } catch (Native.ErrnoException e) {
            end.unclaim(who);
            throw new UncheckedIOException(e.toPublic(null));
        }
        LineReader r = new LineReader(end, reactor, charset, maxLineLength, executor, consumer);
        r.raw = end.fd().borrow();
        if (r.raw < 0) {
            end.unclaim(who);
            throw new IllegalStateException(end.name() + " is closed");
        }
        r.watch();
        return r.done;
    }

    private void watch() {
        try {
            token = reactor.watchFd(raw, Native.WATCH_READ, this::readableGuarded);
        } catch (Native.ErrnoException e) {
            finish(new UncheckedIOException(e.toPublic(end.name())));
        }
    }

    private void readableGuarded() {
        try {
            readable();
        } catch (Throwable t) {
            finish(t);
        }
    }

    /** On the reactor thread: reads one chunk, delivers its lines, then watches again. */
    private void readable() {
        int n = Native.read(raw, bytes, in.position(), in.remaining());
        if (n == -Native.EAGAIN) {
            watch();
            return;
        }
        if (n < 0) {
            finish(new UncheckedIOException(new IOException("read from " + end.name() + ": "
                    + Native.describe(-n))));
            return;
        }
        boolean eof = n == 0;
        in.position(in.position() + n);
        in.flip();
        decoder.decode(in, chars, eof);
        if (eof) {
            decoder.flush(chars);
        }
        in.compact(); // an incomplete multi-byte sequence waits for the next chunk
        chars.flip();
        List<String> lines = cut(eof);
        chars.clear();
        executor.execute(() -> deliver(lines, eof)); // if it throws: finish, by the guard
    }

    private List<String> cut(boolean eof) {
        List<String> lines = new ArrayList<>();
        while (chars.hasRemaining()) {
            char c = chars.get();
            if (afterCr) {
                afterCr = false;
                if (c == '\n') {
                    continue;
                }
            }
            if (c == '\n' || c == '\r') {
                lines.add(partial.toString());
                partial.setLength(0);
                afterCr = c == '\r';
            } else {
                partial.append(c);
                if (partial.length() == maxLineLength) {
                    int piece = Character.isHighSurrogate(c) ? maxLineLength - 1 : maxLineLength;
                    lines.add(partial.substring(0, piece));
                    partial.delete(0, piece);
                }
            }
        }
        if (eof && partial.length() > 0) {
            lines.add(partial.toString());
            partial.setLength(0);
        }
        return lines;
    }

    private void deliver(List<String> lines, boolean eof) {
        try {
            for (String line : lines) {
                consumer.accept(line);
            }
            if (eof) {
                finish(null);
            } else {
                watch(); // from the executor's thread: allowed, and the next report comes on the reactor
            }
        } catch (Throwable t) {
            finish(t);
        }
    }

    /**
     * Ends the stream: gives the descriptor back and closes the pipe (a child still writing then
     * gets {@code EPIPE}), completes the future.
     */
    private void finish(Throwable failure) {
        Throwable f = failure;
        if (raw >= 0) {
            int fd = raw;
            raw = -1; // first: if what follows throws, nothing is given back twice
            try {
                reactor.unwatchFd(fd, token);
            } catch (Throwable t) {
                f = f == null ? t : f;
            } finally {
                end.fd().unborrow();
                end.close();
            }
        }
        if (f == null) {
            done.complete(null);
        } else {
            done.completeExceptionally(f);
        }
    }
}
