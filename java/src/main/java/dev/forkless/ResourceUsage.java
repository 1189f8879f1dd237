package dev.forkless;

import java.time.Duration;
import java.util.Objects;

/**
 * What a child used, as the kernel accounted it when the child was reaped ({@code getrusage}
 * figures of that one process; its own children count only if it waited for them).
 *
 * @param userCpuTime CPU time spent in user mode
 * @param systemCpuTime CPU time spent in the kernel on the child's behalf
 * <p>Caveat on Linux: Forkless starts children vfork-style (the child runs in this JVM's memory
 * until its {@code execve}), and the kernel folds the peak resident size of the memory a process
 * leaves at {@code execve} into {@code ru_maxrss}. So {@link #maxRssBytes()} is at least this JVM's
 * resident size at the moment of the spawn; it is the child's own peak only when that is larger.
 * The CPU times are not affected.
 *
 * @param maxRssBytes peak resident set size in bytes (the kernel counts KiB; this is KiB * 1024);
 *     see the caveat above
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
     * Like {@code "user 0.012s, system 0.004s, max RSS 3.2 MiB"}.
     */
    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT, "user %.3fs, system %.3fs, max RSS %.1f MiB",
                userCpuTime.toNanos() / 1e9, systemCpuTime.toNanos() / 1e9, maxRssBytes / 1048576.0);
    }
}
