package dev.forkless;

import java.time.Duration;
import java.util.Objects;

/**
 * What a child used, as the kernel accounted it when the child was reaped ({@code getrusage}
 * figures of that one process; its own children count only if it waited for them).
 *
 * <p>Caveat on Linux: {@link #maxRssBytes()} is in general not the child's own peak. Forkless
 * starts children vfork-style (the child runs in this JVM's memory until its {@code execve}), and
 * the kernel folds the peak resident size of the memory a process leaves at {@code execve} into
 * {@code ru_maxrss}. So the figure is the larger of this JVM's peak resident size at the moment of
 * the spawn and the child's own peak: for a child smaller than the JVM (most commands) it is the
 * JVM's figure, and it is the child's only when it exceeds the JVM's peak ({@code VmHWM} in
 * {@code /proc/self/status}, which only grows, is a safe bound to compare with: the
 * {@code forkless run} tool prints the figure only then). The CPU times are not affected.
 *
 * @param userCpuTime CPU time spent in user mode
 * @param systemCpuTime CPU time spent in the kernel on the child's behalf
 * @param maxRssBytes the kernel's peak resident set size in bytes (it counts KiB; this is
 *     KiB * 1024): on Linux at least this JVM's peak at the spawn, see the caveat above
 */
public record ResourceUsage(Duration userCpuTime, Duration systemCpuTime, long maxRssBytes) {
    /**
     * Checks the components.
     *
     * @param userCpuTime CPU time spent in user mode
     * @param systemCpuTime CPU time spent in the kernel
     * @param maxRssBytes peak resident set size in bytes
     * @throws NullPointerException if a duration is null
     * @throws IllegalArgumentException if a value is negative
     */
    public ResourceUsage {
        Objects.requireNonNull(userCpuTime, "userCpuTime");
        Objects.requireNonNull(systemCpuTime, "systemCpuTime");
        if (userCpuTime.isNegative() || systemCpuTime.isNegative() || maxRssBytes < 0) {
            throw new IllegalArgumentException("negative resource usage");
        }
    }

    /**
     * User plus system CPU time.
     *
     * @return the sum
     */
    public Duration totalCpuTime() {
        return userCpuTime.plus(systemCpuTime);
    }

    /**
     * Like {@code "user 0.012s, system 0.004s, max RSS 3.2 MiB (the kernel's figure: counts the JVM's
     * at the spawn)"}: the label keeps the JVM's own peak from being read as the child's (see
     * {@link #maxRssBytes()}).
     */
    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT, "user %.3fs, system %.3fs, max RSS %.1f MiB (the kernel's figure: counts the JVM's at the spawn)",
                userCpuTime.toNanos() / 1e9, systemCpuTime.toNanos() / 1e9, maxRssBytes / 1048576.0);
    }
}
