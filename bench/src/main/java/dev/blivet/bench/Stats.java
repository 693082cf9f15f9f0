package dev.blivet.bench;

import java.util.Arrays;

/** Latency samples in nanoseconds; percentiles by nearest rank (the C harness uses the same rule). */
final class Stats {
    private long[] samples;
    private int count;

    Stats(int capacity) {
        samples = new long[Math.max(16, capacity)];
    }

    synchronized void add(long nanos) {
        if (count == samples.length) {
            samples = Arrays.copyOf(samples, count * 2);
        }
        samples[count++] = nanos;
    }

    synchronized int count() {
        return count;
    }

    /** The p-th percentile (0 < p <= 100) in microseconds, nearest rank; NaN without samples. */
    synchronized double percentileMicros(double p) {
        if (count == 0) {
            return Double.NaN;
        }
        long[] sorted = Arrays.copyOf(samples, count);
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(p / 100.0 * count);
        rank = Math.max(1, Math.min(count, rank));
        return sorted[rank - 1] / 1e3;
    }

    synchronized double meanMicros() {
        if (count == 0) {
            return Double.NaN;
        }
        double sum = 0;
        for (int i = 0; i < count; i++) {
            sum += samples[i];
        }
        return sum / count / 1e3;
    }

    synchronized double maxMicros() {
        long max = 0;
        for (int i = 0; i < count; i++) {
            max = Math.max(max, samples[i]);
        }
        return count == 0 ? Double.NaN : max / 1e3;
    }
}
