package dev.blivet.bench;

import dev.blivet.common.ExitCode;
import dev.blivet.common.ResolvedJob;
import dev.blivet.daemon.launch.ExitStatus;
import dev.blivet.daemon.launch.LaunchResult;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Many starts from a few launching threads while another thread allocates hard, meant for a small
 * heap (run it with -Xmx64m): the conditions under which fork() from a JVM hung children
 * (docs/architecture.md, Rule 1).
 *
 * <p>Each start is a /bin/sleep job with a pidfile and "exec" readiness; once Started, its
 * /proc/PID/exe is checked, then it is killed (SIGKILL to its process group) and its exit awaited.
 * Counted:
 * <ul>
 *   <li>hung: a start that did not finish within its ready_timeout: Failed with the TIMEOUT code,
 *       or Started later than ready_timeout, or still inside launch() ready_timeout + 5 s after it
 *       began (found by a watchdog, which prints that thread's stack);
 *   <li>lost: a Started job whose exit the reaper did not deliver within 10 s of the SIGKILL;
 *   <li>failed: any other Failed result, or a Started whose process is not /bin/sleep.
 * </ul>
 * Prints one "RESULT ..." line; exit status 1 unless all three are zero and nothing is left over.
 */
public final class LaunchStress {
    private static final long STOP_TIMEOUT_MS = 10_000;
    private static final long WATCHDOG_SLACK_NANOS = 5_000_000_000L;
    private static final int MAX_COMPLAINTS = 20;

    private final Bench bench;
    private final int starts;
    private final long readyTimeoutNanos;
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicLong started = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong hung = new AtomicLong();
    private final AtomicLong lost = new AtomicLong();
    private final AtomicInteger complaints = new AtomicInteger();
    private final Stats latency;
    private final AtomicLongArray inFlightSince;
    private final Path sleepExe;
    private volatile boolean allocating = true;
    private final AtomicLong allocatedBytes = new AtomicLong();
    private final AtomicLong allocatorOoms = new AtomicLong();

    private LaunchStress(Bench bench, int starts, int threads, long readyTimeoutNanos) throws Exception {
        this.bench = bench;
        this.starts = starts;
        this.readyTimeoutNanos = readyTimeoutNanos;
        this.latency = new Stats(starts);
        this.inFlightSince = new AtomicLongArray(threads);
        this.sleepExe = Path.of("/bin/sleep").toRealPath();
    }

    public static void main(String[] argv) throws Exception {
        Map<String, String> args = Bench.args(argv, "LaunchStress --helper PATH [--starts 10000] [--threads 3]"
                + " [--ready-timeout 10] [--live-mb 16] [--work DIR] [--readiness exec]");
        Path helper = Path.of(args.getOrDefault("helper", "blivetd/target/blivet-spawn"));
        int starts = Integer.parseInt(args.getOrDefault("starts", "10000"));
        int threads = Integer.parseInt(args.getOrDefault("threads", "3"));
        double readyTimeout = Double.parseDouble(args.getOrDefault("ready-timeout", "10"));
        int liveMb = Integer.parseInt(args.getOrDefault("live-mb", "16"));
        Path work = Path.of(args.getOrDefault("work", "/tmp/blivet-bench"));
        // Only to check the counting: /bin/sleep never writes a notify-fd newline, so every start
        // of "--readiness notify-fd" must come out hung.
        String readiness = args.getOrDefault("readiness", "exec");

        Bench bench = new Bench(helper, work);
        new LaunchStress(bench, starts, threads, (long) (readyTimeout * 1e9))
                .run(threads, readyTimeout, liveMb, readiness);
    }

    private void run(int threads, double readyTimeout, int liveMb, String readiness) throws Exception {
        long fdsBefore = Bench.openFds();
        Thread allocator = new Thread(() -> allocate(liveMb), "allocator");
        allocator.setDaemon(true);
        allocator.start();

        Thread[] launchers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            String pidfile = bench.work.resolve("stress-" + t + ".pid").toString();
            ResolvedJob job = bench.job("{\"name\":\"stress-" + t + "\",\"command\":[\"/bin/sleep\",\"1000\"],"
                    + "\"pidfile\":\"" + pidfile + "\",\"ready_timeout\":" + readyTimeout
                    + ",\"readiness\":\"" + readiness + "\"}");
            int slot = t;
            launchers[t] = new Thread(() -> launchLoop(slot, job), "launcher-" + t);
            launchers[t].setDaemon(true);
        }
        Thread watchdog = new Thread(() -> watch(launchers), "watchdog");
        watchdog.setDaemon(true);

        long t0 = System.nanoTime();
        for (Thread launcher : launchers) {
            launcher.start();
        }
        watchdog.start();
        // Generous: a healthy run takes well under a minute; this only bounds a broken one.
        long deadline = t0 + 600_000_000_000L;
        boolean finished = true;
        for (Thread launcher : launchers) {
            launcher.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            finished &= !launcher.isAlive();
        }
        double wall = (System.nanoTime() - t0) / 1e9;
        allocating = false;
        allocator.join(5_000);
        Thread.sleep(200); // let the reaper collect the last intermediates
        long children = Bench.children();
        long fdDelta = Bench.openFds() - fdsBefore;

        long gcCount = 0;
        long gcMillis = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            gcCount += Math.max(0, gc.getCollectionCount());
            gcMillis += Math.max(0, gc.getCollectionTime());
        }
        int attempted = Math.min(next.get(), starts);
        System.out.println("RESULT tool=blivet-stress starts=" + attempted + " started=" + started.get()
                + " failed=" + failed.get() + " hung=" + hung.get() + " lost=" + lost.get()
                + " threads=" + threads + " wall_s=" + Bench.fmt(wall)
                + " starts_per_s=" + Bench.fmt(attempted / wall)
                + " p50_us=" + Bench.fmt(latency.percentileMicros(50))
                + " p99_us=" + Bench.fmt(latency.percentileMicros(99))
                + " max_us=" + Bench.fmt(latency.maxMicros())
                + " heap_max_mb=" + Runtime.getRuntime().maxMemory() / (1 << 20)
                + " allocated_gb=" + Bench.fmt(allocatedBytes.get() / 1e9)
                + " allocator_ooms=" + allocatorOoms.get()
                + " gc_count=" + gcCount + " gc_ms=" + gcMillis
                + " leftover_children=" + children + " fd_delta=" + fdDelta);
        boolean clean = finished && attempted == starts && failed.get() == 0 && hung.get() == 0 && lost.get() == 0
                && children == 0;
        System.exit(clean ? 0 : 1);
    }

    private void launchLoop(int slot, ResolvedJob job) {
        while (next.getAndIncrement() < starts) {
            long t0 = System.nanoTime();
            inFlightSince.set(slot, t0);
            LaunchResult result = bench.launcher.launch(job);
            long t1 = System.nanoTime();
            // A negative mark tells the watchdog it already reported this start.
            boolean flagged = inFlightSince.getAndSet(slot, 0) < 0;
            if (result instanceof LaunchResult.Started s) {
                started.incrementAndGet();
                if (t1 - t0 > readyTimeoutNanos) {
                    if (!flagged) {
                        hung.incrementAndGet();
                    }
                    complain("started after " + Bench.fmt((t1 - t0) / 1e6) + " ms, beyond ready_timeout: pid "
                            + s.pid());
                } else {
                    latency.add(t1 - t0);
                }
                if (!Bench.runs(s.pid(), sleepExe)) {
                    failed.incrementAndGet();
                    complain("Started pid " + s.pid() + " is not " + sleepExe);
                }
                ExitStatus exit = bench.stop(s, STOP_TIMEOUT_MS);
                if (exit == null) {
                    lost.incrementAndGet();
                    complain("lost: no exit delivered for pid " + s.pid() + " (pgid " + s.pgid() + ") within "
                            + STOP_TIMEOUT_MS + " ms of SIGKILL");
                }
            } else {
                LaunchResult.Failed f = (LaunchResult.Failed) result;
                if (f.code() == ExitCode.TIMEOUT) {
                    if (!flagged) {
                        hung.incrementAndGet();
                    }
                } else {
                    failed.incrementAndGet();
                }
                complain("Failed after " + Bench.fmt((t1 - t0) / 1e6) + " ms: " + f.code() + ": " + f.message()
                        + (f.jobExit() == null ? "" : " (job " + f.jobExit().describe() + ")"));
            }
        }
    }

    /** Reports starts stuck in launch() well past their ready_timeout, once each, with the stack. */
    private void watch(Thread[] launchers) {
        while (true) {
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            for (int slot = 0; slot < launchers.length; slot++) {
                long since = inFlightSince.get(slot);
                if (since > 0 && now - since > readyTimeoutNanos + WATCHDOG_SLACK_NANOS
                        && inFlightSince.compareAndSet(slot, since, -1)) {
                    hung.incrementAndGet();
                    StringBuilder stack = new StringBuilder();
                    for (StackTraceElement e : launchers[slot].getStackTrace()) {
                        stack.append("\n    at ").append(e);
                    }
                    complain("stuck in launch() for " + Bench.fmt((now - since) / 1e9) + " s (ready_timeout "
                            + Bench.fmt(readyTimeoutNanos / 1e9) + " s); " + launchers[slot].getName() + ":" + stack
                            + "\n  children of this JVM: " + ProcessHandle.current().children()
                                    .map(p -> p.pid() + " " + p.info().command().orElse("?")).toList());
                }
            }
        }
    }

    /** Keeps about liveMb of byte arrays reachable while allocating as fast as one thread can. */
    private void allocate(int liveMb) {
        int slots = Math.max(1, liveMb * 1024 / 8); // arrays of 8 KiB on average
        Object[] ring = new Object[slots];
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long bytes = 0;
        int i = 0;
        while (allocating) {
            try {
                int size = 64 + random.nextInt(16 * 1024);
                ring[i] = new byte[size];
                i = i + 1 == slots ? 0 : i + 1;
                bytes += size;
                if ((i & 1023) == 0) {
                    allocatedBytes.addAndGet(bytes);
                    bytes = 0;
                }
            } catch (OutOfMemoryError e) {
                java.util.Arrays.fill(ring, null);
                allocatorOoms.incrementAndGet();
            }
        }
        allocatedBytes.addAndGet(bytes);
    }

    private void complain(String message) {
        if (complaints.getAndIncrement() < MAX_COMPLAINTS) {
            System.err.println("LaunchStress: " + message);
        }
    }
}
