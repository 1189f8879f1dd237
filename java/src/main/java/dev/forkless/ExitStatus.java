package dev.forkless;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * How a child ended: it exited with a code, a signal killed it, or (Windows) it crashed with an
 * unhandled exception; plus what it used.
 *
 * <p>Exactly one of {@link #code()}, {@link #signalNumber()} and {@link #crashCode()} is present.
 * Instances are immutable values: two are equal when kind, code, signal or crash code, core-dump
 * flag and usage are equal.
 */
public final class ExitStatus {
    private static final int EXITED = 0;
    private static final int SIGNALED = 1;
    private static final int CRASHED = 2;

    private final int kind;
    private final int value; // exit code, signal number, or NTSTATUS
    private final boolean coreDumped;
    private final ResourceUsage usage;

    private ExitStatus(int kind, int value, boolean coreDumped, ResourceUsage usage) {
        this.kind = kind;
        this.value = value;
        this.coreDumped = coreDumped;
        this.usage = Objects.requireNonNull(usage, "usage");
    }

    /**
     * A status for a child that exited by itself ({@code exit(code)} or returning from
     * {@code main}).
     *
     * @param code the exit code: 0 to 255 on Linux; on Windows any 32-bit value (one above
     *     {@code 0x7FFFFFFF} as a negative int), except the crash codes ({@link #crashed})
     * @param usage what it used
     * @return the status
     */
    public static ExitStatus exited(int code, ResourceUsage usage) {
        return new ExitStatus(EXITED, code, false, usage);
    }

    /**
     * A status for a child killed by a signal (on Windows: terminated by this library with
     * {@link Signal#KILL} or {@link Signal#TERM}, see {@link Child#kill(Signal)}).
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
        return new ExitStatus(SIGNALED, signalNumber, coreDumped, usage);
    }

    /**
     * A status for a Windows child that ended with an unhandled exception: its exit code is the
     * exception's NTSTATUS, e.g. {@code 0xC0000005} (access violation), {@code 0xC0000409}
     * (stack buffer overrun / fail-fast). Windows cannot tell this from a program that exits with
     * such a code itself; every exit code with both severity bits set is reported so.
     *
     * @param ntStatus the code, {@code 0xC0000000} to {@code 0xFFFFFFFF} as an int
     * @param usage what it used
     * @return the status
     * @throws IllegalArgumentException if the two high bits of the code are not both set
     */
    public static ExitStatus crashed(int ntStatus, ResourceUsage usage) {
        if ((ntStatus & 0xC0000000) != 0xC0000000) {
            throw new IllegalArgumentException("not an NTSTATUS error code: 0x" + Integer.toHexString(ntStatus));
        }
        return new ExitStatus(CRASHED, ntStatus, false, usage);
    }

    static ExitStatus of(dev.forkless.internal.RawExit raw) {
        ResourceUsage usage = new ResourceUsage(Duration.ofNanos(raw.userMicros() * 1000),
                Duration.ofNanos(raw.systemMicros() * 1000), raw.maxRssKib() * 1024);
        switch (raw.kind()) {
            case dev.forkless.internal.Native.EXITED:
                return exited(raw.code(), usage);
            case dev.forkless.internal.Native.CRASHED:
                return crashed(raw.code(), usage);
            default:
                return signaled(raw.code(), raw.coreDumped(), usage);
        }
    }

    /**
     * The exit code, when the child exited by itself.
     *
     * @return 0 to 255 on Linux, any int on Windows; empty when a signal killed the child or it
     *     crashed
     */
    public OptionalInt code() {
        return kind == EXITED ? OptionalInt.of(value) : OptionalInt.empty();
    }

    /**
     * The signal that killed the child.
     *
     * @return the signal; empty when the child exited by itself or crashed, and also when the
     *     signal has no {@link Signal} constant (a real-time signal: see {@link #signalNumber()})
     */
    public Optional<Signal> signal() {
        return kind == SIGNALED && Signal.isKnown(value) ? Optional.of(Signal.of(value)) : Optional.empty();
    }

    /**
     * The number of the signal that killed the child, real-time signals included.
     *
     * @return 1 to 64; empty when the child exited by itself or crashed
     */
    public OptionalInt signalNumber() {
        return kind == SIGNALED ? OptionalInt.of(value) : OptionalInt.empty();
    }

    /**
     * The NTSTATUS of the unhandled exception a Windows child crashed with (see {@link #crashed}).
     *
     * @return e.g. {@code 0xC0000005} as an int; empty otherwise (always on Linux, where a crash is
     *     a signal: {@link Signal#SEGV} and the like)
     */
    public OptionalInt crashCode() {
        return kind == CRASHED ? OptionalInt.of(value) : OptionalInt.empty();
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
        return kind == EXITED && value == 0;
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
     * {@code "killed by SIGSEGV (core dumped)"}, {@code "killed by signal 40"}; on Windows also
     * {@code "crashed with 0xC0000005"}.
     */
    @Override
    public String toString() {
        if (kind == EXITED) {
            return "exit " + value;
        }
        if (kind == CRASHED) {
            return "crashed with 0x" + Integer.toHexString(value).toUpperCase(java.util.Locale.ROOT);
        }
        String name = Signal.isKnown(value) ? Signal.of(value).signalName() : "signal " + value;
        return "killed by " + name + (coreDumped ? " (core dumped)" : "");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ExitStatus s && s.kind == kind && s.value == value
                && s.coreDumped == coreDumped && s.usage.equals(usage);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, value, coreDumped, usage);
    }
}
