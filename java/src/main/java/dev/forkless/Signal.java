package dev.forkless;

/**
 * The standard Linux signals, with their Linux numbers (x86-64 and AArch64 share them).
 *
 * <p>Used to {@linkplain Child#kill(Signal) signal a child} and to report what
 * {@linkplain ExitStatus#signal() killed one}. Real-time signals ({@code SIGRTMIN..SIGRTMAX}, 34 to
 * 64) have no constant; {@link ExitStatus#signalNumber()} reports them as numbers.
 */
public enum Signal {
    /** SIGHUP (1): hangup; terminates by default. */
    HUP(1),
    /** SIGINT (2): interrupt from the keyboard (Ctrl+C); terminates by default. */
    INT(2),
    /** SIGQUIT (3): quit from the keyboard; terminates with a core dump by default. */
    QUIT(3),
    /** SIGILL (4): illegal instruction; core dump. */
    ILL(4),
    /** SIGTRAP (5): trace/breakpoint trap; core dump. */
    TRAP(5),
    /** SIGABRT (6): abort(3); core dump. */
    ABRT(6),
    /** SIGBUS (7): bus error (bad memory access); core dump. */
    BUS(7),
    /** SIGFPE (8): arithmetic exception; core dump. */
    FPE(8),
    /** SIGKILL (9): kill; cannot be caught, blocked or ignored. */
    KILL(9),
    /** SIGUSR1 (10): user-defined; terminates by default. */
    USR1(10),
    /** SIGSEGV (11): invalid memory reference; core dump. */
    SEGV(11),
    /** SIGUSR2 (12): user-defined; terminates by default. */
    USR2(12),
    /** SIGPIPE (13): write to a pipe with no readers; terminates by default. */
    PIPE(13),
    /** SIGALRM (14): timer from alarm(2); terminates by default. */
    ALRM(14),
    /** SIGTERM (15): polite termination request; terminates by default. */
    TERM(15),
    /** SIGSTKFLT (16): stack fault on a coprocessor (unused); terminates by default. */
    STKFLT(16),
    /** SIGCHLD (17): a child stopped or terminated; ignored by default. */
    CHLD(17),
    /** SIGCONT (18): continue if stopped. */
    CONT(18),
    /** SIGSTOP (19): stop; cannot be caught, blocked or ignored. */
    STOP(19),
    /** SIGTSTP (20): stop typed at the terminal (Ctrl+Z). */
    TSTP(20),
    /** SIGTTIN (21): terminal input for a background process; stops by default. */
    TTIN(21),
    /** SIGTTOU (22): terminal output for a background process; stops by default. */
    TTOU(22),
    /** SIGURG (23): urgent condition on a socket; ignored by default. */
    URG(23),
    /** SIGXCPU (24): CPU time limit exceeded; core dump. */
    XCPU(24),
    /** SIGXFSZ (25): file size limit exceeded; core dump. */
    XFSZ(25),
    /** SIGVTALRM (26): virtual alarm clock; terminates by default. */
    VTALRM(26),
    /** SIGPROF (27): profiling timer expired; terminates by default. */
    PROF(27),
    /** SIGWINCH (28): window resize; ignored by default. */
    WINCH(28),
    /** SIGIO (29), also SIGPOLL: I/O now possible; terminates by default. */
    IO(29),
    /** SIGPWR (30): power failure; terminates by default. */
    PWR(30),
    /** SIGSYS (31): bad system call (also what seccomp sends); core dump. */
    SYS(31);

    private static final Signal[] BY_NUMBER = new Signal[32];

    static {
        for (Signal s : values()) {
            BY_NUMBER[s.number] = s;
        }
    }

    private final int number;

    Signal(int number) {
        this.number = number;
    }

    /**
     * The Linux signal number.
     *
     * @return e.g. 9 for {@link #KILL}
     */
    public int number() {
        return number;
    }

    /**
     * The C name.
     *
     * @return e.g. {@code "SIGKILL"}
     */
    public String signalName() {
        return "SIG" + name();
    }

    /**
     * The signal with a Linux number.
     *
     * @param number 1 to 31
     * @return the signal
     * @throws IllegalArgumentException for 0, a real-time signal or any other number without a
     *     constant here
     */
    public static Signal of(int number) {
        if (number > 0 && number < BY_NUMBER.length) {
            return BY_NUMBER[number];
        }
        throw new IllegalArgumentException("no standard signal numbered " + number);
    }

    /**
     * The signal with a name, as written in a shell or a configuration file: {@code "TERM"},
     * {@code "SIGTERM"}, {@code "term"} or the number {@code "15"}.
     *
     * @param name the name, with or without {@code SIG}, any case; or a number 1 to 31
     * @return the signal
     * @throws IllegalArgumentException for an unknown name or number
     */
    public static Signal byName(String name) {
        String n = java.util.Objects.requireNonNull(name, "name").trim().toUpperCase(java.util.Locale.ROOT);
        if (!n.isEmpty() && n.chars().allMatch(Character::isDigit)) {
            try {
                return of(Integer.parseInt(n));
            } catch (NumberFormatException tooLong) {
                throw new IllegalArgumentException("no standard signal numbered " + name);
            }
        }
        if (n.startsWith("SIG")) {
            n = n.substring(3);
        }
        try {
            return valueOf(n);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("no standard signal named " + name);
        }
    }

    /**
     * Whether {@link #of(int)} knows a number.
     *
     * @param number any number
     * @return true for 1 to 31
     */
    public static boolean isKnown(int number) {
        return number > 0 && number < BY_NUMBER.length;
    }
}
