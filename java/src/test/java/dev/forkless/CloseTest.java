package dev.forkless;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What closing a Child does, per CloseAction, and the Cleaner safety net. */
@ExtendWith(LeakCheck.class)
class CloseTest {

    @Test
    void killIsTheDefaultAndReallyKills() throws Exception {
        long pid;
        long t0 = System.nanoTime();
        try (Child c = Command.of("/bin/sleep", "30").spawn()) {
            pid = c.pid();
            assertTrue(c.isAlive());
        }
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5));
        assertTrue(Procs.gone(pid), "killed and reaped by close()");
    }

    @Test
    void killOnCloseOfAnExitedChild() throws Exception {
        Child c = Command.of("/bin/sh", "-c", "exit 6").spawn();
        long pid = c.pid();
        // Exited: a zombie for a moment, or already reaped by the reactor.
        assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> Procs.zombie(pid) || Procs.gone(pid)));
        c.close();
        assertTrue(Procs.gone(pid));
        assertEquals("Child[pid=" + pid + ", /bin/sh, exit 6]", c.toString());
    }

    @Test
    void everyMethodThrowsAfterCloseExceptClose() throws Exception {
        Child c = Command.of("/bin/true").spawn();
        c.waitFor();
        c.close();
        c.close(); // idempotent
        String msg = "child " + extractPid(c) + " (/bin/true) is closed";
        assertEquals(msg, assertThrows(IllegalStateException.class, c::pid).getMessage());
        assertEquals(msg, assertThrows(IllegalStateException.class, c::waitFor).getMessage());
        assertThrows(IllegalStateException.class, () -> c.waitFor(Duration.ofSeconds(1)));
        assertThrows(IllegalStateException.class, c::tryWait);
        assertThrows(IllegalStateException.class, c::isAlive);
        assertThrows(IllegalStateException.class, () -> c.kill(Signal.TERM));
    }

    private static String extractPid(Child c) {
        String s = c.toString();
        return s.substring("Child[pid=".length(), s.indexOf(','));
    }

    @Test
    void closeFromManyThreadsRunsOnce() throws Exception {
        Child c = Command.of("/bin/sleep", "30").spawn();
        long pid = c.pid();
        CompletableFuture<?>[] fs = new CompletableFuture<?>[8];
        for (int i = 0; i < fs.length; i++) {
            fs[i] = CompletableFuture.runAsync(c::close);
        }
        CompletableFuture.allOf(fs).get(10, TimeUnit.SECONDS);
        // The first close() kills and reaps; the others return at once, maybe before that is done.
        assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> Procs.gone(pid)));
    }

    @Test
    void waitWaitsForTheExit() throws Exception {
        long pid;
        long t0 = System.nanoTime();
        try (Child c = Command.of("/bin/sh", "-c", "sleep 0.3; exit 3").onClose(CloseAction.WAIT).spawn()) {
            pid = c.pid();
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms >= 250, "close() returned after " + ms + " ms");
        assertTrue(Procs.gone(pid));
    }

    @Test
    void waitInterruptedLeavesItRunningAndKeepsTheInterrupt() throws Exception {
        Child c = Command.of("/bin/sleep", "0.3").onClose(CloseAction.WAIT).spawn();
        long pid = c.pid();
        Thread.currentThread().interrupt();
        c.close();
        assertTrue(Thread.interrupted(), "the interrupt status is kept");
        assertTrue(Procs.stat(pid) != null && !Procs.zombie(pid), "still running");
        reapedAfterExit(pid);
    }

    @Test
    void leaveRunningLetsItRunAndItIsReapedLater() throws Exception {
        long pid;
        long t0 = System.nanoTime();
        try (Child c = Command.of("/bin/sleep", "0.3").onClose(CloseAction.LEAVE_RUNNING).spawn()) {
            pid = c.pid();
        }
        assertTrue(System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(250), "close() must not wait");
        Procs.Stat st = Procs.stat(pid);
        assertNotNull(st);
        assertTrue(st.state() != 'Z', "still running after close: " + st);
        reapedAfterExit(pid);
    }

    /** A released child exits and the reactor reaps it at once: no spawn or close is needed. */
    private static void reapedAfterExit(long pid) {
        assertTrue(Procs.eventually(Duration.ofSeconds(10), () -> Procs.gone(pid)),
                "not reaped: " + Procs.stat(pid));
    }

    @Test
    void closeKillWhileAnotherThreadWaits() throws Exception {
        Child c = Command.of("/bin/sleep", "30").spawn();
        CompletableFuture<ExitStatus> waiter = CompletableFuture.supplyAsync(() -> {
            try {
                return c.waitFor();
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(100);
        c.close();
        ExitStatus st = waiter.get(10, TimeUnit.SECONDS);
        assertEquals("killed by SIGKILL", st.toString());
    }

    @Test
    void closeLeaveRunningWhileAnotherThreadWaits() throws Exception {
        Child c = Command.of("/bin/sleep", "0.5").onClose(CloseAction.LEAVE_RUNNING).spawn();
        long pid = c.pid();
        CompletableFuture<ExitStatus> waiter = CompletableFuture.supplyAsync(() -> {
            try {
                return c.waitFor();
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(100);
        c.close();
        // The wait goes on after the handle is released: the reactor still reports the exit.
        assertEquals("exit 0", waiter.get(10, TimeUnit.SECONDS).toString());
        reapedAfterExit(pid);
    }

    /** Spawns and drops a Child without closing it; returns only its pid. */
    private static long spawnAndDrop(WeakReference<?>[] ref) throws Exception {
        Child c = Command.of("/bin/sleep", "0.2").spawn();
        ref[0] = new WeakReference<>(c);
        return c.pid();
    }

    @Test
    void cleanerReleasesADroppedChildAndItIsReaped() throws Exception {
        WeakReference<?>[] ref = new WeakReference<?>[1];
        long pid = spawnAndDrop(ref);
        assertTrue(Procs.eventually(Duration.ofSeconds(20), () -> {
            System.gc();
            return ref[0].get() == null;
        }), "the Child was not collected");
        // The Cleaner has released the handle (its pidfd with it, or soon): the core reaps it.
        reapedAfterExit(pid);
    }

    @Test
    void waitForStatusIsStableAcrossCalls() throws Exception {
        try (Child c = Command.of("/bin/sh", "-c", "exit 12").spawn()) {
            ExitStatus a = c.waitFor();
            assertEquals(OptionalInt.of(12), a.code());
            assertTrue(a == c.waitFor() && a == c.tryWait().orElseThrow());
            assertFalse(c.isAlive());
        }
    }
}
