package dev.forkless;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The cgroup v2 tree kill, on this machine's real cgroup2 file system, and its fallback in a JVM
 * that really cannot make cgroups (mkdir denied by a seccomp filter). Where this machine offers no
 * cgroup at all, the cgroup tests are skipped with the reason Forkless detected, and the fallback
 * tests still run.
 */
@ExtendWith(LeakCheck.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CgroupTreeKillTest {
    /** Forks two levels deep, one member ignores TERM, one leaves with setsid and prints its pid. */
    static final String TREE = "sh -c 'sleep 30 & sleep 30 & wait' & (trap '' TERM; exec sleep 30) & "
            + "setsid sleep 30 & echo $!; wait";

    private static void assumeCgroups() {
        assumeTrue(Forkless.cgroupDirectory().isPresent(),
                () -> "no cgroups for this JVM: " + Forkless.cgroupUnavailableReason().orElse("?"));
    }

    static List<Long> members(Path cgroup) {
        List<Long> pids = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(cgroup.resolve("cgroup.procs"), StandardCharsets.US_ASCII)) {
                if (!line.isBlank()) {
                    pids.add(Long.parseLong(line.trim()));
                }
            }
        } catch (IOException e) {
            return List.of(); // removed
        }
        return pids;
    }

    /** The tree up: the setsid daemon's pid, once all six processes are in the cgroup. */
    private static long startTree(Child c, Path cgroup) throws IOException {
        long daemon = Long.parseLong(new BufferedReader(new InputStreamReader(c.stdout())).readLine().trim());
        assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> members(cgroup).size() >= 6),
                () -> "members: " + members(cgroup));
        assertTrue(members(cgroup).contains(daemon), "the setsid daemon is in the cgroup");
        assertTrue(Procs.awaitOwnSession(daemon), "the daemon left the child's session and process group");
        assertNotEquals(c.pid(), Procs.stat(daemon).pgrp());
        return daemon;
    }

    private static boolean dead(long pid) {
        return Procs.gone(pid) || Procs.zombie(pid); // PID 1 here does not reap orphans
    }

    @Test
    void availabilityIsADirectoryOrAReason() throws IOException {
        Optional<Path> dir = Forkless.cgroupDirectory();
        Optional<String> reason = Forkless.cgroupUnavailableReason();
        System.out.println("cgroup tree kill: " + dir.map(d -> "available in " + d)
                .orElseGet(() -> "unavailable: " + reason.orElseThrow()));
        assertEquals(dir.isEmpty(), reason.isPresent());
        if (dir.isPresent()) {
            assertTrue(dir.get().getFileName().toString().startsWith("forkless-" + ProcessHandle.current().pid() + "-"));
            assertTrue(Files.isRegularFile(dir.get().resolve("cgroup.procs")), "a cgroup: " + dir.get());
            assertEquals("domain", Files.readString(dir.get().resolve("cgroup.type")).trim());
        }
    }

    @Test
    void killTreeReachesASetsidDaemonAndWorksAfterTheChildIsReaped() throws Exception {
        assumeCgroups();
        Path cgroup;
        try (Child c = Command.of("sh", "-c", TREE).treeKill(TreeKill.CGROUP).stdout(Stdio.piped()).spawn()) {
            cgroup = c.cgroup().orElseThrow();
            assertEquals(Forkless.cgroupDirectory().orElseThrow(), cgroup.getParent());
            long daemon = startTree(c, cgroup);
            // The child alone first: its tree lives on in the cgroup, and can still be named.
            assertTrue(c.kill(Signal.KILL));
            c.waitFor();
            assertFalse(members(cgroup).isEmpty());
            assertTrue(c.killTree());
            assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> members(cgroup).isEmpty()),
                    () -> "left: " + members(cgroup));
            assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> dead(daemon)), "the setsid daemon survived");
            assertFalse(c.killTree(), "nobody left");
            assertTrue(Files.isDirectory(cgroup), "kept until the handle is released");
        }
        assertFalse(Files.exists(cgroup), "removed at close(), being empty");
    }

    @Test
    void descendantsThroughTheCgroupIncludeDaemonsAndOrphans() throws Exception {
        assumeCgroups();
        try (Child c = Command.of("sh", "-c", TREE).treeKill(TreeKill.CGROUP).stdout(Stdio.piped()).spawn()) {
            Path cgroup = c.cgroup().orElseThrow();
            long daemon = startTree(c, cgroup);
            List<Long> listed = c.descendants().stream().map(ProcessHandle::pid).toList();
            assertEquals(members(cgroup).stream().filter(p -> p != c.pid()).sorted().toList(),
                    listed.stream().sorted().toList());
            assertTrue(listed.contains(daemon), "the setsid daemon is a descendant");
            assertFalse(listed.contains(c.pid()));
            c.kill(Signal.KILL);
            c.waitFor();
            assertTrue(c.descendants().stream().anyMatch(h -> h.pid() == daemon),
                    "still listed after the child is gone: " + c.descendants());
            assertTrue(c.killTree());
            assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> c.descendants().isEmpty()));
        }
    }

    @Test
    void killTreeWithAnotherSignalFreezesSignalsAndThaws() throws Exception {
        assumeCgroups();
        try (Child c = Command.of("sh", "-c", "sleep 30 & setsid sleep 30 & wait").treeKill(TreeKill.CGROUP).spawn()) {
            Path cgroup = c.cgroup().orElseThrow();
            assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> members(cgroup).size() == 3));
            List<Long> all = members(cgroup);
            assertTrue(c.killTree(Signal.TERM));
            assertEquals(Signal.TERM, c.waitFor().signal().orElseThrow());
            assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> members(cgroup).isEmpty()));
            for (long pid : all) {
                assertTrue(dead(pid), "pid " + pid);
            }
            assertEquals("0", Files.readString(cgroup.resolve("cgroup.freeze")).trim(), "thawed again");
        }
    }

    @Test
    void closeWithKillTreeReturnsOnceTheWholeTreeIsGone() throws Exception {
        assumeCgroups();
        Child c = Command.of("sh", "-c", TREE).onClose(CloseAction.KILL_TREE).stdout(Stdio.piped()).spawn();
        Path cgroup = c.cgroup().orElseThrow(() -> new AssertionError("KILL_TREE implies TreeKill.AUTO"));
        long daemon = startTree(c, cgroup);
        List<Long> all = members(cgroup);
        c.close();
        for (long pid : all) {
            assertTrue(dead(pid), "pid " + pid + " outlived close()");
        }
        assertTrue(dead(daemon));
        assertFalse(Files.exists(cgroup), "the leaf is removed");
    }

    @Test
    void aLeafOutlivesItsChildWhileADaemonRunsAndGoesAfter() throws Exception {
        assumeCgroups();
        Path cgroup;
        long daemon;
        try (Child c = Command.of("sh", "-c", "setsid sleep 1 & echo $!").treeKill(TreeKill.CGROUP)
                .stdout(Stdio.piped()).spawn()) {
            cgroup = c.cgroup().orElseThrow();
            daemon = Long.parseLong(new BufferedReader(new InputStreamReader(c.stdout())).readLine().trim());
            assertEquals(0, c.waitFor().code().getAsInt());
        }
        assertTrue(Files.isDirectory(cgroup), "kept while the daemon runs in it");
        assertEquals(List.of(daemon), members(cgroup));
        // The reactor retries about once a second; the daemon exits after one.
        assertTrue(Procs.eventually(Duration.ofSeconds(10), () -> !Files.exists(cgroup)), "never removed");
    }

    @Test
    void terminateTreeStopsAPoliteTreeWithTheFirstSignal() throws Exception {
        assumeCgroups();
        try (Child c = Command.of("sh", "-c", "sleep 30 & setsid sleep 30 & wait").treeKill(TreeKill.CGROUP).spawn()) {
            Path cgroup = c.cgroup().orElseThrow();
            assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> members(cgroup).size() == 3));
            assertEquals(Optional.of(TreeKill.CGROUP), c.treeMechanism());
            Termination t = c.terminateTree(Duration.ofSeconds(10));
            assertEquals(Termination.Way.STOPPED, t.way());
            assertEquals(Termination.Scope.CGROUP, t.scope());
            assertTrue(t.reachedEscapedDescendants());
            assertEquals(Signal.TERM, t.status().signal().orElseThrow());
            assertEquals(List.of(), members(cgroup), "returns once the whole tree has exited");
        }
    }

    @Test
    void terminateTreeKillsWhatIgnoresTheFirstSignalAfterTheGrace() throws Exception {
        assumeCgroups();
        // The shell dies of TERM at once; a setsid daemon that ignores TERM (and its sleep, which
        // inherits the ignored disposition) outlives it.
        try (Child c = Command.of("sh", "-c", "setsid sh -c \"trap '' TERM; sleep 30; true\" & wait")
                .treeKill(TreeKill.CGROUP).spawn()) {
            Path cgroup = c.cgroup().orElseThrow();
            assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> members(cgroup).size() == 3));
            Thread.sleep(100); // the trap is set
            long t0 = System.nanoTime();
            Termination t = c.terminateTree(Duration.ofMillis(300));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(Termination.Way.KILLED, t.way());
            assertEquals(Signal.TERM, t.status().signal().orElseThrow(), "the child itself obeyed TERM");
            assertTrue(ms >= 300, "the grace was waited out: " + ms + " ms");
            assertEquals(List.of(), members(cgroup));
        }
    }

    @Test
    void terminateTreeOfATreeThatHasEnded() throws Exception {
        assumeCgroups();
        try (Child c = Command.of("true").treeKill(TreeKill.CGROUP).spawn()) {
            c.waitFor();
            assertEquals(Termination.Way.ALREADY_EXITED, c.terminateTree(Duration.ofSeconds(1)).way());
        }
    }

    @Test
    void terminateTreeWithAProcessGroupWaitsForTheChildOnly() throws Exception {
        // The documented limit: a member that ignores TERM outlives a child that obeys it, and
        // cannot be signalled through the group once the child is reaped.
        try (Child c = Command.of("sh", "-c", "(trap '' TERM; exec sleep 30) & echo $!; wait")
                .treeKill(TreeKill.PROCESS_GROUP).stdout(Stdio.piped()).spawn()) {
            long member = Long.parseLong(new BufferedReader(new InputStreamReader(c.stdout())).readLine().trim());
            try {
                Thread.sleep(100); // the trap is set
                assertEquals(Optional.of(TreeKill.PROCESS_GROUP), c.treeMechanism());
                Termination t = c.terminateTree(Duration.ofSeconds(5));
                assertEquals(Termination.Way.STOPPED, t.way());
                assertEquals(Termination.Scope.PROCESS_GROUP, t.scope(), "STOPPED speaks for the child only");
                assertFalse(t.reachedEscapedDescendants());
                assertFalse(dead(member), "the TERM-proof member runs on");
            } finally {
                ProcessHandle.of(member).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    @Test
    void terminateTreeNeedsATree() throws Exception {
        try (Child c = Command.of("sleep", "30").spawn()) {
            assertEquals(Optional.empty(), c.treeMechanism());
            assertThrows(IllegalStateException.class, () -> c.terminateTree(Duration.ofSeconds(1)));
            assertThrows(IllegalStateException.class, c::killTree);
            assertTrue(c.isAlive(), "refused before anything was sent");
        }
    }

    @Test
    void aTreelessChildIsRefusedAlsoOnceItHasExited() throws Exception {
        // Before: an exited child answered ALREADY_EXITED / false, so the mistake showed only on
        // the rarely run path where the child still runs.
        try (Child c = Command.of("true").spawn()) {
            c.waitFor();
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> c.terminateTree(Duration.ofSeconds(1)));
            assertTrue(e.getMessage().contains("neither a cgroup nor a process group"), e.getMessage());
            assertThrows(IllegalStateException.class, c::killTree);
            assertThrows(IllegalStateException.class, () -> c.killTree(Signal.TERM));
            // The child alone is still fine.
            assertEquals(Termination.Way.ALREADY_EXITED, c.terminate(Duration.ofSeconds(1)).way());
            assertEquals(Termination.Scope.CHILD, c.terminate(Duration.ofSeconds(1)).scope());
        }
    }

    @Test
    void aGroupLeaderWithoutTreeKillHasAProcessGroupTree() throws Exception {
        try (Child c = Command.of("true").newProcessGroup().spawn()) {
            assertEquals(Optional.of(TreeKill.PROCESS_GROUP), c.treeMechanism());
            c.waitFor();
            assertFalse(c.killTree(), "reaped: nobody left to name");
            assertEquals(Termination.Scope.PROCESS_GROUP, c.terminateTree(Duration.ofSeconds(1)).scope());
        }
        try (Child c = Command.of("true").newSession().spawn()) {
            assertEquals(Optional.of(TreeKill.PROCESS_GROUP), c.treeMechanism());
        }
    }

    // ---- graces too long to count ------------------------------------------------------------

    @Test
    void aHugeGraceWaitsForAPoliteCgroupTreeInsteadOfKillingIt() throws Exception {
        assumeCgroups();
        // 200,000 days in nanoseconds overflows nanoTime arithmetic: the deadline used to land in
        // the past, and the KILL followed after a few milliseconds.
        for (Duration grace : List.of(Duration.ofDays(200_000), Duration.ofSeconds(Long.MAX_VALUE))) {
            try (Child c = Command.of("sh", "-c", "sleep 30 & setsid sleep 30 & wait")
                    .treeKill(TreeKill.CGROUP).spawn()) {
                Path cgroup = c.cgroup().orElseThrow();
                assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> members(cgroup).size() == 3));
                Termination t = c.terminateTree(grace);
                assertEquals(Termination.Way.STOPPED, t.way(), grace.toString());
                assertEquals(Signal.TERM, t.status().signal().orElseThrow());
                assertEquals(List.of(), members(cgroup));
            }
        }
    }

    @Test
    void aHugeGraceWaitsForAPoliteChildOrGroup() throws Exception {
        for (Duration grace : List.of(Duration.ofDays(200_000), Duration.ofSeconds(Long.MAX_VALUE),
                Duration.ofSeconds(Long.MAX_VALUE, 999_999_999))) {
            try (Child c = Command.of("sleep", "30").treeKill(TreeKill.PROCESS_GROUP).spawn()) {
                Termination t = c.terminateTree(grace);
                assertEquals(Termination.Way.STOPPED, t.way(), grace.toString());
                assertEquals(Signal.TERM, t.status().signal().orElseThrow());
            }
            try (Child c = Command.of("sleep", "30").spawn()) {
                Termination t = c.terminate(grace);
                assertEquals(Termination.Way.STOPPED, t.way(), grace.toString());
                assertEquals(Termination.Scope.CHILD, t.scope());
            }
        }
    }

    @Test
    void processGroupChoiceGetsNoCgroup() throws Exception {
        try (Child c = Command.of("sh", "-c", "sleep 30 & wait").treeKill(TreeKill.PROCESS_GROUP).spawn()) {
            assertTrue(c.cgroup().isEmpty());
            assertEquals(c.pid(), Procs.stat(c.pid()).pgrp(), "leads a group of its own");
            assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> c.descendants().size() == 1));
            long sleep = c.descendants().get(0).pid();
            assertTrue(c.killTree());
            assertEquals(Signal.KILL, c.waitFor().signal().orElseThrow());
            assertTrue(Procs.eventually(Duration.ofSeconds(5), () -> dead(sleep)));
        }
    }

    @Test
    void treeKillIsInToStringAndReplaceable() {
        Command cmd = Command.of("x").treeKill(TreeKill.CGROUP).treeKill(TreeKill.PROCESS_GROUP);
        assertTrue(cmd.toString().contains("treeKill=PROCESS_GROUP"), cmd.toString());
        assertFalse(Command.of("x").toString().contains("treeKill"));
        assertThrows(NullPointerException.class, () -> Command.of("x").treeKill(null));
    }

    @Test
    void cgroupLeavesNothingBehindOverManySpawns() throws Exception {
        assumeCgroups();
        for (int i = 0; i < 200; i++) {
            Path leaf;
            try (Child c = Command.of("/bin/true").treeKill(TreeKill.CGROUP).spawn()) {
                leaf = c.cgroup().orElseThrow();
                c.waitFor();
            }
            assertFalse(Files.exists(leaf), "left: " + leaf); // empty at close(): removed at once
        }
    }

    @Test
    void aFailedSpawnRemovesItsLeaf() throws Exception {
        assumeCgroups();
        Path dir = Forkless.cgroupDirectory().orElseThrow();
        List<Path> before;
        try (var leaves = Files.list(dir)) {
            before = leaves.filter(Files::isDirectory).toList();
        }
        ProcessStartException e = assertThrows(ProcessStartException.class,
                () -> Command.of("/nonexistent/program").treeKill(TreeKill.CGROUP).spawn());
        assertEquals(SpawnStep.EXEC, e.step());
        try (var leaves = Files.list(dir)) {
            // Leaves of earlier tests may still wait for their daemons; no new one may stay.
            List<Path> added = leaves.filter(Files::isDirectory).filter(p -> !before.contains(p)).toList();
            assertEquals(List.of(), added);
        }
    }

    // ---- a JVM that cannot make cgroups ----------------------------------------------------

    /** Runs CgroupFallbackHelper in a JVM whose mkdir fails with EACCES (seccomp). */
    private static List<String> runWithoutMkdir(String... jvmOptions) throws Exception {
        String helper = System.getProperty("forkless.test.helperBin");
        assertTrue(helper != null && Files.isExecutable(Path.of(helper)),
                "forkless.test.helperBin (the C test binary) must be set by the build: " + helper);
        List<String> cmd = new ArrayList<>(HelperMain.commandWithForkless(CgroupFallbackHelper.class));
        cmd.add(1, "-XX:-UsePerfData");
        // The library this JVM loaded, so the helper need not extract one (which makes directories).
        cmd.add(1, "-D" + "forkless.library.path=" + Forkless.nativeLibraryLocation().orElseThrow());
        for (int i = 0; i < jvmOptions.length; i++) {
            cmd.add(2 + i, jvmOptions[i]);
        }
        cmd.addAll(0, List.of(helper, "--fl-helper", "no-mkdir-exec"));
        Output out = Command.of(cmd).stderr(Stdio.toStdout()).output(); // warnings among the lines
        String text = out.stdoutText();
        System.out.print(text);
        assertEquals(0, out.status().code().orElse(-1), () -> "helper failed: " + text);
        return List.of(text.split("\n"));
    }

    private static String line(List<String> lines, String key) {
        return lines.stream().filter(l -> l.startsWith(key + ": ")).findFirst()
                .map(l -> l.substring(key.length() + 2)).orElseThrow(() -> new AssertionError(key + " in " + lines));
    }

    @Test
    void withoutDelegationAutoFallsBackToTheProcessGroupAndSaysWhy() throws Exception {
        List<String> lines = runWithoutMkdir();
        String reason = line(lines, "reason");
        assertTrue(reason.contains("EACCES") && reason.contains("not delegated"), reason);
        assertEquals("none", line(lines, "auto cgroup"));
        assertEquals("true", line(lines, "group killed"));
        assertEquals("true", line(lines, "daemon escaped"), "the documented limit of process groups");
        String required = line(lines, "required");
        assertTrue(required.startsWith("CGROUP EACCES"), required);
        // Said where the user decides: one WARNING (not DEBUG) with the reason and the remedy.
        List<String> warnings = CgroupUserTest.warnings(lines);
        assertEquals(1, warnings.size(), lines::toString);
        String warning = warnings.get(0);
        assertTrue(warning.contains("EACCES") && warning.contains("Delegate=yes")
                && warning.contains("-Dforkless.cgroup="), warning);
    }

    @Test
    void aConfiguredDirectoryThatIsNoCgroupIsReported() throws Exception {
        List<String> lines = runWithoutMkdir("-Dforkless.cgroup=/tmp");
        String reason = line(lines, "reason");
        assertTrue(reason.contains("forkless.cgroup=/tmp") && reason.contains("not a directory of a cgroup v2"),
                reason);
        assertEquals("none", line(lines, "auto cgroup"));
        List<String> warnings = CgroupUserTest.warnings(lines);
        assertEquals(1, warnings.size(), lines::toString);
        assertTrue(warnings.get(0).contains("-Dforkless.cgroup=/tmp cannot be used"), warnings.get(0));
    }
}
