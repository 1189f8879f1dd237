package dev.forkless.tool;

import dev.forkless.Child;
import dev.forkless.Command;
import dev.forkless.ExitStatus;
import dev.forkless.Forkless;
import dev.forkless.ProcessStartException;
import dev.forkless.ResourceUsage;
import dev.forkless.internal.Native;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code forkless} command line: {@code forkless run [--] CMD ARGS...} runs a command through
 * the library with stdio passed through, then prints how it ended and what it used (in the manner
 * of {@code /usr/bin/time -v}) on standard error, and exits with the child's code (128 + the
 * signal number if a signal killed it, as shells do).
 *
 * <p>Signals, as {@code time(1)} treats them: while the child runs, Ctrl+C ({@code SIGINT}) and
 * Ctrl+\ ({@code SIGQUIT}) do not stop the tool. The child, in the terminal's foreground process
 * group like the tool, gets them from the terminal itself; the tool waits for it, reports and
 * exits with its status. A HotSpot JVM keeps {@code SIGQUIT} for itself (a thread dump on standard
 * output, after which it runs on) unless started with {@code -Xrs}. {@code SIGTERM} and
 * {@code SIGHUP} sent to the tool are passed on to the child, and the tool again waits, reports
 * and exits with the child's status. A signal sent to the whole process group reaches the child
 * once from the kernel and once more through the tool.
 *
 * <p>Exit codes of the tool itself, as {@code time(1)} and shells use them: 127 when the program
 * is not found, 126 when it is found but cannot be executed (a directory, a file without execute
 * permission), 125 when the tool fails otherwise (the native library, the spawn itself), 2 for a
 * usage error.
 *
 * <p>Run it from the built jar: {@code java -jar target/forkless-*.jar run -- ls -l}.
 */
public final class Main {
    /** Exit code when the program is not found (ENOENT), as a shell's "command not found". */
    static final int EXIT_NOT_FOUND = 127;
    /** Exit code when the program exists but cannot be executed (EACCES, ...), as shells use it. */
    static final int EXIT_CANNOT_INVOKE = 126;
    /** Exit code when the tool itself fails (no native library, the spawn's own steps). */
    static final int EXIT_FAILED = 125;
    /** Exit code for a usage error. */
    static final int EXIT_USAGE = 2;

    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0) {
            usage(err);
            return EXIT_USAGE;
        }
        if (args[0].equals("-h") || args[0].equals("--help") || args[0].equals("help")) {
            usage(out);
            return 0;
        }
        if (args[0].equals("version") || args[0].equals("--version")) {
            out.println("forkless " + Forkless.version().orElse("(development build)"));
            return 0;
        }
        if (!args[0].equals("run")) {
            err.println("forkless: unknown command '" + args[0] + "'");
            usage(err);
            return EXIT_USAGE;
        }
        // Options of `run` come before the command; `--` ends them, so `run -- --help` runs a
        // program named --help. The command's own options are never looked at.
        int first = 1;
        while (first < args.length && args[first].startsWith("-")) {
            String option = args[first++];
            if (option.equals("--")) {
                break;
            }
            if (option.equals("-h") || option.equals("--help")) {
                usage(out);
                return 0;
            }
            err.println("forkless run: unknown option '" + option + "' (put -- before a command"
                    + " that starts with '-')");
            usage(err);
            return EXIT_USAGE;
        }
        if (first >= args.length) {
            err.println("forkless run: no command given");
            usage(err);
            return EXIT_USAGE;
        }
        if (!Forkless.isAvailable()) {
            err.println("forkless: the native library is unavailable: "
                    + Forkless.unavailabilityCause().map(Throwable::getMessage).orElse("unknown"));
            return EXIT_FAILED;
        }
        List<String> commandLine = Arrays.asList(args).subList(first, args.length);
        return runCommand(commandLine, err);
    }

    private static int runCommand(List<String> commandLine, PrintStream err) {
        long started = System.nanoTime();
        // Taken before the spawn, so that no signal falls between the child's start and the
        // handlers: one that comes before the child exists is kept and passed on at once after.
        try (SignalRelay relay = SignalRelay.install()) {
            ExitStatus status;
            try (Child child = Command.of(commandLine).spawn()) {
                relay.attach(child);
                status = waitUninterruptibly(child);
                relay.detach();
            } catch (ProcessStartException e) {
                err.println("forkless: " + e.getMessage());
                return startFailureCode(e);
            } catch (IllegalArgumentException e) {
                err.println("forkless: " + e.getMessage());
                return EXIT_USAGE;
            }
            Duration elapsed = Duration.ofNanos(System.nanoTime() - started);
            report(err, commandLine, status, elapsed);
            return status.code().orElseGet(() -> 128 + status.signalNumber().orElse(0));
        }
    }

    /** 127 for a program that is not there, 126 for one that is but cannot run, else 125. */
    static int startFailureCode(ProcessStartException e) {
        switch (e.step()) {
            case RESOLVE:
            case EXEC:
                return e.errnoName().equals("ENOENT") ? EXIT_NOT_FOUND : EXIT_CANNOT_INVOKE;
            default:
                return EXIT_FAILED;
        }
    }

    private static ExitStatus waitUninterruptibly(Child child) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return child.waitFor();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void report(PrintStream err, List<String> commandLine, ExitStatus status,
            Duration elapsed) {
        ResourceUsage usage = status.usage();
        StringBuilder sb = new StringBuilder();
        sb.append("\tCommand being timed: \"").append(String.join(" ", commandLine)).append("\"\n");
        if (status.code().isPresent()) {
            sb.append("\tExit status: ").append(status.code().getAsInt()).append('\n');
        } else {
            sb.append("\tKilled by signal: ").append(status.signal().map(Object::toString)
                            .orElse(Integer.toString(status.signalNumber().orElse(0))))
                    .append(status.coreDumped() ? " (core dumped)" : "").append('\n');
        }
        sb.append(String.format(Locale.ROOT, "\tUser time (seconds): %.3f%n",
                seconds(usage.userCpuTime())));
        sb.append(String.format(Locale.ROOT, "\tSystem time (seconds): %.3f%n",
                seconds(usage.systemCpuTime())));
        sb.append(String.format(Locale.ROOT, "\tElapsed (wall clock) time (seconds): %.3f%n",
                seconds(elapsed)));
        sb.append(maxRssLine(usage.maxRssBytes() / 1024, jvmPeakRssKiB()));
        sb.append("\tSpawned with: ").append(Native.strategyName(Native.spawnStrategy()))
                .append('\n');
        sb.append("\tExit watched by: ").append(Forkless.reactorBackend()).append(" reactor\n");
        err.print(sb);
        err.flush();
    }

    /**
     * The peak RSS line. Linux folds the peak of the address space a process leaves at
     * {@code execve} into its {@code ru_maxrss}, and a vfork-style child leaves this JVM's, so the
     * kernel's figure is max(this JVM's peak at the spawn, the child's own peak). This JVM's peak
     * now is at least its peak then: a figure above it can only be the child's; one at or below it
     * says nothing of the child but an upper bound, and is printed as that, not as the child's.
     */
    static String maxRssLine(long reportedKiB, long jvmPeakKiB) {
        if (jvmPeakKiB >= 0 && reportedKiB > jvmPeakKiB) {
            return "\tMaximum resident set size (kbytes): " + reportedKiB + "\n";
        }
        return "\tMaximum resident set size (kbytes): unknown (at most " + reportedKiB
                + "; the kernel's figure counts this JVM's own peak at the spawn)\n";
    }

    /** This JVM's peak resident size (VmHWM), or -1 where /proc does not say. */
    static long jvmPeakRssKiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"),
                    StandardCharsets.ISO_8859_1)) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.substring(6).replace("kB", "").trim());
                }
            }
        } catch (IOException | RuntimeException e) {
            // Not Linux, or /proc not mounted: the figure stays unexplained, never wrong.
        }
        return -1;
    }

    private static double seconds(Duration d) {
        return d.toNanos() / 1e9;
    }

    private static void usage(PrintStream out) {
        out.println("usage: forkless run [--] COMMAND [ARGS...]");
        out.println("       forkless version");
        out.println();
        out.println("Runs COMMAND through Forkless with stdin, stdout and stderr passed through,");
        out.println("then prints its exit status and resource usage on standard error and exits");
        out.println("with its exit code (128 + signal number if a signal killed it).");
        out.println("Ctrl+C reaches COMMAND from the terminal; TERM and HUP sent to forkless");
        out.println("are passed on to it. Exit codes of forkless itself: 127 COMMAND not found,");
        out.println("126 found but not executable, 125 another failure to run it, 2 usage error.");
    }

    /**
     * The tool's signal handling while its child runs (see the class comment). Handlers are
     * installed with {@code sun.misc.Signal} in place of the JVM's (which start the shutdown), and
     * the JVM's are put back by {@link #close()}. A handler is a Java one, never {@code SIG_IGN}: a
     * caught signal is reset to its default at {@code execve}, an ignored one would be inherited
     * and the child would not stop on Ctrl+C either.
     */
    static final class SignalRelay implements AutoCloseable {
        private final Map<sun.misc.Signal, sun.misc.SignalHandler> previous = new LinkedHashMap<>();
        private final Object lock = new Object();
        /** Guarded by lock. */
        private Child child;
        /** Guarded by lock: forwarded signals that came before the child existed. */
        private final List<dev.forkless.Signal> pending = new ArrayList<>();
        /** Guarded by lock: the child has exited, nothing more is passed on. */
        private boolean done;

        private SignalRelay() {}

        static SignalRelay install() {
            SignalRelay relay = new SignalRelay();
            relay.take("INT", null);
            relay.take("QUIT", null);
            relay.take("TERM", dev.forkless.Signal.TERM);
            relay.take("HUP", dev.forkless.Signal.HUP);
            return relay;
        }

        private void take(String name, dev.forkless.Signal forward) {
            sun.misc.Signal sig = new sun.misc.Signal(name);
            sun.misc.SignalHandler handler = forward == null
                    ? received -> { }
                    : received -> pass(forward);
            sun.misc.SignalHandler old;
            try {
                old = sun.misc.Signal.handle(sig, handler);
            } catch (IllegalArgumentException usedByTheVm) {
                // SIGQUIT without -Xrs: the JVM's thread dump, which does not end the JVM.
                return;
            }
            if (old == sun.misc.SignalHandler.SIG_IGN) {
                // Ignored when the tool started (nohup, a background job): keep it so, the
                // child inherits that as it would from a shell.
                sun.misc.Signal.handle(sig, old);
                return;
            }
            previous.put(sig, old);
        }

        private void pass(dev.forkless.Signal s) {
            Child target;
            synchronized (lock) {
                if (done) {
                    return;
                }
                if (child == null) {
                    pending.add(s);
                    return;
                }
                target = child;
            }
            send(target, s);
        }

        private static void send(Child target, dev.forkless.Signal s) {
            try {
                target.kill(s);
            } catch (RuntimeException e) {
                // The child has just been closed, or the kernel refused: nothing left to pass on
                // to, and the tool's report says how the child ended either way.
            }
        }

        void attach(Child c) {
            List<dev.forkless.Signal> early;
            synchronized (lock) {
                child = c;
                early = new ArrayList<>(pending);
                pending.clear();
            }
            for (dev.forkless.Signal s : early) {
                send(c, s);
            }
        }

        void detach() {
            synchronized (lock) {
                done = true;
                child = null;
            }
        }

        @Override
        public void close() {
            detach();
            previous.forEach(sun.misc.Signal::handle);
        }
    }
}
