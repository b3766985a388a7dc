package nodestore

import (
	"math/rand/v2"
	"testing"

	"github.com/runnel-io/runnel/internal/vfs"
)

const benchNodeSize = 4096

// benchStore fills a store on the real disk with n synced 4 KiB nodes.
func benchStore(b *testing.B, opts Options, n int) (*Store, []NodeRef) {
	b.Helper()
	st, err := Open(vfs.Default, b.TempDir(), opts)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.FinishRecovery(); err != nil {
		b.Fatal(err)
	}
	node := make([]byte, benchNodeSize)
	refs := make([]NodeRef, n)
	for i := range refs {
		node[0] = byte(i)
		if refs[i], err = st.Put(node); err != nil {
			b.Fatal(err)
		}
	}
	if err := st.Sync(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st, refs
}

// BenchmarkGet reads 4 KiB nodes from the cache (hit) and from the file
// (miss: cache off, so every Get is a pread of the page cache plus a CRC
// check).
func BenchmarkGet(b *testing.B) {
	for _, bc := range []struct {
		name  string
		cache int64
	}{{"hit", 64 << 20}, {"miss", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			st, refs := benchStore(b, Options{CacheBytes: bc.cache}, 4096)
			dst := make([]byte, 0, benchNodeSize)
			for _, r := range refs { // warm the cache (or the page cache)
				if dst, _ = st.Get(r, dst); len(dst) != benchNodeSize {
					b.Fatal("short node")
				}
			}
			rng := rand.New(rand.NewPCG(1, 1))
			b.SetBytes(benchNodeSize)
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if dst, err = st.Get(refs[rng.IntN(len(refs))], dst); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGetParallel is the cache hit from every core at once.
func BenchmarkGetParallel(b *testing.B) {
	st, refs := benchStore(b, Options{}, 4096)
	b.SetBytes(benchNodeSize)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		rng := rand.New(rand.NewPCG(rand.Uint64(), 1))
		dst := make([]byte, 0, benchNodeSize)
		for pb.Next() {
			var err error
			if dst, err = st.Get(refs[rng.IntN(len(refs))], dst); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPut measures Put throughput on the real disk, with the
// background syncer writing and fsyncing behind it, and a Sync at the end
// (as a checkpoint would).
func BenchmarkPut(b *testing.B) {
	st, err := Open(vfs.Default, b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	node := make([]byte, benchNodeSize)
	b.SetBytes(benchNodeSize)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := st.Put(node); err != nil {
			b.Fatal(err)
		}
	}
	if err := st.Sync(); err != nil {
		b.Fatal(err)
	}
}
