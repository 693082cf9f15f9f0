package dev.blivet.daemon.supervisor;

import dev.blivet.common.JobSpec;
import dev.blivet.common.JobSpecJson;
import dev.blivet.common.JobSpecResolver;
import dev.blivet.common.ResolvedJob;
import dev.blivet.common.SpecException;
import dev.blivet.daemon.launch.LinuxLibC;
import dev.blivet.daemon.launch.NativeOs;
import dev.blivet.daemon.launch.TrustedPath;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import jnr.constants.platform.OpenFlags;
import jnr.posix.FileStat;

/**
 * Reads every *.json of the jobs directory. A file that does not parse or validate is reported by
 * name and skipped; the others load. Reading and validating happen on the caller's thread (and
 * the common fork-join pool), never on the supervisor's loop.
 *
 * <p>A job file runs whatever it says as whatever user it names, root included, so it is trusted
 * only as sshd's StrictModes and sudo trust theirs: the directory and the file must belong to
 * blivetd's own euid (root, normally) and be writable by nobody else (mode &amp; 022 == 0). The
 * directory is reached by the {@link TrustedPath} rule and held by its fd; each file is opened
 * relative to it with O_NOFOLLOW | O_NONBLOCK (a symlink is refused, a FIFO cannot stall the
 * scan), checked on that fd (a regular file, owner, mode, at most {@link #MAX_FILE_BYTES}) and
 * read from that very fd. A refused file is reported by name with the reason. A refused
 * directory refuses every file in it and makes the scan incomplete: the jobs it gave before stay
 * (a chmod mistake must not stop production jobs).
 */
public final class JobsDirectory {
    /** The source recorded for jobs that come from the jobs directory. */
    public static final String SOURCE = dev.blivet.daemon.ledger.SpecRecord.JOBS_DIR;
    /** The same bound as any spec file blivetctl sends, so that a file loads here if and only if it would there. */
    static final int MAX_FILE_BYTES = dev.blivet.common.protocol.Protocol.MAX_SPEC_BYTES;
    private static final int READ_FLAGS = OpenFlags.O_RDONLY.intValue() | OpenFlags.O_NONBLOCK.intValue();

    public record Entry(Path file, JobSpec spec, ResolvedJob resolved) {
    }

    /**
     * @param jobs by job name
     * @param errors by file, what is wrong with it
     * @param complete false when the directory itself was refused or could not be read: then
     *     {@code jobs} says nothing about which jobs the directory holds, and none may be removed
     */
    public record Scan(Map<String, Entry> jobs, Map<String, String> errors, boolean complete) {
    }

    private final Path dir;
    private final JobSpecJson json = new JobSpecJson();
    private final JobSpecResolver resolver;
    private final TrustedPath paths;
    private final int trustedUid;

    public JobsDirectory(Path dir, JobSpecResolver resolver, TrustedPath paths) {
        this.dir = dir.toAbsolutePath().normalize();
        this.resolver = resolver;
        this.paths = paths;
        this.trustedUid = paths.os().posix().geteuid();
    }

    /** The directory, absolute: for the warning that it does not exist (blivetd's Main, the reload reply). */
    public Path dir() {
        return dir;
    }

    /**
     * Why this directory gives no jobs at all, when it does not exist: a missing directory is not
     * an error (a package's default may be made later), but an operator who named the wrong one
     * must hear of it. Null when it exists.
     */
    public String missingWarning() {
        if (!java.nio.file.Files.notExists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return null;
        }
        return "jobs directory " + dir + " does not exist: no jobs are loaded from it (create it, then reload:"
                + " SIGHUP or blivetctl reload)";
    }

    public Scan scan() {
        Map<String, Entry> jobs = new TreeMap<>();
        Map<String, String> errors = new TreeMap<>();
        NativeOs os = paths.os();
        int dirFd;
        try {
            dirFd = paths.openDirectory(dir.toString());
        } catch (TrustedPath.Refused e) {
            if (e.notFound()) {
                return new Scan(jobs, errors, true); // no jobs directory: no jobs
            }
            errors.put(dir.toString(), "jobs directory refused, no file in it read: " + e.getMessage());
            return new Scan(jobs, errors, false);
        }
        try {
            List<String> names = new ArrayList<>();
            try (DirectoryStream<Path> listing = Files.newDirectoryStream(TrustedPath.viaFd(dirFd))) {
                listing.forEach(file -> names.add(file.getFileName().toString()));
            } catch (IOException | UncheckedIOException e) {
                errors.put(dir.toString(), "cannot read the jobs directory: " + e.getMessage());
                return new Scan(jobs, errors, false);
            }
            // Sorted: when two files name the same job, the first by file name wins, every time.
            List<String> specs = names.stream().filter(name -> name.endsWith(".json")).sorted().toList();
            String untrusted = untrusted(os.posix().fstat(dirFd), "jobs directory " + dir);
            if (untrusted != null) {
                errors.put(dir.toString(), untrusted + "; no file in it is read");
                specs.forEach(name -> errors.put(dir.resolve(name).toString(), "not read: " + untrusted));
                return new Scan(jobs, errors, false);
            }
            // Parsing and validating is most of a large directory's load time, and each file stands
            // alone: spread it over the cores (the resolver is thread safe).
            Map<String, Path> fileOf = new TreeMap<>();
            for (Read read : specs.parallelStream().map(name -> read(dirFd, name)).toList()) {
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
            return new Scan(jobs, errors, true);
        } finally {
            os.close(dirFd);
        }
    }

    /** Why {@code stat} (of {@code what}) is not to be trusted, or null. */
    private String untrusted(FileStat stat, String what) {
        if (stat.uid() != trustedUid) {
            return what + " belongs to uid " + stat.uid() + ", not to uid " + trustedUid + " that blivetd runs as";
        }
        if ((stat.mode() & 022) != 0) {
            return what + " is writable by group or others (mode " + String.format("%04o", stat.mode() & 07777)
                    + "; chmod go-w it)";
        }
        return null;
    }

    private record Read(Path file, JobSpec spec, ResolvedJob resolved, String error) {
    }

    private Read read(int dirFd, String name) {
        Path file = dir.resolve(name);
        NativeOs os = paths.os();
        int fd = -1;
        try {
            fd = paths.openIn(dirFd, dir.toString(), name, READ_FLAGS);
            FileStat stat = os.posix().fstat(fd);
            if (!stat.isFile()) {
                return new Read(file, null, null, file + " is not a regular file");
            }
            String untrusted = untrusted(stat, file.toString());
            if (untrusted != null) {
                return new Read(file, null, null, untrusted);
            }
            if (stat.st_size() > MAX_FILE_BYTES) {
                return new Read(file, null, null, file + " is larger than " + MAX_FILE_BYTES + " bytes");
            }
            JobSpec spec = json.parse(readAtMost(fd, (int) stat.st_size()));
            return new Read(file, spec, resolver.resolve(spec), null);
        } catch (TrustedPath.Refused e) {
            return new Read(file, null, null, e.errno() == LinuxLibC.ELOOP
                    ? file + " is a symlink; job files must be regular files" : e.getMessage());
        } catch (IOException e) {
            return new Read(file, null, null, file + ": " + e.getMessage());
        } catch (SpecException e) {
            return new Read(file, null, null, file + ": " + e.getMessage());
        } finally {
            os.close(fd);
        }
    }

    /**
     * The file behind {@code fd}, read through /proc/self/fd so that it is that very file; one
     * byte more than its checked {@code size} is room to notice that it grew meanwhile.
     */
    private static String readAtMost(int fd, int size) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(size + 1);
        try (FileChannel in = FileChannel.open(TrustedPath.viaFd(fd), StandardOpenOption.READ)) {
            while (buffer.hasRemaining() && in.read(buffer) > 0) {
                // until the end or one byte past the bound
            }
        }
        if (!buffer.hasRemaining()) {
            throw new IOException("changed while it was read");
        }
        return new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
    }
}
