package dev.forkless;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A child that has been reaped holds no descriptor, closed or not (issue 12: a build tool doing
 * {@code pb.start().waitFor()} thousands of times must not reach EMFILE before the next GC).
 *
 * <p>The children are kept strongly reachable on purpose: then no garbage collection and no
 * Cleaner can release them, so whatever is still open at the end is held by reaped, waited,
 * unclosed children, and nothing else.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ReapReleaseTest {
    private static final int N = 10_000;
    /** "A handful": JVM noise (a class file's jar, a JIT log), never one per child. */
    private static final int HANDFUL = 8;

    private static long pidfds() {
        return Procs.fds().values().stream().filter(t -> t.startsWith("anon_inode:[pidfd]")).count();
    }

    @Test
    void tenThousandWaitedUnclosedChildrenHoldNoDescriptor() throws Exception {
        Procs.spawnTrue(); // the reactor and the library are up before the first count
        int fdsBefore = Procs.fds().size();
        long pidfdsBefore = pidfds();
        List<Child> kept = new ArrayList<>(N);
        try {
            for (int i = 0; i < N; i++) {
                Child c = Command.of("/bin/true").spawn();
                kept.add(c);
                assertTrue(c.waitFor().success());
            }
            int fdsAfter = Procs.fds().size();
            assertTrue(pidfds() <= pidfdsBefore + 1, "pidfds: " + pidfds() + " now, " + pidfdsBefore + " before");
            assertTrue(fdsAfter <= fdsBefore + HANDFUL, "descriptors: " + fdsAfter + " now, " + fdsBefore
                    + " before " + N + " waited, unclosed children");

            // A reaped child still answers everything but sends nothing.
            Child last = kept.get(N - 1);
            assertFalse(last.kill(Signal.KILL));
            assertFalse(last.kill(Signal.TERM));
            assertTrue(last.tryWait().orElseThrow().success());
            assertFalse(last.isAlive());
            assertTrue(last.stats().isEmpty());
            assertTrue(last.waitFor(Duration.ofMillis(1)).orElseThrow().success());
            assertTrue(last.onExit().join().success());
            assertTrue(last.toString().endsWith("exit 0]"), last.toString());
        } finally {
            for (Child c : kept) {
                c.close(); // after the handle went at the reap: still exactly once, and harmless
            }
        }
    }

    @Test
    void tenThousandWaitedProcessViewsHoldNoDescriptor() throws Exception {
        Procs.spawnTrue();
        int fdsBefore = Procs.fds().size();
        long pidfdsBefore = pidfds();
        List<Process> kept = new ArrayList<>(N);
        for (int i = 0; i < N; i++) {
            Process p = Command.of("/bin/true").spawn().toProcess(); // what pb.start() users write
            kept.add(p);
            assertEquals(0, p.waitFor());
        }
        // The views hold their children, so none has been collected: no Cleaner closed anything.
        int fdsAfter = Procs.fds().size();
        assertTrue(pidfds() <= pidfdsBefore + 1, "pidfds: " + pidfds() + " now, " + pidfdsBefore + " before");
        assertTrue(fdsAfter <= fdsBefore + HANDFUL, "descriptors: " + fdsAfter + " now, " + fdsBefore
                + " before " + N + " waited process views");
        Process last = kept.get(N - 1);
        assertEquals(0, last.exitValue());
        assertFalse(last.isAlive());
        last.destroyForcibly(); // nothing to signal any more: a no-op
        assertEquals(0, last.waitFor());
        assertFalse(last.toHandle().isAlive());
        kept.clear(); // never closed: LeakCheck still finds nothing left behind
    }

    @Test
    void aReapedProcessGroupLeaderSignalsNoGroup() throws Exception {
        try (Child c = Command.of("/bin/true").newProcessGroup().spawn()) {
            c.waitFor();
            assertFalse(c.killTree(Signal.KILL)); // the group's number may be anyone's now
            assertFalse(c.kill(Signal.KILL));
        }
    }

    /**
     * kill(), tryWait() and stats() racing the reactor's reap and the release of the handle that
     * follows it: each call either reaches the live child or answers from the status, never
     * touches a released handle, and once waitFor() has returned, kill() sends nothing.
     */
    @Test
    void callsRacingTheReapAndTheReleaseAreSafe() throws Exception {
        int rounds = 300;
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int i = 0; i < rounds && failure.get() == null; i++) {
            try (Child c = Command.of("/bin/true").spawn()) {
                CountDownLatch go = new CountDownLatch(1);
                Thread[] racers = new Thread[2];
                for (int t = 0; t < racers.length; t++) {
                    int kind = t;
                    racers[t] = new Thread(() -> {
                        try {
                            go.await();
                            while (true) {
                                boolean alive = kind == 0 ? c.kill(Signal.CONT) : c.tryWait().isEmpty();
                                c.stats();
                                if (!alive) {
                                    break;
                                }
                            }
                        } catch (Throwable e) {
                            failure.compareAndSet(null, e);
                        }
                    });
                    racers[t].start();
                }
                go.countDown();
                assertTrue(c.waitFor().success());
                assertFalse(c.kill(Signal.CONT), "a signal after waitFor() returned");
                for (Thread t : racers) {
                    t.join();
                }
            }
        }
        assertNull(failure.get(), () -> "racing call failed: " + failure.get());
    }
}
