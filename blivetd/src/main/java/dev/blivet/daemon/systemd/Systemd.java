package dev.blivet.daemon.systemd;

import dev.blivet.daemon.Log;
import dev.blivet.daemon.keeper.KeeperLink;
import dev.blivet.daemon.supervisor.Supervisor;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledThreadPoolExecutor;

/**
 * What blivetd tells the service manager (Type=notify): READY=1 once it serves, RELOADING=1 around
 * reloads, STATUS= with the job counts, WATCHDOG=1 from the supervisor's loop, STOPPING=1. Without
 * NOTIFY_SOCKET it does nothing and starts no thread.
 */
public final class Systemd implements Supervisor.ReloadObserver, AutoCloseable {
    private final SdNotify notify;
    private final ScheduledThreadPoolExecutor timer;

    private Systemd(SdNotify notify, ScheduledThreadPoolExecutor timer) {
        this.notify = notify;
        this.timer = timer;
    }

    /**
     * Starts the job counts and the watchdog. Call once the supervisor's jobs are loaded: the counts
     * then start right.
     *
     * @param env blivetd's environment as it started
     * @param keeper the keeper, which sends the notifications when there is one
     */
    public static Systemd start(Map<String, String> env, Optional<KeeperLink> keeper, Log log, Supervisor supervisor) {
        SdNotify notify = SdNotify.fromEnvironment(env, keeper, log);
        if (!notify.enabled()) {
            return new Systemd(notify, null);
        }
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, task -> {
            Thread thread = new Thread(task, "blivet-systemd");
            thread.setDaemon(true);
            return thread;
        });
        StatusReporter status = new StatusReporter(notify, () -> supervisor.list(0), timer);
        supervisor.subscribe(status).join();
        status.changed();
        ServiceEnvironment.watchdogInterval(env, ProcessHandle.current().pid()).ifPresent(interval -> {
            log.info("systemd watchdog: WATCHDOG=1 every " + interval.toMillis() + " ms from the supervisor's loop");
            new Watchdog(notify, supervisor::onLoop).start(timer, interval);
        });
        return new Systemd(notify, timer);
    }

    /** Serving: the socket answers, the jobs directory is loaded, running jobs are adopted. */
    public void ready() {
        notify.ready();
    }

    /** A reload begins (SIGHUP, the reload op): systemctl shows the unit reloading until {@link #after}. */
    @Override
    public void before() {
        notify.reloading();
    }

    /** The reload is applied: ready again. */
    @Override
    public void after() {
        notify.ready();
    }

    public void stopping() {
        notify.stopping();
    }

    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
        }
        notify.close();
    }
}
