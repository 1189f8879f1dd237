package dev.forkless;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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

    @Test
    void describedInToString() {
        assertTrue(Command.of("x").dieWithParent().toString().contains("dieWithParent"));
        assertFalse(Command.of("x").toString().contains("dieWithParent"));
    }
}
