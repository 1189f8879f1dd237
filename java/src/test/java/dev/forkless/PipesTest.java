package dev.forkless;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Stdio.piped() ends as streams and channels, toStdout, passFd, and what crosses into the child. */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PipesTest {
    /** A thread blocked reading the child's stdout; what ended the read lands in thrown. */
    private static Thread blockedReader(Child c, AtomicReference<Throwable> thrown) throws InterruptedException {
        Thread t = new Thread(() -> {
            try {
                c.stdout().read();
            } catch (Throwable e) {
                thrown.set(e);
            }
        });
        t.start();
        Thread.sleep(200);
        return t;
    }

    @Test
    void catRoundTripsBinaryThroughStreams() throws Exception {
        byte[] data = Procs.randomBytes(3 << 20); // more than any pipe buffer: writer and reader must interleave
        data[0] = 0;
        data[data.length - 1] = 0;
        try (Child c = Command.of("cat").stdin(Stdio.piped()).stdout(Stdio.piped()).spawn()) {
            CompletableFuture<byte[]> read = CompletableFuture.supplyAsync(() -> {
                try {
                    return c.stdout().readAllBytes();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            try (OutputStream in = c.stdin()) {
                in.write(data);
            }
            assertArrayEquals(data, read.get(30, TimeUnit.SECONDS));
            assertTrue(c.waitFor().success());
        }
    }

    @Test
    void readIntoAReadOnlyBufferIsRefusedAndConsumesNothing() throws Exception {
        try (Child c = Command.of("printf", "abc").stdout(Stdio.piped()).spawn()) {
            ReadableByteChannel out = c.stdoutChannel();
            ByteBuffer direct = ByteBuffer.allocateDirect(8);
            while (direct.hasRemaining()) {
                direct.put((byte) 'x');
            }
            direct.clear();
            ByteBuffer readOnlyDirect = direct.asReadOnlyBuffer();
            assertThrows(ReadOnlyBufferException.class, () -> out.read(readOnlyDirect));
            assertEquals(0, readOnlyDirect.position());
            for (int i = 0; i < direct.capacity(); i++) {
                assertEquals('x', direct.get(i), "the read-only buffer was written at " + i);
            }
            ByteBuffer readOnlyHeap = ByteBuffer.allocate(8).asReadOnlyBuffer();
            assertThrows(ReadOnlyBufferException.class, () -> out.read(readOnlyHeap));
            assertEquals(0, readOnlyHeap.position());
            assertThrows(ReadOnlyBufferException.class, () -> out.read(ByteBuffer.allocateDirect(0).asReadOnlyBuffer()));
            assertTrue(out.isOpen());
            // Nothing was consumed: every byte is still there for a writable buffer.
            assertEquals("abc", new String(c.stdout().readAllBytes(), StandardCharsets.US_ASCII));
            assertTrue(c.waitFor().success());
        }
    }

    @Test
    void channelsMoveHeapAndDirectBuffers() throws Exception {
        try (Child c = Command.of("cat").stdin(Stdio.piped()).stdout(Stdio.piped()).spawn()) {
            WritableByteChannel in = c.stdinChannel();
            ReadableByteChannel out = c.stdoutChannel();
            ByteBuffer direct = ByteBuffer.allocateDirect(5).put("hello".getBytes(StandardCharsets.US_ASCII)).flip();
            assertEquals(5, in.write(direct));
            assertEquals(6, in.write(ByteBuffer.wrap(" world".getBytes(StandardCharsets.US_ASCII))));
            in.close();
            assertFalse(in.isOpen());
            ByteBuffer got = ByteBuffer.allocateDirect(64);
            while (out.read(got) >= 0) {
                // until end-of-file
            }
            got.flip();
            byte[] b = new byte[got.remaining()];
            got.get(b);
            assertEquals("hello world", new String(b, StandardCharsets.US_ASCII));
            assertTrue(c.waitFor().success());
        }
    }

    @Test
    void sameStreamEveryTimeAndAvailable() throws Exception {
        try (Child c = Command.of("printf", "abc").stdout(Stdio.piped()).spawn()) {
            InputStream s = c.stdout();
            assertTrue(s == c.stdout());
            c.waitFor();
            assertTrue(Procs.eventually(java.time.Duration.ofSeconds(5), () -> {
                try {
                    return s.available() == 3;
                } catch (IOException e) {
                    return false;
                }
            }));
            assertEquals('a', s.read());
            assertEquals("bc", new String(s.readAllBytes(), StandardCharsets.US_ASCII));
            assertEquals(-1, s.read());
        }
    }

    @Test
    void stderrToStdoutKeepsOrderInOnePipe() throws Exception {
        try (Child c = Command.of("sh", "-c", "echo 1; echo 2 >&2; echo 3; echo 4 >&2")
                .stdout(Stdio.piped()).stderr(Stdio.toStdout()).spawn()) {
            assertEquals("1\n2\n3\n4\n", new String(c.stdout().readAllBytes(), StandardCharsets.US_ASCII));
            assertThrows(IllegalStateException.class, c::stderr);
            assertTrue(c.waitFor().success());
        }
        assertThrows(IllegalArgumentException.class, () -> Command.of("true").stdout(Stdio.toStdout()));
        assertThrows(IllegalArgumentException.class, () -> Command.of("true").stdin(Stdio.toStdout()));
    }

    @Test
    void onlyTheDescriptorsAskedForReachTheChild() throws Exception {
        try (OwnedFd.Pipe extra = OwnedFd.pipe();
             Child c = Command.of("sleep", "30").stdin(Stdio.piped()).stdout(Stdio.piped())
                     .stderr(Stdio.piped()).passFd(7, extra.writer()).spawn()) {
            java.util.Set<Integer> expected = java.util.Set.of(0, 1, 2, 7);
            // Asleep in sleep(1) itself: past the exec and past the dynamic loader, which opens
            // libc on a descriptor of its own for a moment.
            Procs.eventually(java.time.Duration.ofSeconds(5), () -> {
                try {
                    Procs.Stat st = Procs.stat(c.pid());
                    return st != null && st.comm().equals("sleep") && st.state() == 'S'
                            && Procs.fdsOf(c.pid()).keySet().equals(expected);
                } catch (IOException e) {
                    return false;
                }
            });
            Map<Integer, String> fds = Procs.fdsOf(c.pid());
            assertEquals(expected, fds.keySet(), fds.toString());
            assertTrue(fds.get(0).startsWith("pipe:"), fds.toString());
            assertTrue(fds.get(7).startsWith("pipe:"), fds.toString());
        }
    }

    @Test
    void passFdCarriesAJobserverStylePipe() throws Exception {
        try (OwnedFd.Pipe jobs = OwnedFd.pipe()) {
            Command cmd = Command.of("sh", "-c", "printf tok >&9").passFd(9, jobs.writer());
            assertTrue(cmd.toString().contains("passFd 9="), cmd.toString());
            try (Child c = cmd.spawn()) {
                assertTrue(c.waitFor().success());
            }
            jobs.writer().close();
            byte[] b = new byte[16];
            try (InputStream in = java.nio.channels.Channels.newInputStream(
                    java.nio.channels.FileChannel.open(java.nio.file.Path.of("/proc/self/fd/" + jobs.reader().rawFd())))) {
                int n = in.read(b);
                assertEquals("tok", new String(b, 0, n, StandardCharsets.US_ASCII));
            }
        }
        try (OwnedFd.Pipe p = OwnedFd.pipe()) {
            assertThrows(IllegalArgumentException.class, () -> Command.of("true").passFd(2, p.reader()));
            assertThrows(IllegalArgumentException.class, () -> Command.of("true").passFd(65536, p.reader()));
        }
    }

    @Test
    void closedPassFdFailsBeforeStarting() throws Exception {
        OwnedFd.Pipe p = OwnedFd.pipe();
        p.close();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Command.of("true").passFd(5, p.reader()).spawn());
        assertTrue(e.getMessage().contains("passFd(5"), e.getMessage());
    }

    @Test
    void childThatNeverReadsStdin() throws Exception {
        try (Child c = Command.of("sh", "-c", "exec 0<&-; sleep 0.2").stdin(Stdio.piped()).spawn()) {
            OutputStream in = c.stdin();
            IOException e = assertThrows(IOException.class, () -> {
                byte[] chunk = new byte[1 << 16];
                for (int i = 0; i < 1000; i++) {
                    in.write(chunk); // fills the pipe, then EPIPE once the child has closed its end
                }
            });
            assertTrue(e.getMessage().contains("EPIPE"), e.getMessage());
            assertTrue(c.waitFor().success());
        }
    }

    @Test
    void blockedReadIsInterruptible() throws Exception {
        try (Child c = Command.of("sleep", "30").stdout(Stdio.piped()).spawn()) {
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            Thread t = blockedReader(c, thrown);
            t.interrupt();
            t.join(5000);
            assertFalse(t.isAlive());
            assertTrue(thrown.get() instanceof InterruptedIOException, String.valueOf(thrown.get()));
        }
    }

    @Test
    void closeWakesABlockedReader() throws Exception {
        Child c = Command.of("sleep", "30").stdout(Stdio.piped()).spawn();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread t = blockedReader(c, thrown);
        c.close(); // closes the pipes first, then kills
        t.join(5000);
        assertFalse(t.isAlive());
        assertTrue(thrown.get() instanceof IOException, String.valueOf(thrown.get()));
    }

    /**
     * Readers park rather than block: 32 virtual threads each wait on a cat's stdout before any
     * input exists; the writers run on the same few carriers afterwards. A read that held its
     * carrier would leave none for the writers, and the test would time out.
     */
    @Test
    void virtualThreadReadsReleaseTheirCarriers() throws Throwable {
        VirtualThreads virtual = VirtualThreads.orSkip();
        int n = 32;
        List<Child> children = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicInteger ok = new AtomicInteger();
        try {
            for (int i = 0; i < n; i++) {
                children.add(Command.of("cat").stdin(Stdio.piped()).stdout(Stdio.piped()).spawn());
            }
            for (int i = 0; i < n; i++) {
                Child c = children.get(i);
                String expected = "child " + i;
                threads.add(virtual.start(() -> {
                    try {
                        if (new String(c.stdout().readAllBytes(), StandardCharsets.US_ASCII).equals(expected)) {
                            ok.incrementAndGet();
                        }
                    } catch (Throwable t) {
                        failure.set(t);
                    }
                }));
            }
            Thread.sleep(200); // every reader is parked on an empty pipe by now
            for (int i = 0; i < n; i++) {
                Child c = children.get(i);
                byte[] line = ("child " + i).getBytes(StandardCharsets.US_ASCII);
                threads.add(virtual.start(() -> {
                    try (OutputStream in = c.stdin()) {
                        in.write(line);
                    } catch (Throwable t) {
                        failure.set(t);
                    }
                }));
            }
            for (Thread t : threads) {
                t.join(30_000);
                assertFalse(t.isAlive(), "a virtual thread is stuck: " + t);
            }
        } finally {
            children.forEach(Child::close);
        }
        if (failure.get() != null) {
            throw failure.get();
        }
        assertEquals(n, ok.get());
    }

    @Test
    void streamsOnlyForPipedStreams() throws Exception {
        try (Child c = Command.of("true").spawn()) {
            IllegalStateException e = assertThrows(IllegalStateException.class, c::stdout);
            assertTrue(e.getMessage().contains("not Stdio.piped()"), e.getMessage());
            assertThrows(IllegalStateException.class, c::stdin);
            c.waitFor();
        }
        Child closed = Command.of("true").stdout(Stdio.piped()).spawn();
        closed.close();
        assertThrows(IllegalStateException.class, closed::stdout);
    }

    @Test
    void childKilledMidWrite() throws Exception {
        try (Child c = Command.of("sh", "-c", "while :; do echo data; done").stdout(Stdio.piped()).spawn()) {
            InputStream out = c.stdout();
            byte[] buf = new byte[4096];
            assertTrue(out.read(buf) > 0);
            c.kill(Signal.KILL);
            while (out.read(buf) >= 0) {
                // drains what was written, then end-of-file
            }
            assertEquals(Signal.KILL, c.waitFor().signal().orElseThrow());
        }
    }

    @Test
    void slowReaderOfAChildWritingGigabytes() throws Exception {
        // 2.5 GiB: past every 32-bit count; the reader pauses now and then, so the child keeps
        // hitting a full pipe and the reader an empty one (park, report, wake).
        long size = 5L << 29;
        try (Child c = Command.of("head", "-c", Long.toString(size), "/dev/zero").stdout(Stdio.piped()).spawn()) {
            InputStream out = c.stdout();
            byte[] buf = new byte[1 << 20];
            long total = 0;
            int n;
            int reads = 0;
            while ((n = out.read(buf)) >= 0) {
                total += n;
                if (++reads % 4096 == 0) {
                    Thread.sleep(5); // the child blocks on a full pipe meanwhile
                }
            }
            assertEquals(size, total);
            assertTrue(c.waitFor().success());
        }
    }

    @Test
    void toStringOfNewSettings() {
        assertEquals("piped", Stdio.piped().toString());
        assertEquals("toStdout", Stdio.toStdout().toString());
        assertTrue(Command.of("x").stdout(Stdio.piped()).toString().contains("stdout=piped"));
        org.junit.jupiter.api.Assertions.assertNotEquals(Stdio.piped(), Stdio.toStdout());
    }
}
