package dev.forkless;

import java.time.Duration;

/**
 * What a running child is doing at one moment, from {@link Child#stats()}.
 *
 * @param state the scheduler state, as the kernel reports it in {@code /proc/<pid>/stat}:
 *     {@code 'R'} running, {@code 'S'} sleeping, {@code 'D'} waiting for I/O, {@code 'T'} stopped,
 *     {@code 't'} stopped by a debugger, {@code 'I'} idle
 * @param threads how many threads it has
 * @param userCpu CPU time used so far in user mode (clock-tick resolution, usually 10 ms)
 * @param systemCpu CPU time used so far in the kernel
 * @param residentBytes resident memory now
 */
public record ProcessStats(char state, int threads, Duration userCpu, Duration systemCpu, long residentBytes) {
    /**
     * User plus system CPU time.
     *
     * @return the total CPU time so far
     */
    public Duration totalCpu() {
        return userCpu.plus(systemCpu);
    }
}
