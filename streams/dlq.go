package streams

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// ErrDeadLetterNotFound is returned for a dead-letter ID that is not (or no
// longer) in the dead-letter stream: never there, already redriven, or
// trimmed.
var ErrDeadLetterNotFound = errors.New("streams: no such dead letter")

// ErrNoSource is returned for redriving a dead letter that does not say
// where it came from: an entry without the dlq- metadata, written by other
// code than a Worker.
var ErrNoSource = errors.New("streams: the dead letter has no source stream (no dlq- metadata)")

// DeadLetterQuery selects dead letters, in ID order (oldest first).
type DeadLetterQuery struct {
	// Start is the first dead-letter ID to look at; "" means "-", the
	// oldest. To continue after a page, pass "(" + the last ID seen
	// (an exclusive start, Redis 6.2 and newer).
	Start string
	// Count bounds how many dead letters are returned (ListDeadLetters:
	// 0 means 100) or redriven (RedriveAll: 0 means all that match).
	Count int
	// Stream and Group keep only dead letters from that source stream
	// or consumer group; "" matches any. An entry without the metadata
	// matches only when both are "".
	Stream, Group string
}

func (q DeadLetterQuery) matches(d DeadLetter) bool {
	return (q.Stream == "" || q.Stream == d.Stream) && (q.Group == "" || q.Group == d.Group)
}

// defaultDeadLetterCount is ListDeadLetters' Count when the query has none.
const defaultDeadLetterCount = 100

// scanPage is how many entries one XRANGE reads while filtering: big
// enough to cross a large DLQ in few round trips, small enough to keep a
// reply modest.
const scanPage = 500

// ListDeadLetters returns up to q.Count dead letters of the stream dlq that
// match q, oldest first. With a filter it reads on until it has q.Count
// matches or reaches the end of the stream.
func ListDeadLetters(ctx context.Context, rdb redis.UniversalClient, dlq string, q DeadLetterQuery) ([]DeadLetter, error) {
	if q.Count < 0 {
		return nil, fmt.Errorf("streams: negative Count %d", q.Count)
	}
	if q.Count == 0 {
		q.Count = defaultDeadLetterCount
	}
	var out []DeadLetter
	err := scanDeadLetters(ctx, rdb, dlq, q, func(d DeadLetter) (bool, error) {
		out = append(out, d)
		return len(out) < q.Count, nil
	})
	return out, err
}

// scanDeadLetters calls fn with each dead letter of dlq matching q, from
// q.Start on, until fn returns false or an error, or the stream ends.
// q.Count only sizes the pages.
func scanDeadLetters(ctx context.Context, rdb redis.UniversalClient, dlq string, q DeadLetterQuery, fn func(DeadLetter) (bool, error)) error {
	start := q.Start
	if start == "" {
		start = "-"
	}
	page := scanPage
	if q.Stream == "" && q.Group == "" && q.Count > 0 {
		// Every entry matches: read no more than is asked for.
		page = min(q.Count, scanPage)
	}
	for {
		v, err := rdb.Do(ctx, "XRANGE", dlq, start, "+", "COUNT", page).Result()
		if err != nil {
			return fmt.Errorf("streams: XRANGE %s: %w", dlq, err)
		}
		es, err := parseEntries(v)
		if err != nil {
			return err
		}
		for _, e := range es {
			d := parseDeadLetter(e)
			if !q.matches(d) {
				continue
			}
			if more, err := fn(d); err != nil || !more {
				return err
			}
		}
		if len(es) < page {
			return nil
		}
		start = "(" + es[len(es)-1].id
	}
}

// GetDeadLetter returns the dead letter with ID id in the stream dlq, or
// ErrDeadLetterNotFound.
func GetDeadLetter(ctx context.Context, rdb redis.UniversalClient, dlq, id string) (DeadLetter, error) {
	e, err := readDeadLetter(ctx, rdb, dlq, id)
	if err != nil {
		return DeadLetter{}, err
	}
	return parseDeadLetter(e), nil
}

// doer is what sends a raw command: a client, or a transaction's
// connection.
type doer interface {
	Do(ctx context.Context, args ...any) *redis.Cmd
}

// readDeadLetter reads the entry id of dlq through c.
func readDeadLetter(ctx context.Context, c doer, dlq, id string) (entry, error) {
	e, ok, err := readEntry(ctx, c, dlq, id)
	if err != nil {
		return entry{}, err
	}
	if !ok {
		return entry{}, fmt.Errorf("%w: %s in %s", ErrDeadLetterNotFound, id, dlq)
	}
	return e, nil
}

// readEntry reads the entry id of stream through c, with its fields in
// stored order; ok is false when it is not there (or has no data).
func readEntry(ctx context.Context, c doer, stream, id string) (e entry, ok bool, err error) {
	v, err := c.Do(ctx, "XRANGE", stream, id, id, "COUNT", 1).Result()
	if err != nil {
		return entry{}, false, fmt.Errorf("streams: XRANGE %s %s: %w", stream, id, err)
	}
	es, err := parseEntries(v)
	if err != nil {
		return entry{}, false, err
	}
	// An ID without its sequence number ("1700000000000") is a range of
	// a whole millisecond to XRANGE; only its first entry, -0, is that ID.
	if len(es) == 0 || (es[0].id != id && es[0].id != id+"-0") || es[0].fields == nil {
		return entry{}, false, nil
	}
	return es[0], true, nil
}

// RedriveResult is one dead letter moved back to its source stream.
type RedriveResult struct {
	ID     string // its ID in the dead-letter stream, where it is now deleted
	Stream string // the source stream it was appended to
	NewID  string // its ID there
}

// redriveAttempts bounds how many times one redrive retries after another
// client wrote to the dead-letter stream between its read and its EXEC.
const redriveAttempts = 16

// Redrive moves the dead letters ids of the stream dlq back to the streams
// they came from, in order, and returns what it moved; at the first
// failure it stops and returns what it moved so far with the error (which
// names the ID). An ID no longer in dlq gives ErrDeadLetterNotFound, one
// without the dlq- metadata ErrNoSource.
//
// Each dead letter is appended to its source stream with its original
// fields, in their order, and deleted from dlq in one MULTI/EXEC, WATCHing
// dlq: a crash leaves it in one of the two, never both or neither, and of
// two concurrent redrives of it one succeeds and the other gets
// ErrDeadLetterNotFound. The redriven message is a new entry, with a new
// ID, so every consumer group of the source stream reads it as new: not
// only the group that dead-lettered it, but any other group that had
// already processed the original too. Its handlers should be idempotent
// (see Idempotent) or the stream have only the one group.
//
// With Redis Cluster, MULTI needs every key in one hash slot: the
// dead-letter stream and the source streams must share one, by a hash tag
// ("{orders}" in "{orders}-dlq" and "{orders}").
func Redrive(ctx context.Context, rdb redis.UniversalClient, dlq string, ids ...string) ([]RedriveResult, error) {
	out := make([]RedriveResult, 0, len(ids))
	for _, id := range ids {
		r, err := redrive(ctx, rdb, dlq, id)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// RedriveAll redrives, as Redrive does, the dead letters of dlq that match
// q (up to q.Count of them; 0 means all). Dead letters that go missing
// meanwhile (another client redrove them) are skipped. Those without the
// dlq- metadata are left in dlq, and reported at the end in an error
// wrapping ErrNoSource; any other failure stops it. It returns what it
// moved in either case.
func RedriveAll(ctx context.Context, rdb redis.UniversalClient, dlq string, q DeadLetterQuery) ([]RedriveResult, error) {
	if q.Count < 0 {
		return nil, fmt.Errorf("streams: negative Count %d", q.Count)
	}
	var out []RedriveResult
	var orphans []string
	err := scanDeadLetters(ctx, rdb, dlq, q, func(d DeadLetter) (bool, error) {
		if d.Stream == "" {
			orphans = append(orphans, d.ID)
			return true, nil
		}
		r, err := redrive(ctx, rdb, dlq, d.ID)
		switch {
		case errors.Is(err, ErrDeadLetterNotFound):
			return true, nil
		case err != nil:
			return false, err
		}
		out = append(out, r)
		return q.Count == 0 || len(out) < q.Count, nil
	})
	if err == nil && len(orphans) > 0 {
		const show = 5
		list := strings.Join(orphans[:min(len(orphans), show)], ", ")
		if len(orphans) > show {
			list += ", ..."
		}
		err = fmt.Errorf("%w: %d left in %s (%s)", ErrNoSource, len(orphans), dlq, list)
	}
	return out, err
}

// redrive moves one dead letter back, retrying when the WATCH on dlq
// fails the EXEC.
func redrive(ctx context.Context, rdb redis.UniversalClient, dlq, id string) (RedriveResult, error) {
	for range redriveAttempts {
		var r RedriveResult
		err := rdb.Watch(ctx, func(tx *redis.Tx) error {
			var err error
			r, err = redriveWatched(ctx, tx, dlq, id)
			return err
		}, dlq)
		if !errors.Is(err, redis.TxFailedErr) {
			return r, err
		}
		if err := ctx.Err(); err != nil {
			return RedriveResult{}, err
		}
	}
	return RedriveResult{}, fmt.Errorf("streams: redrive %s: %s kept changing; gave up after %d attempts", id, dlq, redriveAttempts)
}

// redriveWatched is one attempt of redrive, with dlq WATCHed on tx.
func redriveWatched(ctx context.Context, tx *redis.Tx, dlq, id string) (RedriveResult, error) {
	e, err := readDeadLetter(ctx, tx, dlq, id)
	if err != nil {
		return RedriveResult{}, err
	}
	d := parseDeadLetter(e)
	switch {
	case d.Stream == "":
		return RedriveResult{}, fmt.Errorf("%w: %s in %s", ErrNoSource, d.ID, dlq)
	case len(d.Fields) == 0:
		return RedriveResult{}, fmt.Errorf("streams: dead letter %s in %s has no original fields to redrive", d.ID, dlq)
	}
	// Inside EXEC a failed XADD does not stop the XDEL after it. The one
	// way XADD fails there is a source key that is not a stream: refuse
	// that now rather than delete the dead letter.
	switch typ, err := tx.Type(ctx, d.Stream).Result(); {
	case err != nil:
		return RedriveResult{}, fmt.Errorf("streams: TYPE %s: %w", d.Stream, err)
	case typ != "stream" && typ != "none":
		return RedriveResult{}, fmt.Errorf("streams: redrive %s: %s holds a %s, not a stream", d.ID, d.Stream, typ)
	}
	args := make([]any, 0, 3+len(d.Fields))
	args = append(args, "XADD", d.Stream, "*")
	for _, f := range d.Fields {
		args = append(args, f)
	}
	var xadd *redis.Cmd
	var xdel *redis.IntCmd
	_, err = tx.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		xadd = pipe.Do(ctx, args...)
		xdel = pipe.XDel(ctx, dlq, d.ID)
		return nil
	})
	if errors.Is(err, redis.TxFailedErr) {
		return RedriveResult{}, err
	}
	if xadd.Err() != nil || xdel.Err() != nil {
		return RedriveResult{}, redriveFailed(ctx, tx, dlq, e, d, xadd, xdel, err)
	}
	newID, ok := xadd.Val().(string)
	if !ok {
		return RedriveResult{}, fmt.Errorf("streams: redrive %s: XADD %s replied %T", d.ID, d.Stream, xadd.Val())
	}
	if n := xdel.Val(); n != 1 {
		// WATCH makes this impossible: say so rather than hide a copy.
		return RedriveResult{}, fmt.Errorf("streams: redrive %s: appended to %s as %s, but XDEL %s deleted %d entries", d.ID, d.Stream, newID, dlq, n)
	}
	return RedriveResult{ID: d.ID, Stream: d.Stream, NewID: newID}, nil
}

// redriveFailed reports a transaction in which XADD or XDEL failed (err
// is the first failure). Where the XDEL ran without the XADD, the dead
// letter e is put back, with a new ID, rather than lost.
func redriveFailed(ctx context.Context, tx *redis.Tx, dlq string, e entry, d DeadLetter, xadd *redis.Cmd, xdel *redis.IntCmd, err error) error {
	switch {
	case xadd.Err() == nil:
		return fmt.Errorf("streams: redrive %s: appended to %s as %v but not deleted from %s: %w", d.ID, d.Stream, xadd.Val(), dlq, err)
	case xdel.Err() != nil || xdel.Val() == 0:
		return fmt.Errorf("streams: redrive %s: %w", d.ID, err)
	}
	args := make([]any, 0, 3+len(e.fields))
	args = append(args, "XADD", dlq, "*")
	for _, f := range e.fields {
		args = append(args, f)
	}
	back, perr := tx.Do(ctx, args...).Result()
	if perr != nil {
		return fmt.Errorf("streams: redrive %s: XADD %s failed (%v) after its XDEL, and putting it back failed: %w; its fields: %q", d.ID, d.Stream, xadd.Err(), perr, e.fields)
	}
	return fmt.Errorf("streams: redrive %s: XADD %s: %w (the dead letter is back in %s as %v)", d.ID, d.Stream, xadd.Err(), dlq, back)
}
