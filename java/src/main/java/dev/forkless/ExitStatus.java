package dev.forkless;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * How a child ended: it exited with a code, or a signal killed it; plus what it used.
 *
 * <p>Exactly one of {@link #code()} and {@link #signalNumber()} is present. Instances are immutable
 * values: two are equal when kind, code or signal, core-dump flag and usage are equal.
 */
public final class ExitStatus {
    private final boolean exited;
    private final int value; // exit code, or signal number
    private final boolean coreDumped;
    private final ResourceUsage usage;

    private ExitStatus(boolean exited, int value, boolean coreDumped, ResourceUsage usage) {
        this.exited = exited;
        this.value = value;
        this.coreDumped = coreDumped;
        this.usage = Objects.requireNonNull(usage, "usage");
    }

    /**
     * A status for a child that exited by itself ({@code exit(code)} or returning from
     * {@code main}).
     *
     * @param code the exit code, 0 to 255
     * @param usage what it used
     * @return the status
     * @throws IllegalArgumentException if code is outside 0..255
     */
    public static ExitStatus exited(int code, ResourceUsage usage) {
        if (code < 0 || code > 255) {
            throw new IllegalArgumentException("exit code out of range 0..255: " + code);
        }
        return new ExitStatus(true, code, false, usage);
    }

    /**
     * A status for a child killed by a signal.
     *
     * @param signalNumber the signal's number, 1 to 64
     * @param coreDumped whether a core file was written
     * @param usage what it used
     * @return the status
     * @throws IllegalArgumentException if the number is outside 1..64
     */
    public static ExitStatus signaled(int signalNumber, boolean coreDumped, ResourceUsage usage) {
        if (signalNumber < 1 || signalNumber > 64) {
            throw new IllegalArgumentException("signal number out of range 1..64: " + signalNumber);
        }
        return new ExitStatus(false, signalNumber, coreDumped, usage);
    }

    static ExitStatus of(dev.forkless.internal.RawExit raw) {
        ResourceUsage usage = new ResourceUsage(Duration.ofNanos(raw.userMicros() * 1000),
                Duration.ofNanos(raw.systemMicros() * 1000), raw.maxRssKib() * 1024);
        return raw.kind() == dev.forkless.internal.Native.EXITED
                ? exited(raw.code(), usage)
                : signaled(raw.code(), raw.coreDumped(), usage);
    }

    /**
     * The exit code, when the child exited by itself.
     *
     * @return 0 to 255; empty when a signal killed the child
     */
    public OptionalInt code() {
        return exited ? OptionalInt.of(value) : OptionalInt.empty();
    }

    /**
     * The signal that killed the child.
     *
     * @return the signal; empty when the child exited by itself, and also when the signal has no
     *     {@link Signal} constant (a real-time signal: see {@link #signalNumber()})
     */
    public Optional<Signal> signal() {
        return !exited && Signal.isKnown(value) ? Optional.of(Signal.of(value)) : Optional.empty();
    }

    /**
     * The number of the signal that killed the child, real-time signals included.
     *
     * @return 1 to 64; empty when the child exited by itself
     */
    public OptionalInt signalNumber() {
        return exited ? OptionalInt.empty() : OptionalInt.of(value);
    }

    /**
     * Whether the kernel wrote a core dump when a signal killed the child.
     *
     * @return true only for a signal death with a core dump
     */
    public boolean coreDumped() {
        return coreDumped;
    }

    /**
     * Whether the child exited by itself with code 0.
     *
     * @return true for exit code 0
     */
    public boolean success() {
        return exited && value == 0;
    }

    /**
     * CPU time and peak memory of the child.
     *
     * @return the usage, never null
     */
    public ResourceUsage usage() {
        return usage;
    }

    /**
     * Like the shell says it: {@code "exit 0"}, {@code "exit 42"}, {@code "killed by SIGKILL"},
     * {@code "killed by SIGSEGV (core dumped)"}, {@code "killed by signal 40"}.
     */
    @Override
    public String toString() {
        if (exited) {
            return "exit " + value;
        }
        String name = Signal.isKnown(value) ? Signal.of(value).signalName() : "signal " + value;
        return "killed by " + name + (coreDumped ? " (core dumped)" : "");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ExitStatus s && s.exited == exited && s.value == value
                && s.coreDumped == coreDumped && s.usage.equals(usage);
    }

    @Override
    public int hashCode() {
        return Objects.hash(exited, value, coreDumped, usage);
    }
}
