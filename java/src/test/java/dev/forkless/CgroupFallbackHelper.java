package dev.forkless;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.time.Duration;

/**
 * A child JVM for CgroupTreeKillTest, run where cgroups cannot be had: prints what Forkless
 * detected and how the tree kill behaves, as {@code key: value} lines.
 */
public final class CgroupFallbackHelper {
    private CgroupFallbackHelper() {
    }

    public static void main(String[] args) throws Exception {
        System.out.println("reason: " + Forkless.cgroupUnavailableReason().orElse("none"));
        try (Child c = Command.of("sh", "-c", CgroupTreeKillTest.TREE).treeKill(TreeKill.AUTO)
                .stdout(Stdio.piped()).spawn()) {
            System.out.println("auto cgroup: " + c.cgroup().map(Object::toString).orElse("none"));
            long daemon = Long.parseLong(new BufferedReader(new InputStreamReader(c.stdout())).readLine().trim());
            Procs.awaitOwnSession(daemon);
            Thread.sleep(100); // the rest of the tree forks
            boolean killed = c.killTree();
            c.waitFor();
            System.out.println("group killed: " + killed);
            Thread.sleep(200);
            ProcessHandle h = ProcessHandle.of(daemon).orElse(null);
            boolean alive = h != null && Procs.stat(daemon) != null && Procs.stat(daemon).state() != 'Z';
            System.out.println("daemon escaped: " + alive);
            if (h != null) {
                h.destroyForcibly();
            }
        }
        try (Child c = Command.of("true").treeKill(TreeKill.CGROUP).spawn()) {
            System.out.println("required: spawned " + c.waitFor(Duration.ofSeconds(5)));
        } catch (ProcessStartException e) {
            System.out.println("required: " + e.step() + " " + e.errnoName() + " " + e.getMessage());
        }
    }
}
