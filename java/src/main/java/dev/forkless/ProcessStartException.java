package dev.forkless;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A child could not be started. Nothing is left behind when this is thrown: no process, no zombie,
 * no descriptor that Forkless opened.
 *
 * <p>The message begins as the JDK's {@code ProcessBuilder.start()} failure does, so that code
 * which parses {@code "error=<n>, "} out of it (zt-exec's {@code ProcessInitException}, log
 * scrapers) reads the same number, then names the error and the step that failed:
 * <pre>
 * Cannot run program "gcc": error=2, No such file or directory (ENOENT); step: not found in PATH
 * Cannot run program "gcc" (in directory "/src"): error=2, No such file or directory (ENOENT); step: execve
 * Cannot run program "./build.sh": error=13, Permission denied (EACCES); step: execve
 * Cannot run program "make" (in directory "/no/such/dir"): error=2, No such file or directory (ENOENT); step: chdir
 * Cannot run program "cat": error=13, Permission denied (EACCES); step: open stdout /ro/out.txt
 * </pre>
 * As in the JDK's message, the directory appears only when {@link Command#directory} set one;
 * {@link #directory()} always has it. The number is the one the native core reported, as
 * {@link #errno()} returns it; {@link #errnoName()} and {@link #step()} give the rest without
 * parsing.
 */
public final class ProcessStartException extends IOException {
    private static final long serialVersionUID = 1L;

    /** The program as given. */
    private final String program;
    /** Not serialized: {@link Path} is not serializable. */
    private final transient Path directory;
    /** The failed step. */
    private final SpawnStep step;
    /** The positive errno value. */
    private final int errno;
    /** The errno's symbolic name. */
    private final String errnoName;

    /**
     * Creates one.
     *
     * @param program the program as given to {@link Command#of}
     * @param directory the directory the child was to start in (the inherited one when none was
     *     set)
     * @param directorySet whether the command set the directory; only then does the message name it
     * @param step the step that failed
     * @param errno the positive errno value, as the native core reported it
     * @param errnoName the symbolic name, e.g. {@code "ENOENT"}
     * @param what the step as the message says it, e.g. {@code "execve"} or
     *     {@code "not found in PATH"}
     * @param description the error's description, e.g. {@code "No such file or directory"}
     */
    ProcessStartException(String program, Path directory, boolean directorySet, SpawnStep step,
                          int errno, String errnoName, String what, String description) {
        super(message(program, directorySet ? directory : null, errno, errnoName, what, description));
        this.program = Objects.requireNonNull(program, "program");
        this.directory = Objects.requireNonNull(directory, "directory");
        this.step = Objects.requireNonNull(step, "step");
        this.errno = errno;
        this.errnoName = Objects.requireNonNull(errnoName, "errnoName");
    }

    // The JDK's shape up to the description: zt-exec finds the last " error=" and reads the number
    // up to the next ", ". The step detail comes last; only a file name in it that itself holds
    // " error=" could mislead such a parser.
    private static String message(String program, Path directory, int errno, String errnoName,
                                  String what, String description) {
        StringBuilder sb = new StringBuilder("Cannot run program \"").append(program).append('"');
        if (directory != null) {
            sb.append(" (in directory \"").append(directory).append("\")");
        }
        sb.append(": error=").append(errno).append(", ").append(description);
        sb.append(" (").append(errnoName).append("); step: ").append(what);
        return sb.toString();
    }

    /**
     * The program that could not be started, as given (before any PATH search).
     *
     * @return the program
     */
    public String program() {
        return program;
    }

    /**
     * The directory the child was to start in: the one set with
     * {@link Command#directory(Path)} made absolute, or this JVM's working directory when none was
     * set.
     *
     * @return the directory
     */
    public Path directory() {
        return directory;
    }

    /**
     * The step that failed.
     *
     * @return the step
     */
    public SpawnStep step() {
        return step;
    }

    /**
     * The operating system's error number, as the native core reported it (the number in the
     * message's {@code "error=<n>"}).
     *
     * @return a positive errno value, e.g. 2 for {@code ENOENT} on Linux
     */
    public int errno() {
        return errno;
    }

    /**
     * The symbolic name of {@link #errno()}.
     *
     * @return e.g. {@code "ENOENT"}, or {@code "errno 123"} for a number without a known name
     */
    public String errnoName() {
        return errnoName;
    }
}
