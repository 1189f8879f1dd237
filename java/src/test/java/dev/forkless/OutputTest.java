package dev.forkless;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** output(), outputAsync() and line streaming, on real processes. */
@ExtendWith(LeakCheck.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class OutputTest {

    /** Kills a background process whose pid a test's child printed. */
    private static void killPid(String pid) {
        ProcessHandle.of(Long.parseLong(pid.trim())).ifPresent(ProcessHandle::destroyForcibly);
    }

    @Test
    void collectsStdoutAndStderrSeparately() throws Exception {
        Output out = Command.of("sh", "-c", "echo out; echo err >&2; exit 3").output();
        assertEquals("out\n", out.stdoutText());
        assertEquals("err\n", out.stderrText());
        assertEquals(3, out.status().code().getAsInt());
        assertFalse(out.stdoutTruncated() || out.stderrTruncated() || out.cutOff());
    }

    @Test
    void stdinDefaultsToNulAndExplicitStreamsAreKept() throws Exception {
        assertEquals(0, Command.of("cat").output().stdout().length); // /dev/null: EOF at once
        Output merged = Command.of("sh", "-c", "echo a; echo b >&2").stderr(Stdio.toStdout()).output();
        assertEquals("a\nb\n", merged.stdoutText());
        assertEquals(0, merged.stderr().length);
    }

    @Test
    void feedsInputWhileReadingLargeOutputBothWays() throws Exception {
        // cat echoes as it reads: with 8 MiB each way, neither side may wait for the other.
        byte[] data = Procs.randomBytes(8 << 20);
        data[5] = 0;
        Output out = Command.of("sh", "-c", "cat; head -c 1000000 /dev/zero >&2")
                .output(OutputOptions.defaults().input(data));
        assertArrayEquals(data, out.stdout());
        assertEquals(1_000_000, out.stderr().length);
        assertTrue(out.status().success());
    }

    @Test
    void childThatNeverReadsItsInput() throws Exception {
        Output out = Command.of("sh", "-c", "echo done").output(OutputOptions.defaults().input(new byte[4 << 20]));
        assertEquals("done\n", out.stdoutText());
        assertTrue(out.status().success());
    }

    @Test
    void limitTruncatesButDrainsTheChild() throws Exception {
        Output out = Command.of("head", "-c", "3000000", "/dev/zero")
                .output(OutputOptions.defaults().maxBytes(1000));
        assertEquals(1000, out.stdout().length);
        assertTrue(out.stdoutTruncated());
        assertTrue(out.status().success()); // not killed by SIGPIPE: the rest was read and dropped
        Output async = Command.of("head", "-c", "3000000", "/dev/zero")
                .outputAsync(OutputOptions.defaults().maxBytes(1000)).get(30, TimeUnit.SECONDS);
        assertEquals(1000, async.stdout().length);
        assertTrue(async.stdoutTruncated());
        assertTrue(async.status().success());
    }

    @Test
    void exitIsReportedWhileAGrandchildHoldsStdout() throws Exception {
        try (Child c = Command.of("sh", "-c", "sleep 30 & echo $!; exit 3").stdout(Stdio.piped()).spawn()) {
            // onExit() does not wait for the pipe: the grandchild holds it for 30 s.
            assertEquals(3, c.onExit().get(5, TimeUnit.SECONDS).code().getAsInt());
            Output out = c.output(OutputOptions.defaults().stopAfterExit(Duration.ofMillis(100)));
            assertTrue(out.cutOff());
            assertEquals(3, out.status().code().getAsInt());
            killPid(out.stdoutText());
        }
        Output out = Command.of("sh", "-c", "sleep 30 & echo $!; exit 4")
                .output(OutputOptions.defaults().stopAfterExit(Duration.ZERO));
        assertTrue(out.cutOff());
        assertEquals(4, out.status().code().getAsInt());
        killPid(out.stdoutText());
        Output async = Command.of("sh", "-c", "sleep 30 & echo $!; exit 5")
                .outputAsync(OutputOptions.defaults().stopAfterExit(Duration.ofMillis(50))).get(10, TimeUnit.SECONDS);
        assertTrue(async.cutOff());
        assertEquals(5, async.status().code().getAsInt());
        killPid(async.stdoutText());
    }

    @Test
    void aHugeGraceIsAsGoodAsWaitingForEof() throws Exception {
        OutputOptions forever = OutputOptions.defaults().stopAfterExit(Duration.ofSeconds(Long.MAX_VALUE));
        String script = "(sleep 0.3; echo late) & echo early";
        Output out = Command.of("sh", "-c", script).output(forever);
        assertEquals("early\nlate\n", out.stdoutText());
        assertFalse(out.cutOff());
        Output async = Command.of("sh", "-c", script).outputAsync(forever).get(10, TimeUnit.SECONDS);
        assertEquals("early\nlate\n", async.stdoutText());
        assertFalse(async.cutOff());
    }

    @Test
    void waitsForEofByDefault() throws Exception {
        long t0 = System.nanoTime();
        Output out = Command.of("sh", "-c", "(sleep 0.5; echo late) & echo early").output();
        assertEquals("early\nlate\n", out.stdoutText());
        assertFalse(out.cutOff());
        assertTrue(System.nanoTime() - t0 >= 400_000_000L);
    }

    @Test
    void outputIsInterruptibleAndKillsTheChild() throws Exception {
        Thread me = Thread.currentThread();
        Thread interrupter = new Thread(() -> {
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                return;
            }
            me.interrupt();
        });
        interrupter.start();
        long t0 = System.nanoTime();
        assertThrows(InterruptedException.class, () -> Command.of("sleep", "30").output());
        assertTrue(System.nanoTime() - t0 < 5_000_000_000L);
        interrupter.join();
    }

    @Test
    void childKilledMidWrite() throws Exception {
        try (Child c = Command.of("sh", "-c", "while :; do echo data; done").stdout(Stdio.piped()).spawn()) {
            CompletableFuture<Output> f = c.outputAsync(OutputOptions.defaults());
            Thread.sleep(100);
            c.kill(Signal.KILL);
            Output out = f.get(10, TimeUnit.SECONDS);
            assertEquals(Signal.KILL, out.status().signal().orElseThrow());
            assertTrue(out.stdout().length > 0);
        }
    }

    @Test
    void binaryWithNulBytesAsync() throws Exception {
        byte[] data = Procs.randomBytes(1 << 20);
        data[0] = 0;
        Output out = Command.of("cat").outputAsync(OutputOptions.defaults().input(data)).get(30, TimeUnit.SECONDS);
        assertArrayEquals(data, out.stdout());
    }

    @Test
    void fiveHundredConcurrentCapturesOnTheReactor() throws Exception {
        int n = 500;
        Set<String> threadsBefore = threadNames();
        List<CompletableFuture<Output>> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            all.add(Command.of("sh", "-c", "head -c 65536 /dev/zero; echo " + i + " >&2").outputAsync());
        }
        for (int i = 0; i < n; i++) {
            Output out = all.get(i).get(60, TimeUnit.SECONDS);
            assertEquals(65536, out.stdout().length);
            assertEquals(i + "\n", out.stderrText());
        }
        Set<String> started = threadNames();
        started.removeAll(threadsBefore);
        // Completion callbacks (the onExit executor) and the JIT's dynamically added compiler
        // threads are not reading threads.
        started.removeIf(t -> t.startsWith("forkless-callback-") || t.startsWith("ForkJoinPool")
                || t.contains("CompilerThread"));
        assertTrue(started.size() <= 1, "new threads: " + started); // at most the reactor
    }

    private static Set<String> threadNames() {
        Set<String> names = ConcurrentHashMap.newKeySet();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            names.add(t.getName());
        }
        return names;
    }

    @Test
    void linesArriveInOrderWithTheirTerminatorsRemoved() throws Exception {
        try (Child c = Command.of("printf", "a\\nb\\r\\nc\\rü\\n\\nlast").stdout(Stdio.piped()).spawn()) {
            List<String> lines = Collections.synchronizedList(new ArrayList<>());
            c.onStdoutLine(lines::add).get(10, TimeUnit.SECONDS);
            assertEquals(List.of("a", "b", "c", "ü", "", "last"), lines);
            c.waitFor();
        }
    }

    @Test
    void linesInTheCharsetChosen() throws Exception {
        try (Child c = Command.of("printf", "\\351t\\351\\n").stdout(Stdio.piped()).spawn()) {
            List<String> lines = Collections.synchronizedList(new ArrayList<>());
            c.onStdoutLine(StandardCharsets.ISO_8859_1, Runnable::run, lines::add).get(10, TimeUnit.SECONDS);
            assertEquals(List.of("\u00e9t\u00e9"), lines);
            c.waitFor();
        }
    }

    @Test
    void manyLinesOnTheReactorThreadAndBothStreams() throws Exception {
        try (Child c = Command.of("sh", "-c", "seq 1 100000; seq 1 10 >&2")
                .stdout(Stdio.piped()).stderr(Stdio.piped()).spawn()) {
            List<String> out = new ArrayList<>();
            List<String> err = Collections.synchronizedList(new ArrayList<>());
            CompletableFuture<Void> a = c.onStdoutLine(StandardCharsets.UTF_8, Runnable::run, out::add);
            CompletableFuture<Void> b = c.onStderrLine(err::add);
            a.get(30, TimeUnit.SECONDS);
            b.get(30, TimeUnit.SECONDS);
            assertEquals(100000, out.size());
            assertEquals("100000", out.get(99999));
            assertEquals(10, err.size());
            assertThrows(IllegalStateException.class, c::stdout); // taken by the line reader
            c.waitFor();
        }
    }

    @Test
    void throwingConsumerStopsDelivery() throws Exception {
        try (Child c = Command.of("seq", "1", "1000000").stdout(Stdio.piped()).spawn()) {
            CompletableFuture<Void> f = c.onStdoutLine(line -> {
                throw new IllegalArgumentException("no thanks");
            });
            Throwable t = assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> f.get(10, TimeUnit.SECONDS)).getCause();
            assertEquals("no thanks", t.getMessage());
            // The pipe is closed: seq dies of SIGPIPE (or exits with an error) instead of blocking.
            assertFalse(c.waitFor().success());
        }
    }

    @Test
    void oneConsumerPerPipe() throws Exception {
        try (Child c = Command.of("true").stdout(Stdio.piped()).spawn()) {
            c.stdout();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> c.output());
            assertTrue(e.getMessage().contains("already used by stdout()"), e.getMessage());
            c.waitFor();
        }
        try (Child c = Command.of("true").spawn()) {
            assertThrows(IllegalStateException.class,
                    () -> c.output(OutputOptions.defaults().input("x")));
            c.waitFor();
        }
        assertThrows(IllegalArgumentException.class, () -> Command.of("cat").stdin(Stdio.nul())
                .output(OutputOptions.defaults().input("x")));
    }

    @Test
    void optionsValidateAndDescribeThemselves() {
        assertThrows(IllegalArgumentException.class, () -> OutputOptions.defaults().maxBytes(-1));
        assertThrows(IllegalArgumentException.class, () -> OutputOptions.defaults().stopAfterExit(Duration.ofSeconds(-1)));
        assertEquals(OutputOptions.MAX_MAX_BYTES, OutputOptions.defaults().limit());
        assertTrue(OutputOptions.defaults().input("abc").toString().contains("input 3 bytes"));
    }

    @Test
    void startFailureIsThrownNotLeft() {
        ProcessStartException e = assertThrows(ProcessStartException.class,
                () -> Command.of("/nonexistent/prog").output());
        assertTrue(e.getMessage().contains("/nonexistent/prog"), e.getMessage());
        assertThrows(ProcessStartException.class, () -> Command.of("/nonexistent/prog").outputAsync());
    }
}
