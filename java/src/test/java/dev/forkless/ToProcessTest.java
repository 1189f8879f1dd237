package dev.forkless;

import dev.forkless.internal.Reactor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.ref.WeakReference;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Child#toProcess()}: the same scenarios run against a JDK {@link ProcessBuilder} process and
 * against the Forkless view, and must come out the same; then what only the view has (its handle,
 * a closed child, collection).
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ToProcessTest {
    /** Where a stream goes. MERGE is for stderr only: into stdout, as {@code 2>&1}. */
    enum Io { PIPE, INHERIT, NUL, MERGE }

    /** A started process, and how to leave nothing behind (kill, reap, close the pipes). */
    interface Started extends AutoCloseable {
        Process process();

        @Override
        void close();
    }

    /** The two ways to get a {@link Process}. */
    enum Launcher {
        JDK {
            @Override
            Started start(Io in, Io out, Io err, String... cmd) throws IOException {
                ProcessBuilder pb = new ProcessBuilder(cmd);
                pb.redirectInput(in == Io.PIPE ? ProcessBuilder.Redirect.PIPE
                        : in == Io.INHERIT ? ProcessBuilder.Redirect.INHERIT
                        : ProcessBuilder.Redirect.from(new File("/dev/null")));
                pb.redirectOutput(redirect(out));
                if (err == Io.MERGE) {
                    pb.redirectErrorStream(true);
                } else {
                    pb.redirectError(redirect(err));
                }
                Process p = pb.start();
                return new Started() {
                    @Override
                    public Process process() {
                        return p;
                    }

                    @Override
                    public void close() {
                        p.destroyForcibly();
                        p.onExit().join(); // uninterruptible, like Child.close()
                        closeQuietly(p.getOutputStream());
                        closeQuietly(p.getInputStream());
                        closeQuietly(p.getErrorStream());
                    }
                };
            }

            private ProcessBuilder.Redirect redirect(Io io) {
                return io == Io.PIPE ? ProcessBuilder.Redirect.PIPE
                        : io == Io.INHERIT ? ProcessBuilder.Redirect.INHERIT : ProcessBuilder.Redirect.DISCARD;
            }
        },
        FORKLESS {
            @Override
            Started start(Io in, Io out, Io err, String... cmd) throws IOException {
                Child child = Command.of(Arrays.asList(cmd))
                        .stdin(stdio(in)).stdout(stdio(out))
                        .stderr(err == Io.MERGE ? Stdio.toStdout() : stdio(err))
                        .spawn();
                Process p = child.toProcess();
                return new Started() {
                    @Override
                    public Process process() {
                        return p;
                    }

                    @Override
                    public void close() {
                        child.close();
                    }
                };
            }

            private Stdio stdio(Io io) {
                return io == Io.PIPE ? Stdio.piped() : io == Io.INHERIT ? Stdio.inherit() : Stdio.nul();
            }
        };

        abstract Started start(Io in, Io out, Io err, String... cmd) throws IOException;

        /** No input, output discarded, stderr to the test log. */
        Started start(String... cmd) throws IOException {
            return start(Io.NUL, Io.NUL, Io.INHERIT, cmd);
        }
    }

    static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // cleanup only
        }
    }

    /** This JVM's pipe descriptors. */
    private static Map<Integer, String> pipes() {
        return Procs.fds().entrySet().stream().filter(e -> e.getValue().startsWith("pipe:"))
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
    }

    private static boolean noNewPipes(Map<Integer, String> before) {
        return pipes().entrySet().stream().allMatch(e -> e.getValue().equals(before.get(e.getKey())));
    }

    // ---------------------------------------------------------------- exits and waiting

    @ParameterizedTest
    @EnumSource(Launcher.class)
    void exitZeroAndFortyTwo(Launcher l) throws Exception {
        try (Started s = l.start("true")) {
            Process p = s.process();
            assertEquals(0, p.waitFor());
            assertEquals(0, p.exitValue());
            assertFalse(p.isAlive());
            assertEquals("Process[pid=" + p.pid() + ", exitValue=0]", p.toString());
        }
        try (Started s = l.start("sh", "-c", "exit 42")) {
            Process p = s.process();
            assertEquals(42, p.waitFor());
            assertEquals(42, p.waitFor());
            assertEquals(42, p.exitValue());
            assertTrue(p.waitFor(1, TimeUnit.SECONDS));
        }
    }

    @ParameterizedTest
    @EnumSource(Launcher.class)
    void exitValueWhileRunningThrowsThenDestroyIsSigterm(Launcher l) throws Exception {
        try (Started s = l.start("sleep", "30")) {
            Process p = s.process();
            IllegalThreadStateException e = assertThrows(IllegalThreadStateException.class, p::exitValue);
            assertEquals("process hasn't exited", e.getMessage());
            assertTrue(p.isAlive());
            assertEquals("Process[pid=" + p.pid() + ", exitValue=\"not exited\"]", p.toString());
            assertTrue(p.supportsNormalTermination());
            p.destroy();
            assertEquals(143, p.waitFor()); // 128 + SIGTERM
            assertEquals(143, p.exitValue());
            assertFalse(p.isAlive());
            assertEquals("Process[pid=" + p.pid() + ", exitValue=143]", p.toString());
        }
    }

    @ParameterizedTest
    @EnumSource(Launcher.class)
    void destroyForciblyIsSigkillAndReturnsTheProcess(Launcher l) throws Exception {
        try (Started s = l.start("sleep", "30")) {
            Process p = s.process();
            assertSame(p, p.destroyForcibly());
            assertEquals(137, p.waitFor());
            assertEquals(137, p.exitValue());
        }
    }

    @ParameterizedTest
    @EnumSource(Launcher.class)
    void destroyAfterExitDoesNothing(Launcher l) throws Exception {
        try (Started s = l.start("sh", "-c", "exit 3")) {
            Process p = s.process();
            assertEquals(3, p.waitFor());
            p.destroy();
            assertSame(p, p.destroyForcibly());
            assertEquals(3, p.exitValue());
            assertFalse(p.toHandle().destroy());
            assertFalse(p.toHandle().destroyForcibly());
            assertEquals(3, p.exitValue());
        }
    }

    @ParameterizedTest
    @EnumSource(Launcher.class)
    void exitValueAfterASignalDeathIs128PlusTheSignal(Launcher l) throws Exception {
        try (Started s = l.start("sh", "-c", "kill -USR1 $$")) {
            assertEquals(128 + 10, s.process().waitFor());
        }
        try (Started s = l.start("sh", "-c", "kill -HUP $$")) {
            assertEquals(128 + 1, s.process().waitFor());
            assertEquals(129, s.process().exitValue());
        }
    }

    @ParameterizedTest
    @EnumSource(Launcher.class)
    void waitForWithATimeout(Launcher l) throws Exception {
        try (Started s = l.start("sh", "-c", "sleep 0.3; exit 7")) {
            Process p = s.process();
            assertThrows(NullPointerException.class, () -> p.waitFor(1, null));
            long t0 = System.nanoTime();
            assertFalse(p.waitFor(50, TimeUnit.MILLISECONDS));
            assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(45));
            t0 = System.nanoTime();
            assertFalse(p.waitFor(0, TimeUnit.SECONDS));
            assertFalse(p.waitFor(-1, TimeUnit.DAYS));
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(1), "no wait for <= 0");
            assertTrue(p.waitFor(10, TimeUnit.SECONDS));
            assertEquals(7, p.exitValue());
            assertTrue(p.waitFor(0, TimeUnit.SECONDS));
            assertTrue(p.waitFor(-1, TimeUnit.SECONDS));
            assertTrue(p.waitFor(Long.MAX_VALUE, TimeUnit.DAYS));
        }
    }

    @ParameterizedTest
    @EnumSource(Launcher.class)
    void waitForIsInterruptible(Launcher l) throws Exception {
        try (Started s = l.start("sleep", "30")) {
            Process p = s.process();
            Thread.currentThread().interrupt();
            assertThrows(InterruptedException.class, p::waitFor);
            assertFalse(Thread.interrupted(), "the interrupt is consumed, as Object.wait does");
            Thread.currentThread().interrupt();
            assertThrows(InterruptedException.class, () -> p.waitFor(10, TimeUnit.SECONDS));
            assertFalse(Thread.interrupted());

            // Interrupted while waiting, from another thread.
            Thread me = Thread.currentThread();
            Thread interrupter = new Thread(() -> {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
                me.interrupt();
            });
            interrupter.start();
            assertThrows(InterruptedException.class, p::waitFor);
            interrupter.join();
            assertTrue(p.isAlive(), "the process is unaffected");

            // Once it has exited, an interrupted thread still gets the value, and keeps its status.
            p.destroyForcibly();
            assertEquals(137, p.waitFor());
            Thread.currentThread().interrupt();
            assertEquals(137, p.waitFor());
            assertTrue(p.waitFor(1, TimeUnit.SECONDS));
            assertTrue(Thread.interrupted());
        } finally {
            Thread.interrupted();
        }
    }

    @ParameterizedTest
    @EnumSource(Launcher.class)
    void onExitCompletesWithTheSameProcess(Launcher l) throws Exception {
        try (Started s = l.start("sh", "-c", "sleep 0.2; exit 3")) {
            Process p = s.process();
            CompletableFuture<Process> f1 = p.onExit();
            CompletableFuture<Process> f2 = p.onExit();
            assertNotSame(f1, f2);
            CompletableFuture<Boolean> onReactor = f1.thenApply(x -> Reactor.isReactorThread());
            assertFalse(f1.isDone());
            assertTrue(f2.cancel(true));
            assertTrue(p.isAlive(), "cancelling a future does not affect the process");
            assertSame(p, f1.get(10, TimeUnit.SECONDS));
            assertFalse(onReactor.get(10, TimeUnit.SECONDS), "completed on the reactor thread");
            assertEquals(3, p.exitValue());
            assertSame(p, p.onExit().get(10, TimeUnit.SECONDS));
            assertEquals(3, f1.thenApply(Process::exitValue).get(10, TimeUnit.SECONDS));
        }
    }

    // ---------------------------------------------------------------- pid and handle

    @ParameterizedTest
    @EnumSource(Launcher.class)
    void pidAndHandle(Launcher l) throws Exception {
        try (Started s = l.start("sleep", "30")) {
            Process p = s.process();
            long pid = p.pid();
            assertEquals(Procs.SELF, Procs.stat(pid).ppid(), "our child");
            ProcessHandle h = p.toHandle();
            assertSame(h, p.toHandle());
            assertEquals(pid, h.pid());
            assertTrue(h.isAlive());
            assertTrue(h.supportsNormalTermination());
            assertEquals(h, h);
            assertEquals(0, h.compareTo(h));
            assertEquals(Long.hashCode(pid), h.hashCode());
            assertEquals(Long.toString(pid), h.toString());
            assertEquals(Procs.SELF, h.parent().orElseThrow().pid());
            // Eventually: right after the spawn, /proc may still describe the exec in progress.
            assertTrue(Procs.eventually(Duration.ofSeconds(5),
                    () -> h.info().command().orElse("").endsWith("/sleep")
                            && Arrays.equals(new String[] {"30"}, h.info().arguments().orElse(null))),
                    () -> h.info().toString());
            assertEquals(h.info().command(), p.info().command());
            assertTrue(h.info().startInstant().isPresent());

            CompletableFuture<ProcessHandle> exit = h.onExit();
            assertNotSame(exit, h.onExit());
            assertFalse(exit.isDone());
            p.destroyForcibly();
            assertSame(h, exit.get(10, TimeUnit.SECONDS));
            assertEquals(137, p.waitFor());
            assertFalse(h.isAlive());
            assertTrue(h.info().command().isEmpty(), "gone: " + h.info());
            assertTrue(h.parent().isEmpty());
            assertEquals(0, h.children().count());
            assertEquals(pid, p.pid());
            assertEquals(pid, h.pid());
        }
    }

    @ParameterizedTest
    @EnumSource(Launcher.class)
    void childrenAndDescendants(Launcher l) throws Exception {
        try (Started s = l.start(Io.NUL, Io.NUL, Io.NUL, "sh", "-c", "sleep 30 & wait $!")) {
            Process p = s.process();
            AtomicReference<List<ProcessHandle>> kids = new AtomicReference<>();
            assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> {
                kids.set(p.children().collect(Collectors.toList()));
                return kids.get().size() == 1
                        && kids.get().get(0).info().command().orElse("").endsWith("/sleep");
            }), () -> "children: " + kids.get());
            ProcessHandle sleep = kids.get().get(0);
            assertEquals(List.of(sleep.pid()), p.toHandle().children().map(ProcessHandle::pid).collect(Collectors.toList()));
            assertEquals(List.of(sleep.pid()), p.descendants().map(ProcessHandle::pid).collect(Collectors.toList()));
            assertEquals(p.pid(), sleep.parent().orElseThrow().pid());
            assertTrue(sleep.destroyForcibly()); // the grandchild; sh's wait then reports it
            assertEquals(137, p.waitFor());
            assertEquals(0, p.children().count());
            assertEquals(0, p.descendants().count());
        }
    }

    // ---------------------------------------------------------------- streams

    @ParameterizedTest
    @EnumSource(Launcher.class)
    void stdoutCarriesBinaryBytes(Launcher l) throws Exception {
        try (Started s = l.start(Io.NUL, Io.PIPE, Io.INHERIT, "printf", "a\\000b\\377\\n")) {
            Process p = s.process();
            InputStream in = p.getInputStream();
            assertSame(in, p.getInputStream());
            assertArrayEquals(new byte[] {'a', 0, 'b', (byte) 0xff, '\n'}, in.readAllBytes());
            assertEquals(-1, in.read());
            assertEquals(0, p.waitFor());
        }
        // More than a pipe holds, read while the process runs and exits.
        try (Started s = l.start(Io.NUL, Io.PIPE, Io.INHERIT, "seq", "1", "60000")) {
            Process p = s.process();
            StringBuilder expected = new StringBuilder();
            for (int i = 1; i <= 60000; i++) {
                expected.append(i).append('\n');
            }
            assertEquals(expected.toString(), new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII));
            assertEquals(0, p.waitFor());
        }
    }

    @ParameterizedTest
    @EnumSource(Launcher.class)
    void catRoundTripAndCloseDeliversEof(Launcher l) throws Exception {
        byte[] small = new byte[10_000];
        for (int i = 0; i < small.length; i++) {
            small[i] = (byte) i; // every byte value, NULs included
        }
        try (Started s = l.start(Io.PIPE, Io.PIPE, Io.INHERIT, "cat")) {
            Process p = s.process();
            OutputStream out = p.getOutputStream();
            assertSame(out, p.getOutputStream());
            out.write(small); // fits in the pipe: no reader needed yet
            out.close(); // end-of-file: cat exits
            assertArrayEquals(small, p.getInputStream().readAllBytes());
            assertEquals(0, p.waitFor());
            assertThrows(IOException.class, () -> {
                out.write(1);
                out.flush();
            });
        }
        // A megabyte both ways at once: a writer thread, this thread reads.
        byte[] big = new byte[1 << 20];
        new SplittableRandom(7).nextBytes(big);
        try (Started s = l.start(Io.PIPE, Io.PIPE, Io.INHERIT, "cat")) {
            Process p = s.process();
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try (OutputStream out = p.getOutputStream()) {
                    for (int off = 0; off < big.length; off += 1000) {
                        out.write(big, off, Math.min(1000, big.length - off));
                    }
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            p.getInputStream().transferTo(got);
            writer.get(30, TimeUnit.SECONDS);
            assertArrayEquals(big, got.toByteArray());
            assertEquals(0, p.waitFor());
        }
    }

    @ParameterizedTest
    @EnumSource(Launcher.class)
    void stderrSeparateOrMerged(Launcher l) throws Exception {
        String script = "echo out; echo err >&2; echo more";
        try (Started s = l.start(Io.NUL, Io.PIPE, Io.PIPE, "sh", "-c", script)) {
            Process p = s.process();
            assertEquals(0, p.waitFor());
            assertEquals("out\nmore\n", new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            assertSame(p.getErrorStream(), p.getErrorStream());
            assertEquals("err\n", new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
        }
        try (Started s = l.start(Io.NUL, Io.PIPE, Io.MERGE, "sh", "-c", script)) {
            Process p = s.process();
            assertEquals("out\nerr\nmore\n", new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            // Documented as the null input stream. (The JDK really returns an empty pipe, which
            // throws once closed; so no check after close here.)
            InputStream err = p.getErrorStream();
            assertEquals(-1, err.read());
            assertEquals(0, err.available());
            assertEquals(0, p.waitFor());
        }
    }

    private static void assertNullInput(InputStream in) throws IOException {
        assertEquals(-1, in.read());
        assertEquals(-1, in.read(new byte[8]));
        assertEquals(0, in.read(new byte[0]));
        assertEquals(0, in.available());
        assertEquals(0, in.skip(10));
        in.close();
        assertEquals(-1, in.read(), "closing changes nothing");
    }

    @ParameterizedTest
    @EnumSource(Launcher.class)
    void nullStreamsWhenNotPiped(Launcher l) throws Exception {
        for (Io io : new Io[] {Io.NUL, Io.INHERIT}) {
            try (Started s = l.start(io, io, io, "true")) {
                Process p = s.process();
                OutputStream out = p.getOutputStream();
                assertSame(out, p.getOutputStream());
                assertEquals("Stream closed", assertThrows(IOException.class, () -> out.write(1)).getMessage());
                assertThrows(IOException.class, () -> out.write(new byte[3]));
                out.write(new byte[0]); // no byte to refuse: the JDK's null stream accepts it
                out.flush();
                out.close();
                assertSame(p.getInputStream(), p.getInputStream());
                assertSame(p.getErrorStream(), p.getErrorStream());
                assertNullInput(p.getInputStream());
                assertNullInput(p.getErrorStream());
                assertNull(p.inputReader().readLine());
                assertEquals(0, p.waitFor());
                assertNullInput(p.getInputStream());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Launcher.class)
    void readersAndWriterWithACharset(Launcher l) throws Exception {
        String script = "printf 'h\\303\\251llo\\n'; printf 'w\\303\\266rld\\n' >&2";
        try (Started s = l.start(Io.NUL, Io.PIPE, Io.PIPE, "sh", "-c", script)) {
            Process p = s.process();
            BufferedReader out = p.inputReader(StandardCharsets.UTF_8);
            assertSame(out, p.inputReader(StandardCharsets.UTF_8));
            assertThrows(IllegalStateException.class, () -> p.inputReader(StandardCharsets.ISO_8859_1));
            assertEquals("héllo", out.readLine());
            assertNull(out.readLine());
            BufferedReader err = p.errorReader(StandardCharsets.UTF_8);
            assertSame(err, p.errorReader(StandardCharsets.UTF_8));
            assertThrows(IllegalStateException.class, () -> p.errorReader(StandardCharsets.UTF_16));
            assertEquals("wörld", err.readLine());
            assertEquals(0, p.waitFor());
        }
        try (Started s = l.start(Io.PIPE, Io.PIPE, Io.INHERIT, "cat")) {
            Process p = s.process();
            BufferedWriter w = p.outputWriter(StandardCharsets.UTF_8);
            assertSame(w, p.outputWriter(StandardCharsets.UTF_8));
            assertThrows(IllegalStateException.class, () -> p.outputWriter(StandardCharsets.US_ASCII));
            w.write("ünï\0côdé\n");
            w.close();
            assertEquals("ünï\0côdé", p.inputReader(StandardCharsets.UTF_8).readLine());
            assertEquals(0, p.waitFor());
        }
    }

    @ParameterizedTest
    @EnumSource(Launcher.class)
    void stdinIsBufferedUntilFlushed(Launcher l) throws Exception {
        try (Started s = l.start(Io.PIPE, Io.PIPE, Io.INHERIT, "sh", "-c", "head -c 3; echo; echo done")) {
            Process p = s.process();
            OutputStream out = p.getOutputStream();
            out.write("abc".getBytes(StandardCharsets.US_ASCII));
            Thread.sleep(100);
            assertTrue(p.isAlive(), "unflushed bytes have not reached the process");
            out.flush();
            assertEquals("abc\ndone\n", new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII));
            assertEquals(0, p.waitFor());
        }
    }

    /**
     * The JDK closes a process's pipes when it exits, keeping what stdout and stderr still hold:
     * code that never closes the streams leaks nothing. The view does the same.
     */
    @ParameterizedTest
    @EnumSource(Launcher.class)
    void pipesAreReclaimedAtTheExitWithoutClosingTheStreams(Launcher l) throws Exception {
        Map<Integer, String> before = pipes();
        try (Started s = l.start(Io.PIPE, Io.PIPE, Io.PIPE, "sh", "-c", "printf hello; printf oops >&2")) {
            Process p = s.process();
            assertEquals(0, p.waitFor());
            assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> noNewPipes(before)),
                    () -> "still open: " + pipes() + " before: " + before);
            assertEquals("hello", new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII));
            assertEquals("oops", new String(p.getErrorStream().readAllBytes(), StandardCharsets.US_ASCII));
            assertEquals(-1, p.getInputStream().read());
            OutputStream out = p.getOutputStream();
            assertThrows(IOException.class, () -> {
                out.write(1);
                out.flush();
            });
        }
    }

    /** The exit comes while a thread is blocked reading: that read is not disturbed, the pipe is still reclaimed. */
    @ParameterizedTest
    @EnumSource(Launcher.class)
    void reclaimWhileAReaderIsBlocked(Launcher l) throws Exception {
        Map<Integer, String> before = pipes();
        try (Started s = l.start(Io.NUL, Io.PIPE, Io.INHERIT, "sh", "-c", "sleep 0.2; printf xyz")) {
            Process p = s.process();
            InputStream in = p.getInputStream();
            assertEquals('x', in.read()); // blocks until the process writes, right before it exits
            assertEquals(0, p.waitFor());
            assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> noNewPipes(before)),
                    () -> "still open: " + pipes());
            assertEquals('y', in.read());
            assertEquals('z', in.read());
            assertEquals(-1, in.read());
        }
    }

    @ParameterizedTest
    @EnumSource(Launcher.class)
    void destroyClosesTheStreams(Launcher l) throws Exception {
        try (Started s = l.start(Io.PIPE, Io.PIPE, Io.PIPE, "sleep", "30")) {
            Process p = s.process();
            p.destroy();
            assertThrows(IOException.class, () -> p.getInputStream().read());
            assertThrows(IOException.class, () -> p.getErrorStream().read());
            assertThrows(IOException.class, () -> {
                p.getOutputStream().write(1);
                p.getOutputStream().flush();
            });
            assertEquals(143, p.waitFor());
        }
    }

    // ---------------------------------------------------------------- the view only

    @Test
    void oneViewPerChildAndItsPidIsTheChilds() throws Exception {
        try (Child c = Command.of("sleep", "30").spawn()) {
            Process p = c.toProcess();
            assertSame(p, c.toProcess());
            assertEquals(c.pid(), p.pid());
            assertEquals(c.pid(), p.toHandle().pid());
            assertTrue(c.kill(Signal.INT));
            assertEquals(130, p.waitFor());
            assertEquals(Signal.INT, c.waitFor().signal().orElseThrow());
        }
    }

    @Test
    void theHandleIsTheChildsOwnNotTheJdks() throws Exception {
        try (Child c = Command.of("sleep", "30").spawn()) {
            ProcessHandle h = c.toProcess().toHandle();
            ProcessHandle jdk = ProcessHandle.of(c.pid()).orElseThrow();
            assertNotEquals(h, jdk, "another implementation");
            assertNotEquals(jdk, h);
            assertEquals(jdk.hashCode(), h.hashCode());
            assertThrows(ClassCastException.class, () -> h.compareTo(jdk));
            assertThrows(NullPointerException.class, () -> h.compareTo(null));
            assertEquals(jdk.info().command(), h.info().command());
            assertTrue(h.destroyForcibly());
            assertEquals(137, c.toProcess().waitFor());
            assertFalse(h.destroy(), "exited: nothing is sent");
        }
        // Two children: ordered by pid, equal only to themselves.
        try (Child a = Command.of("true").spawn(); Child b = Command.of("true").spawn()) {
            ProcessHandle ha = a.toProcess().toHandle();
            ProcessHandle hb = b.toProcess().toHandle();
            assertNotEquals(ha, hb);
            assertEquals(Long.signum(Long.compare(a.pid(), b.pid())), Integer.signum(ha.compareTo(hb)));
            assertEquals(-Integer.signum(ha.compareTo(hb)), Integer.signum(hb.compareTo(ha)));
            a.waitFor();
            b.waitFor();
        }
    }

    @Test
    void theViewKeepsAnsweringAfterTheChildIsClosed() throws Exception {
        Child c = Command.of("sh", "-c", "exit 5").stdout(Stdio.piped()).spawn();
        Process p = c.toProcess();
        assertEquals(5, c.waitFor().code().getAsInt());
        c.close();
        assertThrows(IllegalStateException.class, c::toProcess);
        assertEquals(5, p.exitValue());
        assertEquals(5, p.waitFor());
        assertTrue(p.waitFor(1, TimeUnit.SECONDS));
        assertFalse(p.isAlive());
        assertSame(p, p.onExit().get(10, TimeUnit.SECONDS));
        p.destroy();
        assertFalse(p.toHandle().destroy());
        assertEquals("Process[pid=" + p.pid() + ", exitValue=5]", p.toString());

        // Closed while it runs (LEAVE_RUNNING): the view still sees the exit; it cannot signal.
        Child r = Command.of("sh", "-c", "sleep 0.3; exit 6").onClose(CloseAction.LEAVE_RUNNING).spawn();
        Process q = r.toProcess();
        r.close();
        assertTrue(q.isAlive());
        assertThrows(IllegalThreadStateException.class, q::exitValue);
        q.destroy(); // does nothing, and does not throw
        assertFalse(q.toHandle().destroyForcibly());
        assertFalse(q.waitFor(10, TimeUnit.MILLISECONDS));
        assertEquals(6, q.waitFor());
        assertEquals(6, q.exitValue());
        assertFalse(q.toHandle().isAlive());
    }

    @Test
    void pipedStreamsBelongToTheView() throws Exception {
        try (Child c = Command.of("true").stdout(Stdio.piped()).spawn()) {
            c.toProcess();
            assertThrows(IllegalStateException.class, c::output, "the view has claimed stdout");
            c.waitFor();
        }
    }

    /** The view (and its exit callbacks) must not keep an unreferenced Child reachable. */
    @Test
    void aDroppedViewLeavesTheChildToItsUnreachableHandling() throws Exception {
        WeakReference<?>[] ref = new WeakReference<?>[1];
        long pid = spawnViewAndDrop(ref);
        assertTrue(Procs.eventually(Duration.ofSeconds(20), () -> {
            System.gc();
            return ref[0].get() == null;
        }), "the Child was not collected");
        assertTrue(Procs.eventually(Duration.ofSeconds(10), () -> Procs.gone(pid)),
                "not killed and reaped: " + Procs.stat(pid));
        // Its pipes are reclaimed at that exit (LeakCheck checks).
    }

    private static long spawnViewAndDrop(WeakReference<?>[] ref) throws Exception {
        Child c = Command.of("sleep", "100").stdin(Stdio.piped()).stdout(Stdio.piped())
                .killOnUnreachable(true).spawn();
        Process p = c.toProcess();
        p.getInputStream();
        p.toHandle().info();
        ref[0] = new WeakReference<>(c);
        return c.pid();
    }
}
