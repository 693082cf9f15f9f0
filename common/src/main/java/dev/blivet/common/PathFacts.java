package dev.blivet.common;

/**
 * What one stat(2) or lstat(2) said of a path: every question the resolver asks of a path is
 * answered from one of these, so a path costs one system call, two for a symbolic link (issue
 * 13's "one stat per path"; docs/architecture.md, "The intake's look at the file system").
 *
 * @param mode st_mode, its file type included
 * @param device st_dev
 * @param inode st_ino
 * @param uid the owner
 * @param gid the group
 * @param links st_nlink
 */
public record PathFacts(int mode, long device, long inode, int uid, int gid, int links) {
    /** Nothing there, or nothing blivetd can see (any error of the call: ENOENT, ENOTDIR, EACCES, ELOOP). */
    public static final PathFacts MISSING = new PathFacts(0, 0, 0, 0, 0, 0);

    private static final int TYPE = 0170000;
    private static final int DIRECTORY = 0040000;
    private static final int REGULAR = 0100000;
    private static final int SYMBOLIC_LINK = 0120000;

    public boolean exists() {
        return (mode & TYPE) != 0;
    }

    public boolean isDirectory() {
        return (mode & TYPE) == DIRECTORY;
    }

    public boolean isRegularFile() {
        return (mode & TYPE) == REGULAR;
    }

    public boolean isSymbolicLink() {
        return (mode & TYPE) == SYMBOLIC_LINK;
    }

    /** The permission bits, for {@link FileModes#executableBy}. */
    public int permissions() {
        return mode & 07777;
    }

    /** Both exist and are one inode: the same file, by whatever names. */
    public boolean isSameFileAs(PathFacts other) {
        return exists() && other.exists() && device == other.device && inode == other.inode;
    }
}
