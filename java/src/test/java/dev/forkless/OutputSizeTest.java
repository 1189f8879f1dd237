package dev.forkless;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How much output is kept: everything by default, a limit only when asked for (then visibly
 * truncated, or failing), a clear exception past what an array or the heap can hold.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class OutputSizeTest {
    private static final int HUNDRED_MILLION = 100_000_000;

    private static void assertAllZeros(byte[] b, int n) {
        assertEquals(n, b.length);
        // Spot checks across the whole array, the last byte included: not a prefix copied twice.
        for (int i = 0; i < n; i += 4093) {
            assertEquals(0, b[i], "byte " + i);
        }
        assertEquals(0, b[n - 1]);
    }

    @Test
    void aHundredMillionBytesComeBackWholeByDefault() throws Exception {
        Output out = Command.of("head", "-c", String.valueOf(HUNDRED_MILLION), "/dev/zero").output();
        assertAllZeros(out.stdout(), HUNDRED_MILLION);
        assertFalse(out.stdoutTruncated());
        assertTrue(out.status().success());
        out = null;
        Output async = Command.of("head", "-c", String.valueOf(HUNDRED_MILLION), "/dev/zero").outputAsync()
                .get(60, TimeUnit.SECONDS);
        assertAllZeros(async.stdout(), HUNDRED_MILLION);
        assertFalse(async.stdoutTruncated());
        assertTrue(async.status().success());
    }

    @Test
    void anExplicitLimitTruncatesVisibly() throws Exception {
        OutputOptions limited = OutputOptions.defaults().maxBytes(1000);
        Output out = Command.of("sh", "-c", "head -c 3000000 /dev/zero; head -c 5 /dev/zero >&2").output(limited);
        assertEquals(1000, out.stdout().length);
        assertEquals(5, out.stderr().length);
        assertTrue(out.stdoutTruncated());
        assertFalse(out.stderrTruncated());
        assertTrue(out.status().success()); // read and discarded: no SIGPIPE
        assertEquals("Output[exit 0, stdout 1000 bytes (truncated), stderr 5 bytes]", out.toString());
        Output async = Command.of("head", "-c", "3000000", "/dev/zero").outputAsync(limited).get(30, TimeUnit.SECONDS);
        assertEquals(1000, async.stdout().length);
        assertTrue(async.stdoutTruncated());
        assertTrue(async.toString().contains("(truncated)"), async.toString());
    }

    @Test
    void anExplicitLimitCanFailInstead() throws Exception {
        OutputOptions failing = OutputOptions.defaults().maxBytes(1000).onOverflow(OutputOptions.Overflow.FAIL);
        // Exactly the limit is fine.
        Output exact = Command.of("head", "-c", "1000", "/dev/zero").output(failing);
        assertEquals(1000, exact.stdout().length);
        assertFalse(exact.stdoutTruncated());

        OutputTooLargeException e = assertThrows(OutputTooLargeException.class,
                () -> Command.of("head", "-c", "3000000", "/dev/zero").output(failing));
        assertEquals("stdout", e.stream());
        assertEquals(1000, e.limit());
        assertTrue(e.getMessage().contains("went past 1000 bytes") && e.getMessage().contains("maxBytes"),
                e.getMessage());

        ExecutionException async = assertThrows(ExecutionException.class, () -> Command.of("sh", "-c",
                "head -c 3000000 /dev/zero >&2").outputAsync(failing).get(30, TimeUnit.SECONDS));
        OutputTooLargeException cause = assertInstanceOf(OutputTooLargeException.class, async.getCause());
        assertEquals("stderr", cause.stream());

        // A Child the caller holds: the pipes are closed, the child runs on (here: dies of SIGPIPE).
        try (Child c = Command.of("head", "-c", "3000000", "/dev/zero").stdout(Stdio.piped()).spawn()) {
            assertThrows(OutputTooLargeException.class, () -> c.output(failing));
            assertFalse(c.waitFor().success());
        }
    }

    @Test
    void unlimitedIsTheDefaultAndCanBeRestored() {
        assertEquals(OutputOptions.MAX_MAX_BYTES, OutputOptions.defaults().limit());
        assertTrue(OutputOptions.defaults().failsBeyondLimit());
        assertFalse(OutputOptions.defaults().maxBytes(5).failsBeyondLimit());
        assertEquals(OutputOptions.MAX_MAX_BYTES, OutputOptions.defaults().maxBytes(5).unlimited().limit());
        assertTrue(OutputOptions.defaults().toString().contains("unlimited"), OutputOptions.defaults().toString());
        assertTrue(OutputOptions.defaults().maxBytes(5).toString().contains("maxBytes=5 then TRUNCATE"));
    }

    /**
     * The array's own limit cannot be reached in a test (2 GiB per stream); it is the same code as
     * a user's limit with {@code Overflow.FAIL}, with another message, reached here through the
     * test seam that sets the limit. The growth arithmetic is checked near the top of the int range.
     */
    @Test
    void pastTheArraysLimitTheExceptionSaysSo() {
        Capture.Sink sink = new Capture.Sink("stdout", "child 1 (head)", 100, true, false);
        sink.append(ByteBuffer.allocate(100), 100);
        OutputTooLargeException e = assertThrows(OutputTooLargeException.class,
                () -> sink.append(ByteBuffer.allocate(1), 1));
        assertTrue(e.getMessage().contains("the most a Java byte array can hold"), e.getMessage());
        assertEquals("stdout", e.stream());

        int max = OutputOptions.MAX_MAX_BYTES;
        assertEquals(8192, Capture.Sink.grownCapacity(0, 1, max));
        assertEquals(1 << 30, Capture.Sink.grownCapacity(1 << 29, (1 << 29) + 1, max));
        assertEquals(max, Capture.Sink.grownCapacity(1 << 30, (1L << 30) + 1, max)); // 2^31 overflows an int
        assertEquals(max, Capture.Sink.grownCapacity(max - 10, max, max));
        assertEquals(1000, Capture.Sink.grownCapacity(512, 513, 1000));
    }

    /** Runs OutputHeapHelper in a JVM with a small heap; its {@code key: value} lines. */
    static List<String> runSmallHeap(String mode) throws Exception {
        List<String> cmd = new ArrayList<>(HelperMain.commandWithForkless(OutputHeapHelper.class, mode));
        cmd.add(1, "-Xmx64m");
        cmd.add(1, "-D" + "forkless.library.path=" + Forkless.nativeLibraryLocation().orElseThrow());
        Output out = Command.of(cmd).output(OutputOptions.defaults().timeout(Duration.ofSeconds(90)));
        String text = out.stdoutText();
        System.out.print(text);
        assertFalse(out.timedOut(), () -> "helper hung: " + text + out.stderrText());
        assertEquals(0, out.status().code().orElse(-1), () -> "helper failed: " + text + out.stderrText());
        return Arrays.asList(text.split("\n"));
    }

    static String line(List<String> lines, String key) {
        return lines.stream().filter(l -> l.startsWith(key + ": ")).findFirst()
                .map(l -> l.substring(key.length() + 2)).orElseThrow(() -> new AssertionError(key + " in " + lines));
    }

    @Test
    void aHeapTooSmallFailsTheCollectionClearlyAndNeverHangsIt() throws Exception {
        List<String> lines = runSmallHeap("output");
        for (String key : List.of("sync", "async")) {
            String v = line(lines, key);
            assertTrue(v.startsWith("OutputTooLargeException caused by java.lang.OutOfMemoryError"), key + ": " + v);
            assertTrue(v.contains("heap has no room"), key + ": " + v);
        }
        assertEquals("true", line(lines, "async child gone"));
        // The heap is usable again afterwards: the failed buffer was let go.
        assertEquals("1000000", line(lines, "after"));
    }
}
