package dev.blivet.daemon.systemd;

import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * systemd's watchdog (WatchdogSec=): every interval a ping task is posted into the supervisor's
 * loop, and WATCHDOG=1 is sent when the loop runs it. A loop that hangs (a task that never ends, a
 * deadlock) then sends nothing, and systemd restarts blivetd, which is the point: a timer thread
 * that pinged by itself would vouch for a JVM whose supervisor is dead. One ping waits in the
 * loop's inbox at most, so a hung loop does not pile them up.
 */
public final class Watchdog {
    private final SdNotify notify;
    private final Executor loop;
    private final AtomicBoolean queued = new AtomicBoolean();

    /** @param loop posts a task into the supervisor's loop */
    public Watchdog(SdNotify notify, Executor loop) {
        this.notify = notify;
        this.loop = loop;
    }

    /** Pings every {@code interval} from now on, on {@code timer}'s thread. */
    public void start(ScheduledExecutorService timer, Duration interval) {
        long nanos = interval.toNanos();
        timer.scheduleWithFixedDelay(this::tick, 0, nanos, TimeUnit.NANOSECONDS);
    }

    private void tick() {
        if (queued.compareAndSet(false, true)) {
            loop.execute(() -> {
                queued.set(false);
                notify.watchdog();
            });
        }
    }
}
