package dev.blivet.daemon.cgroup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import jnr.constants.platform.OpenFlags;
import jnr.ffi.LastError;
import jnr.ffi.Runtime;
import jnr.posix.POSIX;

/**
 * One cgroup v2 directory, held by an fd that was proven to be on a cgroup2 file system
 * (fstatfs magic) when it was opened. Every file and child is reached relative to that fd, one
 * component at a time with O_NOFOLLOW, so no path a user could influence is ever resolved: the
 * directories are blivetd's (root, 0755) and cgroupfs has no symbolic links, but the proof costs
 * one call and holds even if someone mounted something else on the way. Not thread-safe for
 * close; the reads and writes are.
 */
public final class CgroupDir implements AutoCloseable {
    /** O_PATH (the same on x86-64 and aarch64): to test that a file exists without opening it. */
    static final int PATH_FLAGS = 010000000 | OpenFlags.O_NOFOLLOW.intValue() | OpenFlags.O_CLOEXEC.intValue();
    static final int DIR_FLAGS = OpenFlags.O_RDONLY.intValue() | OpenFlags.O_DIRECTORY.intValue()
            | OpenFlags.O_NOFOLLOW.intValue() | OpenFlags.O_CLOEXEC.intValue();
    private static final int READ_FLAGS = OpenFlags.O_RDONLY.intValue() | OpenFlags.O_NOFOLLOW.intValue()
            | OpenFlags.O_CLOEXEC.intValue();
    private static final int WRITE_FLAGS = OpenFlags.O_WRONLY.intValue() | OpenFlags.O_NOFOLLOW.intValue()
            | OpenFlags.O_CLOEXEC.intValue();
    /** cgroup interface files are small; cgroup.procs of a huge job is read in several rounds. */
    private static final int CHUNK = 64 * 1024;
    /** A job's cgroup.procs beyond this is read no further (a fork bomb must not eat blivetd's heap). */
    private static final int MAX_FILE = 16 << 20;

    private final Native lib;
    private final Path path;
    private final String cgroupPath;
    private volatile int fd;

    /** The libc, its errno and strerror, shared by every directory of one tree. */
    record Native(CgroupLibC libc, Runtime runtime, POSIX posix) {
        static Native load(POSIX posix) {
            CgroupLibC libc = CgroupLibC.load();
            return new Native(libc, Runtime.getRuntime(libc), posix);
        }

        int errno() {
            return LastError.getLastError(runtime);
        }

        String strerror(int errno) {
            return posix.strerror(errno);
        }
    }

    private CgroupDir(Native lib, int fd, Path path, String cgroupPath) {
        this.lib = lib;
        this.fd = fd;
        this.path = path;
        this.cgroupPath = cgroupPath;
    }

    /**
     * Opens the cgroup2 mount point itself. The path comes from /proc/self/mountinfo, not from a
     * user; the fd is then proven to be cgroup2.
     *
     * @param cgroupPath the path the kernel shows for it in /proc/PID/cgroup ("/" for the root)
     */
    static CgroupDir openMount(Native lib, Path mountPoint, String cgroupPath) throws IOException {
        int fd = lib.libc().openat(-100 /* AT_FDCWD */, mountPoint.toString(), DIR_FLAGS, 0);
        if (fd < 0) {
            throw error(lib, "open", mountPoint);
        }
        return verified(lib, fd, mountPoint, cgroupPath);
    }

    private static CgroupDir verified(Native lib, int fd, Path path, String cgroupPath) throws IOException {
        byte[] statfs = new byte[CgroupLibC.STATFS_SIZE];
        if (lib.libc().fstatfs(fd, statfs) != 0) {
            IOException e = error(lib, "fstatfs", path);
            lib.libc().close(fd);
            throw e;
        }
        long magic = ByteBuffer.wrap(statfs).order(ByteOrder.nativeOrder()).getLong(0);
        if (magic != CgroupLibC.CGROUP2_SUPER_MAGIC) {
            lib.libc().close(fd);
            throw new IOException(path + " is not on a cgroup2 file system (f_type 0x" + Long.toHexString(magic) + ")");
        }
        return new CgroupDir(lib, fd, path, cgroupPath);
    }

    /** The directory as the file system names it (for logs, and for readers such as status). */
    public Path path() {
        return path;
    }

    /** The cgroup as /proc/PID/cgroup names it ("0::" + this). */
    public String cgroupPath() {
        return cgroupPath;
    }

    /** The fd of the directory (owned by this object; dup it to hand it on). */
    int fd() {
        return fd;
    }

    /** The child directory {@code name} (one component, no '/'), made 0755 first if {@code create}. */
    CgroupDir child(String name, boolean create) throws IOException {
        return child(name, create, false);
    }

    /**
     * The child directory {@code name} if it exists, else null: without an exception, because every
     * start of a job asks it (leftovers of an earlier run) and most find none.
     */
    CgroupDir childIfExists(String name) throws IOException {
        return child(name, false, true);
    }

    private CgroupDir child(String name, boolean create, boolean mayBeMissing) throws IOException {
        if (name.isEmpty() || name.contains("/") || name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException("not one path component: " + name);
        }
        Path childPath = path.resolve(name);
        if (create && lib.libc().mkdirat(fd, name, 0755) != 0 && lib.errno() != CgroupLibC.EEXIST) {
            throw error(lib, "mkdir", childPath);
        }
        int childFd = lib.libc().openat(fd, name, DIR_FLAGS, 0);
        if (childFd < 0) {
            if (mayBeMissing && lib.errno() == CgroupLibC.ENOENT) {
                return null;
            }
            throw error(lib, "open", childPath);
        }
        return verified(lib, childFd, childPath, cgroupPath.equals("/") ? "/" + name : cgroupPath + "/" + name);
    }

    /** Removes the empty child cgroup {@code name}: false if it is still populated or has children. */
    boolean removeChild(String name) {
        return lib.libc().unlinkat(fd, name, CgroupLibC.AT_REMOVEDIR) == 0 || lib.errno() == CgroupLibC.ENOENT;
    }

    /** The names of the child cgroups (directories), from the directory's listing. */
    List<String> children() throws IOException {
        List<String> names = new ArrayList<>();
        // The listing through /proc/self/fd keeps it relative to our verified fd.
        try (var entries = java.nio.file.Files.newDirectoryStream(Path.of("/proc/self/fd/" + fd))) {
            for (Path entry : entries) {
                if (java.nio.file.Files.isDirectory(entry, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    names.add(entry.getFileName().toString());
                }
            }
        }
        return names;
    }

    /** A whole interface file (cgroup.events, cpu.stat, ...), as text. */
    public String read(String file) throws IOException {
        int in = lib.libc().openat(fd, file, READ_FLAGS, 0);
        if (in < 0) {
            throw error(lib, "open", path.resolve(file));
        }
        try {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            byte[] buffer = new byte[CHUNK];
            while (out.size() < MAX_FILE) {
                long n = lib.libc().read(in, buffer, buffer.length);
                if (n < 0 && lib.errno() == CgroupLibC.EINTR) {
                    continue;
                }
                if (n < 0) {
                    throw error(lib, "read", path.resolve(file));
                }
                if (n == 0) {
                    break;
                }
                out.write(buffer, 0, (int) n);
            }
            return out.toString(StandardCharsets.UTF_8);
        } finally {
            lib.libc().close(in);
        }
    }

    /** Writes {@code text} to an interface file in one write (cgroup files take one value per write). */
    void write(String file, String text) throws IOException {
        int out = lib.libc().openat(fd, file, WRITE_FLAGS, 0);
        if (out < 0) {
            throw error(lib, "open", path.resolve(file));
        }
        try {
            byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
            if (lib.libc().write(out, bytes, bytes.length) != bytes.length) {
                throw error(lib, "write " + text.strip() + " to", path.resolve(file));
            }
        } finally {
            lib.libc().close(out);
        }
    }

    /** The pids in cgroup.procs (a snapshot: members may come and go meanwhile). */
    public List<Integer> pids() throws IOException {
        List<Integer> pids = new ArrayList<>();
        for (String line : read("cgroup.procs").split("\n")) {
            if (!line.isBlank()) {
                pids.add(Integer.parseInt(line.strip()));
            }
        }
        return pids;
    }

    /** "populated 1" in cgroup.events: a process lives in this cgroup or below. */
    public boolean populated() throws IOException {
        for (String line : read("cgroup.events").split("\n")) {
            if (line.startsWith("populated ")) {
                return !line.equals("populated 0");
            }
        }
        throw new IOException(path.resolve("cgroup.events") + " has no populated line");
    }

    @Override
    public void close() {
        int old = fd;
        fd = -1;
        if (old >= 0) {
            lib.libc().close(old);
        }
    }

    private static CgroupException error(Native lib, String what, Path where) {
        int errno = lib.errno();
        return new CgroupException(what + " " + where + ": " + lib.strerror(errno), errno);
    }

}
