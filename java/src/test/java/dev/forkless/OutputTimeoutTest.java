package dev.forkless;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Stopping a capture: {@link OutputOptions#timeout(Duration)} and completing an
 * {@code outputAsync} future from outside both kill the child (its tree where it has one) and
 * leave nothing running, on real {@code sleep} children.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class OutputTimeoutTest {
    /** Writes a megabyte, says its PID (the sleep's, after exec), then sleeps far past any timeout. */
    private static final String WRITE_THEN_SLEEP = "head -c 1000000 /dev/zero; echo; echo $$; exec sleep 60";
    private static final OutputOptions SHORT = OutputOptions.defaults().timeout(Duration.ofMillis(500));

    /** The PID the child printed on its last line. */
    private static long lastLinePid(Output out) {
        String[] lines = out.stdoutText().trim().split("\n");
        return Long.parseLong(lines[lines.length - 1].trim());
    }

    private static void assertTimedOutAfterAMegabyte(Output out) {
        assertTrue(out.timedOut(), out.toString());
        assertTrue(out.toString().contains("timed out"), out.toString());
        assertEquals(Signal.KILL, out.status().signal().orElseThrow(), out.toString());
        // Everything written before the timeout: the megabyte, a newline, the PID line.
        byte[] b = out.stdout();
        assertTrue(b.length > 1_000_002, out.toString());
        for (int i = 0; i < 1_000_000; i++) {
            assertEquals(0, b[i], "byte " + i);
        }
        assertEquals('\n', b[1_000_000]);
        assertEquals('\n', b[b.length - 1]);
        assertFalse(out.cutOff(), out.toString()); // no one else held the pipe
    }

    @Test
    void commandOutputTimesOutKillsAndKeepsWhatWasWritten() throws Exception {
        long t0 = System.nanoTime();
        Output out = Command.of("sh", "-c", WRITE_THEN_SLEEP).output(SHORT);
        assertTrue(System.nanoTime() - t0 < 10_000_000_000L);
        assertTimedOutAfterAMegabyte(out);
        assertTrue(Procs.gone(lastLinePid(out)), "the sleep is reaped by the time output returns");
    }

    @Test
    void commandOutputAsyncTimesOut() throws Exception {
        Output out = Command.of("sh", "-c", WRITE_THEN_SLEEP).outputAsync(SHORT).get(30, TimeUnit.SECONDS);
        assertTimedOutAfterAMegabyte(out);
        assertTrue(Procs.gone(lastLinePid(out)), "closed (reaped) before the future completes");
    }

    @Test
    void childOutputAndOutputAsyncTimeOut() throws Exception {
        try (Child c = Command.of("sleep", "60").stdout(Stdio.piped()).stderr(Stdio.piped()).spawn()) {
            Output out = c.output(OutputOptions.defaults().timeout(Duration.ofMillis(200)));
            assertTrue(out.timedOut());
            assertEquals(Signal.KILL, out.status().signal().orElseThrow());
            assertTrue(Procs.gone(c.pid()), "reaped while the Child is still open");
        }
        try (Child c = Command.of("sh", "-c", WRITE_THEN_SLEEP).stdout(Stdio.piped()).spawn()) {
            Output out = c.outputAsync(SHORT).get(30, TimeUnit.SECONDS);
            assertTimedOutAfterAMegabyte(out);
            assertTrue(Procs.gone(c.pid()));
        }
    }

    @Test
    void aZeroTimeoutKillsAtOnce() throws Exception {
        Output out = Command.of("sleep", "60").output(OutputOptions.defaults().timeout(Duration.ZERO));
        assertTrue(out.timedOut());
        assertEquals(Signal.KILL, out.status().signal().orElseThrow());
    }

    @Test
    void aChildThatFinishesInTimeIsNotTimedOut() throws Exception {
        Output out = Command.of("echo", "hi").output(OutputOptions.defaults().timeout(Duration.ofSeconds(30)));
        assertFalse(out.timedOut());
        assertEquals("hi\n", out.stdoutText());
        assertFalse(out.toString().contains("timed out"));
        Output async = Command.of("echo", "hi").outputAsync(OutputOptions.defaults().timeout(Duration.ofSeconds(30)))
                .get(30, TimeUnit.SECONDS);
        assertFalse(async.timedOut());
        assertEquals("hi\n", async.stdoutText());
    }

    /** Both sleeps of a tree; the grandchild holds stdout, so only a tree kill ends the capture cleanly. */
    private static final String TREE = "sleep 60 & echo $!; echo $$; exec sleep 60";

    @Test
    void timeoutKillsTheWholeTreeWhereTheChildHasOne() throws Exception {
        for (TreeKill how : List.of(TreeKill.PROCESS_GROUP, TreeKill.AUTO)) {
            Output out = Command.of("sh", "-c", TREE).treeKill(how).output(SHORT);
            assertTrue(out.timedOut(), how + ": " + out);
            assertFalse(out.cutOff(), how + ": the grandchild died too, so its pipe ended: " + out);
            for (String pid : out.stdoutText().trim().split("\n")) {
                assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> Procs.gone(Long.parseLong(pid))),
                        how + ": " + pid + " still there");
            }
            Output async = Command.of("sh", "-c", TREE).treeKill(how).outputAsync(SHORT).get(30, TimeUnit.SECONDS);
            assertTrue(async.timedOut() && !async.cutOff(), how + ": " + async);
            for (String pid : async.stdoutText().trim().split("\n")) {
                assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> Procs.gone(Long.parseLong(pid))),
                        how + ": " + pid + " still there");
            }
        }
    }

    @Test
    void withoutATreeAGrandchildHoldingThePipeCannotHoldTheTimeout() throws Exception {
        // Only the child is killed; the background sleep keeps stdout open. The capture ends anyway.
        Output out = Command.of("sh", "-c", TREE).output(SHORT);
        String[] pids = out.stdoutText().trim().split("\n");
        try {
            assertTrue(out.timedOut(), out.toString());
            assertTrue(out.cutOff(), out.toString());
            assertEquals(Signal.KILL, out.status().signal().orElseThrow());
            assertEquals(2, pids.length, out.stdoutText());
        } finally {
            ProcessHandle.of(Long.parseLong(pids[0].trim())).ifPresent(ProcessHandle::destroyForcibly);
        }
        Output async = Command.of("sh", "-c", TREE).outputAsync(SHORT).get(30, TimeUnit.SECONDS);
        String[] asyncPids = async.stdoutText().trim().split("\n");
        try {
            assertTrue(async.timedOut() && async.cutOff(), async.toString());
        } finally {
            ProcessHandle.of(Long.parseLong(asyncPids[0].trim())).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    /** The sleep children of this JVM that were not there before. */
    private static Set<Long> newSleeps(Set<Long> before) {
        return Procs.children().stream().filter(s -> s.comm().equals("sleep") && !before.contains(s.pid()))
                .map(Procs.Stat::pid).collect(Collectors.toSet());
    }

    private static Set<Long> sleepsNow() {
        return newSleeps(Set.of());
    }

    @Test
    void cancellingCommandOutputAsyncKillsAndReapsTheChild() throws Exception {
        Set<Long> before = sleepsNow();
        CompletableFuture<Output> f = Command.of("sleep", "60").outputAsync();
        Set<Long> mine = newSleeps(before);
        assertEquals(1, mine.size(), mine::toString);
        long pid = mine.iterator().next();
        assertTrue(f.cancel(true));
        assertThrows(CancellationException.class, f::join);
        assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> Procs.gone(pid)), "sleep " + pid + " survived");
    }

    @Test
    void orTimeoutOnCommandOutputAsyncKillsAndReapsTheChild() throws Exception {
        Set<Long> before = sleepsNow();
        CompletableFuture<Output> f = Command.of("sleep", "60").outputAsync().orTimeout(200, TimeUnit.MILLISECONDS);
        Set<Long> mine = newSleeps(before);
        assertEquals(1, mine.size(), mine::toString);
        long pid = mine.iterator().next();
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
        assertInstanceOf(TimeoutException.class, e.getCause());
        assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> Procs.gone(pid)), "sleep " + pid + " survived");
    }

    /** The processes in process group pgid, from /proc. */
    private static Set<Long> groupMembers(long pgid) {
        return ProcessHandle.allProcesses().map(ProcessHandle::pid).filter(p -> {
            Procs.Stat st = Procs.stat(p);
            return st != null && st.pgrp() == pgid && st.state() != 'Z';
        }).collect(Collectors.toSet());
    }

    @Test
    void cancellingChildOutputAsyncKillsTheTreeAndTheReactorReapsIt() throws Exception {
        try (Child c = Command.of("sh", "-c", "sleep 60 & exec sleep 61").newProcessGroup()
                .stdout(Stdio.piped()).spawn()) {
            assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> groupMembers(c.pid()).size() == 2
                    && "sleep".equals(Procs.stat(c.pid()).comm())), () -> groupMembers(c.pid()).toString());
            Set<Long> group = groupMembers(c.pid());
            CompletableFuture<Output> f = c.outputAsync(OutputOptions.defaults());
            assertFalse(f.isDone());
            assertTrue(f.cancel(true));
            assertEquals(Signal.KILL, c.waitFor(Duration.ofSeconds(10)).orElseThrow().signal().orElseThrow());
            assertTrue(Procs.gone(c.pid()), "reaped while the Child is open");
            for (long member : group) { // the grandchild is not our child: init reaps it
                assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> Procs.gone(member)), member + " survived");
            }
        }
    }

    @Test
    void cancellingAChildsCollectionWhileItReadsClosesThePipes() throws Exception {
        try (Child c = Command.of("sh", "-c", "while :; do echo data; done").stdout(Stdio.piped()).spawn()) {
            CompletableFuture<Output> f = c.outputAsync(OutputOptions.defaults());
            assertTrue(f.cancel(false));
            assertEquals(Signal.KILL, c.waitFor(Duration.ofSeconds(10)).orElseThrow().signal().orElseThrow());
            assertTrue(Procs.gone(c.pid()));
            // The pipe is closed and its descriptor given back: LeakCheck finds no pipe left.
        }
    }

    @Test
    void optionsSayTheirTimeout() {
        assertThrows(IllegalArgumentException.class, () -> OutputOptions.defaults().timeout(Duration.ofSeconds(-1)));
        assertTrue(SHORT.toString().contains("timeout PT0.5S"), SHORT.toString());
        assertFalse(SHORT.noTimeout().toString().contains("timeout"));
    }
}
