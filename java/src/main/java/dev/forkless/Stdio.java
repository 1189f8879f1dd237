package dev.forkless;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where one of a child's standard streams (stdin, stdout, stderr) comes from or goes to; set with
 * {@link Command#stdin(Stdio)}, {@link Command#stdout(Stdio)} and {@link Command#stderr(Stdio)}.
 * The default for each stream is {@link #inherit()}.
 *
 * <p>Files named here are opened by {@link Command#spawn()} in this JVM, immediately before the
 * child starts, and closed in this JVM right after, whether the spawn worked or not: the child keeps
 * its own copy. A file that cannot be opened fails the spawn with a {@link ProcessStartException}
 * whose step is {@link SpawnStep#STDIO}.
 *
 * <p>Some kinds only make sense in one direction: {@link #read(Path)} and {@link #from(Child)}
 * are for stdin only; {@link #file(Path)} and {@link #append(Path)} for stdout and stderr only;
 * {@link #toStdout()} for stderr only. The {@link Command} setters reject the other combinations
 * with an {@link IllegalArgumentException}.
 *
 * <p>Instances are immutable and may be shared between commands and threads.
 */
public final class Stdio {
    enum Kind { INHERIT, NUL, WRITE_FILE, APPEND_FILE, READ_FILE, FD, PIPED, TO_STDOUT, FROM }

    private static final Stdio INHERIT = new Stdio(Kind.INHERIT, null, null, null);
    private static final Stdio NUL = new Stdio(Kind.NUL, null, null, null);
    private static final Stdio PIPED = new Stdio(Kind.PIPED, null, null, null);
    private static final Stdio TO_STDOUT = new Stdio(Kind.TO_STDOUT, null, null, null);

    private final Kind kind;
    private final Path path;
    private final OwnedFd fd;
    private final Child upstream;

    private Stdio(Kind kind, Path path, OwnedFd fd, Child upstream) {
        this.kind = kind;
        this.path = path;
        this.fd = fd;
        this.upstream = upstream;
    }

    /**
     * The child uses this JVM's own stream (descriptor 0, 1 or 2 of this process). The default.
     *
     * @return the inherit setting
     */
    public static Stdio inherit() {
        return INHERIT;
    }

    /**
     * {@code /dev/null}: the child reads end-of-file, and what it writes is discarded.
     *
     * @return the null device setting
     */
    public static Stdio nul() {
        return NUL;
    }

    /**
     * Output to a file: opened for writing, created if missing (mode {@code 0666} minus the umask),
     * truncated if it exists. For stdout and stderr only.
     *
     * @param path the file; a relative path is resolved against this JVM's working directory, not
     *     the child's
     * @return the setting
     */
    public static Stdio file(Path path) {
        return new Stdio(Kind.WRITE_FILE, Objects.requireNonNull(path, "path"), null, null);
    }

    /**
     * Output appended to a file: opened for writing in append mode, created if missing (mode
     * {@code 0666} minus the umask). For stdout and stderr only.
     *
     * @param path the file, relative to this JVM's working directory
     * @return the setting
     */
    public static Stdio append(Path path) {
        return new Stdio(Kind.APPEND_FILE, Objects.requireNonNull(path, "path"), null, null);
    }

    /**
     * Input from a file, opened for reading. For stdin only.
     *
     * @param path the file, relative to this JVM's working directory
     * @return the setting
     */
    public static Stdio read(Path path) {
        return new Stdio(Kind.READ_FILE, Objects.requireNonNull(path, "path"), null, null);
    }

    /**
     * A descriptor the caller owns: the child gets a copy of it. The caller keeps ownership and
     * should close it after {@link Command#spawn()} (the child's copy stays open). If it is closed
     * when {@code spawn()} runs, the spawn fails with an {@link IllegalStateException} before
     * anything starts; closing it while a spawn is using it is safe (it is closed once that spawn
     * is done).
     *
     * @param fd the descriptor
     * @return the setting
     */
    public static Stdio fd(OwnedFd fd) {
        return new Stdio(Kind.FD, null, Objects.requireNonNull(fd, "fd"), null);
    }

    /**
     * A pipe between the child and this JVM. The child's end is its stream; this JVM's end is
     * reached through the {@link Child}: {@link Child#stdin()} / {@link Child#stdinChannel()} to
     * write the child's input (closing it delivers end-of-file), {@link Child#stdout()},
     * {@link Child#stderr()} and their channels to read its output, or {@link Child#output()},
     * {@link Child#outputAsync(OutputOptions)}, {@link Child#onStdoutLine} to have Forkless
     * collect it, or {@link #from(Child)} to connect it to another child.
     *
     * <p>Both ends are close-on-exec; this JVM's end is non-blocking and read or written by
     * Forkless without a thread per stream (a blocked {@code read} parks until the reactor thread
     * reports the pipe ready, so a virtual thread releases its carrier). A child writing into a
     * pipe nobody reads blocks once the pipe's buffer (64 KiB on Linux) is full, as in any shell.
     *
     * @return the piped setting
     */
    public static Stdio piped() {
        return PIPED;
    }

    /**
     * For stderr only: the child's standard error goes wherever its standard output goes, like a
     * shell's {@code 2>&1}: one descriptor, so what the child writes to both keeps its order.
     * With {@link #piped()} stdout, both are read from {@link Child#stdout()} and
     * {@link Child#stderr()} is not available.
     *
     * @return the setting
     */
    public static Stdio toStdout() {
        return TO_STDOUT;
    }

    /**
     * For stdin only: the standard output of {@code upstream}, a running child whose stdout is
     * {@link #piped()}, connected straight to this child's standard input, as a shell's
     * {@code a | b} does: the bytes go from one child to the other through the kernel, never
     * through this JVM. When this child is spawned, this JVM hands its end of upstream's pipe to
     * it and closes its own copy; upstream's {@link Child#stdout()} is then no longer available.
     * A second spawn from the same setting fails with an {@link IllegalStateException}. See
     * {@link Pipeline} for whole pipelines with a status per stage.
     *
     * @param upstream the child whose output becomes the input
     * @return the setting
     */
    public static Stdio from(Child upstream) {
        return new Stdio(Kind.FROM, null, null, Objects.requireNonNull(upstream, "upstream"));
    }

    Child upstream() {
        return upstream;
    }

    Kind kind() {
        return kind;
    }

    Path path() {
        return path;
    }

    OwnedFd ownedFd() {
        return fd;
    }

    /** Whether this setting may be used for stream 0 (stdin), 1 (stdout) or 2 (stderr). */
    boolean allows(int stream) {
        switch (kind) {
            case WRITE_FILE:
            case APPEND_FILE:
                return stream != 0;
            case READ_FILE:
            case FROM:
                return stream == 0;
            case TO_STDOUT:
                return stream == 2;
            default:
                return true;
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Stdio s && s.kind == kind && Objects.equals(s.path, path) && s.fd == fd
                && s.upstream == upstream;
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, path, System.identityHashCode(fd), System.identityHashCode(upstream));
    }

    /**
     * Like {@code "inherit"}, {@code "nul"}, {@code "file(out.txt)"}, {@code "append(log)"},
     * {@code "read(in.txt)"}, {@code "fd(OwnedFd[5])"}, {@code "piped"}, {@code "toStdout"},
     * {@code "from(pid 1234)"}.
     */
    @Override
    public String toString() {
        switch (kind) {
            case INHERIT:
                return "inherit";
            case NUL:
                return "nul";
            case WRITE_FILE:
                return "file(" + path + ")";
            case APPEND_FILE:
                return "append(" + path + ")";
            case READ_FILE:
                return "read(" + path + ")";
            case PIPED:
                return "piped";
            case TO_STDOUT:
                return "toStdout";
            case FROM:
                return "from(pid " + upstream.pidForDisplay() + ")";
            default:
                return "fd(" + fd + ")";
        }
    }
}
