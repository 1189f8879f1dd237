package dev.forkless.tool;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The command line that starts {@code forkless} ({@link Main}) in a JVM of its own. */
final class ToolJvm {
    private ToolJvm() {
    }

    static List<String> command(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xshare:auto");
        cmd.add("-XX:TieredStopAtLevel=1");
        // A small heap keeps the tool's own peak RSS (which the kernel folds into the child's
        // figure) well below the children that tests measure.
        cmd.add("-Xmx64m");
        cmd.add("--enable-native-access=ALL-UNNAMED");
        String tmpdir = System.getProperty("forkless.tmpdir");
        if (tmpdir != null) {
            cmd.add("-Dforkless.tmpdir=" + tmpdir);
        }
        cmd.add("-cp");
        try {
            // target/classes under Surefire, the packaged jar under Failsafe.
            cmd.add(Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        cmd.add(Main.class.getName());
        cmd.addAll(List.of(args));
        return cmd;
    }
}
