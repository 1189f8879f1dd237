package dev.forkless;

/**
 * A child wrote more to stdout or stderr than an output collection may keep: past
 * {@link OutputOptions#maxBytes(int)} with {@link OutputOptions.Overflow#FAIL}, past the
 * {@value OutputOptions#MAX_MAX_BYTES} bytes a byte array can hold (with no limit set, the
 * default), or more than this JVM's heap could hold (the cause is then the
 * {@link OutOfMemoryError}, raised by the collector's own buffer, whose memory is free again by
 * the time this is seen).
 *
 * <p>When this is thrown (by {@code output()}) or completes an {@code outputAsync()} future, the
 * child's pipes have been closed (a child still writing gets {@code SIGPIPE}/{@code EPIPE}) and
 * what was collected is dropped. {@link Command#output} then closes the child as after any
 * failure (its {@link CloseAction}, default kill); a {@link Child} the caller holds is left
 * running. To keep a prefix instead, set {@link OutputOptions#maxBytes(int)} (default overflow
 * {@link OutputOptions.Overflow#TRUNCATE}); to handle any amount, read {@link Child#stdout()} or
 * {@link Child#onStdoutLine} as a stream.
 */
public final class OutputTooLargeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** "stdout" or "stderr". */
    private final String stream;
    /** The limit that was passed, in bytes. */
    private final long limit;

    OutputTooLargeException(String message, String stream, long limit, Throwable cause) {
        super(message, cause);
        this.stream = stream;
        this.limit = limit;
    }

    /**
     * The stream that went past the limit.
     *
     * @return {@code "stdout"} or {@code "stderr"}
     */
    public String stream() {
        return stream;
    }

    /**
     * The limit that was passed: the options' {@code maxBytes}, {@value OutputOptions#MAX_MAX_BYTES}
     * (the array's), or for a heap that ran out, the size of the buffer that could not be
     * allocated.
     *
     * @return bytes
     */
    public long limit() {
        return limit;
    }
}
