package dev.forkless.bench;

import dev.forkless.Command;
import dev.forkless.Pipeline;
import dev.forkless.PipelineStatus;
import dev.forkless.Stdio;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
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
 * A three-stage pipeline moving BYTES between processes, {@code head -c BYTES /dev/zero | cat |
 * wc -c}; the JVM reads only the count at the end. The bytes never pass through the JVM, so what
 * is compared is how each API starts and connects the stages and waits for them.
 *
 * <ul>
 *   <li>{@code forklessPipeline}: {@code Pipeline.of(head, cat, wc.stdout(Stdio.piped())).spawn()},
 *       the count read from {@code last().stdout()}, {@code waitFor()}, {@code close()}. Stages'
 *       stdin/stderr otherwise at Forkless's default (inherit).</li>
 *   <li>{@code jdkStartPipeline}: {@code ProcessBuilder.startPipeline(List.of(head, cat, wc))}
 *       (JDK 9+) with the JDK's defaults (the first stage's stdin and every stage's stderr are
 *       pipes, unused), the count read from the last process's {@code getInputStream()},
 *       {@code waitFor()} on every process.</li>
 *   <li>{@code shellPipeline} (reference): one {@code ProcessBuilder("sh", "-c", "head -c BYTES
 *       /dev/zero | cat | wc -c")}, its stdout read, {@code waitFor()}: the shell connects the
 *       stages.</li>
 * </ul>
 * All check that every stage exited 0 and the count is BYTES. SingleShotTime, ms. Three processes
 * share two vCPUs here, so single runs swing by ±30% with the scheduler's placement;
 * {@code bench/run-stdio.sh} runs one fork per benchmark per round, several rounds, so drifting
 * outside load lands on every benchmark alike. The defaults below are for running it alone.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@Fork(value = 3, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class PipelineBenchmark {
    @Param({"1073741824"})
    public long bytes;

    private long count(byte[] out, String who) {
        String s = new String(out, StandardCharsets.US_ASCII).trim();
        long n = Long.parseLong(s);
        if (n != bytes) {
            throw new IllegalStateException(who + ": wc -c said " + s + ", expected " + bytes);
        }
        return n;
    }

    @Benchmark
    public long forklessPipeline() throws IOException, InterruptedException {
        try (Pipeline.Running run = Pipeline.of(
                Command.of("head", "-c", Long.toString(bytes), "/dev/zero"),
                Command.of("cat"),
                Command.of("wc", "-c").stdout(Stdio.piped())).spawn()) {
            byte[] out = run.last().stdout().readAllBytes();
            PipelineStatus st = run.waitFor();
            if (!st.success()) {
                throw new IllegalStateException("forklessPipeline: " + st);
            }
            return count(out, "forklessPipeline");
        }
    }

    @Benchmark
    public long jdkStartPipeline() throws IOException, InterruptedException {
        List<Process> ps = ProcessBuilder.startPipeline(List.of(
                new ProcessBuilder("head", "-c", Long.toString(bytes), "/dev/zero"),
                new ProcessBuilder("cat"),
                new ProcessBuilder("wc", "-c")));
        byte[] out = ps.get(ps.size() - 1).getInputStream().readAllBytes();
        for (Process p : ps) {
            int code = p.waitFor();
            if (code != 0) {
                throw new IllegalStateException("jdkStartPipeline: " + p.info().command().orElse("?") + " exit " + code);
            }
        }
        return count(out, "jdkStartPipeline");
    }

    @Benchmark
    public long shellPipeline() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("sh", "-c", "head -c " + bytes + " /dev/zero | cat | wc -c").start();
        byte[] out = p.getInputStream().readAllBytes();
        int code = p.waitFor();
        if (code != 0) {
            throw new IllegalStateException("shellPipeline: exit " + code);
        }
        return count(out, "shellPipeline");
    }
}
