package dev.forkless;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The sweep of stale JVM directories judges liveness by the owner's claim on the directory, not
 * by the PID in its name: a JVM in another PID namespace ({@code unshare -fp --mount-proc}) keeps
 * its directory, and can still spawn into it, when another JVM sweeps; the directory of a JVM
 * killed with SIGKILL is still swept. Every helper JVM works under a private base
 * ({@code -Dforkless.cgroup}), so the JVMs of other test runs on this machine, which sweep the
 * shared base, cannot disturb it.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CgroupSweepTest {
    private static Path base;

    @BeforeAll
    static void makeBase() throws IOException {
        assumeTrue(Forkless.cgroupDirectory().isPresent(),
                () -> "no cgroups here: " + Forkless.cgroupUnavailableReason().orElse("?"));
        base = Forkless.cgroupDirectory().orElseThrow().getParent()
                .resolve("fl-sweep-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        Files.createDirectory(base);
    }

    @AfterAll
    static void removeBase() {
        if (base != null) {
            CgroupUserTest.removeCgroupTree(base);
        }
    }

    private static List<String> helper(String mode) {
        List<String> cmd = new ArrayList<>(HelperMain.commandWithForkless(CgroupUserHelper.class, mode));
        cmd.add(1, "-XX:-UsePerfData");
        cmd.add(1, "-Dforkless.cgroup=" + base);
        cmd.add(1, "-Dforkless.library.path=" + Forkless.nativeLibraryLocation().orElseThrow());
        return cmd;
    }

    /** A PID that no process here has, with a free one before it: what the namespace's JVM gets. */
    private static long freePid() {
        for (long p = 32000; p > 2000; p--) {
            if (!Files.exists(Path.of("/proc/" + p)) && !Files.exists(Path.of("/proc/" + (p + 1)))) {
                return p;
            }
        }
        throw new AssertionError("no free PID");
    }

    /** Reads key: value lines until key; the rest of the stream stays unread. */
    private static String await(BufferedReader out, String key) throws IOException {
        List<String> seen = new ArrayList<>();
        for (String l; (l = out.readLine()) != null;) {
            System.out.println(l);
            seen.add(l);
            if (l.startsWith(key + ": ")) {
                return l.substring(key.length() + 2);
            }
        }
        throw new AssertionError(key + " never came: " + seen);
    }

    @Test
    void aJvmInAnotherPidNamespaceKeepsItsDirectoryAndADeadJvmsIsSwept() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/unshare")), "needs unshare (util-linux)");
        long nsPid = freePid();
        // The namespace's init (sh) makes the PID counter hand nsPid to the JVM it forks, a number
        // that is free here: judged by PID, its directory would look dead to any sweeper here.
        List<String> inNamespace = new ArrayList<>(List.of("unshare", "-fp", "--mount-proc", "sh", "-c",
                "echo " + (nsPid - 1) + " > /proc/sys/kernel/ns_last_pid && \"$@\"; exit $?", "sh"));
        inNamespace.addAll(helper("hold"));
        try (Child foreign = Command.of(inNamespace).stdin(Stdio.piped()).stdout(Stdio.piped()).spawn();
             Child dying = Command.of(helper("hold")).stdin(Stdio.piped()).stdout(Stdio.piped()).spawn()) {
            BufferedReader foreignOut = new BufferedReader(new InputStreamReader(foreign.stdout()));
            assertEquals(String.valueOf(nsPid), await(foreignOut, "pid"), "the JVM's PID in its namespace");
            Path foreignDir = Path.of(await(foreignOut, "dir"));
            assertEquals(base, foreignDir.getParent());
            assertTrue(foreignDir.getFileName().toString().startsWith("forkless-" + nsPid + "-"), foreignDir.toString());
            assertTrue(Procs.gone(nsPid), "PID " + nsPid + " is no process here");

            BufferedReader dyingOut = new BufferedReader(new InputStreamReader(dying.stdout()));
            Path deadDir = Path.of(await(dyingOut, "dir"));
            assertEquals(base, deadDir.getParent());
            assertTrue(dying.kill(Signal.KILL));
            dying.waitFor();
            assertTrue(Files.isDirectory(deadDir), "a JVM killed with SIGKILL leaves its directory");

            // Another JVM: its first use sweeps the base.
            List<String> sweeper = CgroupUserTest.run(helper("sweep"));
            Path sweeperDir = Path.of(CgroupUserTest.line(sweeper, "dir"));
            assertEquals(base, sweeperDir.getParent());
            assertNotEquals(foreignDir, sweeperDir);
            assertFalse(Files.exists(deadDir), "the dead JVM's directory is swept");
            assertFalse(Files.exists(sweeperDir), "the sweeper removed its own at exit");
            assertTrue(Files.isDirectory(foreignDir), "the live JVM in another PID namespace keeps its directory");

            // And it can still use it.
            OutputStream in = foreign.stdin();
            in.write("spawn\n".getBytes(StandardCharsets.US_ASCII));
            in.flush();
            String spawned = await(foreignOut, "spawn");
            assertTrue(spawned.startsWith("ok " + foreignDir + "/c"), spawned);
            in.close();
            assertEquals(0, foreign.waitFor().code().orElse(-1));
            assertFalse(Files.exists(foreignDir), "removed by its owner at exit");
        }
    }
}
