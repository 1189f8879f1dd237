package dev.forkless;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A child JVM for CgroupUserTest and CgroupSweepTest, run as another user, in another cgroup or
 * another PID namespace: reports as {@code key: value} lines on stdout (the tests merge stderr
 * into it, where java.util.logging's console handler prints Forkless's warnings as
 * {@code WARNING: ...} lines, in order). Modes:
 * <ul>
 *   <li>{@code tree}: what Forkless decided, the one warning it logged, and how terminateTree()
 *       treats a tree with a setsid daemon;</li>
 *   <li>{@code die}: a dieWithParent().onClose(KILL_TREE) tree of three sleeps (one setsid), their
 *       PIDs printed; then it waits for stdin to close (the test kills this JVM first);</li>
 *   <li>{@code hold}: makes its cgroup directory, prints it and its PID, then spawns a
 *       TreeKill.CGROUP child for every {@code spawn} line on stdin, until end-of-file;</li>
 *   <li>{@code sweep}: makes its cgroup directory (sweeping stale ones) and exits.</li>
 * </ul>
 */
public final class CgroupUserHelper {
    private CgroupUserHelper() {
    }

    public static void main(String[] args) throws Exception {
        System.out.println("uid: " + java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))
                .stream().filter(l -> l.startsWith("Uid:")).findFirst().orElse("?").split("\\s+")[1]);
        System.out.println("pid: " + ProcessHandle.current().pid());
        switch (args[0]) {
            case "tree":
                tree();
                break;
            case "die":
                die();
                break;
            case "hold":
                hold();
                break;
            case "sweep":
                System.out.println("dir: " + Forkless.cgroupDirectory().map(Object::toString).orElse("none"));
                break;
            default:
                throw new IllegalArgumentException(args[0]);
        }
        System.out.println("end: " + args[0]);
        System.out.flush();
    }

    private static void tree() throws Exception {
        System.out.println("dir: " + Forkless.cgroupDirectory().map(Object::toString).orElse("none"));
        System.out.println("reason: " + Forkless.cgroupUnavailableReason().orElse("none"));
        System.out.println("first use: done");
        for (int round = 1; round <= 2; round++) {
            try (Child c = Command.of("sh", "-c", "setsid sleep 30 & echo $!; sleep 30 & wait")
                    .treeKill(TreeKill.AUTO).stdout(Stdio.piped()).spawn()) {
                long daemon = Long.parseLong(new BufferedReader(new InputStreamReader(c.stdout())).readLine().trim());
                if (!Procs.awaitOwnSession(daemon)) {
                    throw new IllegalStateException("the daemon never left the session");
                }
                Termination t = c.terminateTree(Duration.ofSeconds(10));
                boolean alive = Procs.stat(daemon) != null && !Procs.zombie(daemon);
                if (round == 1) {
                    System.out.println("mechanism: " + c.treeMechanism().map(Enum::name).orElse("none"));
                    System.out.println("termination: " + t.way() + " " + t.scope() + " "
                            + t.reachedEscapedDescendants());
                    System.out.println("daemon alive after: " + alive);
                }
                ProcessHandle.of(daemon).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
        try (Child c = Command.of("true").treeKill(TreeKill.CGROUP).spawn()) {
            System.out.println("required: spawned " + c.waitFor().code().orElse(-1));
        } catch (ProcessStartException e) {
            System.out.println("required: " + e.step() + " " + e.errnoName() + " " + e.getMessage());
        }
    }

    private static void die() throws Exception {
        Child c = Command.of("sh", "-c", "sleep 30 & a=$!; setsid sleep 30 & b=$!; sleep 30 & c=$!;"
                        + " echo $a $b $c; wait")
                .dieWithParent().onClose(CloseAction.KILL_TREE).stdout(Stdio.piped()).spawn();
        String pids = new BufferedReader(new InputStreamReader(c.stdout())).readLine().trim();
        System.out.println("mechanism: " + c.treeMechanism().map(Enum::name).orElse("none"));
        System.out.println("sleeps: " + pids);
        System.out.flush();
        System.in.read(); // the test kills this JVM while it waits here
        c.close();
    }

    private static void hold() throws Exception {
        System.out.println("dir: " + Forkless.cgroupDirectory().map(Object::toString).orElse("none"));
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        for (String line; (line = in.readLine()) != null;) {
            if (line.equals("spawn")) {
                try (Child c = Command.of("true").treeKill(TreeKill.CGROUP).spawn()) {
                    c.waitFor();
                    System.out.println("spawn: ok " + c.cgroup().orElseThrow());
                } catch (ProcessStartException e) {
                    System.out.println("spawn: " + e.step() + " " + e.errnoName() + " " + e.getMessage());
                }
                System.out.flush();
            }
        }
    }
}
