package store

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// RecordOp is the WAL record type of a logged operation.
const RecordOp byte = 1

// Params are the configuration values a stream command's effect depends
// on (node split points, IDMP defaults). Each operation record carries the
// values in force when it ran, so that replaying it, after a crash or on a
// replica, makes the same node layout and the same trims whatever the
// configuration is at replay time.
type Params struct {
	NodeMaxEntries int64 // stream-node-max-entries
	NodeMaxBytes   int64 // stream-node-max-bytes
	IDMPDuration   int64 // stream-idmp-duration
	IDMPMaxSize    int64 // stream-idmp-maxsize
}

// Op is one logged operation: the commands of one client command, or of a
// whole MULTI/EXEC, that changed the keyspace, with the time snapshot they
// ran with. Replaying an Op re-executes its commands with that time and
// those parameters; the command layer's handlers are deterministic given
// the state, the arguments, the time and the parameters.
type Op struct {
	Now    int64 // unix ms, the command's (or EXEC's) time snapshot
	Params Params
	Cmds   []OpCmd
}

// OpCmd is one command of an Op: the database it ran in and its arguments.
type OpCmd struct {
	DB   int
	Args [][]byte
}

// Payload layout (all integers uvarint unless said otherwise):
//
//	now (varint) | node-max-entries | node-max-bytes | idmp-duration |
//	idmp-maxsize | command count | commands...
//	command: db | argc | argc × (len | bytes)

// AppendOpHeader starts an operation's payload in dst.
func AppendOpHeader(dst []byte, now int64, p Params, ncmds int) []byte {
	dst = binary.AppendVarint(dst, now)
	dst = binary.AppendUvarint(dst, uint64(p.NodeMaxEntries))
	dst = binary.AppendUvarint(dst, uint64(p.NodeMaxBytes))
	dst = binary.AppendUvarint(dst, uint64(p.IDMPDuration))
	dst = binary.AppendUvarint(dst, uint64(p.IDMPMaxSize))
	return binary.AppendUvarint(dst, uint64(ncmds))
}

// AppendOpCmd appends one command to an operation's payload: its
// canonical name (rename-command does not change what the log says), then
// the arguments after the name.
func AppendOpCmd(dst []byte, db int, name string, args [][]byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(db))
	dst = binary.AppendUvarint(dst, uint64(len(args)+1))
	dst = binary.AppendUvarint(dst, uint64(len(name)))
	dst = append(dst, name...)
	for _, a := range args {
		dst = binary.AppendUvarint(dst, uint64(len(a)))
		dst = append(dst, a...)
	}
	return dst
}

// maxDB bounds a database number read back (databases is at most 2^31 in
// Redis; far fewer in practice).
const maxDB = 1 << 31

// errOpPayload is the cause of every malformed operation payload.
var errOpPayload = errors.New("store: malformed operation record")

// DecodeOp parses an operation payload into op, reusing op's slices. The
// arguments alias p.
func DecodeOp(p []byte, op *Op) error {
	d := decoder{b: p}
	op.Now = d.varint()
	op.Params.NodeMaxEntries = int64(d.uvarint())
	op.Params.NodeMaxBytes = int64(d.uvarint())
	op.Params.IDMPDuration = int64(d.uvarint())
	op.Params.IDMPMaxSize = int64(d.uvarint())
	n := d.count()
	op.Cmds = op.Cmds[:0]
	for i := 0; i < n && d.err == nil; i++ {
		db := d.uvarint()
		if db > maxDB {
			d.fail("database")
		}
		argc := d.count()
		var args [][]byte
		if len(op.Cmds) < cap(op.Cmds) {
			args = op.Cmds[:len(op.Cmds)+1][len(op.Cmds)].Args[:0]
		}
		for j := 0; j < argc && d.err == nil; j++ {
			args = append(args, d.bytes())
		}
		op.Cmds = append(op.Cmds, OpCmd{DB: int(db), Args: args})
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w: %d trailing bytes", errOpPayload, len(d.b))
	}
	if d.err == nil && (n == 0 || hasEmptyCmd(op.Cmds)) {
		d.err = fmt.Errorf("%w: an operation without a command", errOpPayload)
	}
	return d.err
}

func hasEmptyCmd(cmds []OpCmd) bool {
	for _, c := range cmds {
		if len(c.Args) == 0 {
			return true
		}
	}
	return false
}

// decoder reads uvarint-framed fields; the first error sticks and makes
// every later read return zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: bad %s", errOpPayload, what)
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("integer")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("integer")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length that must fit in what is left of the payload (each
// counted item takes at least one byte), so corrupt input cannot make a
// caller allocate much.
func (d *decoder) count() int {
	v := d.uvarint()
	if v > uint64(len(d.b))+1 {
		d.fail("count")
		return 0
	}
	return int(v)
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail("length")
		return nil
	}
	b := d.b[:n:n]
	d.b = d.b[n:]
	return b
}

func (d *decoder) byte1() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.fail("byte")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}
