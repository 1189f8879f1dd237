package dev.forkless;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The {@link ProcessHandle} of a {@link ChildProcess} ({@code child.toProcess().toHandle()}).
 *
 * <p>The JDK's own handle ({@code ProcessHandle.of(pid)}) names a process by PID and start time:
 * its {@code destroy()} checks the start time, then signals the PID, which the JDK source calls
 * an unavoidable race, and its {@code isAlive()} reads {@code /proc}. This one answers what the
 * child can answer itself, without the race: {@link #isAlive()}, {@link #onExit()},
 * {@link #destroy()} and {@link #destroyForcibly()} go through the {@link Child} (its pidfd).
 *
 * <p>What only the system knows ({@link #info()}, {@link #parent()}, {@link #children()},
 * {@link #descendants()}) comes from the JDK's handle, looked up once while the child runs and
 * kept: a running child is not yet reaped, so its PID cannot belong to anyone else, and the JDK
 * handle records the start time it had then and checks it on every later call. Once the child has
 * exited these answer empty, as the JDK's do for a process that is gone.
 *
 * <p>Identity, per the {@code ProcessHandle} contract: equal only to itself (there is one per
 * child, and the child is the process, so two children that got the same PID one after the other
 * are not equal); the hash code is the PID's, as the JDK's; {@link #compareTo} orders by PID (then
 * by creation, so that it stays consistent with equals) and, like the JDK's, throws
 * {@link ClassCastException} for another implementation. So this handle is never equal to the
 * JDK's handle of the same process, or to an element of {@code ProcessHandle.current().children()}:
 * compare {@link #pid()} for that.
 *
 * <p>{@code ProcessHandle} is a plain interface on JDK 17 and 25 (not sealed), so implementing it
 * outside {@code java.base} is supported.
 */
final class ChildProcessHandle implements ProcessHandle {
    private static final AtomicLong CREATED = new AtomicLong();

    private final ChildProcess process;
    private final long pid;
    private final long serial = CREATED.incrementAndGet();
    private volatile ProcessHandle system; // the JDK's handle, once looked up while running

    ChildProcessHandle(ChildProcess process, long pid) {
        this.process = process;
        this.pid = pid;
    }

    @Override
    public long pid() {
        return pid;
    }

    /**
     * The JDK's handle while the child runs, else empty. The lookup happens first and the
     * liveness check after it: alive afterwards means alive during the lookup, so the handle found
     * (with the start time it recorded) is this child's.
     */
    private Optional<ProcessHandle> system() {
        ProcessHandle h = system;
        if (h == null) {
            Optional<ProcessHandle> found = ProcessHandle.of(pid);
            if (found.isEmpty() || !process.isAlive()) {
                return Optional.empty();
            }
            system = found.get();
            return found;
        }
        return process.isAlive() ? Optional.of(h) : Optional.empty();
    }

    @Override
    public Optional<ProcessHandle> parent() {
        return system().flatMap(ProcessHandle::parent);
    }

    @Override
    public Stream<ProcessHandle> children() {
        return system().map(ProcessHandle::children).orElseGet(Stream::empty);
    }

    @Override
    public Stream<ProcessHandle> descendants() {
        return system().map(ProcessHandle::descendants).orElseGet(Stream::empty);
    }

    @Override
    public Info info() {
        return system().map(ProcessHandle::info).orElse(NoInfo.INSTANCE);
    }

    /** Completes with this handle when the process exits, off the reactor thread; a new future per call. */
    @Override
    public CompletableFuture<ProcessHandle> onExit() {
        return process.exitFuture().handle((status, lost) -> this);
    }

    @Override
    public boolean supportsNormalTermination() {
        return true;
    }

    /** {@link Signal#TERM} through the child; false if it has exited (nothing is sent then). */
    @Override
    public boolean destroy() {
        return process.signal(Signal.TERM);
    }

    /** {@link Signal#KILL} through the child; false if it has exited (nothing is sent then). */
    @Override
    public boolean destroyForcibly() {
        return process.signal(Signal.KILL);
    }

    /** Exact: asks the process itself (see {@link Child#isAlive()}). */
    @Override
    public boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public int hashCode() {
        return Long.hashCode(pid);
    }

    @Override
    public boolean equals(Object other) {
        return this == other;
    }

    @Override
    public int compareTo(ProcessHandle other) {
        ChildProcessHandle o = (ChildProcessHandle) Objects.requireNonNull(other, "other");
        int c = Long.compare(pid, o.pid);
        return c != 0 ? c : Long.compare(serial, o.serial);
    }

    /** The PID, as the JDK's handle prints itself. */
    @Override
    public String toString() {
        return Long.toString(pid);
    }

    /** The info of a process that is gone: every field empty, as the JDK reports it. */
    private static final class NoInfo implements Info {
        static final NoInfo INSTANCE = new NoInfo();

        @Override
        public Optional<String> command() {
            return Optional.empty();
        }

        @Override
        public Optional<String> commandLine() {
            return Optional.empty();
        }

        @Override
        public Optional<String[]> arguments() {
            return Optional.empty();
        }

        @Override
        public Optional<Instant> startInstant() {
            return Optional.empty();
        }

        @Override
        public Optional<Duration> totalCpuDuration() {
            return Optional.empty();
        }

        @Override
        public Optional<String> user() {
            return Optional.empty();
        }

        @Override
        public String toString() {
            return "[]";
        }
    }
}
