package dev.blivet.common;

import java.util.Optional;

/** The user and group databases (NSS included), behind an interface so validation is testable. */
public interface Accounts {
    /** A user by name, or by number when the text is all digits. */
    Optional<Account> user(String nameOrUid);

    /** A user by uid. */
    Optional<Account> user(int uid);

    /** A group's gid by name, or by number when the text is all digits. */
    Optional<Integer> group(String nameOrGid);

    /** The groups initgroups(3) would give the user: its memberships plus {@code primaryGid}. */
    int[] groupsOf(Account account, int primaryGid);

    /** The effective uid of this process: only root may run jobs as another user. */
    int effectiveUid();
}
