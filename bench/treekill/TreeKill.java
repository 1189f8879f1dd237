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
 * Whole-tree kill through the process group: a tree of about 200 processes (a shell leading its own
 * group, 10 subshells with 15 sleeps each and a nested subshell with 3 more, one sleep that
 * ignores SIGTERM, and 2 daemons that leave with setsid), then {@code Child.killTree()} (SIGKILL to
 * the group). Measured: the time from the call until no process of the group is alive any more
 * (scanning /proc; a zombie counts as dead, since this VM's init never reaps orphans), and what is
 * left running (the setsid daemons, by design of process groups). Run from the repository root:
 * {@code java -cp target/classes bench/treekill/TreeKill.java [runs]}.
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

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        double[] ms = new double[runs];
        int[] sizes = new int[runs];
        int[] escaped = new int[runs];
        for (int r = 0; r < runs; r++) {
            try (Child c = Command.of("sh", "-c", SCRIPT).newProcessGroup().stdin(Stdio.nul())
                    .stdout(Stdio.piped()).spawn()) {
                BufferedReader out = new BufferedReader(new InputStreamReader(c.stdout()));
                long[] daemons = {Long.parseLong(out.readLine().trim()), Long.parseLong(out.readLine().trim())};
                long pgid = c.pid();
                int size = 0;
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (System.nanoTime() < deadline) {
                    size = liveInGroup(pgid);
                    if (size >= 202) {
                        break;
                    }
                    Thread.sleep(20);
                }
                Thread.sleep(200); // every fork done
                sizes[r] = liveInGroup(pgid) + 2; // plus the two daemons outside the group
                long t0 = System.nanoTime();
                c.killTree();
                while (liveInGroup(pgid) > 0) {
                    Thread.onSpinWait();
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
            System.out.printf("run %2d: tree of %d processes, group empty %.1f ms after killTree(); still running: %d (setsid daemons)%n",
                    r + 1, sizes[r], ms[r], escaped[r]);
        }
        double[] sorted = ms.clone();
        Arrays.sort(sorted);
        System.out.printf("killTree() of ~%d processes: median %.1f ms, min %.1f, max %.1f over %d runs; escaped per run: %s%n",
                sizes[0], sorted[runs / 2], sorted[0], sorted[runs - 1], runs, Arrays.toString(escaped));
    }
}
