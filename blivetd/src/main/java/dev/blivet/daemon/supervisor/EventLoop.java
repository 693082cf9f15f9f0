package dev.blivet.daemon.supervisor;

import dev.blivet.daemon.Log;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The supervisor's inbox and the one thread that owns job state (docs/architecture.md, Rule 3):
 * requests, launch results, exits and timers arrive as tasks and run one at a time. An idle loop
 * waits on its inbox: no polling. In blivetd {@link #startThread} runs it; SupervisorTest runs it
 * with {@link #runPending} on the test's own thread, which is then the one owner.
 */
public final class EventLoop {
    private final BlockingQueue<Runnable> inbox = new LinkedBlockingQueue<>();
    private final Log log;
    private volatile boolean open = true;

    public EventLoop(Log log) {
        this.log = log;
    }

    public void post(Runnable task) {
        inbox.add(task);
    }

    /** False once closed: requests are then refused, events already posted still run. */
    public boolean isOpen() {
        return open;
    }

    public Thread startThread(String name) {
        Thread thread = new Thread(this::runUntilClosed, name);
        thread.start();
        return thread;
    }

    private void runUntilClosed() {
        while (open || !inbox.isEmpty()) {
            try {
                Runnable task = inbox.poll(1, TimeUnit.DAYS);
                if (task != null) {
                    runOne(task);
                }
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Runs queued tasks, and those they queue, on the caller's thread until none is left. */
    public void runPending() {
        Runnable task;
        while ((task = inbox.poll()) != null) {
            runOne(task);
        }
    }

    private void runOne(Runnable task) {
        try {
            task.run();
        } catch (RuntimeException | LinkageError | OutOfMemoryError | StackOverflowError e) {
            // One bad event, or an allocation that failed, must not take the daemon down with it.
            log.error("supervisor: " + e);
        }
    }

    public void close() {
        open = false;
        post(() -> { });
    }
}
