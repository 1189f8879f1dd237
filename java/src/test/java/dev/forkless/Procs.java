package dev.forkless;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;

/** Test helpers that read /proc: this JVM's descriptors and children. */
final class Procs {
    static final long SELF = ProcessHandle.current().pid();

    private Procs() {
    }

    /** One line of /proc/PID/stat, parsed past the command name (which may hold spaces). */
    record Stat(long pid, String comm, char state, long ppid, long pgrp, long session) {
    }

    /** The stat of a process, or null if it does not exist (any more). */
    static Stat stat(long pid) {
        String s;
        try {
            s = Files.readString(Path.of("/proc/" + pid + "/stat"), StandardCharsets.ISO_8859_1);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            return null; // vanished while reading
        }
        int open = s.indexOf('(');
        int close = s.lastIndexOf(')');
        String[] f = s.substring(close + 2).trim().split(" ");
        return new Stat(pid, s.substring(open + 1, close), f[0].charAt(0), Long.parseLong(f[1]),
                Long.parseLong(f[2]), Long.parseLong(f[3]));
    }

    /** Every child of this JVM, any state. */
    static List<Stat> children() {
        List<Stat> out = new ArrayList<>();
        try (DirectoryStream<Path> d = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path p : d) {
                Stat st = stat(Long.parseLong(p.getFileName().toString()));
                if (st != null && st.ppid() == SELF) {
                    out.add(st);
                }
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return out;
    }

    /** This JVM's open descriptors: number to readlink target. */
    static Map<Integer, String> fds() {
        Map<Integer, String> out = new TreeMap<>();
        try (DirectoryStream<Path> d = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path p : d) {
                try {
                    out.put(Integer.parseInt(p.getFileName().toString()), Files.readSymbolicLink(p).toString());
                } catch (IOException gone) {
                    // closed meanwhile (the directory stream's own descriptor among others)
                }
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return out;
    }

    /** The descriptors of another process (a child), number to target. */
    static Map<Integer, String> fdsOf(long pid) throws IOException {
        Map<Integer, String> out = new TreeMap<>();
        try (DirectoryStream<Path> d = Files.newDirectoryStream(Path.of("/proc/" + pid + "/fd"))) {
            for (Path p : d) {
                try {
                    out.put(Integer.parseInt(p.getFileName().toString()), Files.readSymbolicLink(p).toString());
                } catch (NoSuchFileException closedMeanwhile) {
                    // e.g. the dynamic loader's descriptor while the program starts
                }
            }
        }
        return out;
    }

    /**
     * The descriptors of a freshly started child once it has settled: a program opens and closes
     * descriptors of its own while it starts (the dynamic loader, locale files), so this waits until
     * the listing equals {@code expected}, or returns the last listing after 5 s.
     */
    static Map<Integer, String> settledFdsOf(long pid, Map<Integer, String> expected) throws IOException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        Map<Integer, String> fds = fdsOf(pid);
        while (!fds.equals(expected) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            fds = fdsOf(pid);
        }
        return fds;
    }

    /** n reproducible pseudo-random bytes (NULs included). */
    static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new java.util.Random(n).nextBytes(b);
        return b;
    }

    /** Whether the process is gone entirely (reaped), not merely a zombie. */
    static boolean gone(long pid) {
        return stat(pid) == null;
    }

    static boolean zombie(long pid) {
        Stat s = stat(pid);
        return s != null && s.state() == 'Z';
    }

    /**
     * Waits until pid leads a session of its own: a shell's {@code $!} of {@code setsid cmd &} is
     * known before that process has called setsid().
     */
    static boolean awaitOwnSession(long pid) {
        return eventually(Duration.ofSeconds(5), () -> {
            Stat st = stat(pid);
            return st != null && st.session() == pid;
        });
    }

    /** Polls cond every 10 ms until it holds or the timeout passes. */
    static boolean eventually(Duration timeout, BooleanSupplier cond) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    /** Runs /bin/true through Forkless and waits for it. */
    static void spawnTrue() {
        try (Child c = Command.of("/bin/true").spawn()) {
            c.waitFor();
        } catch (IOException | InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
