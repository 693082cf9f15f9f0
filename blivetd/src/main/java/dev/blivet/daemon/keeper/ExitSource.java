package dev.blivet.daemon.keeper;

import java.util.List;
import java.util.Optional;

/**
 * Where re-adoption learns how jobs ended that blivetd is not the parent of: the keeper's exit
 * records. Without a keeper, {@link #none()}: such exits are then known only through a pidfd,
 * or not at all (docs/architecture.md, "Custody").
 */
public interface ExitSource {
    /** Every record not yet {@link #consumed}, oldest first. */
    List<ExitRecord> pending();

    /** The record of pid {@code pid} started at {@code startTime}, if there is one not yet consumed. */
    default Optional<ExitRecord> find(int pid, long startTime) {
        return pending().stream().filter(r -> r.pid() == pid && r.startTime() == startTime).findFirst();
    }

    /** The ledger holds {@code record} now: forget it (a later {@link #pending} omits it). */
    void consumed(ExitRecord record);

    /** {@code listener} runs, on some other thread, whenever new records may be pending. */
    void onNew(Runnable listener);

    static ExitSource none() {
        return new ExitSource() {
            @Override
            public List<ExitRecord> pending() {
                return List.of();
            }

            @Override
            public void consumed(ExitRecord record) {
            }

            @Override
            public void onNew(Runnable listener) {
            }
        };
    }
}
