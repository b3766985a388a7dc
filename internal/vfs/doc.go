// Package vfs is the filesystem layer under the storage engine: every
// byte the engine reads or writes, every fsync, rename and directory
// listing goes through an FS, so tests can swap the real disk for one
// that crashes or fails on demand (the model is Pebble's vfs).
//
// It owns three implementations:
//
//   - Default, the operating system's filesystem. File.Sync is
//     fdatasync on Linux; Preallocate is fallocate(FALLOC_FL_KEEP_SIZE)
//     where available; Lock is flock(LOCK_EX|LOCK_NB), so it excludes
//     other processes and other Lock calls in this one.
//   - MemFS (NewCrashableMem), an in-memory filesystem that remembers
//     what is durable: file data up to the last File.Sync, and directory
//     entries (create, rename, remove) as of the last Sync of the
//     directory. CrashClone returns the state a power loss would leave;
//     CrashCloneWith also keeps a random prefix of unsynced appends, a
//     torn write.
//   - ErrorFS (NewErrorFS), a wrapper that fails chosen operations with a
//     chosen error (ENOSPC, EIO) to test disk-full and I/O-error paths.
//
// Durability rule for callers, the same on every implementation: data is
// durable after File.Sync; a new, renamed or removed name is durable
// after a Sync of its parent directory (SyncDir). A rename between two
// directories needs both synced.
//
// Concurrency: an FS is safe for concurrent use by many goroutines. A
// MemFS serializes every operation, including CrashClone, on one mutex,
// so a clone is a consistent snapshot even while writers run. A File may
// be used from several goroutines (ReadAt/WriteAt with distinct offsets
// is the intended pattern); Read and Write share the handle's offset, as
// with os.File. ErrorFS is as safe as the FS and Injector it wraps.
package vfs
