package dev.forkless;

/**
 * A child JVM for DieWithParentTest ({@code direct|tree|daemon stay|exit}), started with
 * {@link HelperMain#commandWithForkless}.
 */
public final class DieWithParentHelper {
    private DieWithParentHelper() {
    }

    /**
     * Starts a child with {@link Command#dieWithParent()} from a thread that ends at once, prints
     * the PIDs that should die with this JVM (the child, and for {@code tree} the grandchild in
     * its process group), then waits to be killed ({@code stay}) or exits normally ({@code exit}).
     */
    public static void main(String[] args) throws java.io.IOException {
        String shape = args[0];
        String then = args[1];
        Command cmd;
        switch (shape) {
            case "tree": // the process group only
                cmd = Command.of("sh", "-c", "sleep 60 & echo $!; wait").onClose(CloseAction.KILL_TREE)
                        .treeKill(TreeKill.PROCESS_GROUP);
                break;
            case "daemon": // leaves the group; in the child's cgroup where there is one
                cmd = Command.of("sh", "-c", "setsid sleep 60 & echo $!; wait").onClose(CloseAction.KILL_TREE);
                break;
            default:
                cmd = Command.of("sh", "-c", "echo $$; exec sleep 60");
        }
        Child[] child = new Child[1];
        Thread starter = new Thread(() -> {
            try {
                child[0] = cmd.dieWithParent().stdin(Stdio.nul()).stdout(Stdio.piped()).stderr(Stdio.inherit()).spawn();
            } catch (ProcessStartException e) {
                throw new IllegalStateException(e);
            }
        });
        starter.start();
        try {
            starter.join();
            String pid = new java.io.BufferedReader(new java.io.InputStreamReader(child[0].stdout())).readLine();
            System.out.println(child[0].pid() + " " + pid);
            System.out.flush();
            if (then.equals("exit")) {
                System.exit(0);
            }
            Thread.sleep(Long.MAX_VALUE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

}
