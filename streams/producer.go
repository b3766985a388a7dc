package streams

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrIDMPUnsupported is returned by PublishOnce when the server has no XADD
// IDMP (Redis before 8.6).
var ErrIDMPUnsupported = errors.New("streams: the server does not support XADD IDMP (Redis 8.6 or newer, or Runnel, is needed)")

// ProducerOptions configure a Producer. The zero value publishes without
// trimming.
type ProducerOptions struct {
	// MaxLen keeps the stream at about this many entries (XADD MAXLEN ~:
	// whole nodes are trimmed, so a few more may stay); 0 keeps all.
	MaxLen int64
	// MaxAge trims entries older than this (XADD MINID ~ now-MaxAge: an
	// entry ID starts with its time in ms); 0 keeps all. With MaxLen too,
	// the age trim is an XTRIM sent in the same round trip.
	MaxAge time.Duration
	// ProducerID names the producer for PublishOnce (XADD IDMP's producer
	// ID). It must stay the same across restarts, or a message retried
	// after a crash is not recognised.
	ProducerID string
	// Now returns the time MaxAge counts back from; nil means time.Now.
	Now func() time.Time
}

// Producer publishes messages to one stream. It is safe for concurrent use.
type Producer struct {
	rdb    redis.UniversalClient
	stream string
	opts   ProducerOptions
}

// NewProducer returns a Producer that publishes to stream through rdb.
func NewProducer(rdb redis.UniversalClient, stream string, opts ProducerOptions) *Producer {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Producer{rdb: rdb, stream: stream, opts: opts}
}

// Stream is the stream the Producer publishes to.
func (p *Producer) Stream() string { return p.stream }

// Publish appends v (see fieldArgs for what v may be) as a new entry with
// an ID the server assigns, trims as the options say, and returns the ID.
func (p *Producer) Publish(ctx context.Context, v any) (string, error) {
	return p.publish(ctx, "", v)
}

// PublishOnce is Publish made idempotent by key (XADD IDMP producer key):
// while the server remembers key for this ProducerID (stream-idmp-duration,
// 100 s by default), publishing it again appends nothing and returns the
// ID of the first entry, so a producer may retry after a timeout or a
// crash without duplicates. key is typically the business ID (an order ID)
// or the ID of the message that caused this one. It needs a ProducerID, and
// XADD IDMP on the server (ErrIDMPUnsupported otherwise).
func (p *Producer) PublishOnce(ctx context.Context, key string, v any) (string, error) {
	switch {
	case p.opts.ProducerID == "":
		return "", errors.New("streams: PublishOnce needs ProducerOptions.ProducerID")
	case key == "":
		return "", errors.New("streams: PublishOnce needs a non-empty key")
	}
	return p.publish(ctx, key, v)
}

func (p *Producer) publish(ctx context.Context, key string, v any) (string, error) {
	args := make([]any, 0, 16)
	args = append(args, "XADD", p.stream)
	if key != "" {
		args = append(args, "IDMP", p.opts.ProducerID, key)
	}
	xtrim := false
	switch {
	case p.opts.MaxLen > 0:
		args = append(args, "MAXLEN", "~", p.opts.MaxLen)
		xtrim = p.opts.MaxAge > 0
	case p.opts.MaxAge > 0:
		args = append(args, "MINID", "~", p.minID())
	}
	args = append(args, "*")
	args, err := fieldArgs(args, v)
	if err != nil {
		return "", err
	}
	var id *redis.StringCmd
	if xtrim {
		_, _ = p.rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
			id = redis.NewStringCmd(ctx, args...)
			_ = pipe.Process(ctx, id)
			pipe.Do(ctx, "XTRIM", p.stream, "MINID", "~", p.minID())
			return nil
		})
		// The entry is in once XADD succeeded: a failed XTRIM is left
		// to the next publish rather than reported, which would invite a
		// retry and a duplicate.
		err = id.Err()
	} else {
		id = redis.NewStringCmd(ctx, args...)
		_ = p.rdb.Process(ctx, id)
		err = id.Err()
	}
	if err != nil {
		if key != "" && strings.HasPrefix(err.Error(), "ERR Invalid stream ID") {
			// A server without IDMP reads "IDMP" as the entry ID.
			return "", ErrIDMPUnsupported
		}
		return "", fmt.Errorf("streams: XADD %s: %w", p.stream, err)
	}
	return id.Val(), nil
}

// minID is the MINID threshold of MaxAge: the first ID of the oldest
// millisecond kept.
func (p *Producer) minID() string {
	ms := p.opts.Now().Add(-p.opts.MaxAge).UnixMilli()
	return strconv.FormatInt(max(ms, 0), 10)
}
