package dev.forkless;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;

/**
 * What a finished child wrote, with its exit status: the result of {@link Command#output()} and
 * its relatives. The byte arrays are the collector's own; {@link #stdout()} and {@link #stderr()}
 * return them without copying, so do not modify them if the {@code Output} is shared.
 */
public final class Output {
    private final ExitStatus status;
    private final byte[] stdout;
    private final byte[] stderr;
    private final boolean stdoutTruncated;
    private final boolean stderrTruncated;
    private final boolean cutOff;
    private final boolean timedOut;

    Output(ExitStatus status, byte[] stdout, byte[] stderr, boolean stdoutTruncated,
           boolean stderrTruncated, boolean cutOff, boolean timedOut) {
        this.status = Objects.requireNonNull(status, "status");
        this.stdout = stdout;
        this.stderr = stderr;
        this.stdoutTruncated = stdoutTruncated;
        this.stderrTruncated = stderrTruncated;
        this.cutOff = cutOff;
        this.timedOut = timedOut;
    }

    /**
     * How the child ended.
     *
     * @return the exit status
     */
    public ExitStatus status() {
        return status;
    }

    /**
     * The bytes the child wrote to stdout (with {@link Stdio#toStdout()}, stderr's too, in the
     * order written); empty if stdout was not collected (inherited, a file, ...).
     *
     * @return the bytes, not copied
     */
    public byte[] stdout() {
        return stdout;
    }

    /**
     * The bytes the child wrote to stderr; empty if stderr was not collected.
     *
     * @return the bytes, not copied
     */
    public byte[] stderr() {
        return stderr;
    }

    /**
     * Stdout decoded as UTF-8 (malformed input replaced).
     *
     * @return the text
     */
    public String stdoutText() {
        return new String(stdout, StandardCharsets.UTF_8);
    }

    /**
     * Stderr decoded as UTF-8 (malformed input replaced).
     *
     * @return the text
     */
    public String stderrText() {
        return new String(stderr, StandardCharsets.UTF_8);
    }

    /**
     * Stdout decoded with {@code charset}.
     *
     * @param charset the encoding
     * @return the text
     */
    public String stdoutText(Charset charset) {
        return new String(stdout, charset);
    }

    /**
     * Stderr decoded with {@code charset}.
     *
     * @param charset the encoding
     * @return the text
     */
    public String stderrText(Charset charset) {
        return new String(stderr, charset);
    }

    /**
     * Whether stdout went past {@link OutputOptions#maxBytes(int)}: {@link #stdout()} holds the
     * first {@code maxBytes} bytes and the rest was discarded.
     *
     * @return true if truncated
     */
    public boolean stdoutTruncated() {
        return stdoutTruncated;
    }

    /**
     * Whether stderr went past the limit.
     *
     * @return true if truncated
     */
    public boolean stderrTruncated() {
        return stderrTruncated;
    }

    /**
     * Whether collection stopped before end-of-file, because the child had exited longer ago than
     * {@link OutputOptions#stopAfterExit(Duration)} allows while something still held its pipes.
     *
     * @return true if cut off
     */
    public boolean cutOff() {
        return cutOff;
    }

    /**
     * Whether the {@link OutputOptions#timeout(Duration) timeout} ran out: the child (its tree,
     * where it has one) was killed, {@link #status()} is then normally that kill
     * ({@link ExitStatus#signal()} {@link Signal#KILL}), and the bytes are what the child wrote
     * before.
     *
     * @return true if timed out
     */
    public boolean timedOut() {
        return timedOut;
    }

    /**
     * Like {@code "Output[exit 0, stdout 12 bytes, stderr 0 bytes]"}, with the flags that are set:
     * {@code "(truncated)"} after a stream that went past its limit, {@code ", timed out"},
     * {@code ", cut off after exit"}.
     */
    @Override
    public String toString() {
        return "Output[" + status + ", stdout " + stdout.length + " bytes" + (stdoutTruncated ? " (truncated)" : "")
                + ", stderr " + stderr.length + " bytes" + (stderrTruncated ? " (truncated)" : "")
                + (timedOut ? ", timed out" : "") + (cutOff ? ", cut off after exit" : "") + "]";
    }
}
