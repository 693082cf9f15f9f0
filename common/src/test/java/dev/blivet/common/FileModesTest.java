package dev.blivet.common;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The x-bit rule the resolver applies for a job that runs as another identity than blivetd's. */
class FileModesTest {
    private static final int OWNER = 4242;
    private static final int GROUP = 4343;
    private static final int STRANGER = 4444;

    @Test
    void anotherIdentityExecutesByTheModeBitsOfItsClass() {
        int ownerOnly = 0700;
        assertTrue(FileModes.executableBy(ownerOnly, OWNER, GROUP, new Identity(OWNER, STRANGER, new int[] {STRANGER})));
        assertFalse(FileModes.executableBy(ownerOnly, OWNER, GROUP, new Identity(STRANGER, GROUP, new int[] {GROUP})),
                "group has no x");
        assertFalse(FileModes.executableBy(0770, OWNER, GROUP, new Identity(STRANGER, STRANGER, new int[] {STRANGER})),
                "others have no x");
        assertTrue(FileModes.executableBy(0601, OWNER, GROUP, new Identity(STRANGER, STRANGER, new int[] {STRANGER})),
                "through the other bits");
        assertFalse(FileModes.executableBy(0601, OWNER, GROUP, new Identity(OWNER, GROUP, new int[] {GROUP})),
                "the owner's class decides for the owner, though others may");
        assertTrue(FileModes.executableBy(0610, OWNER, GROUP, new Identity(STRANGER, STRANGER, new int[] {GROUP})),
                "a supplementary group counts");
        assertTrue(FileModes.executableBy(0001, OWNER, GROUP, new Identity(0, 0, new int[] {0})), "root: any x bit");
        assertFalse(FileModes.executableBy(0666, OWNER, GROUP, new Identity(0, 0, new int[] {0})), "root: none, no");
    }
}
