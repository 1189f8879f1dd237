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
 * <p>Some kinds only make sense in one direction: {@link #read(Path)} is for stdin only;
 * {@link #file(Path)} and {@link #append(Path)} are for stdout and stderr only. The
 * {@link Command} setters reject the other combinations with an {@link IllegalArgumentException}.
 *
 * <p>Instances are immutable and may be shared between commands and threads.
 */
public final class Stdio {
    enum Kind { INHERIT, NUL, WRITE_FILE, APPEND_FILE, READ_FILE, FD }

    private static final Stdio INHERIT = new Stdio(Kind.INHERIT, null, null);
    private static final Stdio NUL = new Stdio(Kind.NUL, null, null);

    private final Kind kind;
    private final Path path;
    private final OwnedFd fd;

    private Stdio(Kind kind, Path path, OwnedFd fd) {
        this.kind = kind;
        this.path = path;
        this.fd = fd;
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
        return new Stdio(Kind.WRITE_FILE, Objects.requireNonNull(path, "path"), null);
    }

    /**
     * Output appended to a file: opened for writing in append mode, created if missing (mode
     * {@code 0666} minus the umask). For stdout and stderr only.
     *
     * @param path the file, relative to this JVM's working directory
     * @return the setting
     */
    public static Stdio append(Path path) {
        return new Stdio(Kind.APPEND_FILE, Objects.requireNonNull(path, "path"), null);
    }

    /**
     * Input from a file, opened for reading. For stdin only.
     *
     * @param path the file, relative to this JVM's working directory
     * @return the setting
     */
    public static Stdio read(Path path) {
        return new Stdio(Kind.READ_FILE, Objects.requireNonNull(path, "path"), null);
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
        return new Stdio(Kind.FD, null, Objects.requireNonNull(fd, "fd"));
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

    /** Whether this setting may be used for stdin (input = true) or stdout/stderr. */
    boolean allows(boolean input) {
        switch (kind) {
            case WRITE_FILE:
            case APPEND_FILE:
                return !input;
            case READ_FILE:
                return input;
            default:
                return true;
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Stdio s && s.kind == kind && Objects.equals(s.path, path) && s.fd == fd;
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, path, fd == null ? 0 : System.identityHashCode(fd));
    }

    /**
     * Like {@code "inherit"}, {@code "nul"}, {@code "file(out.txt)"}, {@code "append(log)"},
     * {@code "read(in.txt)"}, {@code "fd(OwnedFd[5])"}.
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
            default:
                return "fd(" + fd + ")";
        }
    }
}
