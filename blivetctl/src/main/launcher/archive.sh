# Sourced by blivetctl's launchers (bin/blivetctl, the package's /usr/bin/blivetctl): builtins
# only, as no program runs before java (start-up is most of a command's cost). Sets $archive to
# the name of the class-data sharing archive for the command line ("$@"): blivetctl-queries for
# the everyday queries, which run without picocli (Shortcut.java) and start fastest from a static
# archive of their classes alone (docs/benchmarks.md, "blivetctl: start-up"); blivetctl, the
# archive of every everyday command, otherwise. The first word that is no option names the
# command (the value of --socket skipped). A wrong guess only costs start-up time: what an archive
# lacks is read from the jars. ShortcutTest holds the names here to Shortcut's.
blivetctl_archive() {
    archive=blivetctl
    value=
    for arg do
        if [ -n "$value" ]; then
            value=
            continue
        fi
        case $arg in
            --socket) value=1 ;;
            -*) ;;
            status | list | ping)
                archive=blivetctl-queries
                return 0
                ;;
            *) return 0 ;;
        esac
    done
}
