package dev.forkless;

/**
 * A child JVM for SignalForwardingTest: starts a shell (in a process group of its own, so only
 * forwarding can reach it) that reports a forwarded SIGTERM on the shared stdout and exits 3,
 * prints the shell's PID, then waits to be signalled.
 */
public final class SignalForwardingHelper {
    private SignalForwardingHelper() {
    }

    public static void main(String[] args) throws Exception {
        Child c = Command.of("sh", "-c", "trap 'echo got-TERM; exit 3' TERM; echo ready; while :; do sleep 0.05; done")
                .newProcessGroup().stdin(Stdio.nul()).forwardSignals(Signal.TERM).spawn();
        System.out.println(c.pid());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
