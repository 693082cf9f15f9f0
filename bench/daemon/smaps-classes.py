#!/usr/bin/python3
"""Sorts a JVM's /proc/PID/smaps into classes of memory (bench/daemon/memory.sh).

    smaps-classes.py SMAPS VMINFO TASKS

SMAPS: a copy of /proc/PID/smaps. VMINFO: `jcmd PID VM.info` (the heap's, the class-data
sharing archives', the compressed class space's and the code cache's address ranges). TASKS:
one line per thread, "TID NAME SP", SP the stack pointer from /proc/PID/task/TID/syscall (a
blocked thread's), or "-". Prints one line per class: "class pss_kb rss_kb private_kb", in a
fixed order, then "total ...". A mapping belongs to the first class that claims it:

  java-heap       anonymous memory inside the heap's reservation
  cds-jdk         the JDK's default archive (lib/server/classes.jsa)
  cds-app         any other archive file (blivetd's dynamic one), and anonymous memory inside
                  the archives' range
  class-space     inside the compressed class space's reservation (classes not from an archive)
  code-cache      inside the code cache's bounds
  thread-stacks   a mapping holding a thread's stack pointer
  libjvm          lib/server/libjvm.so
  other-files     every other file mapping (other .so, lib/modules, jars, the keeper's binary)
  malloc          glibc's main arena ([heap]) and anonymous mappings at 64 MB boundaries (the
                  other arenas: glibc reserves them 64 MB-aligned on 64-bit)
  other-anon      the rest: metaspace (non-class), the GC's card table, the JVM's other
                  internal mmaps, and threads' stacks not found by their stack pointer
"""
import re
import sys

ORDER = ["java-heap", "cds-jdk", "cds-app", "class-space", "code-cache", "thread-stacks",
         "libjvm", "other-files", "malloc", "other-anon"]
ARENA_ALIGN = 64 << 20


def ranges(vminfo):
    text = open(vminfo).read()
    found = {}
    m = re.search(r"Heap address: (0x[0-9a-f]+), size: (\d+) MB", text)
    if m:
        start = int(m.group(1), 16)
        found["java-heap"] = [(start, start + (int(m.group(2)) << 20))]
    m = re.search(r"CDS archive\(s\) mapped at: \[(0x[0-9a-f]+)-(?:0x[0-9a-f]+-)?(0x[0-9a-f]+)\)", text)
    if m:
        found["cds-app"] = [(int(m.group(1), 16), int(m.group(2), 16))]
    m = re.search(r"Compressed class space mapped at: (0x[0-9a-f]+)-(0x[0-9a-f]+)", text)
    if m:
        found["class-space"] = [(int(m.group(1), 16), int(m.group(2), 16))]
    found["code-cache"] = [(int(a, 16), int(c, 16)) for a, _, c in
                           re.findall(r"bounds \[(0x[0-9a-f]+), (0x[0-9a-f]+), (0x[0-9a-f]+)\]", text)]
    return found


def mappings(smaps):
    current = None
    for line in open(smaps):
        head = re.match(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \d+\s*(.*)$", line)
        if head:
            if current:
                yield current
            current = {"start": int(head.group(1), 16), "end": int(head.group(2), 16),
                       "perms": head.group(3), "name": head.group(4).strip(),
                       "Pss": 0, "Rss": 0, "Private_Clean": 0, "Private_Dirty": 0}
            continue
        field = re.match(r"^(\w+):\s+(\d+) kB", line)
        if field and current is not None and field.group(1) in current:
            current[field.group(1)] = int(field.group(2))
    if current:
        yield current


def classify(m, known, stack_pointers):
    def inside(cls):
        return any(m["start"] < end and start < m["end"] for start, end in known.get(cls, []))
    name = m["name"]
    if name.endswith("/classes.jsa"):
        return "cds-jdk"
    if name.endswith(".jsa"):
        return "cds-app"
    if name.endswith("/libjvm.so"):
        return "libjvm"
    if name.startswith("/"):
        return "other-files"
    if name == "[heap]":
        return "malloc"
    for cls in ("java-heap", "cds-app", "class-space", "code-cache"):
        if inside(cls):
            return cls
    if name == "[stack]" or any(m["start"] <= sp < m["end"] for sp in stack_pointers):
        return "thread-stacks"
    if m["start"] % ARENA_ALIGN == 0 and m["end"] - m["start"] <= ARENA_ALIGN:
        return "malloc"
    return "other-anon"


def main():
    smaps, vminfo, tasks = sys.argv[1:4]
    known = ranges(vminfo)
    stack_pointers = []
    for line in open(tasks):
        parts = line.split()
        if parts and parts[-1].startswith("0x"):
            stack_pointers.append(int(parts[-1], 16))
    totals = {cls: [0, 0, 0] for cls in ORDER}
    for m in mappings(smaps):
        t = totals[classify(m, known, stack_pointers)]
        t[0] += m["Pss"]
        t[1] += m["Rss"]
        t[2] += m["Private_Clean"] + m["Private_Dirty"]
    for cls in ORDER:
        print(cls, *totals[cls])
    print("total", *[sum(t[i] for t in totals.values()) for i in range(3)])


if __name__ == "__main__":
    main()
