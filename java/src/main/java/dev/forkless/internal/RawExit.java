package dev.forkless.internal;

/**
 * A child's exit as the core reports it ({@code fl_exit_status}), before the public API gives it a
 * friendlier shape ({@code dev.forkless.ExitStatus}).
 *
 * @param kind {@link Native#EXITED}, {@link Native#SIGNALED} or (Windows) {@link Native#CRASHED}
 * @param code the exit code (0..255) or the signal number
 * @param coreDumped with {@link Native#SIGNALED}: a core file was written
 * @param userMicros CPU time in user mode, microseconds
 * @param systemMicros CPU time in the kernel, microseconds
 * @param maxRssKib peak resident set size, KiB
 */
public record RawExit(int kind, int code, boolean coreDumped, long userMicros, long systemMicros,
                      long maxRssKib) {
    /**
     * Reads a status array filled by {@link Native#waitFor}.
     *
     * @param s the array, {@link Native#STATUS_LENGTH} long
     * @return the exit
     */
    public static RawExit of(long[] s) {
        return of(s, 0);
    }

    /**
     * Reads a status stored at an offset, e.g. inside an event filled by {@link Native#reactorWait}.
     *
     * @param s the array
     * @param at where the {@link Native#STATUS_LENGTH} values start
     * @return the exit
     */
    public static RawExit of(long[] s, int at) {
        return new RawExit((int) s[at + Native.STATUS_KIND], (int) s[at + Native.STATUS_CODE],
                s[at + Native.STATUS_CORE] != 0, s[at + Native.STATUS_USER_USEC],
                s[at + Native.STATUS_SYSTEM_USEC], s[at + Native.STATUS_MAX_RSS_KIB]);
    }
}
