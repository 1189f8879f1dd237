package dev.forkless.tool;

import dev.forkless.Child;
import dev.forkless.Command;
import dev.forkless.ExitStatus;
import dev.forkless.Forkless;
import dev.forkless.ProcessStartException;
import dev.forkless.ResourceUsage;
import dev.forkless.internal.Native;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The {@code forkless} command line: {@code forkless run [--] CMD ARGS...} runs a command through
 * the library with stdio passed through, then prints how it ended and what it used (in the manner
 * of {@code /usr/bin/time -v}) on standard error, and exits with the child's code (128 + the
 * signal number if a signal killed it, as shells do).
 *
 * <p>Run it from the built jar: {@code java -jar target/forkless-*.jar run -- ls -l}.
 */
public final class Main {
    /** Exit code when the command could not be started (as a shell's "command not found"). */
    static final int EXIT_CANNOT_RUN = 127;
    /** Exit code for a usage error. */
    static final int EXIT_USAGE = 2;

    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args, System.err));
    }

    static int run(String[] args, PrintStream err) {
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
            usage(args.length == 0 ? err : System.out);
            return args.length == 0 ? EXIT_USAGE : 0;
        }
        if (args[0].equals("version") || args[0].equals("--version")) {
            System.out.println("forkless " + Forkless.version().orElse("(development build)"));
            return 0;
        }
        if (!args[0].equals("run")) {
            err.println("forkless: unknown command '" + args[0] + "'");
            usage(err);
            return EXIT_USAGE;
        }
        int first = 1;
        if (first < args.length && args[first].equals("--")) {
            first++;
        }
        if (first >= args.length) {
            err.println("forkless run: no command given");
            usage(err);
            return EXIT_USAGE;
        }
        if (!Forkless.isAvailable()) {
            err.println("forkless: the native library is unavailable: "
                    + Forkless.unavailabilityCause().map(Throwable::getMessage).orElse("unknown"));
            return EXIT_CANNOT_RUN;
        }
        List<String> commandLine = Arrays.asList(args).subList(first, args.length);
        return runCommand(commandLine, err);
    }

    private static int runCommand(List<String> commandLine, PrintStream err) {
        long started = System.nanoTime();
        ExitStatus status;
        try (Child child = Command.of(commandLine).spawn()) {
            status = waitUninterruptibly(child);
        } catch (ProcessStartException e) {
            err.println("forkless: " + e.getMessage());
            return EXIT_CANNOT_RUN;
        } catch (IllegalArgumentException e) {
            err.println("forkless: " + e.getMessage());
            return EXIT_USAGE;
        }
        Duration elapsed = Duration.ofNanos(System.nanoTime() - started);
        report(err, commandLine, status, elapsed);
        return status.code().orElseGet(() -> 128 + status.signalNumber().orElse(0));
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
        // Linux folds the address space a process leaves at execve into its peak RSS, and every
        // spawn method leaves the launcher's: say so rather than print a misleading figure.
        sb.append("\tMaximum resident set size (kbytes): ").append(usage.maxRssBytes() / 1024)
                .append(" (includes this JVM's resident size at the spawn)\n");
        sb.append("\tSpawned with: ").append(Native.strategyName(Native.spawnStrategy()))
                .append('\n');
        sb.append("\tExit watched by: ").append(Forkless.reactorBackend()).append(" reactor\n");
        err.print(sb);
        err.flush();
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
    }
}
