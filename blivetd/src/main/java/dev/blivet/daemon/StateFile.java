package dev.blivet.daemon;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.blivet.daemon.supervisor.JobSnapshot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * The jobs as blivetd last saw them, in {@code STATE_DIR/jobs.json}: written whole to a temporary
 * file and renamed over the old one, so a crash never leaves half a file.
 */
final class StateFile {
    private final Path dir;

    StateFile(Path dir) {
        this.dir = dir;
    }

    void write(ObjectMapper mapper, List<JobSnapshot> jobs, Log log) {
        try {
            Files.createDirectories(dir);
            Path temp = dir.resolve(".jobs.json.tmp");
            Files.deleteIfExists(temp);
            Files.write(temp, mapper.writerWithDefaultPrettyPrinter().writeValueAsBytes(jobs),
                    StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.SYNC);
            Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rw-------"));
            Files.move(temp, dir.resolve("jobs.json"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            log.warn("could not write " + dir.resolve("jobs.json") + ": " + e.getMessage());
        }
    }
}
