package dev.blivet.daemon.server;

import dev.blivet.common.protocol.Protocol;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How many logs each user follows at once. A follower costs an inotify instance, and blivetd's
 * count against root's per-user limit (fs.inotify.max_user_instances, 128 by default), which
 * systemd, udev and every other root process share: a few users following without bound took
 * every one of them. Root is not limited here.
 */
final class Follows {
    private final Map<Integer, AtomicInteger> byUid = new ConcurrentHashMap<>();

    /** Takes a place for {@code uid}; false when it already follows as many logs as a user may. */
    boolean tryAcquire(Peer peer) {
        if (peer.isRoot()) {
            return true;
        }
        AtomicInteger count = byUid.computeIfAbsent(peer.uid(), uid -> new AtomicInteger());
        if (count.incrementAndGet() > Protocol.MAX_FOLLOWS_PER_USER) {
            count.decrementAndGet();
            return false;
        }
        return true;
    }

    void release(Peer peer) {
        if (!peer.isRoot()) {
            byUid.get(peer.uid()).decrementAndGet();
        }
    }
}
