package dev.forkless;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The reactor thread cannot start (a real {@code RLIMIT_NPROC}, "unable to create native
 * thread"): spawn() says so as a {@link ProcessStartException} at {@link SpawnStep#WATCH}, leaves
 * no descriptor and no child behind however often it is tried, and works again once threads can
 * start.
 *
 * <p>The helper JVM runs under {@code prlimit --nproc}. Root ignores that limit (the kernel lets
 * CAP_SYS_ADMIN and CAP_SYS_RESOURCE exceed it), so the helper also drops to an unprivileged user
 * ID of its own with {@code setpriv}: the limit counts every task of the user, and no other
 * process runs as that one.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ReactorStartFailureTest {
    private static final int NPROC = 150;

    @Test
    void aReactorThreadThatCannotStartIsAStartFailureThatLeavesNothingBehind() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/prlimit")), "needs prlimit (util-linux)");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "needs setpriv (util-linux)");
        assumeTrue((int) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0,
                "needs root, to give the helper a user of its own: RLIMIT_NPROC counts every task of the user");
        // A user ID nobody else runs as (none needs to exist), so that the limit counts the
        // helper's threads only, also when other test JVMs run this test at the same time.
        long uid = 200_000 + ProcessHandle.current().pid() % 100_000;
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/setpriv", "--reuid=" + uid, "--regid=" + uid,
                "--clear-groups", "/usr/bin/prlimit", "--nproc=" + NPROC));
        List<String> java = HelperMain.readableByAll(HelperMain.commandWithForkless(ReactorStartFailureHelper.class));
        java.add(1, "-XX:+UseSerialGC"); // no GC worker threads to start under the limit
        java.add(1, "-XX:-UsePerfData");
        java.add(1, "-Xlog:all=warning:stderr"); // HotSpot's thread warnings: not on stdout, which is parsed
        java.add(1, "-Xlog:disable");
        cmd.addAll(java);
        Output out = Command.of(cmd).output();
        String text = new String(out.stdout(), StandardCharsets.UTF_8);
        String diag = cmd + " -> " + out.status() + "\n" + text + new String(out.stderr(), StandardCharsets.UTF_8);
        assertTrue(out.status().success(), diag);
        List<String> lines = Arrays.asList(text.split("\n"));
        assertTrue(lines.get(0).startsWith("fillers "), diag);
        for (int i = 1; i <= ReactorStartFailureHelper.ATTEMPTS; i++) {
            assertEquals("PSE WATCH EAGAIN cause=OutOfMemoryError", lines.get(i), diag);
        }
        String[] fds = lines.get(ReactorStartFailureHelper.ATTEMPTS + 1).split(" ");
        assertEquals("fds", fds[0], diag);
        assertEquals(fds[1], fds[2], "descriptors before and after the failed attempts: " + diag);
        assertEquals("children 0", lines.get(ReactorStartFailureHelper.ATTEMPTS + 2), diag);
        assertEquals("then exit 0", lines.get(ReactorStartFailureHelper.ATTEMPTS + 3), diag);
    }
}
