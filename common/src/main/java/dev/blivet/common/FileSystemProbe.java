package dev.blivet.common;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.AccessDeniedException;
import java.nio.file.AccessMode;
import java.nio.file.FileSystemException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

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
    public Optional<String> whyNotWritable(Path path) {
        try {
            path.getFileSystem().provider().checkAccess(path, AccessMode.WRITE);
            return Optional.empty();
        } catch (AccessDeniedException e) {
            return Optional.of(PERMISSION_DENIED);
        } catch (FileSystemException e) {
            // The JDK words the errno with strerror: "Read-only file system", "Too many levels of symbolic links".
            String why = e.getReason() == null ? "cannot be written" : e.getReason();
            return Optional.of(why.isEmpty() ? why : Character.toLowerCase(why.charAt(0)) + why.substring(1));
        } catch (IOException e) {
            return Optional.of(String.valueOf(e.getMessage()));
        }
    }

    /** The helper's rule for an existing file (docs/security.md, Rule 3): one link, owned by the job's user. */
    @Override
    public Optional<String> whyNotJobsFile(Path file, int owner) {
        try {
            Map<String, Object> stat = Files.readAttributes(file, "unix:uid,nlink", LinkOption.NOFOLLOW_LINKS);
            int uid = (Integer) stat.get("uid");
            int links = (Integer) stat.get("nlink");
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                return Optional.of("is not a regular file");
            }
            if (links != 1) {
                return Optional.of("has " + links + " hard links; blivet uses an existing file only with one");
            }
            if (uid != owner) {
                return Optional.of("belongs to uid " + Integer.toUnsignedString(uid) + ", not to the job's user (uid "
                        + Integer.toUnsignedString(owner) + "); blivet uses an existing file only if it does");
            }
            return Optional.empty();
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty(); // gone meanwhile, or no unix view: the helper decides at the start
        }
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
