package dev.blivet.common;

import java.util.ArrayList;
import java.util.List;

/**
 * A job's cgroup limits (docs/jobspec.md, "Limits"), each null when the spec does not ask for it.
 * Applied by writing the cgroup v2 files {@link #files()} names in the job's cgroup before the
 * job runs any code of its own.
 *
 * @param memoryMax bytes: memory.max
 * @param tasksMax processes and threads at once: pids.max
 * @param cpuPercent percent of one CPU (100 = one whole CPU): cpu.max's quota per {@link #CPU_PERIOD_USEC}
 * @param cpuWeight 1 to 10000: cpu.weight
 */
public record ResourceLimits(Long memoryMax, Integer tasksMax, Integer cpuPercent, Integer cpuWeight) {
    public static final ResourceLimits NONE = new ResourceLimits(null, null, null, null);
    /** cpu.max's period: the kernel's default, so "50%" reads as "50000 100000" as systemd writes it. */
    public static final long CPU_PERIOD_USEC = 100_000;
    /** The kernel's lowest cpu.max quota is 1 ms: 1% of the period. The highest accepted is 1024 CPUs. */
    public static final int MAX_CPU_PERCENT = 102_400;
    public static final int MIN_CPU_WEIGHT = 1;
    public static final int MAX_CPU_WEIGHT = 10_000;
    /** pid_max's ceiling (2^22): a larger tasks_max is no limit at all. */
    public static final int MAX_TASKS = 4_194_304;

    /** One limit: the spec key, the cgroup v2 controller it needs, the file and the value written there. */
    public record Setting(String key, String controller, String file, String value) {
    }

    public boolean isEmpty() {
        return files().isEmpty();
    }

    /** What to write, in this order, into the job's cgroup. */
    public List<Setting> files() {
        List<Setting> settings = new ArrayList<>();
        if (memoryMax != null) {
            settings.add(new Setting("memory_max", "memory", "memory.max", Long.toString(memoryMax)));
        }
        if (tasksMax != null) {
            settings.add(new Setting("tasks_max", "pids", "pids.max", Integer.toString(tasksMax)));
        }
        if (cpuPercent != null) {
            settings.add(new Setting("cpu_max", "cpu", "cpu.max", (cpuPercent * CPU_PERIOD_USEC / 100) + " "
                    + CPU_PERIOD_USEC));
        }
        if (cpuWeight != null) {
            settings.add(new Setting("cpu_weight", "cpu", "cpu.weight", Integer.toString(cpuWeight)));
        }
        return settings;
    }
}
