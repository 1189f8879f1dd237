package dev.forkless;

/**
 * A child JVM for PathSearchTest: runs each program named in its arguments with {@code PATH}
 * removed from the child's environment, and again with the environment cleared, and prints one
 * line per attempt: {@code "<removed|cleared> <program>: ok <stdout>"} or
 * {@code "<removed|cleared> <program>: <step> <ERRNO>"}.
 */
public final class PathSearchHelper {
    private PathSearchHelper() {
    }

    public static void main(String[] args) throws Exception {
        for (String program : args) {
            print("removed", program, Command.of(program).envRemove("PATH"));
            print("cleared", program, Command.of(program).envClear());
        }
    }

    private static void print(String how, String program, Command cmd) throws InterruptedException {
        try {
            Output out = cmd.stdin(Stdio.nul()).output();
            String text = out.stdoutText().trim();
            System.out.println(how + " " + program + ": ok" + (text.isEmpty() ? "" : " " + text));
        } catch (ProcessStartException e) {
            System.out.println(how + " " + program + ": " + e.step().stepName() + " " + e.errnoName());
        }
    }
}
