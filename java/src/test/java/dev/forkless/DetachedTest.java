package dev.forkless;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Command.spawnDetached(): the double fork; the process is neither our child nor tracked. */
@ExtendWith(LeakCheck.class)
class DetachedTest {
    @TempDir
    Path tmp;

    /** Kills a detached process and waits until it is gone (its new parent reaps it). */
    private static void killDetached(long pid) {
        Optional<ProcessHandle> h = ProcessHandle.of(pid);
        h.ifPresent(ProcessHandle::destroyForcibly);
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (h.isPresent() && h.get().isAlive() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
    }

    @Test
    void sleepRunsDetachedInItsOwnSessionWithNullStdio() throws Exception {
        long pid = Command.of("/bin/sleep", "30").spawnDetached();
        try {
            assertTrue(pid > 0);
            Procs.Stat st = Procs.stat(pid);
            assertNotNull(st, "the detached process runs");
            assertNotEquals(Procs.SELF, st.ppid(), "re-parented away from this JVM");
            Procs.Stat self = Procs.stat(Procs.SELF);
            assertNotEquals(self.session(), st.session(), "a session of its own");
            assertNotEquals(pid, st.session(), "not the session leader: no controlling terminal");
            assertEquals(pid, st.pgrp(), "leads a process group of its own");
            Map<Integer, String> expected = Map.of(0, "/dev/null", 1, "/dev/null", 2, "/dev/null");
            assertEquals(expected, Procs.settledFdsOf(pid, expected));
            // No Child exists; nothing in this JVM holds it, and it runs on.
            System.gc();
            Thread.sleep(50);
            assertTrue(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
            assertTrue(Procs.children().stream().noneMatch(c -> c.pid() == pid));
        } finally {
            killDetached(pid);
        }
    }

    @Test
    void explicitStreamsAreHonoured() throws Exception {
        Path out = tmp.resolve("out.txt");
        long pid = Command.of("/bin/sh", "-c", "echo hello; echo oops >&2")
                .stdout(Stdio.file(out)).stderr(Stdio.toStdout()).spawnDetached();
        assertTrue(pid > 0);
        long deadline = System.nanoTime() + 5_000_000_000L;
        String text = "";
        while (System.nanoTime() < deadline) {
            text = Files.readString(out, StandardCharsets.UTF_8);
            if (text.contains("oops")) {
                break;
            }
            Thread.sleep(5);
        }
        assertEquals("hello\noops\n", text);
    }

    @Test
    void missingProgramNamesProgramAndStep() {
        ProcessStartException e = assertThrows(ProcessStartException.class,
                () -> Command.of("/nonexistent/forkless-detached").spawnDetached());
        assertEquals("/nonexistent/forkless-detached", e.program());
        assertEquals(SpawnStep.EXEC, e.step());
        assertEquals("ENOENT", e.errnoName());
        assertTrue(e.getMessage().contains("/nonexistent/forkless-detached"), e.getMessage());
    }

    @Test
    void missingDirectoryIsReportedAtChdir() {
        ProcessStartException e = assertThrows(ProcessStartException.class,
                () -> Command.of("/bin/true").directory(tmp.resolve("missing")).spawnDetached());
        assertEquals(SpawnStep.CHDIR, e.step());
        assertEquals("ENOENT", e.errnoName());
    }

    @Test
    void pipesAndDieWithParentAreRejected() throws Exception {
        assertThrows(IllegalArgumentException.class,
                () -> Command.of("/bin/true").stdout(Stdio.piped()).spawnDetached());
        assertThrows(IllegalArgumentException.class,
                () -> Command.of("/bin/true").stdin(Stdio.piped()).spawnDetached());
        try (Child up = Command.of("/bin/echo", "x").stdout(Stdio.piped()).spawn()) {
            assertThrows(IllegalArgumentException.class,
                    () -> Command.of("/bin/cat").stdin(Stdio.from(up)).spawnDetached());
            up.waitFor(Duration.ofSeconds(5));
        }
        assertThrows(IllegalStateException.class,
                () -> Command.of("/bin/true").dieWithParent().spawnDetached());
    }
}
