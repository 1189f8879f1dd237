package dev.forkless;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.ref.WeakReference;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A {@link Child#toProcess()} view dropped together with its child is handled as a dropped
 * {@code Child}: its stdin, which nobody can write any more, is closed by the pipe's safety net,
 * so a child reading to end-of-file ({@code cat}) finishes and is reaped. (The JDK's
 * {@code Process} keeps such a child waiting forever.) Streams the caller still holds stay open.
 */
@ExtendWith(LeakCheck.class)
class DroppedProcessViewTest {

    /** Starts cat reading stdin, makes the view, and drops both; returns the pid. */
    private static long spawnCatAndDropTheView(WeakReference<?>[] view) throws Exception {
        Child c = Command.of("cat").stdin(Stdio.piped()).stdout(Stdio.nul()).spawn();
        Process p = c.toProcess();
        view[0] = new WeakReference<>(p);
        assertTrue(p.isAlive());
        return p.pid();
    }

    @Test
    void aDroppedViewOfCatGetsEndOfFileAndExits() throws Exception {
        WeakReference<?>[] view = new WeakReference<?>[1];
        long pid = spawnCatAndDropTheView(view);
        assertTrue(Procs.eventually(Duration.ofSeconds(20), () -> {
            System.gc();
            return view[0].get() == null;
        }), "the view was not collected");
        // The collections go on: the pipe's own safety net needs its wrappers collected as well.
        assertTrue(Procs.eventually(Duration.ofSeconds(30), () -> {
            System.gc();
            return Procs.gone(pid);
        }), "cat never saw end-of-file: " + Procs.stat(pid));
    }

    /** Drops the view and the child but keeps their streams. */
    private static Object[] spawnCatKeepingTheStreams(WeakReference<?>[] view) throws Exception {
        Child c = Command.of("cat").stdin(Stdio.piped()).stdout(Stdio.piped()).spawn();
        Process p = c.toProcess();
        view[0] = new WeakReference<>(p);
        return new Object[] {p.getOutputStream(), p.getInputStream(), p.pid()};
    }

    @Test
    void streamsTheCallerStillHoldsStayOpenAfterTheViewIsCollected() throws Exception {
        WeakReference<?>[] view = new WeakReference<?>[1];
        Object[] kept = spawnCatKeepingTheStreams(view);
        OutputStream in = (OutputStream) kept[0];
        InputStream out = (InputStream) kept[1];
        long pid = (long) kept[2];
        assertTrue(Procs.eventually(Duration.ofSeconds(20), () -> {
            System.gc();
            return view[0].get() == null;
        }), "the view was not collected");
        // Some more collections and cleanup turns: none of them may close what is still held.
        for (int i = 0; i < 3; i++) {
            System.gc();
            Procs.spawnTrue(); // a full round trip through the reactor, which runs the cleanups
        }
        byte[] hello = "hello\n".getBytes(StandardCharsets.US_ASCII);
        in.write(hello);
        in.close(); // end-of-file: cat exits
        assertArrayEquals(hello, out.readAllBytes());
        out.close();
        assertTrue(Procs.eventually(Duration.ofSeconds(10), () -> Procs.gone(pid)), "cat: " + Procs.stat(pid));
    }
}
