package dev.forkless;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A child could not be started. Nothing is left behind when this is thrown: no process, no zombie,
 * no descriptor that Forkless opened.
 *
 * <p>The message names the program, the directory it was to run in, the step that failed and the
 * error, for example:
 * <pre>
 * cannot run 'gcc' in /src: execve: No such file or directory (ENOENT)
 * cannot run 'gcc' in /src: not found in PATH: No such file or directory (ENOENT)
 * cannot run 'make' in /no/such/dir: chdir: No such file or directory (ENOENT)
 * cannot run 'cat' in /src: open stdout /ro/out.txt: Permission denied (EACCES)
 * </pre>
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
     * @param step the step that failed
     * @param errno the positive errno value
     * @param errnoName the symbolic name, e.g. {@code "ENOENT"}
     * @param what the step as the message says it, e.g. {@code "execve"} or
     *     {@code "not found in PATH"}
     * @param description the error's description, e.g. {@code "No such file or directory"}
     */
    ProcessStartException(String program, Path directory, SpawnStep step, int errno,
                                    String errnoName, String what, String description) {
        super("cannot run '" + program + "' in " + directory + ": " + what + ": " + description
                + " (" + errnoName + ")");
        this.program = Objects.requireNonNull(program, "program");
        this.directory = Objects.requireNonNull(directory, "directory");
        this.step = Objects.requireNonNull(step, "step");
        this.errno = errno;
        this.errnoName = Objects.requireNonNull(errnoName, "errnoName");
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
     * The operating system's error number (Linux numbering).
     *
     * @return a positive errno value, e.g. 2
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
