package dev.forkless;

import java.util.List;

/**
 * How each stage of a {@link Pipeline} ended.
 *
 * @param statuses one status per stage, in stage order
 */
public record PipelineStatus(List<ExitStatus> statuses) {
    /**
     * Copies the list.
     *
     * @param statuses one per stage, at least one
     */
    public PipelineStatus {
        statuses = List.copyOf(statuses);
        if (statuses.isEmpty()) {
            throw new IllegalArgumentException("no stage");
        }
    }

    /**
     * Whether every stage succeeded (exit code 0).
     *
     * @return true if all did
     */
    public boolean success() {
        return statuses.stream().allMatch(ExitStatus::success);
    }

    /**
     * The pipeline's status as bash's {@code set -o pipefail} defines it: the status of the last
     * (rightmost) stage that did not succeed, or the last stage's if all succeeded.
     *
     * @return the combined status
     */
    public ExitStatus pipefail() {
        for (int i = statuses.size() - 1; i >= 0; i--) {
            if (!statuses.get(i).success()) {
                return statuses.get(i);
            }
        }
        return last();
    }

    /**
     * The last stage's status: what a shell reports without {@code pipefail}.
     *
     * @return the last status
     */
    public ExitStatus last() {
        return statuses.get(statuses.size() - 1);
    }
}
