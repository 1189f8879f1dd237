package dev.forkless.tool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code forkless run} and signals, as a person meets them: Ctrl+C typed into a terminal (a tmux
 * pane, driven with {@code send-keys} and read back with {@code capture-pane}), and
 * {@code SIGTERM}/{@code SIGHUP} sent to the tool's JVM by a service manager. In each case the
 * child decides how it ends, the tool reports it and exits with the child's status.
 */
class MainSignalsTest {
    private static final long DEADLINE_NANOS = TimeUnit.SECONDS.toNanos(30);

    /** Polls until supplier gives a non-null value, or fails after 30 s with what it last saw. */
    private static <T> T await(String what, Supplier<T> supplier, Supplier<String> diagnosis) {
        long deadline = System.nanoTime() + DEADLINE_NANOS;
        while (System.nanoTime() < deadline) {
            T v = supplier.get();
            if (v != null) {
                return v;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        return fail("timed out waiting for " + what + "; " + diagnosis.get());
    }

    private static String readOrEmpty(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return "";
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Kills what a failed run may leave: the child's pids as it printed them ("ready PID PID"). */
    private static void killLeftovers(String out) {
        for (String line : out.split("\n")) {
            if (line.startsWith("ready ")) {
                for (String pid : line.substring(6).trim().split(" +")) {
                    if (pid.matches("[0-9]+")) {
                        ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly);
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- Ctrl+C in a terminal

    private static String tmux(String socket, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("tmux", "-L", socket));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove("TMUX");
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("tmux " + String.join(" ", args) + " hung");
        }
        if (p.exitValue() != 0) {
            throw new IOException("tmux " + String.join(" ", args) + " exited " + p.exitValue() + ": " + out);
        }
        return out;
    }

    private static boolean tmuxInstalled() {
        try {
            Process p = new ProcessBuilder("tmux", "-V").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Ctrl+C in the terminal: the child (which traps SIGINT) gets it from the terminal, prints
     * after the echoed ^C, and exits 42; the tool survives it, prints its report after that line
     * and exits 42. The tool used to die of the SIGINT at once (exit 130, no report), leaving the
     * child to print after the shell's prompt.
     */
    @Test
    void ctrlCInATerminalReachesTheChildAndTheToolReportsItsExit(@TempDir Path dir) throws Exception {
        assumeTrue(tmuxInstalled(), "tmux is not installed (ci/setup.sh installs it)");
        String socket = "forkless-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        // remain-on-exit: the pane stays to be read after its program has ended.
        Path conf = Files.writeString(dir.resolve("tmux.conf"), "set -g remain-on-exit on\n");
        List<String> newSession = new ArrayList<>(List.of("-f", conf.toString(), "new-session", "-d",
                "-s", "t", "-x", "160", "-y", "50"));
        // The pane runs bash, which runs the tool and then prints the tool's exit code (tmux's own
        // #{pane_dead_status} can stay empty: tmux 3.3a sometimes leaves a dead pane unreaped). A
        // non-interactive bash that gets the terminal's SIGINT while it waits for a program goes
        // on when the program does not die of it, so the line is printed whatever the tool does.
        newSession.addAll(List.of("bash", "-c", "\"$@\"; echo \"forkless exited $?\"", "bash"));
        newSession.addAll(ToolJvm.command("run", "--", "sh", "-c",
                "trap 'echo caught INT; kill $!; exit 42' INT; sleep 30 & echo ready $$ $!; wait"));
        String screen = "";
        try {
            tmux(socket, newSession.toArray(new String[0]));
            await("the child's 'ready'", () -> {
                String s = capture(socket);
                return s.matches("(?s).*ready [0-9]+ [0-9]+.*") ? s : null;
            }, () -> capture(socket));
            tmux(socket, "send-keys", "-t", "t", "C-c");
            screen = await("the tool to exit", () -> {
                String s = capture(socket);
                return s.contains("forkless exited ") ? s : null;
            }, () -> capture(socket));
            int exited = screen.indexOf("forkless exited ");
            String status = screen.substring(exited + "forkless exited ".length()).trim().split("\\s")[0];
            assertEquals("42", status, screen);
            int ctrlC = screen.indexOf("^C");
            int caught = screen.indexOf("caught INT\n"); // the report's command line has "caught INT;"
            int report = screen.indexOf("Command being timed: ");
            assertTrue(ctrlC >= 0 && caught > ctrlC && report > caught && exited > report,
                    "expected ^C, then the child's line, then the report:\n" + screen);
            assertTrue(screen.contains("Exit status: 42"), screen);
        } finally {
            killLeftovers(screen.isEmpty() ? capture(socket) : screen);
            try {
                tmux(socket, "kill-server");
            } catch (IOException alreadyGone) {
                // the server was not started
            }
        }
    }

    private static String capture(String socket) {
        try {
            return tmux(socket, "capture-pane", "-p", "-t", "t", "-S", "-");
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    // ---------------------------------------------------------------- TERM and HUP to the tool

    /** The tool running the script, its stdout and stderr in files, started once "ready" shows. */
    private record Running(Process tool, Path out, Path err) {
    }

    private static Running start(Path dir, String script) throws IOException {
        Path out = dir.resolve("out");
        Path err = dir.resolve("err");
        Process tool = new ProcessBuilder(ToolJvm.command("run", "--", "sh", "-c", script))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .start();
        await("the child's 'ready'", () -> readOrEmpty(out).contains("ready ") ? Boolean.TRUE : null,
                () -> "stdout: " + readOrEmpty(out) + "\nstderr: " + readOrEmpty(err));
        return new Running(tool, out, err);
    }

    private static void signal(Process p, String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-s", name, Long.toString(p.pid())).inheritIO().start();
        assertEquals(0, kill.waitFor(), "kill -s " + name);
    }

    /**
     * SIGTERM to the tool's JVM is passed on to the child, which traps it, prints and exits 43;
     * the tool reports that and exits 43. The tool used to be shut down by it (exit 143, no
     * report), leaving the child running.
     */
    @Test
    void termSentToTheToolIsPassedOnAndTheChildsExitReported(@TempDir Path dir) throws Exception {
        Running r = start(dir, "trap 'echo got TERM; kill $!; exit 43' TERM; sleep 30 & echo ready $$ $!; wait");
        try {
            signal(r.tool(), "TERM");
            assertTrue(r.tool().waitFor(30, TimeUnit.SECONDS), "the tool did not exit");
            String out = readOrEmpty(r.out());
            String err = readOrEmpty(r.err());
            assertTrue(out.contains("got TERM\n"), "the child never got the TERM:\n" + out + err);
            assertTrue(err.contains("\tExit status: 43\n"), err);
            assertEquals(43, r.tool().exitValue(), err);
        } finally {
            r.tool().destroyForcibly();
            killLeftovers(readOrEmpty(r.out()));
        }
    }

    /**
     * SIGHUP to the tool's JVM kills a child that does not handle it; the tool reports the signal
     * and exits 128 + 1.
     */
    @Test
    void hupSentToTheToolKillsAChildThatDoesNotHandleItAndIsReported(@TempDir Path dir) throws Exception {
        Running r = start(dir, "echo ready $$; exec sleep 30");
        try {
            signal(r.tool(), "HUP");
            assertTrue(r.tool().waitFor(30, TimeUnit.SECONDS), "the tool did not exit");
            String err = readOrEmpty(r.err());
            assertTrue(err.contains("\tKilled by signal: HUP\n"), err);
            assertEquals(128 + 1, r.tool().exitValue(), err);
        } finally {
            r.tool().destroyForcibly();
            killLeftovers(readOrEmpty(r.out()));
        }
    }
}
