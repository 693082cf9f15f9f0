package dev.blivet.common;

import java.util.Arrays;
import java.util.Optional;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Platform;
import jnr.ffi.byref.IntByReference;
import jnr.posix.Group;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;
import jnr.posix.Passwd;

/**
 * {@link Accounts} from libc, so that LDAP or sssd users resolve exactly as login would. Thread
 * safe: getpwnam, getpwuid, getgrnam and getgrgid return libc's static buffers, and jnr-posix
 * reads the fields from them lazily, so each lookup and its copy happen under one lock (blivetd
 * resolves specs on every client's connection thread and on reload at the same time).
 */
public final class NativeAccounts implements Accounts {
    /** getgrouplist(3) is not in jnr-posix. */
    public interface GroupList {
        int getgrouplist(String user, int group, int[] groups, IntByReference ngroups);
    }

    private final POSIX posix;
    private final GroupList groupList;
    private final Object libcBuffers = new Object();

    public NativeAccounts() {
        this(POSIXFactory.getNativePOSIX(), LibraryLoader.create(GroupList.class)
                .load(Platform.getNativePlatform().getStandardCLibraryName()));
    }

    NativeAccounts(POSIX posix, GroupList groupList) {
        this.posix = posix;
        this.groupList = groupList;
    }

    @Override
    public Optional<Account> user(String nameOrUid) {
        if (isNumber(nameOrUid)) {
            return parseId(nameOrUid).flatMap(this::user);
        }
        synchronized (libcBuffers) {
            return toAccount(posix.getpwnam(nameOrUid));
        }
    }

    @Override
    public Optional<Account> user(int uid) {
        synchronized (libcBuffers) {
            return toAccount(posix.getpwuid(uid));
        }
    }

    @Override
    public Optional<Integer> group(String nameOrGid) {
        synchronized (libcBuffers) {
            Group g = isNumber(nameOrGid) ? parseId(nameOrGid).map(posix::getgrgid).orElse(null) : posix.getgrnam(nameOrGid);
            return g == null ? Optional.empty() : Optional.of((int) g.getGID());
        }
    }

    @Override
    public int[] groupsOf(Account account, int primaryGid) {
        int[] groups = new int[64];
        IntByReference count = new IntByReference(groups.length);
        // glibc reports the needed size through count when the array is too small.
        while (groupList.getgrouplist(account.name(), primaryGid, groups, count) < 0) {
            groups = new int[Math.max(count.intValue(), groups.length * 2)];
            count = new IntByReference(groups.length);
        }
        return Arrays.stream(groups, 0, count.intValue()).distinct().toArray();
    }

    @Override
    public int effectiveUid() {
        return posix.geteuid();
    }

    private static Optional<Account> toAccount(Passwd pw) {
        if (pw == null) {
            return Optional.empty();
        }
        return Optional.of(new Account(pw.getLoginName(), (int) pw.getUID(), (int) pw.getGID(), pw.getHome(), pw.getShell()));
    }

    private static boolean isNumber(String text) {
        return !text.isEmpty() && text.chars().allMatch(Character::isDigit);
    }

    private static Optional<Integer> parseId(String digits) {
        try {
            long id = Long.parseLong(digits);
            return id <= 0xFFFF_FFFEL ? Optional.of((int) id) : Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
