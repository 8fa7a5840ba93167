// Package atomicfile writes files that appear whole or not at all, and keeps
// two processes from writing the same file at once.
//
// Create returns a File that collects the new content in a temporary file in
// the target's directory; Commit syncs it and renames it over the target,
// Abort discards it. On Linux the temporary file is unnamed (open(2) with
// O_TMPFILE): if the process is killed before Commit, the kernel frees it and
// nothing is left in the directory. Where the file system or the platform has
// no unnamed files, it is a hidden ".NAME.tmp*" file that Abort removes but
// that a killed process leaves behind. WriteFile does all of it for content
// already in memory.
//
// Lock takes an exclusive, non-blocking lock on a path for the time a writer
// needs it: flock(2) on a hidden ".NAME.lock" file beside it, removed by
// Unlock. A process that dies while holding the lock releases it (the kernel
// drops flock locks with the last descriptor), so a lock file left by a killed
// process stops nobody and is removed by the next writer's Unlock.
//
// What it is not: a transaction over several files. A caller that replaces a
// pair of files (a SigMF recording's data and metadata) commits them one after
// the other, under one Lock.
package atomicfile
