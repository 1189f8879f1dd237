package dev.forkless;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.spi.ToolProvider;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every {@code ```java} block of README.md is compiled and run, so the README cannot show code
 * that does not compile or that throws. A block becomes the body of a {@code main} method (its
 * leading {@code import} lines become the class's imports, next to {@code dev.forkless.*},
 * {@code java.io.*}, {@code java.nio.file.*}, {@code java.time.*}, {@code java.util.*} and
 * {@code java.util.concurrent.*}), is compiled in this JVM with {@code javax.tools} against this
 * test's class path (target/classes under Surefire, the packaged jar under Failsafe), and runs in
 * a JVM of its own in a fresh directory holding the small project the snippets work on:
 * {@link #FIXTURE}. The block fails if it does not compile, throws, or runs longer than 60 s.
 */
class ReadmeSnippetsTest {
    private static final Path README = Path.of(System.getProperty("user.dir"), "README.md");

    /** The files a snippet's directory holds: path, then content. */
    static final String[][] FIXTURE = {
        {"build/x.c", "int x(void) { return 42; }\n"},
        {"Makefile", "all:\n\t@echo made\n"},
        {"f", "x\ny\nx\n"},
        {"A.java", "class A {}\n"},
    };

    private static final String IMPORTS = String.join("\n",
            "import dev.forkless.*;",
            "import java.io.*;",
            "import java.nio.file.*;",
            "import java.time.*;",
            "import java.util.*;",
            "import java.util.concurrent.*;",
            "");

    /** One ```java block: the README line it starts on and its text. */
    record Snippet(int line, String code) {
    }

    static List<Snippet> snippets(List<String> lines) {
        List<Snippet> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).strip().equals("```java")) {
                int start = i + 1;
                StringBuilder code = new StringBuilder();
                for (i = start; i < lines.size() && !lines.get(i).strip().equals("```"); i++) {
                    code.append(lines.get(i)).append('\n');
                }
                if (i == lines.size()) {
                    throw new AssertionError("README.md line " + start + ": a ```java block that never ends");
                }
                out.add(new Snippet(start + 1, code.toString()));
            }
        }
        return out;
    }

    /** The snippet as a compilation unit: its imports on top, the rest inside main. */
    static String wrap(String className, String code) {
        StringBuilder imports = new StringBuilder(IMPORTS);
        StringBuilder body = new StringBuilder();
        boolean head = true;
        for (String line : code.split("\n", -1)) {
            if (head && (line.startsWith("import ") || line.isBlank())) {
                if (!line.isBlank()) {
                    imports.append(line).append('\n');
                }
                continue;
            }
            head = false;
            body.append("        ").append(line).append('\n');
        }
        // Line numbers in compiler messages are those of the wrapped source: printed with it.
        return imports + "\npublic class " + className + " {\n"
                + "    public static void main(String[] args) throws Exception {\n"
                + body
                + "    }\n}\n";
    }

    @Test
    void theReadmeHasJavaSnippetsAndTheyAreAllFound() throws IOException {
        List<String> lines = Files.readAllLines(README);
        long fences = lines.stream().filter(l -> l.strip().startsWith("```java")).count();
        List<Snippet> found = snippets(lines);
        assertFalse(found.isEmpty(), "no ```java block in README.md");
        assertEquals(fences, found.size(), "a ```java fence with something after it would be skipped");
    }

    @Test
    void aSnippetThatThrowsFailsTheRun(@TempDir Path dir) throws Exception {
        // The harness itself: a block that throws must not pass.
        Result r = compileAndRun(dir, "ReadmeSnippetSelfTest",
                "Child c = Command.of(\"true\").stdout(Stdio.piped()).spawn();\n"
                + "c.stdout().readAllBytes();\n"
                + "c.onStdoutLine(System.out::println);\n");
        assertTrue(r.compiled(), r.diagnostics());
        assertTrue(r.exitCode() != 0, "a throwing snippet exited 0");
        assertTrue(r.output().contains("IllegalStateException"), r.output());
    }

    @TestFactory
    Stream<DynamicTest> everyJavaSnippetCompilesAndRunsToTheEnd(@TempDir Path root) throws IOException {
        List<Snippet> all = snippets(Files.readAllLines(README));
        return all.stream().map(s -> DynamicTest.dynamicTest("README.md line " + s.line(), () -> {
            String name = "ReadmeSnippetAtLine" + s.line();
            Result r = compileAndRun(Files.createDirectories(root.resolve(name)), name, s.code());
            if (!r.compiled()) {
                fail("README.md line " + s.line() + " does not compile:\n" + r.diagnostics() + "\n" + r.source());
            }
            if (r.exitCode() != 0) {
                fail("README.md line " + s.line() + " failed (exit " + r.exitCode() + "):\n" + r.output()
                        + "\n" + r.source());
            }
        }));
    }

    record Result(String source, boolean compiled, String diagnostics, int exitCode, String output) {
    }

    private static Result compileAndRun(Path dir, String className, String code) throws Exception {
        String source = wrap(className, code);
        Path src = dir.resolve("src");
        Path classes = dir.resolve("classes");
        Path work = dir.resolve("work");
        Files.createDirectories(src);
        Files.createDirectories(classes);
        for (String[] file : FIXTURE) {
            Path p = work.resolve(file[0]);
            Files.createDirectories(p.getParent());
            Files.writeString(p, file[1]);
        }
        Path file = Files.writeString(src.resolve(className + ".java"), source);

        // javac in this JVM through java.util.spi.ToolProvider (java.base: the test classes, compiled
        // into the module dev.forkless, do not read java.compiler).
        ToolProvider javac = ToolProvider.findFirst("javac").orElseThrow(() -> new AssertionError("no javac in " + System.getProperty("java.home")));
        StringWriter diag = new StringWriter();
        int rc;
        try (PrintWriter w = new PrintWriter(diag)) {
            rc = javac.run(w, w, "--release", "17", "-proc:none", "-encoding", "UTF-8",
                    "-cp", System.getProperty("java.class.path"), "-d", classes.toString(), file.toString());
        }
        if (rc != 0) {
            return new Result(source, false, diag.toString(), -1, "");
        }

        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xshare:auto", "-XX:TieredStopAtLevel=1", "--enable-native-access=ALL-UNNAMED"));
        String tmpdir = System.getProperty("forkless.tmpdir");
        if (tmpdir != null) {
            cmd.add("-Dforkless.tmpdir=" + tmpdir);
        }
        cmd.addAll(List.of("-cp", classes + File.pathSeparator + System.getProperty("java.class.path"), className));
        Path log = dir.resolve("output.txt");
        Process p = new ProcessBuilder(cmd).directory(work.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            return new Result(source, true, diag.toString(), -2, "timed out after 60 s:\n" + Files.readString(log));
        }
        return new Result(source, true, diag.toString(), p.exitValue(), Files.readString(log));
    }
}
