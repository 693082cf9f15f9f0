package dev.blivet.daemon.supervisor;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/** blivetd's timers: one daemon thread, {@code blivet-timer}, whose tasks post into the loop. */
public final class ThreadTimers implements Timers {
    private final ScheduledThreadPoolExecutor pool;

    public ThreadTimers() {
        pool = new ScheduledThreadPoolExecutor(1, task -> {
            Thread t = new Thread(task, "blivet-timer");
            t.setDaemon(true);
            return t;
        });
        pool.setRemoveOnCancelPolicy(true); // a cancelled kill timer must not linger for 10 s
        // Its one thread is made now: made lazily, the first stop timer could meet the task limit.
        pool.prestartAllCoreThreads();
    }

    @Override
    public Timer schedule(Duration delay, Runnable task) {
        ScheduledFuture<?> future = pool.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
        return () -> future.cancel(false);
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
