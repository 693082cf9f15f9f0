package dev.blivet.common;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** {@link SystemProbe} from the real file system, with blivetd's own credentials. */
public final class FileSystemProbe implements SystemProbe {
    @Override
    public boolean exists(Path path) {
        return Files.exists(path);
    }

    @Override
    public boolean isDirectory(Path path) {
        return Files.isDirectory(path);
    }

    @Override
    public boolean isRegularFile(Path path) {
        return Files.isRegularFile(path);
    }

    @Override
    public boolean isSymbolicLink(Path path) {
        return Files.isSymbolicLink(path);
    }

    @Override
    public boolean isWritable(Path path) {
        return Files.isWritable(path);
    }

    @Override
    public boolean isExecutable(Path file, Identity identity) {
        if (identity == null) {
            return Files.isExecutable(file); // the job runs as blivetd itself: access(2) knows
        }
        try {
            int mode = (Integer) Files.getAttribute(file, "unix:mode");
            int owner = (Integer) Files.getAttribute(file, "unix:uid");
            int group = (Integer) Files.getAttribute(file, "unix:gid");
            return FileModes.executableBy(mode, owner, group, identity);
        } catch (IOException | UnsupportedOperationException e) {
            return Files.isExecutable(file);
        }
    }

    @Override
    public boolean isSameFile(Path a, Path b) {
        if (canonical(a).equals(canonical(b))) {
            return true;
        }
        try {
            return Files.exists(a) && Files.isSameFile(a, b);
        } catch (IOException e) {
            return false; // the other file does not exist yet: different paths are different files
        }
    }

    /** The path with its directory's symbolic links resolved (the file itself need not exist). */
    private static Path canonical(Path path) {
        try {
            return path.getParent().toRealPath().resolve(path.getFileName());
        } catch (IOException e) {
            return path;
        }
    }
}
