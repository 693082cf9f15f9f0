package dev.blivet.daemon.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.blivet.common.Account;
import dev.blivet.common.Accounts;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** One look-up per uid and connection; a new connection sees the database as it is now. */
class ConnectionAccountsTest {
    /** A user database that counts its look-ups and can be edited between connections. */
    private static final class Database implements Accounts {
        final Map<Integer, Account> users = new HashMap<>();
        final Map<Integer, int[]> groups = new HashMap<>();
        int userLookups;
        int groupLookups;

        @Override
        public Optional<Account> user(String nameOrUid) {
            return users.values().stream().filter(a -> a.name().equals(nameOrUid)).findFirst();
        }

        @Override
        public Optional<Account> user(int uid) {
            userLookups++;
            return Optional.ofNullable(users.get(uid));
        }

        @Override
        public Optional<Integer> group(String nameOrGid) {
            return Optional.empty();
        }

        @Override
        public int[] groupsOf(Account account, int primaryGid) {
            groupLookups++;
            return groups.getOrDefault(account.uid(), new int[] {primaryGid}).clone();
        }

        @Override
        public int effectiveUid() {
            return 0;
        }
    }

    private final Database db = new Database();

    @Test
    void aConnectionLooksEachUidUpOnce() {
        db.users.put(1000, new Account("alice", 1000, 1000, "/home/alice", "/bin/sh"));
        db.groups.put(1000, new int[] {1000, 27});
        ConnectionAccounts connection = new ConnectionAccounts(db);
        for (int start = 0; start < 5; start++) {
            Account alice = connection.user(1000).orElseThrow();
            assertArrayEquals(new int[] {1000, 27}, connection.groupsOf(alice, alice.gid()));
        }
        assertEquals(1, db.userLookups);
        assertEquals(1, db.groupLookups);
    }

    @Test
    void theNextConnectionSeesAChangedAccount() {
        db.users.put(1000, new Account("alice", 1000, 1000, "/home/alice", "/bin/sh"));
        db.groups.put(1000, new int[] {1000, 27});
        ConnectionAccounts first = new ConnectionAccounts(db);
        Account before = first.user(1000).orElseThrow();
        assertArrayEquals(new int[] {1000, 27}, first.groupsOf(before, before.gid()));

        // The admin renames the user, moves the home and drops a group; then the uid goes away.
        db.users.put(1000, new Account("alicia", 1000, 1000, "/srv/alicia", "/bin/bash"));
        db.groups.put(1000, new int[] {1000});
        ConnectionAccounts second = new ConnectionAccounts(db);
        Account after = second.user(1000).orElseThrow();
        assertEquals("alicia", after.name());
        assertEquals("/srv/alicia", after.home());
        assertArrayEquals(new int[] {1000}, second.groupsOf(after, after.gid()));

        db.users.remove(1000);
        assertEquals(Optional.empty(), new ConnectionAccounts(db).user(1000), "a deleted uid is gone for the next one");
    }

    @Test
    void aMissingUidIsRememberedTooAndTheCacheIsBounded() {
        ConnectionAccounts connection = new ConnectionAccounts(db);
        connection.user(4242);
        connection.user(4242);
        assertEquals(1, db.userLookups, "a uid with no entry is not asked again");
        for (int uid = 0; uid < 100; uid++) {
            connection.user(5000 + uid);
        }
        int lookups = db.userLookups;
        connection.user(5099);
        assertEquals(lookups + 1, db.userLookups, "past " + ConnectionAccounts.MAX_ENTRIES + " uids nothing more is kept");
    }

    @Test
    void callersCannotChangeTheCachedGroups() {
        db.users.put(7, new Account("svc", 7, 7, "/", "/bin/false"));
        db.groups.put(7, new int[] {7, 8});
        ConnectionAccounts connection = new ConnectionAccounts(db);
        Account svc = connection.user(7).orElseThrow();
        connection.groupsOf(svc, 7)[1] = 0;
        assertArrayEquals(new int[] {7, 8}, connection.groupsOf(svc, 7));
    }
}
