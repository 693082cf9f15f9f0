package dev.blivet.daemon.supervisor;

import dev.blivet.common.JobSpec;
import dev.blivet.common.JobSpecJson;
import dev.blivet.common.JobSpecResolver;
import dev.blivet.common.ResolvedJob;
import dev.blivet.common.SpecException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Reads every *.json of the jobs directory. A file that does not parse or validate is reported by
 * name and skipped; the others load. Reading and validating happen on the caller's thread (and
 * the common fork-join pool), never on the supervisor's loop.
 */
public final class JobsDirectory {
    /** The source recorded for jobs that come from the jobs directory. */
    public static final String SOURCE = "jobs-dir";

    public record Entry(Path file, JobSpec spec, ResolvedJob resolved) {
    }

    /**
     * @param jobs by job name
     * @param errors by file, what is wrong with it
     */
    public record Scan(Map<String, Entry> jobs, Map<String, String> errors) {
    }

    private final Path dir;
    private final JobSpecJson json = new JobSpecJson();
    private final JobSpecResolver resolver;

    public JobsDirectory(Path dir, JobSpecResolver resolver) {
        this.dir = dir;
        this.resolver = resolver;
    }

    public Path dir() {
        return dir;
    }

    public Scan scan() {
        Map<String, Entry> jobs = new TreeMap<>();
        Map<String, Path> fileOf = new TreeMap<>();
        Map<String, String> errors = new TreeMap<>();
        List<Path> files;
        try (Stream<Path> listing = Files.list(dir)) {
            // Sorted: when two files name the same job, the first by file name wins, every time.
            files = listing.filter(file -> file.getFileName().toString().endsWith(".json")).sorted().toList();
        } catch (NoSuchFileException e) {
            return new Scan(jobs, errors); // no jobs directory: no jobs
        } catch (IOException | UncheckedIOException e) {
            errors.put(dir.toString(), "cannot read the jobs directory: " + e.getMessage());
            return new Scan(jobs, errors);
        }
        // Parsing and validating is most of a large directory's load time, and each file stands
        // alone: spread it over the cores (the resolver is thread safe).
        for (Read read : files.parallelStream().map(this::read).toList()) {
            if (read.error() != null) {
                errors.put(read.file().toString(), read.error());
                continue;
            }
            Path earlier = fileOf.putIfAbsent(read.spec().name(), read.file());
            if (earlier != null) {
                errors.put(read.file().toString(), "job name " + read.spec().name() + " is already used by " + earlier);
                continue;
            }
            jobs.put(read.spec().name(), new Entry(read.file(), read.spec(), read.resolved()));
        }
        return new Scan(jobs, errors);
    }

    private record Read(Path file, JobSpec spec, ResolvedJob resolved, String error) {
    }

    private Read read(Path file) {
        try {
            JobSpec spec = json.read(file);
            return new Read(file, spec, resolver.resolve(spec), null);
        } catch (SpecException e) {
            return new Read(file, null, null, e.getMessage());
        }
    }
}
