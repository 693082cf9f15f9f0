package dev.blivet.common;

/** The execute-permission rule of a file's mode bits, as execve(2) applies it to another identity. */
final class FileModes {
    private FileModes() {
    }

    /**
     * Whether {@code identity} may execute a file with this mode, owner and group: root needs any
     * x bit; the owner's class, else the group's (primary or supplementary), else others' decides.
     */
    static boolean executableBy(int mode, int owner, int group, Identity identity) {
        if (identity.uid() == 0) {
            return (mode & 0111) != 0;
        }
        if (identity.uid() == owner) {
            return (mode & 0100) != 0;
        }
        boolean inGroup = identity.gid() == group || contains(identity.groups(), group);
        return inGroup ? (mode & 0010) != 0 : (mode & 0001) != 0;
    }

    private static boolean contains(int[] values, int value) {
        for (int v : values) {
            if (v == value) {
                return true;
            }
        }
        return false;
    }
}
