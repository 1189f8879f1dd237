import dev.forkless.Child;
import dev.forkless.Command;
import dev.forkless.Stdio;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * Whole-tree kill: a tree of about 200 processes (a shell, 10 subshells with 15 sleeps each and
 * a nested subshell with 3 more, one sleep that ignores SIGTERM, and 2 daemons that leave with
 * setsid), then {@code Child.killTree()}: SIGKILL to the child's cgroup ({@code cgroup}: one write
 * to cgroup.kill) or to its process group ({@code group}). Measured: the time from the call until
 * nothing of the tree is alive any more (cgroup: "populated 0" in cgroup.events, the kernel's own
 * count; group: scanning /proc, a zombie counting as dead since this VM's init never reaps
 * orphans), and what is left running (the setsid daemons escape a process group, not a cgroup).
 * Run from the repository root, as root or with -Dforkless.cgroup set to a delegated cgroup:
 * {@code java -cp target/classes bench/treekill/TreeKill.java cgroup|group [runs]}.
 */
public final class TreeKill {
    private static final String SCRIPT = "for i in 1 2 3 4 5 6 7 8 9 10; do"
            + " ( for j in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do sleep 60 & done;"
            + " ( sleep 60 & sleep 60 & sleep 60 & wait ) & wait ) & done;"
            + " (trap '' TERM; exec sleep 60) &"
            + " setsid sleep 60 & echo $!; setsid sleep 60 & echo $!; wait";

    /** [pid, pgrp, state] of every process, from /proc/PID/stat. */
    private static List<long[]> processes() throws IOException {
        List<long[]> out = new ArrayList<>();
        try (Stream<Path> all = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) all::iterator) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    String s = Files.readString(p.resolve("stat"));
                    String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
                    out.add(new long[] {Long.parseLong(name), Long.parseLong(f[2]), f[0].charAt(0)});
                } catch (IOException | RuntimeException gone) {
                    // exited while listing
                }
            }
        }
        return out;
    }

    private static int liveInGroup(long pgid) throws IOException {
        int n = 0;
        for (long[] p : processes()) {
            if (p[1] == pgid && p[2] != 'Z' && p[2] != 'X') {
                n++;
            }
        }
        return n;
    }

    private static boolean alive(long pid) throws IOException {
        try {
            String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
            char st = s.charAt(s.lastIndexOf(')') + 2);
            return st != 'Z' && st != 'X';
        } catch (java.nio.file.NoSuchFileException e) {
            return false;
        }
    }

    private static int members(Path cgroup) throws IOException {
        return (int) Files.readAllLines(cgroup.resolve("cgroup.procs")).stream().filter(l -> !l.isBlank()).count();
    }

    private static boolean populated(Path cgroup) throws IOException {
        return !Files.readString(cgroup.resolve("cgroup.events")).contains("populated 0");
    }

    public static void main(String[] args) throws Exception {
        boolean cgroup = args.length > 0 && args[0].equals("cgroup");
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        double[] ms = new double[runs];
        int[] sizes = new int[runs];
        int[] escaped = new int[runs];
        for (int r = 0; r < runs; r++) {
            Command cmd = Command.of("sh", "-c", SCRIPT).stdin(Stdio.nul()).stdout(Stdio.piped())
                    .treeKill(cgroup ? dev.forkless.TreeKill.CGROUP : dev.forkless.TreeKill.PROCESS_GROUP);
            try (Child c = cmd.spawn()) {
                BufferedReader out = new BufferedReader(new InputStreamReader(c.stdout()));
                long[] daemons = {Long.parseLong(out.readLine().trim()), Long.parseLong(out.readLine().trim())};
                long pgid = c.pid();
                Path leaf = c.cgroup().orElse(null);
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (System.nanoTime() < deadline && (cgroup ? members(leaf) : liveInGroup(pgid) + 2) < 204) {
                    Thread.sleep(20);
                }
                Thread.sleep(200); // every fork done
                sizes[r] = cgroup ? members(leaf) : liveInGroup(pgid) + 2; // + the daemons outside the group
                long t0 = System.nanoTime();
                c.killTree();
                if (cgroup) {
                    while (populated(leaf)) { // the kernel's own count: no /proc scan in the loop
                        Thread.onSpinWait();
                    }
                } else {
                    while (liveInGroup(pgid) > 0) {
                        Thread.onSpinWait();
                    }
                }
                ms[r] = (System.nanoTime() - t0) / 1e6;
                for (long d : daemons) {
                    if (alive(d)) {
                        escaped[r]++;
                        ProcessHandle.of(d).ifPresent(ProcessHandle::destroyForcibly);
                    }
                }
                c.waitFor();
            }
            System.out.printf("run %2d: tree of %d processes, %s empty %.1f ms after killTree(); still running: %d (setsid daemons)%n",
                    r + 1, sizes[r], cgroup ? "cgroup" : "group", ms[r], escaped[r]);
        }
        double[] sorted = ms.clone();
        Arrays.sort(sorted);
        System.out.printf("%s killTree() of ~%d processes: median %.1f ms, min %.1f, max %.1f over %d runs; escaped per run: %s%n",
                cgroup ? "cgroup" : "process-group", sizes[0], sorted[runs / 2], sorted[0], sorted[runs - 1], runs,
                Arrays.toString(escaped));
    }
}
