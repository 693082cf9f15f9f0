package dev.blivet.daemon.ledger;

import dev.blivet.common.JobSpec;
import dev.blivet.daemon.launch.TrustedPath;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import jnr.constants.platform.OpenFlags;
import jnr.posix.FileStat;

/**
 * One of the ledger's two directories, pinned by an fd for blivetd's life (docs/security.md,
 * "The ledger's directories"). It is reached by the {@link TrustedPath} rule (no symlink in any
 * component), created 0700 if missing, and refused when it exists but belongs to another uid or
 * others may write it: whoever could write it could plant the record of a root job. Every file
 * is opened relative to the pinned fd with O_NOFOLLOW and checked on that fd before a byte is
 * read: a regular file of blivetd's euid with one link, no bigger than the caller's bound.
 */
final class LedgerDir implements AutoCloseable {
    /** Records are {@code NAME.json}; the name is a job name, never a path. */
    static final String SUFFIX = ".json";
    /**
     * {@code NAME.down}: an empty marker, present while the job's owner wants it stopped. Created
     * and unlinked, never renamed over anything, so ext4 has no data to flush for it.
     */
    static final String DOWN = ".down";
    /** {@code .NAME.tmp}: {@link #write}'s temporary file, which a crash may leave. */
    private static final String TEMP_PREFIX = ".";
    private static final String TEMP_SUFFIX = ".tmp";
    private static final int O_NOFOLLOW = OpenFlags.O_NOFOLLOW.intValue();
    private static final int O_DIRECTORY = OpenFlags.O_DIRECTORY.intValue();
    private static final int O_CLOEXEC = OpenFlags.O_CLOEXEC.intValue();
    private static final int O_NONBLOCK = OpenFlags.O_NONBLOCK.intValue();

    /** A record refused by name: what is wrong with it. */
    static final class BadRecord extends IOException {
        BadRecord(String message) {
            super(message);
        }
    }

    private final LedgerOs os;
    private final Path path;
    /** {@code path} and a slash: a record's name for messages costs one concatenation. */
    private final String prefix;
    /** O_PATH: reaches the files. */
    private final int dirFd;
    /** O_RDONLY on the same directory: fsync(2) of an O_PATH fd fails with EBADF. */
    private final int syncFd;

    private LedgerDir(LedgerOs os, Path path, int dirFd, int syncFd) {
        this.os = os;
        this.path = path;
        this.prefix = path.toString().endsWith("/") ? path.toString() : path + "/";
        this.dirFd = dirFd;
        this.syncFd = syncFd;
    }

    /**
     * Opens {@code path}, making it (0700) if it does not exist; its parents must exist or be
     * creatable by the operator's own rules (they are made as {@code mkdir -p} would).
     *
     * @throws IOException naming the directory and what is wrong with it
     */
    static LedgerDir open(LedgerOs os, Path path) throws IOException {
        Path dir = path.toAbsolutePath().normalize();
        TrustedPath paths = os.paths();
        int euid = os.euid();
        int fd;
        try {
            fd = paths.openDirectory(dir.toString());
        } catch (TrustedPath.Refused e) {
            if (!e.notFound()) {
                throw new IOException(e.getMessage());
            }
            Files.createDirectories(dir.getParent());
            int parent = paths.openDirectory(dir.getParent().toString());
            try {
                if (os.libc().mkdirat(parent, dir.getFileName().toString(), 0700) != 0 && os.errno() != LedgerLibC.EEXIST) {
                    throw new IOException("cannot create " + dir + ": " + os.strerror(os.errno()));
                }
            } finally {
                os.os().close(parent);
            }
            fd = paths.openDirectory(dir.toString());
        }
        try {
            FileStat stat = os.os().posix().fstat(fd);
            if (stat.uid() != euid) {
                throw new IOException("refusing " + dir + ": it belongs to uid " + stat.uid() + ", not to blivetd's uid "
                        + euid + " (chown it, or name another directory)");
            }
            if ((stat.mode() & 0022) != 0) {
                throw new IOException("refusing " + dir + ": group or others may write it (mode "
                        + Integer.toOctalString(stat.mode() & 07777) + "; chmod 700 it)");
            }
            int sync = os.libc().openat(fd, ".", LedgerLibC.O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
            if (sync < 0) {
                throw new IOException("cannot open " + dir + ": " + os.strerror(os.errno()));
            }
            return new LedgerDir(os, dir, fd, sync);
        } catch (IOException | RuntimeException e) {
            os.os().close(fd);
            throw e;
        }
    }

    Path path() {
        return path;
    }

    /** The full path of the record {@code name}, for messages. */
    String where(String name) {
        return prefix + name + SUFFIX;
    }

    /** Whether {@code name} may name a record here. */
    static boolean safeName(String name) {
        // The job name charset keeps a record inside this directory: no "/", no leading "." (so
        // never "." or ".." and never one of our own ".NAME.tmp" files).
        return name != null && JobSpec.NAME.matcher(name).matches() && !name.contains("/");
    }

    private static String file(String name) {
        return file(name, SUFFIX);
    }

    private static String file(String name, String suffix) {
        if (!safeName(name)) {
            throw new IllegalArgumentException("not a job name, refused as a ledger file name: " + name);
        }
        return name + suffix;
    }

    /**
     * Replaces the record {@code name} with {@code bytes} at once: written to a temporary file
     * created O_EXCL, renamed over the record; with {@code durable}, the file is fsync'd before the
     * rename and the directory after it, so the record survives a power cut once this returns.
     */
    void write(String name, byte[] bytes, boolean durable) throws IOException {
        os.libc().close(place(name, bytes, durable));
        if (durable) {
            sync();
        }
    }

    /**
     * As {@link #write} without its fsyncs: the record is in place when this returns (a kill -9
     * of blivetd leaves it whole: it is in the page cache), and the fd returned, open on it, is
     * the caller's to {@link #syncFile} and close. For a record of a new name only: a power cut
     * before the fsyncs may leave the name missing or empty, never an older record damaged.
     */
    int placeUnsynced(String name, byte[] bytes) throws IOException {
        return place(name, bytes, false);
    }

    /** fsync(2) of a record's fd from {@link #placeUnsynced}; the directory's is {@link #sync}. */
    void syncFile(int fd) throws IOException {
        if (os.libc().fsync(fd) != 0) {
            throw new IOException("fsync a record in " + path + ": " + os.strerror(os.errno()));
        }
    }

    void close(int fd) {
        os.libc().close(fd);
    }

    /** The temporary file written (fsync'd first with {@code fsyncFirst}) and renamed over {@code name}: its fd. */
    private int place(String name, byte[] bytes, boolean fsyncFirst) throws IOException {
        String target = file(name);
        String temp = TEMP_PREFIX + name + TEMP_SUFFIX;
        int fd = createTemp(temp);
        if (fd < 0 && os.errno() == LedgerLibC.EEXIST) {
            // A crash's leftover; ours alone, the directory is 0700. Unlinked only when there is
            // one: a start writes two run records, and each paid this call for nothing.
            os.libc().unlinkat(dirFd, temp, 0);
            fd = createTemp(temp);
        }
        if (fd < 0) {
            throw new IOException("cannot write " + path.resolve(temp) + ": " + os.strerror(os.errno()));
        }
        boolean placed = false;
        try {
            int off = 0;
            while (off < bytes.length) {
                byte[] chunk = off == 0 ? bytes : java.util.Arrays.copyOfRange(bytes, off, bytes.length);
                long n = os.libc().write(fd, chunk, chunk.length);
                if (n <= 0) {
                    throw new IOException("cannot write " + path.resolve(temp) + ": " + os.strerror(os.errno()));
                }
                off += (int) n;
            }
            if (fsyncFirst && os.libc().fsync(fd) != 0) {
                throw new IOException("fsync " + path.resolve(temp) + ": " + os.strerror(os.errno()));
            }
            if (os.libc().renameat(dirFd, temp, dirFd, target) != 0) {
                throw new IOException("cannot rename " + path.resolve(temp) + " to " + target + ": "
                        + os.strerror(os.errno()));
            }
            placed = true;
            return fd;
        } finally {
            if (!placed) {
                os.libc().unlinkat(dirFd, temp, 0);
                os.libc().close(fd);
            }
        }
    }

    /**
     * A record this small is rewritten in place ({@link #overwrite}): one write within the first
     * page of a tmpfs file, which a kill -9 of the writer cannot tear (the kernel checks for a
     * fatal signal only between pages).
     */
    static final int IN_PLACE_MAX = 4096;

    /**
     * Replaces the runtime record {@code name} in place, never fsync'd: {@code bytes} padded with
     * spaces (which JSON ignores) to the old record's length, in one pwrite at offset 0. A start
     * writes two run records on the loop the reply waits on, and the temporary file and rename of
     * {@link #write} cost each of them an inode and a rename (docs/benchmarks.md, "The ledger").
     * A crash between the create and the write leaves an empty file, which reads as no record: it
     * only happens to a start's first record, before anything was spawned. Anything in the way
     * that is not a small regular file (only root could put it there) is replaced by {@link #write}.
     */
    void overwrite(String name, byte[] bytes) throws IOException {
        String target = file(name);
        int fd = bytes.length > IN_PLACE_MAX ? -1 : os.libc().openat(dirFd, target, LedgerLibC.O_WRONLY
                | LedgerLibC.O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
        if (fd < 0) {
            write(name, bytes, false);
            return;
        }
        boolean written;
        try {
            long size = os.libc().lseek(fd, 0, LedgerLibC.SEEK_END);
            byte[] padded = bytes;
            if (size > bytes.length && size <= IN_PLACE_MAX) {
                padded = java.util.Arrays.copyOf(bytes, (int) size);
                java.util.Arrays.fill(padded, bytes.length, padded.length, (byte) ' ');
            }
            written = size >= 0 && size <= IN_PLACE_MAX && os.libc().pwrite(fd, padded, padded.length, 0) == padded.length;
        } finally {
            os.libc().close(fd);
        }
        if (!written) {
            write(name, bytes, false);
        }
    }

    private int createTemp(String temp) {
        return os.libc().openat(dirFd, temp, LedgerLibC.O_WRONLY | LedgerLibC.O_CREAT | LedgerLibC.O_EXCL
                | O_NOFOLLOW | O_CLOEXEC, 0600);
    }

    /** Makes renames and removals so far durable. */
    void sync() throws IOException {
        if (os.libc().fsync(syncFd) != 0) {
            throw new IOException("fsync " + path + ": " + os.strerror(os.errno()));
        }
    }

    /** Whether {@code file} is the temporary file of {@link #write}, which a crash may leave. */
    static boolean temporary(String file) {
        int end = file.length() - TEMP_SUFFIX.length();
        return file.startsWith(TEMP_PREFIX) && file.endsWith(TEMP_SUFFIX) && end > TEMP_PREFIX.length()
                && safeName(file.substring(TEMP_PREFIX.length(), end));
    }

    /** Removes {@code file}, a {@link #temporary} one (unlinkat never follows a symlink). */
    void removeTemporary(String file) {
        if (temporary(file)) {
            os.libc().unlinkat(dirFd, file, 0);
        }
    }

    /** Removes the record {@code name}, if any. */
    void delete(String name) {
        os.libc().unlinkat(dirFd, file(name), 0);
    }

    /**
     * Creates the empty marker {@code NAME.down} (O_EXCL, O_NOFOLLOW: never through anything
     * planted). Not fsync'd: see {@link JobLedger#desired}.
     */
    void mark(String name) throws IOException {
        String marker = file(name, DOWN);
        int fd = os.libc().openat(dirFd, marker, LedgerLibC.O_WRONLY | LedgerLibC.O_CREAT | LedgerLibC.O_EXCL
                | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) {
            if (os.errno() == LedgerLibC.EEXIST) {
                return; // ours from an earlier stop; whatever it is, the next start unlinks it and a load checks it
            }
            throw new IOException("cannot create " + path.resolve(marker) + ": " + os.strerror(os.errno()));
        }
        os.libc().close(fd);
    }

    /**
     * Removes the marker {@code NAME.down}, if any (unlinkat never follows a symlink).
     *
     * @throws IOException if it is there and stays
     */
    void unmark(String name) throws IOException {
        String marker = file(name, DOWN);
        if (os.libc().unlinkat(dirFd, marker, 0) != 0) {
            int errno = os.errno();
            if (errno != LedgerLibC.ENOENT) {
                throw new IOException("cannot remove " + path.resolve(marker) + ": " + os.strerror(errno));
            }
        }
    }

    /**
     * Whether the marker {@code NAME.down} is there.
     *
     * @throws BadRecord naming the file: it passes the checks of a record (regular, blivetd's
     *     euid, one link, not writable by others) and must be empty
     */
    boolean marked(String name) throws IOException {
        String file = file(name, DOWN);
        int fd = open(file);
        if (fd < 0) {
            return false;
        }
        try {
            check(fd, file, 0);
            return true;
        } finally {
            os.libc().close(fd);
        }
    }

    /** An fd on {@code file} for reading, or -1 if there is none; a symlink is refused. */
    private int open(String file) throws BadRecord {
        int fd = os.libc().openat(dirFd, file, LedgerLibC.O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0);
        if (fd < 0) {
            int errno = os.errno();
            if (errno == LedgerLibC.ENOENT) {
                return -1;
            }
            throw new BadRecord(path.resolve(file) + ": "
                    + (errno == 40 ? "a symlink (the ledger follows none)" : os.strerror(errno)));
        }
        return fd;
    }

    /**
     * The size of the file open at {@code fd}, once it passed the checks of a record. The file's
     * full path is built only for a refusal: re-adoption reads a thousand records and no refusal.
     */
    private long check(int fd, String file, int maxBytes) throws BadRecord {
        FileStat stat = os.os().posix().fstat(fd);
        if (!stat.isFile()) {
            throw new BadRecord(path.resolve(file) + ": not a regular file");
        }
        if (stat.uid() != os.euid()) {
            throw new BadRecord(path.resolve(file) + ": belongs to uid " + stat.uid() + ", not to blivetd's uid " + os.euid());
        }
        if (stat.nlink() != 1) {
            throw new BadRecord(path.resolve(file) + ": has " + stat.nlink() + " links (a record blivetd wrote has one)");
        }
        if ((stat.mode() & 0022) != 0) {
            throw new BadRecord(path.resolve(file) + ": group or others may write it");
        }
        if (stat.st_size() > maxBytes) {
            throw new BadRecord(path.resolve(file) + ": " + stat.st_size() + " bytes, more than " + (maxBytes == 0
                    ? "a marker holds (none)" : "a record may hold (" + maxBytes + ")"));
        }
        return stat.st_size();
    }

    /**
     * The record {@code name}, or null if there is none.
     *
     * @throws BadRecord naming the file: not a regular file of ours with one link, or bigger than {@code maxBytes}
     */
    byte[] read(String name, int maxBytes) throws IOException {
        String file = file(name);
        int fd = open(file);
        if (fd < 0) {
            return null;
        }
        try {
            // Sized by fstat, one byte more to see the end: a buffer of maxBytes for each of a
            // thousand records cost re-adoption more than their parsing (docs/benchmarks.md,
            // "Custody"). A file that grew since fstat is read on, up to one byte past the bound.
            byte[] buffer = new byte[(int) check(fd, file, maxBytes) + 1];
            int total = 0;
            while (true) {
                if (total == buffer.length) {
                    if (total > maxBytes) {
                        break;
                    }
                    buffer = java.util.Arrays.copyOf(buffer, maxBytes + 1);
                }
                byte[] into = total == 0 ? buffer : new byte[buffer.length - total];
                long n = os.libc().read(fd, into, into.length);
                if (n < 0) {
                    throw new BadRecord(path.resolve(file) + ": " + os.strerror(os.errno()));
                }
                if (n == 0) {
                    break;
                }
                if (into != buffer) {
                    System.arraycopy(into, 0, buffer, total, (int) n);
                }
                total += (int) n;
            }
            if (total > maxBytes) {
                throw new BadRecord(path.resolve(file) + ": more than a record may hold (" + maxBytes + " bytes)");
            }
            return java.util.Arrays.copyOf(buffer, total);
        } finally {
            os.libc().close(fd);
        }
    }

    /**
     * The names of the records here; {@code markers}, unless null, gets the names of the
     * {@code NAME.down} markers; {@code strays} gets every other entry (a leftover temporary
     * file, anything planted) by file name.
     */
    List<String> names(List<String> strays, List<String> markers) throws IOException {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> listing = Files.newDirectoryStream(TrustedPath.viaFd(dirFd))) {
            for (Path entry : listing) {
                String file = entry.getFileName().toString();
                String name = file.endsWith(SUFFIX) ? file.substring(0, file.length() - SUFFIX.length()) : null;
                String marked = markers != null && file.endsWith(DOWN) ? file.substring(0, file.length() - DOWN.length()) : null;
                if (name != null && safeName(name)) {
                    names.add(name);
                } else if (marked != null && safeName(marked)) {
                    markers.add(marked);
                } else {
                    strays.add(file);
                }
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        names.sort(null);
        return names;
    }

    @Override
    public void close() {
        os.os().close(dirFd);
        os.os().close(syncFd);
    }
}
