package dev.blivet.bench;

import dev.blivet.common.ExitCode;
import dev.blivet.common.ResolvedJob;
import dev.blivet.daemon.launch.ExitStatus;
import dev.blivet.daemon.launch.LaunchResult;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * Start-to-ready latency of blivet's launcher for /bin/sleep jobs with "exec" readiness.
 *
 * <p>t0 is taken just before {@link dev.blivet.daemon.launch.Launcher#launch} is called (the job
 * spec is already resolved, as the supervisor holds it). Two latencies per start:
 * <ul>
 *   <li>exec ({@code exec_*}): until the kernel's timestamp of the daemon's execve of /bin/sleep,
 *       read from the proc connector ({@link ProcEvents}) after the start: "the daemon has exec'd",
 *       the same instant the daemonize harness uses;
 *   <li>notified ({@code p50_us}...): until launch() returns Started, which it does once the
 *       close-on-exec report pipe reaches EOF after the daemon's "about to exec" report: when
 *       the launcher (and so blivetctl start) learns execve succeeded.
 * </ul>
 * After each start the job is killed (SIGKILL to its process group) and its exit collected by the
 * reaper before the next start; starts per second is the number of starts over the summed
 * start+stop cycle times.
 *
 * <p>Two variants (or one, with --variant), interleaved start by start so that drift hits both
 * alike: {@code pidfile} (the job writes a pidfile, like {@code daemonize -p}) and {@code plain}
 * (no pidfile). Warm-up starts (alternating too) are not counted: blivetd is a long-running
 * daemon, its JIT is warm.
 *
 * <p>With --turns, takes turns with the daemonize harness block by block ({@link Turns}), so both
 * tools are measured across the same stretch of time, with one uncounted start of each variant
 * after every wait.
 *
 * <p>Prints one "RESULT ..." line per variant and a "CHECK ..." line; exit status 1 if any start
 * (warm-up included) failed or hung, any exit was lost, or children were left over.
 */
public final class LaunchLatency {
    private static final long STOP_TIMEOUT_MS = 10_000;
    private static final Path SLEEP = Path.of("/bin/sleep");
    /** Failed, hung or lost among the starts that are not measured (warm-up and re-warm). */
    private static int unmeasuredBad;

    /** One kind of job; bad counts failed, hung and lost measured starts. */
    private record Variant(String name, ResolvedJob job, Stats latency, Stats execLatency, long[] cycleNanos,
            int[] bad) {
        Variant(String name, ResolvedJob job, int starts) {
            this(name, job, new Stats(starts), new Stats(starts), new long[1], new int[3]);
        }
    }

    /** The kernel's exec timestamps, or null without the proc connector (not root). */
    private static ProcEvents events;
    /** Measured starts whose exec event never arrived (netlink overrun): not in execLatency. */
    private static int execMissing;

    public static void main(String[] argv) throws Exception {
        Map<String, String> args = Bench.args(argv,
                "LaunchLatency --helper PATH [--starts 1000] [--warmup 300] [--work DIR] [--ready-timeout 10]"
                + " [--variant both|pidfile|plain] [--turns IN_FIFO,OUT_FIFO --block STARTS [--first true]]");
        Path helper = Path.of(args.getOrDefault("helper", "blivetd/target/blivet-spawn"));
        int starts = Integer.parseInt(args.getOrDefault("starts", "1000"));
        int warmup = Integer.parseInt(args.getOrDefault("warmup", "300"));
        Path work = Path.of(args.getOrDefault("work", "/tmp/blivet-bench"));
        String readyTimeout = args.getOrDefault("ready-timeout", "10");
        String only = args.getOrDefault("variant", "both");
        int block = Integer.parseInt(args.getOrDefault("block", "100"));

        Bench bench = new Bench(helper, work);
        String pidfile = work.resolve("latency.pid").toString();
        Variant[] all = {
            new Variant("pidfile", bench.job("{\"name\":\"lat-pidfile\",\"command\":[\"/bin/sleep\",\"1000\"],"
                    + "\"pidfile\":\"" + pidfile + "\",\"ready_timeout\":" + readyTimeout + "}"), starts),
            new Variant("plain", bench.job("{\"name\":\"lat-plain\",\"command\":[\"/bin/sleep\",\"1000\"],"
                    + "\"ready_timeout\":" + readyTimeout + "}"), starts),
        };
        Variant[] variants = only.equals("both") ? all
                : Arrays.stream(all).filter(v -> v.name.equals(only)).toArray(Variant[]::new);
        if (variants.length == 0) {
            throw new IllegalArgumentException("--variant must be both, pidfile or plain");
        }
        long readyTimeoutNanos = (long) (Double.parseDouble(readyTimeout) * 1e9);
        Turns turns = Turns.none();
        if (args.containsKey("turns")) {
            String[] fifos = args.get("turns").split(",", 2);
            boolean first = Boolean.parseBoolean(args.getOrDefault("first", "false"));
            turns = new Turns(Path.of(fifos[0]), Path.of(fifos[1]), first);
        }
        events = ProcEvents.open();
        if (events == null) {
            System.err.println("LaunchLatency: no proc connector (not root?): exec_* columns left out");
        }
        long fdsBefore = Bench.openFds();

        int n = variants.length;
        for (int i = 0; i < n * (warmup + starts); i++) {
            // A block is `block` starts of each variant; the daemonize harness's blocks are as long.
            boolean rewarm = false;
            if (i % (n * block) == 0) {
                if (i > 0) {
                    turns.pass();
                }
                rewarm = turns.await();
            }
            if (rewarm) {
                // After waiting for its turn, one extra start of each variant that is not counted
                // (the harness does the same): the first start after an idle pause finds cold
                // caches, which a run of consecutive starts never sees.
                for (Variant v : variants) {
                    startAndStop(bench, v, i, false, readyTimeoutNanos);
                }
            }
            startAndStop(bench, variants[i % n], i, i >= n * warmup, readyTimeoutNanos);
        }

        turns.close();
        boolean clean = true;
        for (Variant v : variants) {
            int ok = v.latency.count();
            System.out.println("RESULT tool=blivet variant=" + v.name + " starts=" + starts + " ok=" + ok
                    + " failed=" + v.bad[0] + " hung=" + v.bad[1] + " lost=" + v.bad[2]
                    + " p50_us=" + Bench.fmt(v.latency.percentileMicros(50))
                    + " p99_us=" + Bench.fmt(v.latency.percentileMicros(99))
                    + " mean_us=" + Bench.fmt(v.latency.meanMicros())
                    + " max_us=" + Bench.fmt(v.latency.maxMicros())
                    + " starts_per_s=" + Bench.fmt(starts / (v.cycleNanos[0] / 1e9))
                    + " exec_p50_us=" + Bench.fmt(v.execLatency.percentileMicros(50))
                    + " exec_p99_us=" + Bench.fmt(v.execLatency.percentileMicros(99))
                    + " unmeasured_bad=" + unmeasuredBad);
            clean &= v.bad[0] == 0 && v.bad[1] == 0 && v.bad[2] == 0;
        }
        Thread.sleep(200); // let the reaper collect the last intermediates
        long children = Bench.children();
        long fdDelta = Bench.openFds() - fdsBefore;
        System.out.println("CHECK tool=blivet leftover_children=" + children + " fd_delta=" + fdDelta
                + " exits_before_claim=" + bench.exitsBeforeClaim.get() + " exec_missing=" + execMissing
                + " netlink_overruns=" + (events == null ? -1 : events.overruns()));
        System.exit(clean && unmeasuredBad == 0 && children == 0 ? 0 : 1);
    }

    /** One start, checked, then stopped; counted in the variant's numbers if {@code measured}. */
    private static void startAndStop(Bench bench, Variant v, int i, boolean measured, long readyTimeoutNanos) {
        if (events != null) {
            events.discard(); // what earlier starts left queued
        }
        long t0 = System.nanoTime();
        LaunchResult result = bench.launcher.launch(v.job);
        long t1 = System.nanoTime();
        if (result instanceof LaunchResult.Started started) {
            boolean isSleep = Bench.runs(started.pid(), SLEEP); // not timed: it is after t1
            ExitStatus exit = bench.stop(started, STOP_TIMEOUT_MS);
            long t2 = System.nanoTime();
            Long execAt = events == null ? null : events.execsSince(t0).get(started.pid());
            if (exit == null) {
                System.err.println("LaunchLatency: lost: the reaper never delivered the exit of pid " + started.pid());
            }
            if (!measured && (exit == null || !isSleep || t1 - t0 > readyTimeoutNanos)) {
                unmeasuredBad++;
            }
            if (!isSleep) {
                System.err.println("LaunchLatency: Started pid " + started.pid() + " is not /bin/sleep");
            }
            if (measured) {
                v.cycleNanos[0] += t2 - t0;
                if (!isSleep) {
                    v.bad[0]++;
                }
                if (exit == null) {
                    v.bad[2]++;
                }
                if (t1 - t0 > readyTimeoutNanos) {
                    v.bad[1]++; // returned Started, but later than its ready_timeout
                } else if (isSleep) {
                    v.latency.add(t1 - t0);
                    if (execAt != null) {
                        v.execLatency.add(execAt - t0);
                    } else if (events != null) {
                        execMissing++;
                    }
                }
            }
        } else {
            LaunchResult.Failed failed = (LaunchResult.Failed) result;
            System.err.println("LaunchLatency: start " + i + " (" + v.name + ") failed after "
                    + Bench.fmt((t1 - t0) / 1e6) + " ms: " + failed.code() + ": " + failed.message());
            if (!measured) {
                unmeasuredBad++;
            } else {
                v.bad[failed.code() == ExitCode.TIMEOUT ? 1 : 0]++;
                v.cycleNanos[0] += System.nanoTime() - t0;
            }
        }
    }
}
