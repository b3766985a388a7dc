//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package vfs

import (
	"io"
	"os"
	"path/filepath"
	"sync"
)

// Without flock, Lock excludes other Lock calls of this process only.
var osLocks = struct {
	sync.Mutex
	held map[string]bool
}{held: map[string]bool{}}

func lockFile(name string) (io.Closer, error) {
	abs, err := filepath.Abs(name)
	if err != nil {
		return nil, err
	}
	osLocks.Lock()
	defer osLocks.Unlock()
	if osLocks.held[abs] {
		return nil, &os.PathError{Op: "lock", Path: name, Err: ErrLocked}
	}
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	osLocks.held[abs] = true
	return &tableLock{f: f, key: abs}, nil
}

type tableLock struct {
	f   *os.File
	key string
}

func (l *tableLock) Close() error {
	osLocks.Lock()
	delete(osLocks.held, l.key)
	osLocks.Unlock()
	return l.f.Close()
}
