package dev.forkless.bench;

import dev.forkless.Command;
import dev.forkless.Output;
import dev.forkless.OutputOptions;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Collect everything a child writes to stdout into one {@code byte[]}: {@code head -c BYTES
 * /dev/zero}, Forkless {@code Command.output(...)} against {@code ProcessBuilder} +
 * {@code getInputStream().readAllBytes()} + {@code waitFor()}. The C limit of the same through the
 * core is {@code bench/c/stdio_bench.c}.
 *
 * <ul>
 *   <li>{@code forklessOutput}: {@code Command.of("head", "-c", BYTES, "/dev/zero")
 *       .output(OutputOptions.defaults().maxBytes(OutputOptions.MAX_MAX_BYTES))}: stdin
 *       {@code /dev/null}, stdout and stderr piped and both collected in the calling thread by the
 *       core's poll loop, no helper thread.</li>
 *   <li>{@code processBuilderReadAllBytes}: {@code new ProcessBuilder("head", ...).start()} with the
 *       JDK's defaults (three pipes), {@code getInputStream().readAllBytes()}, {@code waitFor()};
 *       stderr is not read (head writes nothing there).</li>
 * </ul>
 * Both check the exit code and the length. Two sizes: 1 GiB (a power of two: a collector that
 * doubles its array fills the last one exactly) and 1000 MiB (not one: it needs a final trimming
 * copy, or whatever the collector does instead).
 *
 * <p>SingleShotTime: one operation is one whole child (0.4–1 s); each iteration is one sample.
 * The heap must hold the result and the collector's growth, so {@code bench/run-stdio.sh} runs the
 * forks with {@code -Xms6g -Xmx6g -XX:+AlwaysPreTouch} (repeated on its command line). It runs one
 * fork per round, several rounds with the C harness in between, and says so on its command line;
 * the defaults below are for running the class alone.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 6)
@Fork(value = 3, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xms6g", "-Xmx6g", "-XX:+AlwaysPreTouch"})
public class StdioBenchmark {
    @Param({"1073741824", "1048576000"})
    public long bytes;

    private String count() {
        return Long.toString(bytes);
    }

    @Benchmark
    public byte[] forklessOutput() throws IOException, InterruptedException {
        Output out = Command.of("head", "-c", count(), "/dev/zero")
                .output(OutputOptions.defaults().maxBytes(OutputOptions.MAX_MAX_BYTES));
        byte[] b = out.stdout();
        if (!out.status().success() || b.length != bytes || out.stdoutTruncated()) {
            throw new IllegalStateException("forklessOutput: " + out + ", " + b.length + " bytes");
        }
        return b;
    }

    @Benchmark
    public byte[] processBuilderReadAllBytes() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("head", "-c", count(), "/dev/zero").start();
        byte[] b = p.getInputStream().readAllBytes();
        int code = p.waitFor();
        if (code != 0 || b.length != bytes) {
            throw new IllegalStateException("processBuilderReadAllBytes: exit " + code + ", " + b.length + " bytes");
        }
        return b;
    }
}
