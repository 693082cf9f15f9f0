package dev.blivet.daemon.supervisor;

import dev.blivet.common.JobSpec;
import dev.blivet.common.JobSpecJson;
import dev.blivet.common.JobSpecResolver;
import dev.blivet.common.ResolvedJob;
import dev.blivet.common.SpecException;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads every *.json of the jobs directory. A file that does not parse or validate is reported by
 * name and skipped; the others load. Reading and validating happen on the caller's thread, never
 * on the supervisor's loop.
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
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.json")) {
            for (Path file : files) {
                try {
                    JobSpec spec = json.read(file);
                    ResolvedJob resolved = resolver.resolve(spec);
                    Path earlier = fileOf.putIfAbsent(spec.name(), file);
                    if (earlier != null) {
                        errors.put(file.toString(), "job name " + spec.name() + " is already used by " + earlier);
                        continue;
                    }
                    jobs.put(spec.name(), new Entry(file, spec, resolved));
                } catch (SpecException e) {
                    errors.put(file.toString(), e.getMessage());
                }
            }
        } catch (NoSuchFileException e) {
            // no jobs directory: no jobs
        } catch (IOException e) {
            errors.put(dir.toString(), "cannot read the jobs directory: " + e.getMessage());
        }
        return new Scan(jobs, errors);
    }
}
