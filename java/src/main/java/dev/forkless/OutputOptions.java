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
 *   <li>no limit: everything the child writes is kept, as {@code InputStream.readAllBytes} or
 *       Rust's and Go's {@code output()} do, up to {@value #MAX_MAX_BYTES} bytes per stream, the
 *       most a byte array can hold. Past that, or when this JVM's heap cannot hold the next
 *       buffer, collection fails with {@link OutputTooLargeException} (never an
 *       {@code OutOfMemoryError} on the reactor thread). {@link #maxBytes(int)} sets a limit of
 *       one's own;</li>
 *   <li>beyond a limit set with {@link #maxBytes(int)}: {@link Overflow#TRUNCATE}, the rest is
 *       read and discarded (so the child never blocks on a full pipe) and the stream is marked
 *       {@linkplain Output#stdoutTruncated() truncated}, which {@link Output#toString()} shows;
 *       {@link #onOverflow(Overflow)} chooses to fail instead;</li>
 *   <li>no timeout: collection waits as long as the child runs. {@link #timeout(Duration)} kills
 *       the child (its tree, where it has one) when the time is up;</li>
 *   <li>collection ends at end-of-file on both streams, as in a shell's {@code $(...)}: if the
 *       child leaves a background process holding its stdout (say {@code sh -c 'daemon & exit'}),
 *       collection waits for that process too. {@link #stopAfterExit(Duration)} bounds the wait
 *       instead.</li>
 * </ul>
 */
public final class OutputOptions {
    /** The largest limit: the largest byte array a JVM can allocate; also the default. */
    public static final int MAX_MAX_BYTES = Integer.MAX_VALUE - 8;

    /** What happens to a stream that goes past its limit ({@link #maxBytes(int)}). */
    public enum Overflow {
        /**
         * Keep the first {@code maxBytes} bytes, read and discard the rest (the child runs on
         * undisturbed) and mark the stream truncated ({@link Output#stdoutTruncated()}).
         */
        TRUNCATE,
        /**
         * Stop collecting at the first byte past the limit: the collection fails with
         * {@link OutputTooLargeException} and the child's pipes are closed.
         */
        FAIL
    }

    private static final OutputOptions DEFAULTS = new OutputOptions(null, -1, Overflow.TRUNCATE, null, null);

    private final byte[] input;   // null: none
    private final int maxBytes;   // -1: no limit of the user's (the array's own applies, failing)
    private final Overflow overflow;
    private final Duration grace; // null: wait for end-of-file
    private final Duration timeout; // null: none

    private OutputOptions(byte[] input, int maxBytes, Overflow overflow, Duration grace, Duration timeout) {
        this.input = input;
        this.maxBytes = maxBytes;
        this.overflow = overflow;
        this.grace = grace;
        this.timeout = timeout;
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
        return new OutputOptions(Objects.requireNonNull(bytes, "bytes").clone(), maxBytes, overflow, grace,
                timeout);
    }

    /**
     * Text for the child's standard input, encoded in UTF-8; otherwise as {@link #input(byte[])}.
     *
     * @param text the input
     * @return new options
     */
    public OutputOptions input(String text) {
        return new OutputOptions(Objects.requireNonNull(text, "text").getBytes(StandardCharsets.UTF_8),
                maxBytes, overflow, grace, timeout);
    }

    /**
     * The most bytes kept of each of stdout and stderr; what happens beyond is
     * {@link #onOverflow(Overflow)}'s (default {@link Overflow#TRUNCATE}). Default: no limit but
     * the array's ({@value #MAX_MAX_BYTES} bytes, then {@link OutputTooLargeException}).
     *
     * @param bytes the limit, 0 to {@value #MAX_MAX_BYTES}
     * @return new options
     * @throws IllegalArgumentException if out of range
     */
    public OutputOptions maxBytes(int bytes) {
        if (bytes < 0 || bytes > MAX_MAX_BYTES) {
            throw new IllegalArgumentException("maxBytes must be 0.." + MAX_MAX_BYTES + ": " + bytes);
        }
        return new OutputOptions(input, bytes, overflow, grace, timeout);
    }

    /**
     * Keeps everything again (the default): no limit but the array's, past which collection fails
     * with {@link OutputTooLargeException}.
     *
     * @return new options
     */
    public OutputOptions unlimited() {
        return new OutputOptions(input, -1, overflow, grace, timeout);
    }

    /**
     * What happens to a stream that goes past {@link #maxBytes(int)}. Default
     * {@link Overflow#TRUNCATE}. Without a limit of one's own this has no effect: past the array's
     * limit collection always fails.
     *
     * @param action truncate or fail
     * @return new options
     */
    public OutputOptions onOverflow(Overflow action) {
        return new OutputOptions(input, maxBytes, Objects.requireNonNull(action, "action"), grace, timeout);
    }

    /**
     * Bounds the whole collection: when {@code timeout} has passed since collection began and the
     * child is still running or its pipes are still open, the child is killed with
     * {@link Signal#KILL} (its whole tree where it has one: a cgroup or process group of its own,
     * see {@link Command#treeKill(TreeKill)} and {@link Child#killTree(Signal)}; otherwise the
     * child alone), what its pipes still hold is read, and the result has
     * {@link Output#timedOut()} true and the killed child's {@link ExitStatus} (or the status it
     * exited with, if it exited just as the time ran out). Nothing is thrown. If a process outside
     * the tree still holds a pipe, collection stops regardless (as {@link Output#cutOff()}). Default:
     * none, collection waits as long as it takes.
     *
     * @param timeout how long collection may take; zero kills at once
     * @return new options
     * @throws IllegalArgumentException if negative
     */
    public OutputOptions timeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout is negative: " + timeout);
        }
        return new OutputOptions(input, maxBytes, overflow, grace, timeout);
    }

    /**
     * No timeout (the default).
     *
     * @return new options
     */
    public OutputOptions noTimeout() {
        return new OutputOptions(input, maxBytes, overflow, grace, null);
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
        return new OutputOptions(input, maxBytes, overflow, grace, timeout);
    }

    /**
     * Collects until end-of-file on every stream, however long after the exit (the default).
     *
     * @return new options
     */
    public OutputOptions waitForEof() {
        return new OutputOptions(input, maxBytes, overflow, null, timeout);
    }

    byte[] inputBytes() {
        return input;
    }

    /** The bytes kept per stream. */
    int limit() {
        return maxBytes < 0 ? MAX_MAX_BYTES : maxBytes;
    }

    /** Whether going past {@link #limit()} fails the collection (always without a user limit). */
    boolean failsBeyondLimit() {
        return maxBytes < 0 || overflow == Overflow.FAIL;
    }

    /** Whether the limit is the user's own ({@link #maxBytes(int)}), for messages. */
    boolean limitIsUsers() {
        return maxBytes >= 0;
    }

    /** Nanoseconds collection may take, or -1 for no timeout. */
    long timeoutNanos() {
        return timeout == null ? -1 : saturatedNanos(timeout);
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException tooLong) {
            return Long.MAX_VALUE;
        }
    }

    /** Nanoseconds to read on after the exit, or -1 to wait for end-of-file. */
    long graceNanos() {
        return grace == null ? -1 : saturatedNanos(grace);
    }

    @Override
    public String toString() {
        return "OutputOptions[" + (input == null ? "no input" : "input " + input.length + " bytes")
                + ", " + (maxBytes < 0 ? "unlimited" : "maxBytes=" + maxBytes + " then " + overflow)
                + ", " + (grace == null ? "waitForEof" : "stopAfterExit " + grace)
                + (timeout == null ? "" : ", timeout " + timeout) + "]";
    }
}
