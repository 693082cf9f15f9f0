package dev.blivet.daemon.server;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The start rehearsal's scratch directory, {@code rehearsal} beside blivetd's socket: its own
 * ledger's records and its job's pidfile and output, made 0700 by blivetd, removed before the
 * rehearsal (a crashed boot's) and after it. The socket's directory is writable by blivetd's
 * user alone (RuntimeDirectory refuses any other), so nobody else can plant or swap anything
 * here; the removal still never follows a symbolic link, and refuses a directory of another uid.
 */
final class RehearsalScratch {
    static final String NAME = "rehearsal";

    private final Path dir;
    private final int euid;

    RehearsalScratch(Path socketDir, int euid) {
        this.dir = socketDir.resolve(NAME);
        this.euid = euid;
    }

    Path path() {
        return dir;
    }

    /** Whether anything is at its path (a link is not followed). */
    boolean exists() {
        return Files.exists(dir, LinkOption.NOFOLLOW_LINKS);
    }

    /** Makes the directory, 0700; it must not exist (see {@link #remove}). */
    void create() throws IOException {
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }

    /**
     * Removes the directory and everything in it (a symbolic link in it goes, not what it names).
     * Anything but a directory at its path is not the rehearsal's (blivetd's own socket, if it
     * was given that name) and is left alone.
     *
     * @throws IOException naming what could not be removed, what is not a directory, or a directory of another uid
     */
    void remove() throws IOException {
        BasicFileAttributes found;
        try {
            found = Files.readAttributes(dir, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.NoSuchFileException gone) {
            return;
        }
        if (!found.isDirectory()) {
            throw new IOException(dir + " is not a directory, so not the rehearsal's: left alone");
        }
        int owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        if (owner != euid) {
            throw new IOException("refusing to remove " + dir + ": it belongs to uid " + owner + ", not to blivetd's uid "
                    + euid);
        }
        // walkFileTree follows no link: a link in the tree is removed as a file.
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path directory, IOException error) throws IOException {
                if (error != null) {
                    throw error;
                }
                Files.delete(directory);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
