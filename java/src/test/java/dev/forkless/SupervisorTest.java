package dev.forkless;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.stream.Collectors;

import static dev.forkless.SupervisorEvent.Kind.CRASH_LOOP;
import static dev.forkless.SupervisorEvent.Kind.EXITED;
import static dev.forkless.SupervisorEvent.Kind.RESTART_SCHEDULED;
import static dev.forkless.SupervisorEvent.Kind.STARTED;
import static dev.forkless.SupervisorEvent.Kind.START_FAILED;
import static dev.forkless.SupervisorEvent.Kind.STOPPED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Supervisor with real children that crash, hang, exit, ignore TERM or cannot start. */
@ExtendWith(LeakCheck.class)
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SupervisorTest {
    private static final Command FAILS = Command.of("sh", "-c", "exit 1");
    private static final Command MISSING = Command.of("/nonexistent/forkless-no-such-program");

    /** Collects events; thread-safe. */
    private static final class Events implements java.util.function.Consumer<SupervisorEvent> {
        final List<SupervisorEvent> all = new CopyOnWriteArrayList<>();

        @Override
        public void accept(SupervisorEvent e) {
            all.add(e);
        }

        List<SupervisorEvent.Kind> kinds() {
            return all.stream().map(SupervisorEvent::kind).collect(Collectors.toList());
        }

        <T extends SupervisorEvent> List<T> of(Class<T> type) {
            return all.stream().filter(type::isInstance).map(type::cast).collect(Collectors.toList());
        }

        <T extends SupervisorEvent> T await(Class<T> type, Predicate<T> cond) {
            AtomicReference<T> found = new AtomicReference<>();
            assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> {
                for (T e : of(type)) {
                    if (cond.test(e)) {
                        found.set(e);
                        return true;
                    }
                }
                return false;
            }), "no such " + type.getSimpleName() + " in " + all);
            return found.get();
        }
    }

    private static List<SupervisorEvent.Kind> kinds(SupervisorEvent.Kind... k) {
        return List.of(k);
    }

    private static long ms(Duration d) {
        return d.toMillis();
    }

    /** Waits until the child runs its final program, settled in a sleep. */
    private static void awaitSleeping(long pid, String comm) {
        assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> {
            Procs.Stat st = Procs.stat(pid);
            return st != null && st.comm().equals(comm) && st.state() == 'S';
        }), "child never settled: " + Procs.stat(pid));
    }

    @Test
    void failingChildIsRestartedWithGrowingCappedDelaysUntilACrashLoop() {
        Events ev = new Events();
        Supervisor s = Supervisor.builder(FAILS)
                .backoff(Duration.ofMillis(25), Duration.ofMillis(100), 2.0)
                .crashLoop(5, Duration.ofSeconds(10))
                .listener(ev)
                .start();
        SupervisorOutcome out = s.onTermination().join();

        assertEquals(SupervisorOutcome.Reason.CRASH_LOOP, out.reason());
        assertEquals(5, out.restarts());
        assertEquals(1, out.lastExit().orElseThrow().code().getAsInt());
        assertTrue(out.lastStartFailure().isEmpty());
        assertEquals(Supervisor.State.FINISHED, s.state());
        assertTrue(s.current().isEmpty());

        List<SupervisorEvent.Kind> expected = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            expected.addAll(kinds(STARTED, EXITED));
            expected.add(i < 5 ? RESTART_SCHEDULED : CRASH_LOOP);
        }
        expected.add(STOPPED);
        assertEquals(expected, ev.kinds());

        List<SupervisorEvent.Started> started = ev.of(SupervisorEvent.Started.class);
        List<SupervisorEvent.Exited> exited = ev.of(SupervisorEvent.Exited.class);
        List<SupervisorEvent.RestartScheduled> scheduled = ev.of(SupervisorEvent.RestartScheduled.class);
        long[] delays = {25, 50, 100, 100, 100}; // doubling, capped
        for (int i = 0; i < 5; i++) {
            assertEquals(i, started.get(i).restart());
            assertEquals(delays[i], ms(scheduled.get(i).delay()), "delay " + i);
            assertEquals(i + 1, scheduled.get(i).restart());
            assertEquals(i + 1, scheduled.get(i).consecutive());
            // The real gap, from the exit to the next start: never shorter than the delay (the cap
            // itself is checked on the scheduled delays above; an upper bound on the real gap would
            // only measure how loaded the machine is, so it is a loose sanity bound).
            long gap = Duration.between(exited.get(i).time(), started.get(i + 1).time()).toMillis();
            assertTrue(gap >= delays[i] - 1 && gap < delays[i] + 2_000, "gap " + i + ": " + gap + " ms");
            assertEquals(started.get(i).pid(), exited.get(i).pid());
            assertFalse(exited.get(i).status().success());
        }
        SupervisorEvent.CrashLoop loop = ev.of(SupervisorEvent.CrashLoop.class).get(0);
        assertEquals(5, loop.restarts());
        assertEquals(Duration.ofSeconds(10), loop.window());
        assertEquals(out, ev.of(SupervisorEvent.Stopped.class).get(0).outcome());
        assertSame(out, s.stop(), "stop() after the end returns the outcome");
    }

    @Test
    void onFailureDoesNotRestartACleanExitButAlwaysDoes() {
        Events ev = new Events();
        Supervisor once = Supervisor.builder(Command.of("true")).listener(ev).start();
        SupervisorOutcome out = once.onTermination().join();
        assertEquals(SupervisorOutcome.Reason.NOT_RESTARTED, out.reason());
        assertTrue(out.lastExit().orElseThrow().success());
        assertEquals(0, out.restarts());
        assertEquals(kinds(STARTED, EXITED, STOPPED), ev.kinds());

        Events ev2 = new Events();
        Supervisor always = Supervisor.builder(Command.of("true"))
                .restart(RestartPolicy.ALWAYS)
                .backoff(Duration.ofMillis(5), Duration.ofMillis(5), 1.0)
                .crashLoop(2, Duration.ofSeconds(10))
                .listener(ev2)
                .start();
        out = always.onTermination().join();
        assertEquals(SupervisorOutcome.Reason.CRASH_LOOP, out.reason());
        assertEquals(2, out.restarts());
        assertEquals(kinds(STARTED, EXITED, RESTART_SCHEDULED, STARTED, EXITED, RESTART_SCHEDULED,
                STARTED, EXITED, CRASH_LOOP, STOPPED), ev2.kinds());
        assertTrue(ev2.of(SupervisorEvent.Exited.class).stream().allMatch(e -> e.status().success()));
    }

    @Test
    void neverDoesNotRestartAFailure() {
        Events ev = new Events();
        SupervisorOutcome out = Supervisor.builder(FAILS).restart(RestartPolicy.NEVER).listener(ev).start()
                .onTermination().join();
        assertEquals(SupervisorOutcome.Reason.NOT_RESTARTED, out.reason());
        assertEquals(1, out.lastExit().orElseThrow().code().getAsInt());
        assertEquals(kinds(STARTED, EXITED, STOPPED), ev.kinds());
    }

    @Test
    void stopTerminatesAHangingChildGracefully() {
        Events ev = new Events();
        long pid;
        long t0;
        SupervisorOutcome out;
        try (Supervisor s = Supervisor.builder(Command.of("sleep", "30")).listener(ev).start()) {
            assertEquals(Supervisor.State.RUNNING, s.state());
            Child c = s.current().orElseThrow();
            pid = c.pid();
            assertEquals(pid, ev.await(SupervisorEvent.Started.class, e -> true).pid());
            awaitSleeping(pid, "sleep");
            t0 = System.nanoTime();
            out = s.stop();
            assertEquals(Supervisor.State.FINISHED, s.state());
            assertTrue(s.current().isEmpty());
            assertThrows(IllegalStateException.class, c::pid, "the supervisor closed its child");
        } // close() again: nothing more
        assertTrue((System.nanoTime() - t0) / 1_000_000 < 5_000, "TERM, not the 10 s grace, ended it");
        assertEquals(SupervisorOutcome.Reason.STOPPED, out.reason());
        assertEquals(Signal.TERM, out.lastExit().orElseThrow().signal().orElseThrow());
        assertTrue(Procs.gone(pid));
        // stop() returned after every event had been delivered.
        assertEquals(kinds(STARTED, EXITED, STOPPED), ev.kinds());
    }

    @Test
    void stopKillsAChildThatIgnoresTermAfterTheGrace() {
        Events ev = new Events();
        Supervisor s = Supervisor.builder(Command.of("sh", "-c", "trap '' TERM; exec sleep 30"))
                .stopGrace(Duration.ofMillis(300))
                .listener(ev)
                .start();
        long pid = s.current().orElseThrow().pid();
        awaitSleeping(pid, "sleep"); // the trap is set: TERM stays ignored in sleep
        long t0 = System.nanoTime();
        SupervisorOutcome out = s.stop();
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(Signal.KILL, out.lastExit().orElseThrow().signal().orElseThrow());
        assertTrue(ms >= 290 && ms < 3_000, ms + " ms");
        assertTrue(Procs.gone(pid));
        SupervisorEvent.Exited x = ev.of(SupervisorEvent.Exited.class).get(0);
        assertEquals(Signal.KILL, x.status().signal().orElseThrow());
        assertTrue(x.ranFor().toMillis() >= 290);
    }

    @Test
    void aMissingProgramFailsToStartUntilACrashLoop() {
        Events ev = new Events();
        Supervisor s = Supervisor.builder(MISSING)
                .backoff(Duration.ofMillis(5), Duration.ofMillis(5), 1.0)
                .crashLoop(3, Duration.ofSeconds(10))
                .listener(ev)
                .start(); // does not throw
        SupervisorOutcome out = s.onTermination().join();
        assertEquals(SupervisorOutcome.Reason.CRASH_LOOP, out.reason());
        assertEquals(3, out.restarts());
        assertTrue(out.lastExit().isEmpty());
        ProcessStartException e = assertInstanceOf(ProcessStartException.class,
                out.lastStartFailure().orElseThrow());
        assertEquals("ENOENT", e.errnoName());
        assertEquals(kinds(START_FAILED, RESTART_SCHEDULED, START_FAILED, RESTART_SCHEDULED, START_FAILED,
                RESTART_SCHEDULED, START_FAILED, CRASH_LOOP, STOPPED), ev.kinds());
        List<SupervisorEvent.StartFailed> failed = ev.of(SupervisorEvent.StartFailed.class);
        for (int i = 0; i < failed.size(); i++) {
            assertEquals(i, failed.get(i).restart());
            assertInstanceOf(ProcessStartException.class, failed.get(i).cause());
        }
    }

    @Test
    void stopDuringAPendingRestartStartsNothing() throws InterruptedException {
        Events ev = new Events();
        Supervisor s = Supervisor.builder(FAILS)
                .backoff(Duration.ofMillis(300), Duration.ofSeconds(1), 2.0)
                .listener(ev)
                .start();
        ev.await(SupervisorEvent.RestartScheduled.class, e -> true);
        assertEquals(Supervisor.State.BACKING_OFF, s.state());
        assertTrue(s.current().isEmpty());
        SupervisorOutcome out = s.stop();
        assertEquals(SupervisorOutcome.Reason.STOPPED, out.reason());
        assertEquals(0, out.restarts());
        assertEquals(1, out.lastExit().orElseThrow().code().getAsInt());
        Thread.sleep(400); // past the cancelled restart's due time
        assertEquals(0, s.restarts());
        assertEquals(kinds(STARTED, EXITED, RESTART_SCHEDULED, STOPPED), ev.kinds());
    }

    @Test
    void stopFromAListenerDoesNotDeadlock() {
        AtomicReference<Supervisor> self = new AtomicReference<>();
        AtomicReference<SupervisorOutcome> fromListener = new AtomicReference<>();
        Events ev = new Events();
        Supervisor s = Supervisor.builder(FAILS)
                .backoff(Duration.ofMillis(200), Duration.ofMillis(200), 1.0)
                .listener(ev)
                .listener(e -> {
                    if (e instanceof SupervisorEvent.RestartScheduled) {
                        Procs.eventually(Duration.ofSeconds(5), () -> self.get() != null);
                        fromListener.set(self.get().stop());
                    }
                })
                .start();
        self.set(s);
        SupervisorOutcome out = s.onTermination().join();
        assertEquals(SupervisorOutcome.Reason.STOPPED, out.reason());
        assertEquals(out, fromListener.get());
        assertEquals(0, s.restarts());
        assertEquals(kinds(STARTED, EXITED, RESTART_SCHEDULED, STOPPED), ev.kinds());
    }

    @Test
    void theBackoffResetsAfterAStableRun(@TempDir Path dir) {
        // Runs 1, 2 fail at once, run 3 lives 400 ms (longer than the 200 ms reset), 4, 5 fail.
        Path counter = dir.resolve("n");
        Command cmd = Command.of("sh", "-c", "n=$(cat \"$0\" 2>/dev/null || echo 0); n=$((n+1));"
                + " echo $n > \"$0\"; [ $n -eq 3 ] && sleep 0.4; exit 1", counter.toString());
        Events ev = new Events();
        Supervisor s = Supervisor.builder(cmd)
                .backoff(Duration.ofMillis(10), Duration.ofSeconds(1), 2.0)
                .resetBackoffAfter(Duration.ofMillis(200))
                .crashLoop(10, Duration.ofSeconds(10))
                .listener(ev)
                .start();
        ev.await(SupervisorEvent.RestartScheduled.class, e -> e.restart() == 5);
        s.stop();
        List<SupervisorEvent.RestartScheduled> rs = ev.of(SupervisorEvent.RestartScheduled.class).subList(0, 5);
        assertEquals(List.of(1, 2, 1, 2, 3), rs.stream().map(SupervisorEvent.RestartScheduled::consecutive)
                .collect(Collectors.toList()));
        assertEquals(List.of(10L, 20L, 10L, 20L, 40L), rs.stream().map(e -> ms(e.delay()))
                .collect(Collectors.toList()));
        assertTrue(ev.of(SupervisorEvent.Exited.class).get(2).ranFor().toMillis() >= 390);
    }

    @Test
    void aListenerThatThrowsBreaksNothing() {
        Events ev = new Events();
        Supervisor s = Supervisor.builder(FAILS)
                .backoff(Duration.ofMillis(1), Duration.ofMillis(1), 1.0)
                .crashLoop(2, Duration.ofSeconds(10))
                .listener(e -> {
                    throw new IllegalStateException("listener failure (expected by the test)");
                })
                .listener(ev)
                .start();
        SupervisorOutcome out = s.onTermination().join();
        assertEquals(SupervisorOutcome.Reason.CRASH_LOOP, out.reason());
        assertEquals(kinds(STARTED, EXITED, RESTART_SCHEDULED, STARTED, EXITED, RESTART_SCHEDULED,
                STARTED, EXITED, CRASH_LOOP, STOPPED), ev.kinds());
    }

    @Test
    void stopRacingRestartsNeverLeavesAChild() throws InterruptedException {
        Set<Long> before = Procs.children().stream().map(Procs.Stat::pid).collect(Collectors.toSet());
        for (int i = 0; i < 30; i++) {
            Events ev = new Events();
            // Restarts back to back, forever: stop() lands while spawning, running, or pending.
            Supervisor s = Supervisor.builder(Command.of("true"))
                    .restart(RestartPolicy.ALWAYS)
                    .backoff(Duration.ZERO, Duration.ofMillis(1), 2.0)
                    .crashLoop(0, Duration.ZERO)
                    .listener(ev)
                    .start();
            Thread.sleep(ThreadLocalRandom.current().nextInt(0, 15));
            SupervisorOutcome out = s.stop();
            assertEquals(SupervisorOutcome.Reason.STOPPED, out.reason());
            assertTrue(s.current().isEmpty());
            int restarts = s.restarts();
            List<SupervisorEvent.Kind> k = ev.kinds();
            assertEquals(STOPPED, k.get(k.size() - 1));
            assertEquals(k.stream().filter(STARTED::equals).count(),
                    k.stream().filter(EXITED::equals).count(), "every start has its end: " + k);
            for (Procs.Stat st : Procs.children()) {
                assertTrue(before.contains(st.pid()), "left behind: " + st);
            }
            Thread.sleep(5);
            assertEquals(restarts, s.restarts(), "nothing started after stop()");
        }
    }

    @Test
    void aListenerReadsTheOutputOfEveryChild() {
        List<String> lines = new CopyOnWriteArrayList<>();
        List<java.util.concurrent.CompletableFuture<Void>> readers = new CopyOnWriteArrayList<>();
        Supervisor s = Supervisor.builder(Command.of("sh", "-c", "echo run $$; exit 3").stdout(Stdio.piped()))
                .backoff(Duration.ofMillis(1), Duration.ofMillis(1), 1.0)
                .crashLoop(2, Duration.ofSeconds(10))
                .listener(e -> {
                    if (e instanceof SupervisorEvent.Started st) {
                        // The child is still open here, even if it has already exited.
                        readers.add(st.child().onStdoutLine(lines::add));
                    }
                })
                .start();
        SupervisorOutcome out = s.onTermination().join();
        assertEquals(3, out.lastExit().orElseThrow().code().getAsInt());
        assertEquals(3, readers.size());
        readers.forEach(java.util.concurrent.CompletableFuture::join);
        assertEquals(3, lines.size(), lines.toString());
        assertTrue(lines.stream().allMatch(l -> l.startsWith("run ")), lines.toString());
    }

    @Test
    void builderChecksItsArguments() {
        Supervisor.Builder b = Supervisor.builder(FAILS);
        assertThrows(IllegalArgumentException.class, () -> b.backoff(Duration.ofSeconds(2), Duration.ofSeconds(1), 2));
        assertThrows(IllegalArgumentException.class, () -> b.backoff(Duration.ofMillis(-1), Duration.ofSeconds(1), 2));
        assertThrows(IllegalArgumentException.class, () -> b.backoff(Duration.ZERO, Duration.ofSeconds(1), 0.5));
        assertThrows(IllegalArgumentException.class, () -> b.backoff(Duration.ZERO, Duration.ofSeconds(1), Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> b.jitter(1.5));
        assertThrows(IllegalArgumentException.class, () -> b.crashLoop(-1, Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class, () -> b.stopGrace(Duration.ofMillis(-1)));
        assertThrows(NullPointerException.class, () -> Supervisor.builder(null));
    }

    @Test
    void jitterOnlyShortensTheDelays() {
        Events ev = new Events();
        SupervisorOutcome out = Supervisor.builder(MISSING)
                .backoff(Duration.ofMillis(20), Duration.ofMillis(40), 2.0)
                .jitter(0.5)
                .crashLoop(4, Duration.ofSeconds(10))
                .listener(ev)
                .start()
                .onTermination().join();
        assertEquals(SupervisorOutcome.Reason.CRASH_LOOP, out.reason());
        long[] nominal = {20, 40, 40, 40};
        List<SupervisorEvent.RestartScheduled> rs = ev.of(SupervisorEvent.RestartScheduled.class);
        for (int i = 0; i < nominal.length; i++) {
            long nanos = rs.get(i).delay().toNanos();
            assertTrue(nanos <= nominal[i] * 1_000_000 && nanos >= nominal[i] * 500_000, rs.get(i).toString());
        }
    }

    @Test
    void stopWithKillTreeEndsTheWholeTreeOfTheChild(@TempDir Path dir) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Forkless.cgroupDirectory().isPresent(),
                () -> "no cgroups for this JVM: " + Forkless.cgroupUnavailableReason().orElse("?"));
        Path pidFile = dir.resolve("daemon");
        Supervisor s = Supervisor.builder(Command.of("sh", "-c",
                        "setsid sleep 30 & echo $! > " + pidFile + "; exec sleep 30")
                        .onClose(CloseAction.KILL_TREE))
                .stopGrace(Duration.ofSeconds(5)).start();
        assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> java.nio.file.Files.exists(pidFile)
                && !Procs.read(pidFile).isBlank()));
        long daemon = Long.parseLong(Procs.read(pidFile).trim());
        assertEquals(SupervisorOutcome.Reason.STOPPED, s.stop().reason());
        // TERM went to the child only; closing it with KILL_TREE took the setsid daemon too.
        assertTrue(Procs.gone(daemon) || Procs.zombie(daemon), "the daemon outlived stop()");
    }
}
