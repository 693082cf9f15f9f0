package dev.blivet.daemon.supervisor;

import dev.blivet.common.protocol.JobState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/** Tells who waits for a job's state and who subscribed to changes. Loop thread only. */
final class Notifier {
    /**
     * Waits on one job object, not a name: a name can pass to another user's job meanwhile. Its
     * timeout is cancelled as soon as it is answered: a pending timer holds the waiter, and through
     * it the job, for up to a day, and a client can make waits (and jobs) faster than that.
     */
    private static final class StateWaiter {
        final Job job;
        final Set<JobState> states;
        final CompletableFuture<JobSnapshot> reply;
        Timers.Timer timeout;

        StateWaiter(Job job, Set<JobState> states, CompletableFuture<JobSnapshot> reply) {
            this.job = job;
            this.states = states;
            this.reply = reply;
        }

        void answer(JobSnapshot snapshot) {
            timeout.cancel();
            reply.complete(snapshot);
        }

        void fail(Refused refused) {
            timeout.cancel();
            reply.completeExceptionally(refused);
        }
    }

    private final JobTable table;
    private final Timers timers;
    private final EventLoop loop;
    private final List<StateWaiter> stateWaiters = new ArrayList<>();
    private final List<Subscriber> subscribers = new ArrayList<>();

    Notifier(JobTable table, Timers timers, EventLoop loop) {
        this.table = table;
        this.timers = timers;
        this.loop = loop;
    }

    /** Tells waiters and subscribers about the job's current state. */
    void publish(Job job) {
        JobSnapshot snapshot = table.snapshot(job);
        for (Iterator<StateWaiter> it = stateWaiters.iterator(); it.hasNext();) {
            StateWaiter waiter = it.next();
            if (waiter.job == job && waiter.states.contains(job.state())) {
                it.remove();
                waiter.answer(snapshot);
            }
        }
        subscribers.removeIf(s -> JobTable.visible(job, s.uid()) && !s.offer(snapshot));
    }

    /** Answers once the job is in one of {@code states}, or fails with a wait timeout. */
    CompletableFuture<JobSnapshot> waitFor(Job job, Set<JobState> states, Duration timeout) {
        if (states.contains(job.state())) {
            return CompletableFuture.completedFuture(table.snapshot(job));
        }
        CompletableFuture<JobSnapshot> reply = new CompletableFuture<>();
        StateWaiter waiter = new StateWaiter(job, Set.copyOf(states), reply);
        stateWaiters.add(waiter);
        waiter.timeout = timers.schedule(timeout, () -> loop.post(() -> {
            if (stateWaiters.remove(waiter)) {
                reply.completeExceptionally(new Refused(new Refusal.WaitTimeout(job.name, waiter.states, timeout)));
            }
        }));
        return reply;
    }

    /** The job was removed: whoever still waits for one of its states learns that it is gone. */
    void forgotten(Job job) {
        subscribers.stream().filter(s -> JobTable.visible(job, s.uid())).forEach(s -> s.forgotten(job.name));
        Refused gone = new Refused(new Refusal.NotFound(job.name, true));
        for (Iterator<StateWaiter> it = stateWaiters.iterator(); it.hasNext();) {
            StateWaiter waiter = it.next();
            if (waiter.job == job) {
                it.remove();
                waiter.fail(gone);
            }
        }
    }

    void subscribe(Subscriber subscriber) {
        subscribers.add(subscriber);
    }

    void unsubscribe(Subscriber subscriber) {
        subscribers.remove(subscriber);
    }
}
