# Sourced by /usr/bin/blivetctl, /usr/sbin/blivetd and /usr/lib/blivet/update-cds (no program is
# run for it: start-up counts). Chooses the java and the class-data sharing archive for program $1,
# setting $java and $cds: the archive named $3 if given (blivetctl's archive.sh picks one of its
# two), else $1's.
#
# $jffi: where every JVM of the package loads jffi's native stub from, in place. Without it jffi
# copies the stub out of its jar at every start into java.io.tmpdir, or into the working directory
# when that is noexec, and maps the copy (docs/operations.md).
jffi=-Djffi.boot.library.path=/usr/lib/blivet/jffi

#
# /usr/lib/blivet/update-cds dumps the archives into /var/cache/blivet for the JDK of `java` on
# the PATH, and records that JDK in /var/cache/blivet/jdk, whose mtime it sets to that JDK's
# libjvm.so's. JDK 17 maps an archive only with the very JDK build and jars it was dumped with,
# and otherwise silently starts without it, twice as slowly; so the launchers run the recorded JDK,
# and a libjvm.so whose mtime differs from the record's (dpkg installs files with their build
# mtime, so every other build of the JDK differs) means the archives are stale. The package
# remakes them in its postinst and whenever dpkg changes /usr/lib/jvm (a trigger); this check
# catches what the trigger cannot see. Stale: root remakes them at once; anyone else is told.
blivet_cds() {
    java=${JAVA:-java}
    cds=
    jdk=
    [ -f /var/cache/blivet/jdk ] && read -r jdk </var/cache/blivet/jdk
    # JAVA or $1's own JAVA_OPTS replace the JDK or the flags the archive was dumped with.
    [ -n "$jdk" ] && [ -z "$2" ] && { [ -z "$JAVA" ] || [ "$JAVA" = "$jdk/bin/java" ]; } || return 0
    libjvm=$jdk/lib/server/libjvm.so
    if [ ! -f "$libjvm" ] || [ "$libjvm" -nt /var/cache/blivet/jdk ] || [ "$libjvm" -ot /var/cache/blivet/jdk ]; then
        if [ -w /var/cache/blivet ]; then
            echo "$1: the JDK changed since the class-data sharing archives were made; making them again" >&2
            /usr/lib/blivet/update-cds >&2 || return 0
            read -r jdk </var/cache/blivet/jdk
        else
            echo "$1: the JDK changed since the class-data sharing archives were made, so start-up is slower; as root, run /usr/lib/blivet/update-cds" >&2
            return 0
        fi
    fi
    archive=/var/cache/blivet/${3:-$1}.jsa
    [ -f "$archive" ] || return 0
    java=$jdk/bin/java
    cds="-XX:SharedArchiveFile=$archive -Xlog:cds=off -Xlog:cds+dynamic=off"
}
