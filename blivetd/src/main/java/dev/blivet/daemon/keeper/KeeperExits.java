package dev.blivet.daemon.keeper;

import dev.blivet.daemon.Log;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The keeper's exit records (blivet-keeper.c): one file per reaped process in the exits
 * directory, named {@code <pid>.<starttime>} and holding {@code <pid> <starttime> <waitstatus>\n}.
 * The directory is root's (0700, {@link ExitsDirectory}) and only the keeper writes records, so
 * what does not parse is damage, not an attack: it is removed with a warning, never trusted.
 *
 * <p>The keeper records only the processes a dead JVM left it (its jobs, and helpers caught
 * mid-start), never a job's own orphaned children, however many it forks. The ledger consumes the
 * records it claims; the rest
 * would pile up over many JVM deaths, so at most {@value #MAX_RECORDS} are kept, the oldest going
 * first (a record that old names a process no re-adoption still waits for).
 *
 * <p>A record never changes once it is renamed into place (its name is its process), so each is
 * read once and remembered until it is consumed or gone, and re-adoption, which asks once per job
 * that ended while no JVM ran, reads that job's file alone ({@link #find}): reading every record
 * for each of them made a restart after a mass exit quadratic in the number of jobs.
 */
public final class KeeperExits implements ExitSource {
    /** Records kept; far above the exits of one JVM death with the most jobs a blivetd runs. */
    static final int MAX_RECORDS = 4096;
    /** Directory entries one {@link #pending} looks at, junk included, so a flooded directory stays bounded. */
    static final int MAX_SCAN = 2 * MAX_RECORDS;
    /** "4194304 18446744073709551615 65535\n" fits with room. */
    private static final int MAX_RECORD_BYTES = 64;
    private static final long MAX_PID = 4_194_304; // PID_MAX_LIMIT on 64-bit Linux
    private static final int MAX_WAIT_STATUS = 0xffff;
    private static final Pattern NAME = Pattern.compile("([1-9][0-9]{0,6})\\.(0|[1-9][0-9]{0,18})");
    /** The keeper's temporary names, renamed a moment later: never read, never removed. */
    private static final Pattern TEMPORARY = Pattern.compile("\\.[0-9]+\\.[0-9]+\\.tmp");

    private final Path dir;
    private final Consumer<Runnable> wakeups;
    private final Log log;
    /** The records read so far, by file name. */
    private final Map<String, Found> known = new HashMap<>(); // guarded by this

    /**
     * @param wakeups where {@link #onNew} listeners go: the link's ({@link KeeperLink#onExits})
     */
    public KeeperExits(Path dir, Consumer<Runnable> wakeups, Log log) {
        this.dir = dir;
        this.wakeups = wakeups;
        this.log = log;
    }

    private record Found(ExitRecord record, FileTime written, Path file) {
    }

    @Override
    public synchronized List<ExitRecord> pending() {
        List<Found> found = new ArrayList<>();
        Set<String> present = new HashSet<>();
        int seen = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path file : entries) {
                if (++seen > MAX_SCAN) {
                    log.warn(dir + " holds more than " + MAX_SCAN + " entries: the rest are read next time");
                    break;
                }
                String name = file.getFileName().toString();
                if (TEMPORARY.matcher(name).matches()) {
                    continue;
                }
                present.add(name);
                Found record = known.get(name);
                if (record == null) {
                    record = read(file, name);
                    if (record == null) {
                        remove(file, "not an exit record");
                        continue;
                    }
                    known.put(name, record);
                }
                found.add(record);
            }
        } catch (IOException e) {
            log.error("cannot read the keeper's exit records in " + dir + ": " + e.getMessage());
        }
        known.keySet().retainAll(present);
        found.sort(Comparator.comparing(Found::written).thenComparing(f -> f.file().getFileName().toString()));
        int excess = found.size() - MAX_RECORDS;
        for (int i = 0; i < excess; i++) {
            known.remove(found.get(i).file().getFileName().toString());
            remove(found.get(i).file(), "more than " + MAX_RECORDS + " exit records are kept, and this is the oldest");
        }
        return found.subList(Math.max(0, excess), found.size()).stream().map(Found::record).toList();
    }

    /** One file, by its name: re-adoption asks this once per job that ended while no JVM ran. */
    @Override
    public synchronized Optional<ExitRecord> find(int pid, long startTime) {
        String name = pid + "." + startTime;
        Found record = known.get(name);
        if (record == null) {
            Path file = dir.resolve(name);
            if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
                return Optional.empty();
            }
            record = read(file, name);
            if (record == null) {
                remove(file, "not an exit record");
                return Optional.empty();
            }
            known.put(name, record);
        }
        return Optional.of(record.record());
    }

    @Override
    public synchronized void consumed(ExitRecord record) {
        String name = record.pid() + "." + record.startTime();
        known.remove(name);
        try {
            Files.deleteIfExists(dir.resolve(name));
        } catch (IOException e) {
            log.warn("cannot remove the exit record of pid " + record.pid() + ": " + e.getMessage());
        }
    }

    @Override
    public void onNew(Runnable listener) {
        wakeups.accept(listener);
    }

    /** The record in {@code file}, or null when anything about it is not what the keeper writes. */
    private Found read(Path file, String name) {
        Matcher named = NAME.matcher(name);
        if (!named.matches()) {
            return null;
        }
        try {
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!attributes.isRegularFile() || attributes.size() > MAX_RECORD_BYTES) {
                return null;
            }
            ExitRecord record = parse(Files.readString(file, StandardCharsets.US_ASCII), named.group(1), named.group(2));
            return record == null ? null : new Found(record, attributes.lastModifiedTime(), file);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** "pid starttime waitstatus\n", exactly, naming the same process as the file's name. */
    static ExitRecord parse(String text, String namePid, String nameStart) {
        if (!text.endsWith("\n")) {
            return null;
        }
        String[] fields = text.substring(0, text.length() - 1).split(" ", -1);
        if (fields.length != 3 || !fields[0].equals(namePid) || !fields[1].equals(nameStart)
                || !fields[2].matches("0|[1-9][0-9]{0,4}")) {
            return null;
        }
        long pid = Long.parseLong(fields[0]);
        int status = Integer.parseInt(fields[2]);
        long start;
        try {
            start = Long.parseLong(fields[1]);
        } catch (NumberFormatException e) {
            return null;
        }
        if (pid > MAX_PID || status > MAX_WAIT_STATUS) {
            return null;
        }
        return new ExitRecord((int) pid, start, status);
    }

    private void remove(Path file, String why) {
        try {
            Files.deleteIfExists(file);
            log.warn("removed " + file + ": " + why);
        } catch (IOException e) {
            log.warn("cannot remove " + file + " (" + why + "): " + e.getMessage());
        }
    }
}
