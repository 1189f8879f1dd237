import dev.forkless.Child;
import dev.forkless.Command;

/**
 * What a cgroup leaf per child costs: /bin/true spawned, waited for and closed 2,000 times per
 * round, without tree kill, with TreeKill.PROCESS_GROUP and with TreeKill.CGROUP (a mkdir, the
 * kernel's move into it, an rmdir), three rounds; and, in the same rounds, what dieWithParent()
 * costs (the native holder thread that spawns the child and lives until it exits). A rough figure (mean per spawn, no warm-up
 * beyond the rounds), not a JMH benchmark. Run from the repository root, as root or with
 * -Dforkless.cgroup set to a delegated cgroup:
 * {@code java -cp target/classes bench/treekill/LeafCost.java}.
 */
public final class LeafCost {
    public static void main(String[] args) throws Exception {
        int n = 2000;
        for (int round = 0; round < 3; round++) {
            for (String mode : new String[] {"none", "pgroup", "cgroup", "die"}) {
                long t0 = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    Command c = Command.of("/bin/true");
                    if (mode.equals("pgroup")) {
                        c = c.treeKill(dev.forkless.TreeKill.PROCESS_GROUP);
                    } else if (mode.equals("cgroup")) {
                        c = c.treeKill(dev.forkless.TreeKill.CGROUP);
                    } else if (mode.equals("die")) {
                        c = c.dieWithParent();
                    }
                    try (Child ch = c.spawn()) {
                        ch.waitFor();
                    }
                }
                System.out.printf("round %d %-7s %.1f us per spawn+wait+close%n", round, mode,
                        (System.nanoTime() - t0) / 1e3 / n);
            }
        }
    }
}
