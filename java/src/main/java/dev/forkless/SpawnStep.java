package dev.forkless;

/**
 * The step of starting a child that failed, as reported by
 * {@link ProcessStartException#step()}. The constants mirror the native core's {@code fl_step}
 * (in the order the steps run); {@link #stepName()} is the core's short name, used in messages.
 */
public enum SpawnStep {
    /** Options rejected before anything was created. */
    VALIDATE("validate", 1),
    /**
     * In this JVM, before the child exists: opening a file or {@code /dev/null} that {@link Stdio}
     * asked for, or creating a pipe ({@link Stdio#piped()}, the pipes between the stages of a
     * {@link Pipeline}), e.g. {@code EMFILE}.
     */
    STDIO("open", -1),
    /** The PATH search for a program name without a '/'. */
    RESOLVE("resolve", 2),
    /** Parent-side preparation: memory for the child's stack and argument arrays. */
    PREPARE("prepare", 3),
    /** Creating the process itself ({@code clone3}/{@code clone}): EAGAIN, ENOMEM, EMFILE. */
    FORK("fork", 4),
    /** {@code setsid()} in the child, for {@link Command#newSession()}. */
    SETSID("setsid", 5),
    /** {@code setpgid()} in the child, for {@link Command#newProcessGroup()}. */
    SETPGID("setpgid", 6),
    /** {@code setgroups()} in the child. */
    SETGROUPS("setgroups", 7),
    /** {@code setgid()} in the child. */
    SETGID("setgid", 8),
    /** {@code setuid()} in the child. */
    SETUID("setuid", 9),
    /** {@code chdir()} in the child, for {@link Command#directory(java.nio.file.Path)}. */
    CHDIR("chdir", 10),
    /** Resetting signal handlers or the signal mask in the child. */
    SIGNALS("signals", 11),
    /** Moving descriptors onto the child's numbers (stdin, stdout, stderr). */
    DUP2("dup2", 12),
    /** Closing every other descriptor in the child. */
    CLOSE_FDS("close_fds", 13),
    /** {@code execve()} of the program (and the {@code /bin/sh} retry for a script without #!). */
    EXEC("execve", 14),
    /** Getting a pidfd for a child whose spawn could not return one. */
    PIDFD("pidfd_open", 15),
    /**
     * Arranging for the child to die with this JVM ({@link Command#dieWithParent()}):
     * {@code prctl(PR_SET_PDEATHSIG)}, {@code ESRCH} when this JVM was dying already, or the
     * thread that holds such a child could not be created ({@code EAGAIN}).
     */
    PDEATHSIG("pdeathsig", 16),
    /**
     * Moving the child into its cgroup v2 directory: the child's write of "0" to
     * {@code cgroup.procs} (EOPNOTSUPP, EBUSY, EACCES, ENOENT, ...) when the kernel could not place
     * it there at creation.
     */
    CGROUP("cgroup", 17),
    /**
     * Windows: writing the arguments as one command line that the child reads back unchanged:
     * {@code EINVAL} for an argument of a {@code .bat}/{@code .cmd} program that {@code cmd.exe}
     * would interpret (any of {@code % ! " ^ & | < > ( )} or a control character: refused rather
     * than run, the "BatBadBut" class of injection) or a program name with a {@code "};
     * {@code EILSEQ} for text that is not valid Unicode; {@code E2BIG} beyond 32,766 UTF-16 units.
     */
    COMMAND_LINE("command_line", 18),
    /** Windows: creating the child's job object, or putting the child in it. */
    JOB("job", 19),
    /**
     * Handing the started child to the reactor that watches its exit (Java side, after the core's
     * steps; {@code ENOMEM}, or {@code EAGAIN} when no waiter thread can be started for a child
     * without a pidfd). The child is killed and reaped before the exception is thrown.
     */
    WATCH("watch", -1),
    /** A step this version of the Java API does not know (a newer native core). */
    UNKNOWN("unknown", -1);

    private final String stepName;
    private final int nativeCode;

    SpawnStep(String stepName, int nativeCode) {
        this.stepName = stepName;
        this.nativeCode = nativeCode;
    }

    /**
     * The short name used in messages: the C core's name for its steps.
     *
     * @return e.g. {@code "execve"}, {@code "chdir"}
     */
    public String stepName() {
        return stepName;
    }

    /**
     * The core's {@code fl_step} number.
     *
     * @return the number, or -1 for {@link #STDIO} and {@link #UNKNOWN}, which the core never reports
     */
    int nativeCode() {
        return nativeCode;
    }

    static SpawnStep ofNative(int code) {
        for (SpawnStep s : values()) {
            if (s.nativeCode == code) {
                return s;
            }
        }
        return UNKNOWN;
    }
}
