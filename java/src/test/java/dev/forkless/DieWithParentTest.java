package dev.forkless;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Children that die with their JVM, tested with a real child JVM (DieWithParentHelper)
 * that is killed with SIGKILL or exits normally. The child was spawned from a thread that had
 * ended long before, so these also show that the spawning thread's end does not kill it.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DieWithParentTest {
    /**
     * Dead: gone, or a zombie. Orphans are re-parented to PID 1, and a container's init may never
     * reap them (this VM's does not), so "dead" cannot wait for the PID to disappear.
     */
    private static boolean dead(long pid) {
        Procs.Stat st = Procs.stat(pid);
        return st == null || st.state() == 'Z' || st.state() == 'X';
    }

    private static boolean goneWithin(long pid, Duration d) {
        return Procs.eventually(d, () -> dead(pid));
    }

    private static void cleanUp(long pid) {
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }

    /** Starts the helper JVM and returns it with the two PIDs it printed. */
    private static long[] start(Child jvm) throws Exception {
        String line = new BufferedReader(new InputStreamReader(jvm.stdout())).readLine();
        String[] parts = line.trim().split(" ");
        return new long[] {Long.parseLong(parts[0]), Long.parseLong(parts[1])};
    }

    @Test
    void childDiesWithinASecondOfTheJvmsSigkill() throws Exception {
        try (Child jvm = Command.of(HelperMain.commandWithForkless(DieWithParentHelper.class, "direct", "stay"))
                .stdout(Stdio.piped()).spawn()) {
            long[] pids = start(jvm);
            long child = pids[0];
            try {
                assertEquals(pids[0], pids[1], "the sh exec'd sleep: one process");
                Thread.sleep(100); // the spawning thread in the helper is long gone
                assertFalse(dead(child), "alive while its JVM runs, although the thread that asked for it has ended");
                long t0 = System.nanoTime();
                jvm.kill(Signal.KILL);
                jvm.waitFor();
                assertTrue(goneWithin(child, Duration.ofSeconds(1)), "still running 1 s after the JVM's SIGKILL");
                System.out.printf("die-with-parent: child gone %.1f ms after the JVM's SIGKILL%n",
                        (System.nanoTime() - t0) / 1e6);
            } finally {
                cleanUp(child);
            }
        }
    }

    @Test
    void normalExitKillsTheWholeGroup() throws Exception {
        try (Child jvm = Command.of(HelperMain.commandWithForkless(DieWithParentHelper.class, "tree", "exit"))
                .stdout(Stdio.piped()).spawn()) {
            long[] pids = start(jvm);
            try {
                assertEquals(0, jvm.waitFor().code().getAsInt());
                assertTrue(goneWithin(pids[0], Duration.ofSeconds(1)), "the child outlived the JVM");
                assertTrue(goneWithin(pids[1], Duration.ofSeconds(1)), "the grandchild in its group outlived the JVM");
            } finally {
                cleanUp(pids[0]);
                cleanUp(pids[1]);
            }
        }
    }

    @Test
    void normalExitKillsTheChildsCgroupSetsidDaemonsIncluded() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Forkless.cgroupDirectory().isPresent(),
                () -> "no cgroups for this JVM: " + Forkless.cgroupUnavailableReason().orElse("?"));
        try (Child jvm = Command.of(HelperMain.commandWithForkless(DieWithParentHelper.class, "daemon", "exit"))
                .stdout(Stdio.piped()).spawn()) {
            long[] pids = start(jvm);
            try {
                assertEquals(0, jvm.waitFor().code().getAsInt());
                assertTrue(goneWithin(pids[0], Duration.ofSeconds(1)), "the child outlived the JVM");
                assertTrue(goneWithin(pids[1], Duration.ofSeconds(1)), "the setsid daemon outlived the JVM");
            } finally {
                cleanUp(pids[0]);
                cleanUp(pids[1]);
            }
        }
    }

    @Test
    void afterSigkillTheWatchdogKillsTheChildsCgroupSetsidDaemonsIncluded() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Forkless.cgroupDirectory().isPresent(),
                () -> "no cgroups for this JVM: " + Forkless.cgroupUnavailableReason().orElse("?"));
        try (Child jvm = Command.of(HelperMain.commandWithForkless(DieWithParentHelper.class, "daemon", "stay"))
                .stdout(Stdio.piped()).spawn()) {
            long[] pids = start(jvm);
            try {
                assertTrue(Procs.awaitOwnSession(pids[1]));
                long t0 = System.nanoTime();
                jvm.kill(Signal.KILL);
                jvm.waitFor();
                assertTrue(goneWithin(pids[0], Duration.ofSeconds(1)), "the child outlived the JVM");
                assertTrue(goneWithin(pids[1], Duration.ofSeconds(1)), "the setsid daemon outlived the JVM");
                System.out.printf("die-with-parent: a setsid daemon in the child's cgroup gone %.1f ms after the"
                        + " JVM's SIGKILL%n", (System.nanoTime() - t0) / 1e6);
            } finally {
                cleanUp(pids[0]);
                cleanUp(pids[1]);
            }
        }
    }

    @Test
    void afterSigkillOnlyTheChildIsKilledByTheKernel() throws Exception {
        try (Child jvm = Command.of(HelperMain.commandWithForkless(DieWithParentHelper.class, "tree", "stay"))
                .stdout(Stdio.piped()).spawn()) {
            long[] pids = start(jvm);
            try {
                jvm.kill(Signal.KILL);
                jvm.waitFor();
                assertTrue(goneWithin(pids[0], Duration.ofSeconds(1)), "the child outlived the JVM");
                // Documented limit without a cgroup: no hook runs after SIGKILL, and the kernel
                // signals the child only (the tree shape uses TreeKill.PROCESS_GROUP).
                Thread.sleep(200);
                assertFalse(dead(pids[1]),
                        "expected the grandchild to survive a SIGKILL of the JVM (parent-death signal covers the child only)");
            } finally {
                cleanUp(pids[0]);
                cleanUp(pids[1]);
            }
        }
    }

    /** The value of "Key:" in a /proc status file. */
    private static String field(String status, String key) {
        for (String line : status.split("\n")) {
            if (line.startsWith(key + ":")) {
                return line.substring(key.length() + 1).trim();
            }
        }
        throw new AssertionError("no " + key + " in " + status);
    }

    /** The nice value: field 19 of a /proc stat file. */
    private static int nice(String stat) {
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
        return Integer.parseInt(f[16]);
    }

    /** The /proc/self/task directory of this JVM's reactor thread ("forkless-reactor", cut to 15). */
    private static Path reactorTask() throws IOException {
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path t : tasks) {
                if (Procs.read(t.resolve("comm")).trim().equals("forkless-reactor".substring(0, 15))) {
                    return t;
                }
            }
        }
        throw new AssertionError("no reactor thread");
    }

    private static void run(String... command) throws Exception {
        Output out = Command.of(List.of(command)).output();
        assertTrue(out.status().success(), () -> String.join(" ", command) + ": " + out.stderrText());
    }

    /**
     * A thread whose CPU affinity and nice value differ from the reactor thread's (both are per
     * thread on Linux, set here with taskset/renice on its TID) spawns a dieWithParent child: the
     * child has the spawning thread's values, as a plain child would. Before, such children were
     * cloned by the reactor thread and got its values (so also its no_new_privs and seccomp
     * filters: the core's DieWithParentThreadTest checks those, which Java cannot set per thread).
     */
    @Test
    void childHasTheSpawningThreadsCpuAffinityAndNiceValue() throws Exception {
        String allowed = field(Procs.read(Path.of("/proc/self/status")), "Cpus_allowed_list");
        org.junit.jupiter.api.Assumptions.assumeTrue(allowed.contains("-") || allowed.contains(","),
                () -> "a single CPU allowed: " + allowed);
        String lastCpu = allowed.substring(Math.max(allowed.lastIndexOf('-'), allowed.lastIndexOf(',')) + 1);
        Procs.spawnTrue(); // the reactor runs, started by another thread than the one below
        Path reactor = reactorTask();

        String[] seen = new String[6];
        Throwable[] failed = new Throwable[1];
        Thread spawner = new Thread(() -> {
            try {
                String tid = Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString();
                run("taskset", "-p", "-c", lastCpu, tid);
                run("renice", "-n", "7", "-p", tid);
                try (Child c = Command.of("sleep", "60").dieWithParent().spawn()) {
                    Path proc = Path.of("/proc/" + c.pid());
                    seen[0] = field(Procs.read(proc.resolve("status")), "Cpus_allowed_list");
                    seen[1] = String.valueOf(nice(Procs.read(proc.resolve("stat"))));
                }
                seen[2] = field(Procs.read(Path.of("/proc/thread-self/status")), "Cpus_allowed_list");
                seen[3] = String.valueOf(nice(Procs.read(Path.of("/proc/thread-self/stat"))));
            } catch (Throwable t) {
                failed[0] = t;
            }
        }, "affinity-spawner");
        spawner.start();
        spawner.join();
        if (failed[0] != null) {
            throw new AssertionError(failed[0]);
        }
        seen[4] = field(Procs.read(reactor.resolve("status")), "Cpus_allowed_list");
        seen[5] = String.valueOf(nice(Procs.read(reactor.resolve("stat"))));
        assertEquals(lastCpu, seen[2], "taskset did not apply to the spawning thread");
        assertEquals("7", seen[3], "renice did not apply to the spawning thread");
        assertNotEquals(seen[2], seen[4], "the reactor thread has the spawning thread's affinity: proves nothing");
        assertNotEquals(seen[3], seen[5], "the reactor thread has the spawning thread's nice value: proves nothing");
        assertEquals(seen[2], seen[0], "the child's CPU affinity is not the spawning thread's");
        assertEquals(seen[3], seen[1], "the child's nice value is not the spawning thread's");
    }

    /** The watchdog's PID in the helper JVM: its child running the watchdog's script. */
    private static long watchdogOf(long jvm) throws IOException {
        try (DirectoryStream<Path> d = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path p : d) {
                long pid = Long.parseLong(p.getFileName().toString());
                Procs.Stat st = Procs.stat(pid);
                if (st == null || st.ppid() != jvm || st.state() == 'Z') {
                    continue;
                }
                try {
                    if (new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8)
                            .contains("cgroup.kill")) {
                        return pid;
                    }
                } catch (IOException vanished) {
                    // exited meanwhile
                }
            }
        }
        return -1;
    }

    /**
     * Someone kills the watchdog of a JVM with a dieWithParent cgroup tree: the JVM starts a new
     * one, and a SIGKILL of the JVM still kills the tree's setsid daemon. Before, the dead
     * watchdog was never replaced and the daemon survived.
     */
    @Test
    void aKilledWatchdogIsReplacedAndTheTreeStillDiesWithTheJvm() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Forkless.cgroupDirectory().isPresent(),
                () -> "no cgroups for this JVM: " + Forkless.cgroupUnavailableReason().orElse("?"));
        Path log = Files.createTempFile("forkless-watchdog", ".log");
        try (Child jvm = Command.of(HelperMain.commandWithForkless(DieWithParentHelper.class, "daemon", "stay"))
                .stdout(Stdio.piped()).stderr(Stdio.file(log)).spawn()) {
            long[] pids = start(jvm);
            try {
                assertTrue(Procs.awaitOwnSession(pids[1]));
                long[] first = {-1};
                assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> {
                    try {
                        first[0] = watchdogOf(jvm.pid());
                    } catch (IOException e) {
                        throw new AssertionError(e);
                    }
                    return first[0] > 0;
                }), "the helper JVM has no watchdog");
                ProcessHandle.of(first[0]).ifPresent(ProcessHandle::destroyForcibly);
                long[] second = {-1};
                assertTrue(Procs.eventually(Duration.ofSeconds(10), () -> {
                    try {
                        second[0] = watchdogOf(jvm.pid());
                    } catch (IOException e) {
                        throw new AssertionError(e);
                    }
                    return second[0] > 0 && second[0] != first[0];
                }), "no new watchdog after the first one was killed");
                // Logged before the new one starts (JUL's console handler flushes every record).
                String warning = Files.readString(log);
                assertTrue(warning.contains("WARNING") && warning.contains("(pid " + first[0] + ") has ended"),
                        () -> "no warning about the killed watchdog: " + warning);
                jvm.kill(Signal.KILL);
                jvm.waitFor();
                assertTrue(goneWithin(pids[0], Duration.ofSeconds(1)), "the child outlived the JVM");
                assertTrue(goneWithin(pids[1], Duration.ofSeconds(1)),
                        "the setsid daemon outlived the JVM: the new watchdog did not act");
            } finally {
                cleanUp(pids[0]);
                cleanUp(pids[1]);
                Files.deleteIfExists(log);
            }
        }
    }

    /**
     * In this JVM: a killed watchdog is replaced (another PID, running), and LeakCheck finds the
     * old one's pipe and pidfd closed and no zombie.
     */
    @Test
    void aKilledWatchdogIsReplaced() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Forkless.cgroupDirectory().isPresent(),
                () -> "no cgroups for this JVM: " + Forkless.cgroupUnavailableReason().orElse("?"));
        try (Child tree = Command.of("sleep", "60").dieWithParent().onClose(CloseAction.KILL_TREE).spawn()) {
            long[] watchdog = DieWithJvm.watchdogForTests();
            assertNotNull(watchdog, "no watchdog with a dieWithParent cgroup child running");
            long old = watchdog[0];
            ProcessHandle.of(old).ifPresent(ProcessHandle::destroyForcibly);
            assertTrue(Procs.eventually(Duration.ofSeconds(10), () -> {
                long[] now = DieWithJvm.watchdogForTests();
                return now != null && now[0] != old && !dead(now[0]);
            }), "no new watchdog after the first one was killed");
            assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> dead(old)), "the old watchdog lingers");
        }
    }

    @Test
    void describedInToString() {
        assertTrue(Command.of("x").dieWithParent().toString().contains("dieWithParent"));
        assertFalse(Command.of("x").toString().contains("dieWithParent"));
    }
}
