package dev.forkless;

import dev.forkless.internal.Native;
import dev.forkless.internal.Reactor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The contract of {@link Child} over the reactor, run against every backend: by the default
 * Surefire run (the best backend), and by the executions {@code contract-epoll},
 * {@code contract-io_uring} and {@code contract-no-pidfd} of the pom (the last one in a JVM under
 * a seccomp filter that denies every way to get a pidfd, so every child is PID-only).
 *
 * <p>{@code forkless.test.expectedBackend}, when set, is the backend the run must have got;
 * {@code forkless.test.expectNoPidfd=true} says the run must spawn PID-only. So a run cannot
 * silently test something other than what it claims.
 */
@ExtendWith(LeakCheck.class)
class ChildContractTest {
    private static final boolean NO_PIDFD = Boolean.getBoolean("forkless.test.expectNoPidfd");

    @Test
    void theRunUsesTheExpectedBackendAndStrategy() throws Exception {
        String backend = Forkless.reactorBackend();
        assertTrue(backend.equals("epoll") || backend.equals("io_uring"), backend);
        String expected = System.getProperty("forkless.test.expectedBackend", "");
        if (!expected.isEmpty()) {
            assertEquals(expected, backend, "forkless.reactor=" + System.getProperty("forkless.reactor"));
        }
        try (Child c = Command.of("/bin/true").spawn()) {
            c.waitFor();
        }
        int strategy = Native.spawnStrategy();
        if (NO_PIDFD) {
            assertEquals(Native.STRATEGY_PID_ONLY, strategy,
                    "expected a PID-only run, got " + Native.strategyName(strategy));
        } else {
            assertNotEquals(Native.STRATEGY_PID_ONLY, strategy);
        }
    }

    @Test
    void exitZeroAndFortyTwo() throws Exception {
        try (Child c = Command.of("/bin/true").spawn()) {
            assertEquals("exit 0", c.waitFor().toString());
            assertTrue(c.waitFor().success());
        }
        try (Child c = Command.of("/bin/sh", "-c", "exit 42").spawn()) {
            ExitStatus st = c.waitFor();
            assertEquals(OptionalInt.of(42), st.code());
            assertSame(st, c.waitFor());
            assertSame(st, c.tryWait().orElseThrow());
            assertEquals(st, c.onExit().get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void killedBySigkillAndSigterm() throws Exception {
        for (Signal sig : new Signal[] {Signal.KILL, Signal.TERM}) {
            try (Child c = Command.of("/bin/sleep", "30").spawn()) {
                CompletableFuture<ExitStatus> exit = c.onExit();
                assertTrue(c.kill(sig));
                ExitStatus st = c.waitFor();
                assertEquals(sig, st.signal().orElseThrow());
                assertEquals("killed by " + sig.signalName(), st.toString());
                assertEquals(st, exit.get(10, TimeUnit.SECONDS));
                assertFalse(c.kill(sig), "exited: nothing more is sent");
            }
        }
    }

    @Test
    void waitForTimesOutThenSucceeds() throws Exception {
        try (Child c = Command.of("/bin/sh", "-c", "sleep 0.3; exit 7").spawn()) {
            long t0 = System.nanoTime();
            assertTrue(c.waitFor(Duration.ofMillis(50)).isEmpty());
            assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(45));
            assertTrue(c.waitFor(Duration.ZERO).isEmpty());
            assertEquals(OptionalInt.of(7), c.waitFor(Duration.ofSeconds(30)).orElseThrow().code());
            assertEquals(OptionalInt.of(7), c.waitFor(Duration.ofSeconds(Long.MAX_VALUE)).orElseThrow().code());
        }
    }

    /**
     * tryWait asks the process itself when the reactor has not reported yet. To prove it, the
     * reactor thread is held up in an onExit(Runnable::run) callback of another child while the
     * child under test exits: tryWait and isAlive must see that exit anyway.
     */
    @Test
    void tryWaitIsExactEvenWhileTheReactorIsBusy() throws Exception {
        CountDownLatch inCallback = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (Child blocker = Command.of("/bin/sleep", "0.1").spawn()) {
            CompletableFuture<Void> held = blocker.onExit(Runnable::run).thenRun(() -> {
                inCallback.countDown();
                try {
                    release.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            try (Child c = Command.of("/bin/sh", "-c", "exit 3").spawn()) {
                assertTrue(inCallback.await(10, TimeUnit.SECONDS), "the reactor never reported the blocker");
                assertTrue(Procs.eventually(Duration.ofSeconds(10), () -> c.tryWait().isPresent()),
                        "tryWait did not see an exit the reactor could not report yet");
                assertEquals(OptionalInt.of(3), c.tryWait().orElseThrow().code());
                assertFalse(c.isAlive());
                assertTrue(Procs.gone(c.pid()), "tryWait reaped it");
                assertEquals(OptionalInt.of(3), c.waitFor().code());
            } finally {
                release.countDown();
            }
            held.get(10, TimeUnit.SECONDS);
        }
        // And the ordinary case: poll until present, then the status is right.
        try (Child c = Command.of("/bin/sh", "-c", "exit 5").spawn()) {
            assertTrue(Procs.eventually(Duration.ofSeconds(10), () -> c.tryWait().isPresent()));
            assertEquals(OptionalInt.of(5), c.tryWait().orElseThrow().code());
            assertSame(c.tryWait().orElseThrow(), c.waitFor());
        }
    }

    @Test
    void alreadyExitedQuickChildren() throws Exception {
        List<Child> children = new ArrayList<>();
        try {
            for (int i = 0; i < 200; i++) {
                children.add(Command.of("/bin/true").spawn());
            }
            // Most have exited (and been reaped by the reactor) before anyone asks.
            for (Child c : children) {
                assertEquals("exit 0", c.waitFor().toString());
                assertTrue(c.onExit().get(10, TimeUnit.SECONDS).success());
            }
        } finally {
            children.forEach(Child::close);
        }
        for (Child c : children) {
            assertTrue(c.toString().endsWith("exit 0]"), c.toString());
        }
    }

    private static long pidfds() {
        return Procs.fds().values().stream().filter(t -> t.startsWith("anon_inode:[pidfd]")).count();
    }

    /**
     * A reaped child holds no descriptor even while its Child is open and reachable: the handle
     * goes when the exit is reported, not at close() or a garbage collection (issue 12).
     */
    @Test
    void aWaitedChildHoldsNoDescriptorBeforeItIsClosed() throws Exception {
        Procs.spawnTrue();
        long before = pidfds();
        List<Child> open = new ArrayList<>();
        try {
            for (int i = 0; i < 200; i++) {
                Child c = Command.of("/bin/true").spawn();
                open.add(c);
                c.waitFor();
            }
            assertEquals(before, pidfds(), "pidfds held by 200 waited, unclosed children");
            Child last = open.get(open.size() - 1);
            assertFalse(last.kill(Signal.KILL));
            assertTrue(last.tryWait().orElseThrow().success());
        } finally {
            open.forEach(Child::close);
        }
    }

    /** Spawns and drops a Child; returns only its pid. */
    private static long spawnAndDrop(String seconds, WeakReference<?>[] ref) throws Exception {
        Child c = Command.of("/bin/sleep", seconds).spawn();
        ref[0] = new WeakReference<>(c);
        return c.pid();
    }

    @Test
    void droppedWithoutWaitIsReapedByTheReactorAlone() throws Exception {
        long before = pidfds();
        WeakReference<?>[] exited = new WeakReference<?>[1];
        WeakReference<?>[] running = new WeakReference<?>[1];
        long exitedPid = spawnAndDrop("0", exited);
        long runningPid = spawnAndDrop("0.5", running);
        assertTrue(Procs.eventually(Duration.ofSeconds(20), () -> {
            System.gc();
            return exited[0].get() == null && running[0].get() == null;
        }), "the Children were not collected");
        // No spawn, no close from here on: only the reactor can reap them.
        assertTrue(Procs.eventually(Duration.ofSeconds(10),
                () -> Procs.gone(exitedPid) && Procs.gone(runningPid)),
                "left behind: " + Procs.stat(exitedPid) + ", " + Procs.stat(runningPid));
        assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> pidfds() == before),
                "pidfds: " + pidfds() + " now, " + before + " before");
        assertTrue(Procs.children().stream().noneMatch(s -> s.state() == 'Z'), "zombies: " + Procs.children());
    }

    @Test
    void onExitCallbacksRunOffTheReactorThreadUnlessAskedOtherwise() throws Exception {
        try (Child c = Command.of("/bin/sleep", "0.3").spawn()) {
            AtomicReference<String> byDefault = new AtomicReference<>();
            AtomicReference<String> direct = new AtomicReference<>();
            AtomicReference<String> viaExecutor = new AtomicReference<>();
            CompletableFuture<Void> a = c.onExit().thenRun(() -> byDefault.set(Thread.currentThread().getName()));
            CompletableFuture<Void> b = c.onExit(Runnable::run)
                    .thenRun(() -> direct.set(Thread.currentThread().getName()));
            CompletableFuture<Void> d = c.onExit(r -> new Thread(r, "mine").start())
                    .thenRun(() -> viaExecutor.set(Thread.currentThread().getName()));
            assertTrue(c.isAlive(), "callbacks must be registered before the exit for this test");
            CompletableFuture.allOf(a, b, d).get(10, TimeUnit.SECONDS);
            assertNotEquals(Reactor.THREAD_NAME, byDefault.get());
            assertEquals(Reactor.THREAD_NAME, direct.get());
            assertEquals("mine", viaExecutor.get());
        }
    }

    @Test
    void waitingForAnotherChildOnTheReactorThreadDoesNotDeadlock() throws Exception {
        Child victim = Command.of("/bin/sleep", "30").spawn();
        Child waited = Command.of("/bin/sh", "-c", "sleep 0.3; exit 4").spawn();
        try (Child trigger = Command.of("/bin/sleep", "0.1").spawn()) {
            AtomicReference<String> seen = new AtomicReference<>();
            CompletableFuture<Void> done = trigger.onExit(Runnable::run).thenRun(() -> {
                try {
                    seen.set(waited.waitFor() + ", " + waited.waitFor(Duration.ofSeconds(5)).orElseThrow());
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                victim.close(); // KILL, then wait: the reactor thread cannot report it to itself
                assertEquals(Reactor.THREAD_NAME, Thread.currentThread().getName());
            });
            done.get(20, TimeUnit.SECONDS);
            assertEquals("exit 4, exit 4", seen.get());
            assertTrue(victim.toString().endsWith(", killed by SIGKILL]"), victim.toString());
        } finally {
            victim.close();
            waited.close();
        }
    }

    @Test
    void onExitFuturesAreIndependentOfEachOtherAndOfTheChild() throws Exception {
        try (Child c = Command.of("/bin/sh", "-c", "sleep 0.2; exit 8").spawn()) {
            CompletableFuture<ExitStatus> cancelled = c.onExit();
            CompletableFuture<ExitStatus> forged = c.onExit();
            CompletableFuture<ExitStatus> honest = c.onExit();
            assertTrue(cancelled.cancel(true));
            assertTrue(forged.complete(ExitStatus.exited(99, new ResourceUsage(Duration.ZERO, Duration.ZERO, 0))));
            assertTrue(c.isAlive(), "cancelling a future must not touch the child");
            assertEquals(OptionalInt.of(8), honest.get(10, TimeUnit.SECONDS).code());
            assertEquals(OptionalInt.of(8), c.waitFor().code());
            assertEquals(OptionalInt.of(8), c.onExit().get(10, TimeUnit.SECONDS).code());
            assertThrows(CancellationException.class, cancelled::join);
            assertEquals(OptionalInt.of(99), forged.join().code());
        }
    }

    /**
     * The JVM's thread count through ThreadMXBean, reached reflectively: the tests are compiled
     * into module dev.forkless, which does not read java.management (they run on the class path).
     */
    private static final class Threads {
        private final Object bean;
        private final java.lang.reflect.Method count;
        private final java.lang.reflect.Method peak;
        private final java.lang.reflect.Method resetPeak;

        Threads() throws ReflectiveOperationException {
            Class<?> factory = Class.forName("java.lang.management.ManagementFactory");
            Class<?> mx = Class.forName("java.lang.management.ThreadMXBean");
            bean = factory.getMethod("getThreadMXBean").invoke(null);
            count = mx.getMethod("getThreadCount");
            peak = mx.getMethod("getPeakThreadCount");
            resetPeak = mx.getMethod("resetPeakThreadCount");
        }

        int count() throws ReflectiveOperationException {
            return (Integer) count.invoke(bean);
        }

        int peak() throws ReflectiveOperationException {
            return (Integer) peak.invoke(bean);
        }

        void resetPeak() throws ReflectiveOperationException {
            resetPeak.invoke(bean);
        }
    }

    @Test
    void thousandsOfChildrenOneThread() throws Exception {
        // A PID-only child costs a native waiter thread in the core: keep that run smaller.
        int n = NO_PIDFD ? 300 : 2000;
        Forkless.reactorBackend();
        try (Child warm = Command.of("/bin/true").spawn()) {
            warm.waitFor(); // reactor and cleaner threads exist from here on
        }
        Threads mx = new Threads();
        int before = mx.count();
        mx.resetPeak();
        SplittableRandom random = new SplittableRandom(42);
        List<Child> children = new ArrayList<>(n);
        List<CompletableFuture<ExitStatus>> exits = new ArrayList<>(n);
        AtomicInteger offReactor = new AtomicInteger();
        try {
            for (int i = 0; i < n; i++) {
                String t = String.format(Locale.ROOT, "0.%03d", 10 + random.nextInt(190));
                Child c = Command.of("/bin/sleep", t).stdin(Stdio.nul()).spawn();
                children.add(c);
                exits.add(c.onExit(Runnable::run).whenComplete((s, e) -> {
                    if (!Thread.currentThread().getName().equals(Reactor.THREAD_NAME)) {
                        offReactor.incrementAndGet(); // only if the exit came before this line
                    }
                }));
            }
            CompletableFuture.allOf(exits.toArray(new CompletableFuture<?>[0])).get(60, TimeUnit.SECONDS);
            for (CompletableFuture<ExitStatus> f : exits) {
                assertTrue(f.join().success(), f.join().toString());
            }
            int peak = mx.peak();
            assertTrue(peak - before <= 1, "threads: " + before + " before, peak " + peak);
        } finally {
            children.forEach(Child::close);
        }
        assertTrue(offReactor.get() < n, "some exits must have been reported by the reactor");
    }

    @Test
    void virtualThreadsWaitWithoutPinningAnything() throws Throwable {
        VirtualThreads virtual = VirtualThreads.orSkip();

        int n = 32;
        List<Child> children = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicInteger ok = new AtomicInteger();
        try {
            for (int i = 0; i < n; i++) {
                children.add(Command.of("/bin/sh", "-c", "sleep 0.3; exit " + i).spawn());
            }
            for (int i = 0; i < n; i++) {
                Child c = children.get(i);
                int code = i;
                Runnable wait = () -> {
                    try {
                        if (c.waitFor().code().orElse(-1) == code && virtual.inVirtualThread()) {
                            ok.incrementAndGet();
                        }
                    } catch (Throwable t) {
                        failure.set(t);
                    }
                };
                threads.add(virtual.start(wait));
            }
            for (Thread t : threads) {
                t.join(30_000);
                assertFalse(t.isAlive());
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
    void waitForIsInterruptible() throws Exception {
        try (Child c = Command.of("/bin/sleep", "30").spawn()) {
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try {
                    c.waitFor();
                } catch (Throwable e) {
                    thrown.set(e);
                }
            });
            t.start();
            Thread.sleep(100);
            long t0 = System.nanoTime();
            t.interrupt();
            t.join(5000);
            assertFalse(t.isAlive());
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(2));
            assertTrue(thrown.get() instanceof InterruptedException, String.valueOf(thrown.get()));
            assertTrue(c.isAlive(), "an interrupted wait must not affect the child");
            Thread.currentThread().interrupt();
            assertThrows(InterruptedException.class, () -> c.waitFor(Duration.ofSeconds(5)));
            assertFalse(Thread.interrupted());
        }
    }

    @Test
    void aForeignChildIsNeverReaped() throws Exception {
        Process jdk = new ProcessBuilder("/bin/sh", "-c", "sleep 0.3; exit 21")
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectErrorStream(true).start();
        try {
            List<Child> ours = new ArrayList<>();
            try {
                for (int i = 0; i < 20; i++) {
                    ours.add(Command.of("/bin/sh", "-c", "exit " + i).spawn());
                }
                for (int i = 0; i < ours.size(); i++) {
                    assertEquals(OptionalInt.of(i), ours.get(i).waitFor().code());
                }
            } finally {
                ours.forEach(Child::close);
            }
            assertTrue(jdk.waitFor(10, TimeUnit.SECONDS));
            assertEquals(21, jdk.exitValue(), "the JDK got the status: Forkless did not reap its child");
        } finally {
            jdk.destroyForcibly().waitFor();
        }
    }
}
