package dev.blivet.daemon.server;

import dev.blivet.common.Account;
import dev.blivet.common.Accounts;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The user database as one connection sees it: a uid's account and its groups are looked up once
 * per connection, not once per start (getpwuid and getgrouplist read /etc/passwd and /etc/group,
 * or ask NSS, every time). A new connection looks again, so an account changed in between is seen
 * by the next blivetctl call; a connection that lives across the change keeps what it saw, as a
 * logged-in shell keeps its groups. Look-ups by name pass through: a spec names them, and a
 * client could name many. At most {@link #MAX_ENTRIES} uids are kept, so a connection cannot grow
 * it. One connection's thread uses it.
 */
final class ConnectionAccounts implements Accounts {
    /** A start asks about the client, blivetd's own user and the spec's user: a few uids. */
    static final int MAX_ENTRIES = 8;

    /** getgrouplist's inputs: the account's name (in the record) and the primary group. */
    private record Groups(Account account, int primaryGid) {
    }

    private final Accounts accounts;
    private final Map<Integer, Optional<Account>> users = new HashMap<>();
    private final Map<Groups, int[]> groups = new HashMap<>();

    ConnectionAccounts(Accounts accounts) {
        this.accounts = accounts;
    }

    @Override
    public Optional<Account> user(int uid) {
        Optional<Account> known = users.get(uid);
        if (known != null) {
            return known;
        }
        Optional<Account> found = accounts.user(uid);
        if (users.size() < MAX_ENTRIES) {
            users.put(uid, found);
        }
        return found;
    }

    @Override
    public int[] groupsOf(Account account, int primaryGid) {
        Groups key = new Groups(account, primaryGid);
        int[] known = groups.get(key);
        if (known == null) {
            known = accounts.groupsOf(account, primaryGid);
            if (groups.size() < MAX_ENTRIES) {
                groups.put(key, known);
            }
        }
        return known.clone(); // callers own their array
    }

    @Override
    public Optional<Account> user(String nameOrUid) {
        return accounts.user(nameOrUid);
    }

    @Override
    public Optional<Integer> group(String nameOrGid) {
        return accounts.group(nameOrGid);
    }

    @Override
    public int effectiveUid() {
        return accounts.effectiveUid();
    }
}
