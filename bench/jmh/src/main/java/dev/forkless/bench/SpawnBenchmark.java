package dev.forkless.bench;

import dev.forkless.Child;
import dev.forkless.Command;
import dev.forkless.ExitStatus;
import dev.forkless.Stdio;
import java.io.File;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Spawn and wait for {@code /bin/true}: Forkless against {@link ProcessBuilder}, in one JVM, on
 * whatever JDK runs the forks (JMH's {@code -jvm}).
 *
 * <p>Both sides do what a caller would do for each process: build the command, start it with
 * stdin from {@code /dev/null} and stdout/stderr discarded, wait for it, check the exit code.
 * Nothing is piped, so no stream plumbing is measured: only the spawn, the wait and each API's
 * own bookkeeping. ProcessBuilder uses the JDK's default launch mechanism (on Linux, POSIX_SPAWN
 * through the {@code jspawnhelper} executable, so two execs per child).
 *
 * <p>SampleTime mode: every call is timed, so JMH reports the median (p50) and the spread, not
 * only a mean that a few slow calls on a shared 2-core machine would drag. Defaults here are what
 * {@code bench/run.sh} uses; its command line repeats them so the results say how they were made.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 5, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class SpawnBenchmark {
    private static final String TRUE = "/bin/true";
    private static final File DEV_NULL = new File("/dev/null");

    @Benchmark
    public ExitStatus forklessTrue() throws IOException, InterruptedException {
        Command cmd = Command.of(TRUE).stdin(Stdio.nul()).stdout(Stdio.nul()).stderr(Stdio.nul());
        try (Child child = cmd.spawn()) {
            ExitStatus st = child.waitFor();
            if (!st.success()) {
                throw new IllegalStateException("/bin/true failed: " + st);
            }
            return st;
        }
    }

    @Benchmark
    public int processBuilderTrue() throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(TRUE)
                .redirectInput(ProcessBuilder.Redirect.from(DEV_NULL))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD);
        Process p = pb.start();
        int code = p.waitFor();
        if (code != 0) {
            throw new IllegalStateException("/bin/true failed: exit " + code);
        }
        return code;
    }
}
