package dev.forkless;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Exit codes, signals, waiting: the contract every backend must meet. */
@ExtendWith(LeakCheck.class)
class SpawnAndWaitTest {

    @Test
    void exitZero() throws Exception {
        try (Child c = Command.of("/bin/true").spawn()) {
            ExitStatus st = c.waitFor();
            assertTrue(st.success());
            assertEquals(OptionalInt.of(0), st.code());
            assertTrue(st.signal().isEmpty());
            assertTrue(st.signalNumber().isEmpty());
            assertFalse(st.coreDumped());
            assertEquals("exit 0", st.toString());
            assertTrue(c.pid() > 0);
        }
    }

    @Test
    void exitOneAndFortyTwo() throws Exception {
        try (Child c = Command.of("/bin/false").spawn()) {
            assertEquals(OptionalInt.of(1), c.waitFor().code());
            assertFalse(c.waitFor().success());
        }
        try (Child c = Command.of("/bin/sh", "-c", "exit 42").spawn()) {
            ExitStatus st = c.waitFor();
            assertEquals(OptionalInt.of(42), st.code());
            assertEquals("exit 42", st.toString());
        }
    }

    @Test
    void pathSearchFindsProgramByName() throws Exception {
        try (Child c = Command.of("sh", "-c", "exit 7").spawn()) {
            assertEquals(OptionalInt.of(7), c.waitFor().code());
        }
    }

    @Test
    void killedBySignal() throws Exception {
        try (Child c = Command.of("/bin/sh", "-c", "kill -KILL $$").spawn()) {
            ExitStatus st = c.waitFor();
            assertEquals(Signal.KILL, st.signal().orElseThrow());
            assertEquals(OptionalInt.of(9), st.signalNumber());
            assertTrue(st.code().isEmpty());
            assertFalse(st.success());
            assertEquals("killed by SIGKILL", st.toString());
        }
    }

    @Test
    void killSendsTheSignalAndReportsIt() throws Exception {
        try (Child c = Command.of("/bin/sleep", "30").spawn()) {
            assertTrue(c.isAlive());
            assertTrue(c.kill(Signal.TERM));
            ExitStatus st = c.waitFor();
            assertEquals(Signal.TERM, st.signal().orElseThrow());
            assertEquals("killed by SIGTERM", st.toString());
            assertFalse(c.isAlive());
        }
    }

    @Test
    void killAfterExitReturnsFalse() throws Exception {
        try (Child c = Command.of("/bin/true").spawn()) {
            c.waitFor();
            assertFalse(c.kill(Signal.KILL));
            assertFalse(c.kill(Signal.TERM));
        }
        // Exited, and reaped by the reactor or about to be (a zombie), but nobody has asked yet:
        // still "already exited", nothing is sent.
        try (Child c = Command.of("/bin/true").spawn()) {
            long pid = c.pid();
            assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> Procs.zombie(pid) || Procs.gone(pid)));
            assertFalse(c.kill(Signal.KILL));
            assertEquals(OptionalInt.of(0), c.waitFor().code());
        }
    }

    @Test
    void coreDumpIsReported() throws Exception {
        String pattern = Procs.read(java.nio.file.Path.of("/proc/sys/kernel/core_pattern")).trim();
        org.junit.jupiter.api.Assumptions.assumeTrue(pattern.equals("core"),
                "core_pattern is '" + pattern + "', a core may not be written where this test looks");
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("forkless-core");
        try (Child c = Command.of("/bin/sh", "-c", "ulimit -c unlimited && kill -QUIT $$")
                .directory(dir).spawn()) {
            ExitStatus st = c.waitFor();
            assertEquals(Signal.QUIT, st.signal().orElseThrow());
            assertTrue(st.coreDumped(), st.toString());
            assertEquals("killed by SIGQUIT (core dumped)", st.toString());
        } finally {
            try (var files = java.nio.file.Files.list(dir)) {
                for (java.nio.file.Path p : (Iterable<java.nio.file.Path>) files::iterator) {
                    java.nio.file.Files.delete(p);
                }
            }
            java.nio.file.Files.delete(dir);
        }
    }

    @Test
    void waitForWithTimeout() throws Exception {
        try (Child c = Command.of("/bin/sleep", "30").spawn()) {
            long t0 = System.nanoTime();
            assertTrue(c.waitFor(Duration.ofMillis(150)).isEmpty());
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms >= 145, "returned after " + ms + " ms");
            assertTrue(ms < 2000, "returned after " + ms + " ms");
            assertTrue(c.waitFor(Duration.ZERO).isEmpty());
            assertTrue(c.waitFor(Duration.ofMillis(-5)).isEmpty());
            assertTrue(c.waitFor(Duration.ofNanos(1)).isEmpty());
        }
        try (Child c = Command.of("/bin/sh", "-c", "exit 3").spawn()) {
            long t0 = System.nanoTime();
            ExitStatus st = c.waitFor(Duration.ofSeconds(30)).orElseThrow();
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10));
            assertEquals(OptionalInt.of(3), st.code());
            // A duration too long for nanoseconds must not overflow into "no wait" or an error.
            assertEquals(st, c.waitFor(Duration.ofSeconds(Long.MAX_VALUE)).orElseThrow());
        }
    }

    @Test
    void tryWaitDoesNotBlock() throws Exception {
        try (Child c = Command.of("/bin/sh", "-c", "sleep 0.2; exit 5").spawn()) {
            long t0 = System.nanoTime();
            assertTrue(c.tryWait().isEmpty());
            assertTrue(System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(100));
            assertTrue(Procs.eventually(Duration.ofSeconds(10), () -> c.tryWait().isPresent()));
            assertEquals(OptionalInt.of(5), c.tryWait().orElseThrow().code());
            assertSame(c.tryWait().orElseThrow(), c.waitFor());
        }
    }

    @Test
    void manyThreadsWaitForOneChild() throws Exception {
        int threads = 16;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try (Child c = Command.of("/bin/sh", "-c", "sleep 0.3; exit 9").spawn()) {
            CountDownLatch ready = new CountDownLatch(threads);
            List<Future<ExitStatus>> results = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                final boolean timed = i % 2 == 0;
                results.add(pool.submit(() -> {
                    ready.countDown();
                    return timed ? c.waitFor(Duration.ofSeconds(30)).orElseThrow() : c.waitFor();
                }));
            }
            ready.await();
            ExitStatus first = results.get(0).get(30, TimeUnit.SECONDS);
            assertEquals(OptionalInt.of(9), first.code());
            for (Future<ExitStatus> f : results) {
                assertEquals(first, f.get(30, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void manyChildrenAtOnce() throws Exception {
        List<Child> children = new ArrayList<>();
        try {
            for (int i = 0; i < 50; i++) {
                children.add(Command.of("/bin/sh", "-c", "exit " + i).spawn());
            }
            for (int i = 0; i < children.size(); i++) {
                assertEquals(OptionalInt.of(i), children.get(i).waitFor().code());
            }
        } finally {
            children.forEach(Child::close);
        }
    }

    @Test
    void resourceUsageIsReported() throws Exception {
        // Burn a little CPU in the child so user time is visibly non-zero.
        try (Child c = Command.of("/bin/sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done").spawn()) {
            ExitStatus st = c.waitFor();
            ResourceUsage u = st.usage();
            assertNotNull(u);
            assertTrue(u.userCpuTime().toNanos() > 0, u.toString());
            assertTrue(u.maxRssBytes() > 0, u.toString());
            assertEquals(u.userCpuTime().plus(u.systemCpuTime()), u.totalCpuTime());
        }
    }

    @Test
    void childToString() throws Exception {
        try (Child c = Command.of("/bin/sh", "-c", "exit 4").spawn()) {
            assertTrue(c.toString().startsWith("Child[pid=" + c.pid() + ", /bin/sh, "), c.toString());
            c.waitFor();
            assertEquals("Child[pid=" + c.pid() + ", /bin/sh, exit 4]", c.toString());
        }
    }

    @Test
    void newSessionAndNewProcessGroup() throws Exception {
        try (Child c = Command.of("/bin/sleep", "30").newSession().spawn()) {
            Procs.Stat st = Procs.stat(c.pid());
            assertEquals(c.pid(), st.session());
            assertEquals(c.pid(), st.pgrp());
        }
        Procs.Stat self = Procs.stat(Procs.SELF);
        try (Child c = Command.of("/bin/sleep", "30").newProcessGroup().spawn()) {
            Procs.Stat st = Procs.stat(c.pid());
            assertEquals(c.pid(), st.pgrp());
            assertEquals(self.session(), st.session());
        }
        try (Child c = Command.of("/bin/sleep", "30").spawn()) {
            Procs.Stat st = Procs.stat(c.pid());
            assertEquals(self.pgrp(), st.pgrp());
            assertEquals(self.session(), st.session());
        }
        // Both: setsid already makes a group; asking for both must still work.
        try (Child c = Command.of("/bin/sleep", "30").newProcessGroup().newSession().spawn()) {
            assertEquals(c.pid(), Procs.stat(c.pid()).session());
        }
    }

    @Test
    void childGetsExactlyItsThreeStreams() throws Exception {
        try (OwnedFd.Pipe unrelated = OwnedFd.pipe();
             Child c = Command.of("/bin/sleep", "30").stdin(Stdio.nul()).spawn()) {
            assertTrue(unrelated.reader().isOpen());
            java.util.Map<Integer, String> ours = Procs.fds();
            java.util.Map<Integer, String> expected = java.util.Map.of(0, "/dev/null", 1, ours.get(1), 2, ours.get(2));
            assertEquals(expected, Procs.settledFdsOf(c.pid(), expected));
        }
    }

    @Test
    void spawnIsThreadSafe() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            Command cmd = Command.of("/bin/sh", "-c", "exit 11").stdout(Stdio.nul());
            List<Future<ExitStatus>> results = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                results.add(pool.submit(() -> {
                    try (Child c = cmd.spawn()) {
                        return c.waitFor();
                    }
                }));
            }
            for (Future<ExitStatus> f : results) {
                assertEquals(OptionalInt.of(11), f.get(30, TimeUnit.SECONDS).code());
            }
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
        }
    }
}
