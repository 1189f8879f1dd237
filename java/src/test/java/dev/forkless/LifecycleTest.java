package dev.forkless;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Graceful termination, live statistics and descendants of real children. */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LifecycleTest {
    /** Waits until the child runs its final program (after exec and the dynamic loader). */
    private static void awaitSleeping(Child c, String comm) {
        assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> {
            Procs.Stat st = Procs.stat(c.pid());
            return st != null && st.comm().equals(comm) && st.state() == 'S';
        }), "child never settled: " + Procs.stat(c.pid()));
    }

    @Test
    void terminateStopsAPoliteChildWithTheFirstSignal() throws Exception {
        try (Child c = Command.of("sleep", "30").spawn()) {
            awaitSleeping(c, "sleep");
            Termination t = c.terminate(Duration.ofSeconds(5));
            assertEquals(Termination.Way.STOPPED, t.way());
            assertEquals(Signal.TERM, t.status().signal().orElseThrow());
        }
        try (Child c = Command.of("sleep", "30").spawn()) {
            awaitSleeping(c, "sleep");
            Termination t = c.terminate(Signal.INT, Duration.ofSeconds(5));
            assertEquals(Signal.INT, t.status().signal().orElseThrow());
        }
    }

    @Test
    void terminateLetsAHandlerFinish() throws Exception {
        try (Child c = Command.of("sh", "-c", "trap 'exit 7' TERM; while :; do sleep 0.05; done").spawn()) {
            Thread.sleep(200); // the trap is installed
            Termination t = c.terminate(Duration.ofSeconds(5));
            assertEquals(Termination.Way.STOPPED, t.way());
            assertEquals(7, t.status().code().getAsInt());
        }
    }

    @Test
    void terminateKillsAChildThatIgnoresTheSignal() throws Exception {
        // exec: the ignored TERM stays ignored in sleep itself, and KILL leaves no orphan behind.
        try (Child c = Command.of("sh", "-c", "trap '' TERM; exec sleep 30").spawn()) {
            awaitSleeping(c, "sleep");
            long t0 = System.nanoTime();
            Termination t = c.terminate(Duration.ofMillis(300));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(Termination.Way.KILLED, t.way());
            assertEquals(Signal.KILL, t.status().signal().orElseThrow());
            assertTrue(ms >= 300, "killed before the grace period ended: " + ms + " ms");
        }
    }

    @Test
    void terminateOfAnExitedChild() throws Exception {
        try (Child c = Command.of("true").spawn()) {
            c.waitFor();
            Termination t = c.terminate(Duration.ofSeconds(1));
            assertEquals(Termination.Way.ALREADY_EXITED, t.way());
            assertTrue(t.status().success());
        }
    }

    @Test
    void interruptedTerminateKillsAtOnceAndKeepsTheInterrupt() throws Exception {
        try (Child c = Command.of("sh", "-c", "trap '' TERM; exec sleep 30").spawn()) {
            awaitSleeping(c, "sleep");
            Thread.currentThread().interrupt();
            long t0 = System.nanoTime();
            Termination t = c.terminate(Duration.ofSeconds(30));
            assertTrue(Thread.interrupted(), "the interrupt status is kept");
            assertEquals(Termination.Way.KILLED, t.way());
            assertTrue(System.nanoTime() - t0 < 10_000_000_000L);
        }
    }

    @Test
    void statsOfASleepingAndABusyChild() throws Exception {
        try (Child c = Command.of("sleep", "30").spawn()) {
            awaitSleeping(c, "sleep");
            ProcessStats st = c.stats().orElseThrow();
            assertEquals('S', st.state());
            assertEquals(1, st.threads());
            assertTrue(st.residentBytes() > 0, st.toString());
            c.kill(Signal.KILL);
            c.waitFor();
            assertTrue(c.stats().isEmpty(), "no figures for an exited child");
        }
        try (Child busy = Command.of("sh", "-c", "while :; do :; done").spawn()) {
            Thread.sleep(400);
            ProcessStats st = busy.stats().orElseThrow();
            assertTrue(st.totalCpu().toMillis() >= 100, st.toString());
        }
    }

    /** Live processes whose process group is pgid. */
    private static List<Long> groupMembers(long pgid) throws java.io.IOException {
        try (java.util.stream.Stream<java.nio.file.Path> all = java.nio.file.Files.list(java.nio.file.Path.of("/proc"))) {
            return all.map(p -> p.getFileName().toString()).filter(n -> n.chars().allMatch(Character::isDigit))
                    .map(n -> Procs.stat(Long.parseLong(n)))
                    .filter(st -> st != null && st.pgrp() == pgid && st.state() != 'Z')
                    .map(Procs.Stat::pid).toList();
        }
    }

    private static boolean groupGone(long pgid) {
        return Procs.eventually(Duration.ofSeconds(5), () -> {
            try {
                return groupMembers(pgid).isEmpty();
            } catch (java.io.IOException e) {
                return false;
            }
        });
    }

    @Test
    void killTreeReachesTheWholeGroupButNotADaemonThatLeftIt() throws Exception {
        // Forks two levels deep, one member ignores TERM, one leaves with setsid (and prints its pid).
        String script = "sh -c 'sleep 30 & sleep 30 & wait' & (trap '' TERM; exec sleep 30) & "
                + "setsid sleep 30 & echo $!; wait";
        try (Child c = Command.of("sh", "-c", script).newProcessGroup().stdout(Stdio.piped()).spawn()) {
            java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(c.stdout()));
            long escaped = Long.parseLong(r.readLine().trim());
            try {
                assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> {
                    try {
                        return groupMembers(c.pid()).size() >= 5; // sh, sh, 2 sleeps, the TERM-proof sleep
                    } catch (java.io.IOException e) {
                        return false;
                    }
                }), () -> "group: " + c.pid());
                assertTrue(Procs.awaitOwnSession(escaped));
                assertTrue(c.killTree());
                assertEquals(Signal.KILL, c.waitFor().signal().orElseThrow());
                assertTrue(groupGone(c.pid()), "members left in the group");
                assertFalse(c.killTree(), "the leader is reaped: the group can no longer be named");
                assertTrue(ProcessHandle.of(escaped).map(ProcessHandle::isAlive).orElse(false),
                        "the setsid daemon escaped the group kill, as documented");
            } finally {
                ProcessHandle.of(escaped).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    @Test
    void killTreeNeedsAGroupLeader() throws Exception {
        try (Child c = Command.of("sleep", "30").spawn()) {
            IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, c::killTree);
            assertTrue(e.getMessage().contains("newProcessGroup"), e.getMessage());
        }
    }

    @Test
    void closeActionKillTree() throws Exception {
        Child c = Command.of("sh", "-c", "sleep 30 & sleep 30 & wait").onClose(CloseAction.KILL_TREE).spawn();
        long pgid = c.pid();
        assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> {
            try {
                return groupMembers(pgid).size() == 3;
            } catch (java.io.IOException e) {
                return false;
            }
        }), "a group of its own, with the shell and two sleeps");
        c.close();
        assertTrue(groupGone(pgid), "members left in the group");
    }

    @Test
    void descendantsWhileTheChildRuns() throws Exception {
        try (Child c = Command.of("sh", "-c", "sleep 30 & sleep 30 & wait").spawn()) {
            assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> c.descendants().size() == 2),
                    () -> "descendants: " + c.descendants());
            List<ProcessHandle> kids = c.descendants();
            for (ProcessHandle h : kids) {
                assertEquals(c.pid(), h.parent().orElseThrow().pid());
                h.destroyForcibly(); // the test's own clean-up: they would outlive sh otherwise
            }
            for (ProcessHandle h : kids) {
                h.onExit().get(5, TimeUnit.SECONDS);
            }
            c.kill(Signal.KILL);
            c.waitFor();
            assertTrue(c.descendants().isEmpty());
            assertFalse(c.isAlive());
        }
    }
}
