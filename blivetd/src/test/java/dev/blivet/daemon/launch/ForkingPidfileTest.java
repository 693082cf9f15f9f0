package dev.blivet.daemon.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import org.junit.jupiter.api.Test;

/** What counts as a pid in a forking job's pidfile: digits only, never echoed back. */
class ForkingPidfileTest {
    @Test
    void digitsWithWhiteSpaceAreAPid() {
        assertEquals(new ForkingPidfile.Pid(4242), ForkingPidfile.parse("/run/x.pid", "4242\n"));
        assertEquals(new ForkingPidfile.Pid(4242), ForkingPidfile.parse("/run/x.pid", " 4242 "));
    }

    @Test
    void anythingElseIsNotYetAPid() {
        for (String content : new String[] {"", "\n", "-1", "42a", "0x10", "12345678", "1 2", "+5"}) {
            ForkingPidfile.NotYet notYet = assertInstanceOf(ForkingPidfile.NotYet.class,
                    ForkingPidfile.parse("/run/x.pid", content), content);
            assertEquals(false, notYet.why().contains(content.strip()) && !content.isBlank(),
                    "the content is never echoed: " + notYet.why());
        }
        assertInstanceOf(ForkingPidfile.NotYet.class, ForkingPidfile.parse("/run/x.pid", null));
    }
}
