package dev.forkless;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;

/**
 * How {@link Command#output(OutputOptions)}, {@link Child#output(OutputOptions)} and their
 * {@code outputAsync} forms feed and collect a child's streams. Immutable: every setter returns a
 * new value.
 *
 * <p>Defaults ({@link #defaults()}):
 * <ul>
 *   <li>no input: a command's stdin that was left at its default becomes {@link Stdio#nul()};</li>
 *   <li>at most {@value #DEFAULT_MAX_BYTES} bytes (64 MiB) kept per stream; what comes after is
 *       read and discarded (so the child never blocks on a full pipe) and the stream is marked
 *       {@linkplain Output#stdoutTruncated() truncated};</li>
 *   <li>collection ends at end-of-file on both streams, as in a shell's {@code $(...)}: if the
 *       child leaves a background process holding its stdout (say {@code sh -c 'daemon & exit'}),
 *       collection waits for that process too. {@link #stopAfterExit(Duration)} bounds the wait
 *       instead.</li>
 * </ul>
 */
public final class OutputOptions {
    /** The default limit per stream, 64 MiB. */
    public static final int DEFAULT_MAX_BYTES = 64 << 20;
    /** The largest limit: the largest byte array a JVM can allocate. */
    public static final int MAX_MAX_BYTES = Integer.MAX_VALUE - 8;

    private static final OutputOptions DEFAULTS = new OutputOptions(null, DEFAULT_MAX_BYTES, null);

    private final byte[] input;   // null: none
    private final int maxBytes;
    private final Duration grace; // null: wait for end-of-file

    private OutputOptions(byte[] input, int maxBytes, Duration grace) {
        this.input = input;
        this.maxBytes = maxBytes;
        this.grace = grace;
    }

    /**
     * The defaults (see the class comment).
     *
     * @return the default options
     */
    public static OutputOptions defaults() {
        return DEFAULTS;
    }

    /**
     * Bytes to write to the child's standard input, which is then closed (end-of-file). They are
     * written while the output is read, so a child that answers as it reads cannot deadlock; a
     * child that exits or closes its stdin without reading everything is not an error (the rest
     * is dropped, as a shell does). The command's stdin must be left at its default or be
     * {@link Stdio#piped()}. Default: none. The array is copied.
     *
     * @param bytes the input
     * @return new options
     */
    public OutputOptions input(byte[] bytes) {
        return new OutputOptions(Objects.requireNonNull(bytes, "bytes").clone(), maxBytes, grace);
    }

    /**
     * Text for the child's standard input, encoded in UTF-8; otherwise as {@link #input(byte[])}.
     *
     * @param text the input
     * @return new options
     */
    public OutputOptions input(String text) {
        return new OutputOptions(Objects.requireNonNull(text, "text").getBytes(StandardCharsets.UTF_8),
                maxBytes, grace);
    }

    /**
     * The most bytes kept of each of stdout and stderr. Default {@value #DEFAULT_MAX_BYTES}.
     *
     * @param bytes the limit, 0 to {@value #MAX_MAX_BYTES}
     * @return new options
     * @throws IllegalArgumentException if out of range
     */
    public OutputOptions maxBytes(int bytes) {
        if (bytes < 0 || bytes > MAX_MAX_BYTES) {
            throw new IllegalArgumentException("maxBytes must be 0.." + MAX_MAX_BYTES + ": " + bytes);
        }
        return new OutputOptions(input, bytes, grace);
    }

    /**
     * Stops collecting {@code grace} after the child exits even if its pipes are still open (a
     * background process it started holds them): what arrived until then is returned and
     * {@link Output#cutOff()} is true. The pipes are closed, so such a process gets
     * {@code SIGPIPE}/{@code EPIPE} if it writes later. Default: wait for end-of-file.
     *
     * @param grace how long to keep reading after the exit; zero stops at once
     * @return new options
     * @throws IllegalArgumentException if negative
     */
    public OutputOptions stopAfterExit(Duration grace) {
        Objects.requireNonNull(grace, "grace");
        if (grace.isNegative()) {
            throw new IllegalArgumentException("grace is negative: " + grace);
        }
        return new OutputOptions(input, maxBytes, grace);
    }

    /**
     * Collects until end-of-file on every stream, however long after the exit (the default).
     *
     * @return new options
     */
    public OutputOptions waitForEof() {
        return new OutputOptions(input, maxBytes, null);
    }

    byte[] inputBytes() {
        return input;
    }

    int limit() {
        return maxBytes;
    }

    /** Nanoseconds to read on after the exit, or -1 to wait for end-of-file. */
    long graceNanos() {
        if (grace == null) {
            return -1;
        }
        try {
            return grace.toNanos();
        } catch (ArithmeticException tooLong) {
            return Long.MAX_VALUE;
        }
    }

    @Override
    public String toString() {
        return "OutputOptions[" + (input == null ? "no input" : "input " + input.length + " bytes")
                + ", maxBytes=" + maxBytes + ", " + (grace == null ? "waitForEof" : "stopAfterExit " + grace)
                + "]";
    }
}
