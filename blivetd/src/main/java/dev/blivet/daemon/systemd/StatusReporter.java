package dev.blivet.daemon.systemd;

import dev.blivet.daemon.supervisor.JobSnapshot;
import dev.blivet.daemon.supervisor.Subscriber;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * Keeps systemd's STATUS= at the job counts ({@link JobCountStatus}). It subscribes to every job's
 * changes as root would, and coalesces them: a burst (a thousand starts, a job that sends STATUS=
 * in a loop) costs one count of the jobs and one datagram per {@link #MIN_INTERVAL}, never one per
 * change. A count equal to the last one sent is not sent again.
 */
public final class StatusReporter implements Subscriber {
    /** At most two updates a second: systemctl status is read by people. */
    static final Duration MIN_INTERVAL = Duration.ofMillis(500);

    private final SdNotify notify;
    private final Supplier<CompletableFuture<List<JobSnapshot>>> jobs;
    private final ScheduledExecutorService timer;
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private volatile long lastReport = System.nanoTime() - MIN_INTERVAL.toNanos();
    /** Read and written where the job lists complete: the supervisor's loop, one at a time. */
    private volatile String lastSent;

    /** @param jobs every job, as the supervisor lists them for root */
    public StatusReporter(SdNotify notify, Supplier<CompletableFuture<List<JobSnapshot>>> jobs,
            ScheduledExecutorService timer) {
        this.notify = notify;
        this.jobs = jobs;
        this.timer = timer;
    }

    /** Root's view: every job. */
    @Override
    public int uid() {
        return 0;
    }

    @Override
    public boolean offer(JobSnapshot change) {
        changed();
        return true;
    }

    @Override
    public void forgotten(String name) {
        changed();
    }

    /** Something may have changed the counts: report them soon. Any thread; cheap. */
    public void changed() {
        if (scheduled.compareAndSet(false, true)) {
            long wait = Math.max(0, lastReport + MIN_INTERVAL.toNanos() - System.nanoTime());
            timer.schedule(this::report, wait, TimeUnit.NANOSECONDS);
        }
    }

    private void report() {
        // Cleared before the count is taken: a change after this point schedules the next report.
        scheduled.set(false);
        lastReport = System.nanoTime();
        jobs.get().thenAccept(list -> {
            String text = JobCountStatus.of(list);
            if (!text.equals(lastSent)) {
                lastSent = text;
                notify.status(text);
            }
        });
    }
}
