package dev.blivet.daemon.systemd;

import dev.blivet.daemon.Log;
import dev.blivet.daemon.supervisor.Supervisor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import sun.misc.Signal;

/**
 * Test only: a hung supervisor loop on demand, so a test can see systemd's watchdog pings stop
 * (a loop that hangs for real is a bug, which no test can summon). Installed only when the JVM is
 * started with {@code -Dblivet.test.hangLoopSignal=NAME}, which only whoever starts blivetd can
 * set: signal NAME blocks the loop, the next one releases it.
 */
public final class LoopHangHook {
    public static final String PROPERTY = "blivet.test.hangLoopSignal";

    private final Supervisor supervisor;
    private final Log log;
    private final AtomicBoolean hung = new AtomicBoolean();
    private final Semaphore release = new Semaphore(0);

    private LoopHangHook(Supervisor supervisor, Log log) {
        this.supervisor = supervisor;
        this.log = log;
    }

    public static void install(Supervisor supervisor, Log log) {
        String signal = System.getProperty(PROPERTY);
        if (signal != null) {
            LoopHangHook hook = new LoopHangHook(supervisor, log);
            Signal.handle(new Signal(signal), s -> hook.toggle());
        }
    }

    private void toggle() {
        if (hung.compareAndSet(false, true)) {
            supervisor.onLoop(() -> {
                log.warn("test hook: the supervisor's loop hangs");
                release.acquireUninterruptibly();
                log.warn("test hook: the supervisor's loop runs again");
            });
        } else if (hung.compareAndSet(true, false)) {
            release.release();
        }
    }
}
