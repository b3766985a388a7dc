package vfs_test

import (
	"fmt"
	"io"

	"github.com/runnel-io/runnel/internal/vfs"
)

// A crash keeps what was synced: the record written after the last Sync
// is lost, and the file survives only because its directory was synced.
func Example() {
	fs := vfs.NewCrashableMem()
	if err := fs.MkdirAll("/data", 0o755); err != nil {
		panic(err)
	}
	if err := vfs.SyncDir(fs, "/"); err != nil { // make /data itself durable
		panic(err)
	}

	f, _ := fs.Create("/data/log")
	_, _ = f.Write([]byte("acknowledged;"))
	_ = f.Sync()                       // the data is durable
	_ = vfs.SyncDir(fs, "/data")       // and so is the name
	_, _ = f.Write([]byte("pending;")) // never synced

	crashed := fs.CrashClone() // power loss now
	r, _ := crashed.Open("/data/log")
	b, _ := io.ReadAll(r)
	fmt.Printf("%s\n", b)
	// Output: acknowledged;
}
