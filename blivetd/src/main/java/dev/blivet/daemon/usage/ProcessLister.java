package dev.blivet.daemon.usage;

import dev.blivet.daemon.proc.ProcStat;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The processes of a job: its cgroup's cgroup.procs, or without a cgroup the processes in the
 * job's sessions found in /proc (the helper's session, and the main process's own when it left
 * it, as a forking daemon does). Bounded: at most {@link #MAX_LISTED} are named, the rest
 * counted, and no more than {@link #MAX_COUNTED} lines of a cgroup.procs are read.
 */
public final class ProcessLister {
    public static final int MAX_LISTED = 64;
    public static final int MAX_COUNTED = 65_536;
    /** Bytes of a command line shown: enough to tell workers apart, small enough for a table. */
    public static final int MAX_COMMAND = 256;

    /** Who is listed, and how many there are in all. */
    public record Listing(List<JobProcess> processes, int total) {
        public Listing {
            processes = List.copyOf(processes);
        }
    }

    private final Path proc;

    public ProcessLister(Path proc) {
        this.proc = proc;
    }

    /** Every process in {@code cgroup} (its cgroup.procs), the first {@link #MAX_LISTED} named. */
    public Listing inCgroup(Path cgroup) {
        List<JobProcess> listed = new ArrayList<>();
        int total = 0;
        try (BufferedReader procs = Files.newBufferedReader(cgroup.resolve("cgroup.procs"))) {
            String line;
            while (total < MAX_COUNTED && (line = procs.readLine()) != null) {
                int pid = Integer.parseInt(line.trim());
                total++;
                if (listed.size() < MAX_LISTED) {
                    listed.add(new JobProcess(pid, command(pid)));
                }
            }
        } catch (IOException | NumberFormatException e) {
            // the cgroup is gone: what was read stands
        }
        return new Listing(listed, total);
    }

    /**
     * The processes of the sessions {@code sessions} (the job's main pid first, if it lives), from
     * one pass over /proc; without a cgroup, a process that called setsid is not found.
     */
    public Listing inSessions(Set<Integer> sessions, Integer mainPid) {
        List<JobProcess> listed = new ArrayList<>();
        int total = 0;
        if (mainPid != null && live(mainPid) != null) {
            listed.add(new JobProcess(mainPid, command(mainPid)));
            total++;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(proc, "[0-9]*")) {
            for (Path entry : entries) {
                int pid;
                try {
                    pid = Integer.parseInt(entry.getFileName().toString());
                } catch (NumberFormatException e) {
                    continue;
                }
                if (mainPid != null && pid == mainPid) {
                    continue;
                }
                ProcStat stat = live(pid);
                if (stat != null && sessions.contains(stat.session())) {
                    total++;
                    if (listed.size() < MAX_LISTED) {
                        listed.add(new JobProcess(pid, command(pid)));
                    }
                }
            }
        } catch (IOException e) {
            // no /proc: only the main process is known
        }
        return new Listing(listed, total);
    }

    /** The session of {@code pid}, if it lives. */
    public Optional<Integer> sessionOf(int pid) {
        return Optional.ofNullable(live(pid)).map(ProcStat::session);
    }

    /** {@code pid}'s stat if it lives (not a zombie), else null. */
    private ProcStat live(int pid) {
        ProcStat stat = ProcStat.of(proc, pid);
        return stat != null && stat.alive() ? stat : null;
    }

    /** /proc/PID/cmdline (at most MAX_COMMAND bytes, NULs as spaces), else "[comm]"; "?" once gone. */
    String command(int pid) {
        Path dir = proc.resolve(Integer.toString(pid));
        try (InputStream in = Files.newInputStream(dir.resolve("cmdline"))) {
            byte[] bytes = in.readNBytes(MAX_COMMAND);
            String line = new String(bytes, StandardCharsets.UTF_8).replace('\0', ' ').strip();
            if (!line.isEmpty()) {
                return line;
            }
            return "[" + Files.readString(dir.resolve("comm")).strip() + "]";
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }
}
