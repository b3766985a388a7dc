package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"
	"github.com/runnel-io/runnel/streams"
)

const dlqUsage = `Usage: runnel dlq [connection options] list [--source S] [--group G] [--count N] [--start ID] [--json]
       runnel dlq [connection options] show [--json] ID
       runnel dlq [connection options] redrive ID [ID...]
       runnel dlq [connection options] redrive --all [--source S] [--group G] [--count N]

Lists, shows and redrives the dead letters that a Worker of the streams
library (github.com/runnel-io/runnel/streams) wrote to a dead-letter
stream, on Runnel or on Redis. Redrive appends a dead letter's
original fields to the stream it came from, as a new entry, and deletes it
from the dead-letter stream, in one transaction. Every consumer group of
that stream reads it again as new, not only the group that gave up on it.

Connection options (before or after the subcommand):
  --addr HOST:PORT   server address, or a redis:// URL (default 127.0.0.1:6379)
  --user NAME        ACL user name
  --password P       password (AUTH); default $REDISCLI_AUTH
  --stream KEY       the dead-letter stream (default dead-letter-stream)

list prints the oldest --count (default 20) dead letters from --start,
keeping those from stream --source and group --group when given; show prints
one in full; --json prints JSON instead of text. Exit status: 0 done, 1 an
error, 2 a usage error.
`

// errUsage is a command line runDLQ cannot run; its text goes before the usage.
var errUsage = errors.New("usage")

// runDLQ is `runnel dlq ...`.
func runDLQ(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// go-redis logs dial failures to stderr itself; the error returned
	// says it once, plainly.
	redis.SetLogger(quietLogger{})
	err := dlqMain(ctx, args, stdout)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, dlqUsage)
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "runnel dlq: %v\n\n%s", err, dlqUsage)
		return 2
	}
	fmt.Fprintf(stderr, "runnel dlq: %v\n", err)
	return 1
}

// quietLogger drops go-redis's log lines.
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

// newFlagSet is a flag set whose errors dlqMain reports (as errUsage).
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parse parses args into fs, with flags and positional arguments in any
// order (the flag package stops at the first positional one), and returns
// the positional ones. After "--" everything is positional.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %s: %v", errUsage, fs.Name(), err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// conn holds the connection options, which every flag set of runnel dlq
// accepts, before the subcommand or after it.
type conn struct {
	addr, user, password, dlq string
}

func (c *conn) register(fs *flag.FlagSet) {
	fs.StringVar(&c.addr, "addr", c.addr, "")
	fs.StringVar(&c.user, "user", c.user, "")
	fs.StringVar(&c.password, "password", c.password, "")
	fs.StringVar(&c.dlq, "stream", c.dlq, "")
}

// client connects as the options say; with no --password, the
// REDISCLI_AUTH environment variable (redis-cli's) gives the password.
func (c *conn) client() (*redis.Client, error) {
	opts := &redis.Options{Addr: c.addr}
	if strings.Contains(c.addr, "://") {
		var err error
		if opts, err = redis.ParseURL(c.addr); err != nil {
			return nil, fmt.Errorf("%w: --addr: %v", errUsage, err)
		}
	}
	if c.user != "" {
		opts.Username = c.user
	}
	switch {
	case c.password != "":
		opts.Password = c.password
	case opts.Password == "":
		opts.Password = os.Getenv("REDISCLI_AUTH")
	}
	// One connection, and a failed command is reported, not retried.
	opts.PoolSize, opts.MaxRetries = 1, -1
	opts.DialTimeout = 5 * time.Second
	return redis.NewClient(opts), nil
}

// subcommand runs one subcommand on the dead-letter stream dlq.
type subcommand func(ctx context.Context, rdb redis.UniversalClient, dlq string, stdout io.Writer) error

func dlqMain(ctx context.Context, args []string, stdout io.Writer) error {
	c := &conn{addr: "127.0.0.1:6379", dlq: streams.DefaultDeadLetterStream}
	fs := newFlagSet("dlq")
	c.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: no subcommand", errUsage)
	}
	sub, subArgs := fs.Arg(0), fs.Args()[1:]
	var parseSub func(*flag.FlagSet, []string) (subcommand, error)
	switch sub {
	case "list":
		parseSub = dlqList
	case "show":
		parseSub = dlqShow
	case "redrive":
		parseSub = dlqRedrive
	case "help":
		return flag.ErrHelp
	default:
		return fmt.Errorf("%w: unknown subcommand %q", errUsage, sub)
	}
	sfs := newFlagSet(sub)
	c.register(sfs)
	run, err := parseSub(sfs, subArgs)
	if err != nil {
		return err
	}
	rdb, err := c.client()
	if err != nil {
		return err
	}
	defer rdb.Close()
	return run(ctx, rdb, c.dlq, stdout)
}

// defaultListCount is how many dead letters `list` shows by default: a
// screenful.
const defaultListCount = 20

// dlqList parses list's arguments.
func dlqList(fs *flag.FlagSet, args []string) (subcommand, error) {
	source := fs.String("source", "", "")
	group := fs.String("group", "", "")
	count := fs.Int("count", defaultListCount, "")
	start := fs.String("start", "", "")
	asJSON := fs.Bool("json", false, "")
	pos, err := parse(fs, args)
	switch {
	case err != nil:
		return nil, err
	case len(pos) > 0:
		return nil, fmt.Errorf("%w: list takes no arguments, got %q", errUsage, pos)
	case *count < 1:
		return nil, fmt.Errorf("%w: --count must be at least 1", errUsage)
	}
	return func(ctx context.Context, rdb redis.UniversalClient, dlq string, stdout io.Writer) error {
		return list(ctx, rdb, dlq, streams.DeadLetterQuery{Start: *start, Count: *count, Stream: *source, Group: *group}, *asJSON, stdout)
	}, nil
}

// list prints up to q.Count dead letters.
func list(ctx context.Context, rdb redis.UniversalClient, dlq string, q streams.DeadLetterQuery, asJSON bool, stdout io.Writer) error {
	count := q.Count
	// One more than shown tells whether there are more.
	q.Count++
	ds, err := streams.ListDeadLetters(ctx, rdb, dlq, q)
	if err != nil {
		return err
	}
	more := len(ds) > count
	ds = ds[:min(len(ds), count)]
	if asJSON {
		out := make([]jsonDeadLetter, len(ds))
		for i, d := range ds {
			out[i] = toJSON(d)
		}
		return writeJSON(stdout, out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSOURCE\tMESSAGE ID\tGROUP\tDELIVERIES\tERROR\tFIELDS")
	for _, d := range ds {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, cell(d.Stream), cell(d.MessageID), cell(d.Group),
			deliveries(d), clip(cell(d.Error), 40), clip(fieldSummary(d.Fields), 60))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	switch {
	case len(ds) == 0:
		fmt.Fprintf(stdout, "no dead letters in %s\n", dlq)
	case more:
		fmt.Fprintf(stdout, "more: list again with --start '(%s'\n", ds[len(ds)-1].ID)
	}
	return nil
}

// dlqShow parses show's arguments.
func dlqShow(fs *flag.FlagSet, args []string) (subcommand, error) {
	asJSON := fs.Bool("json", false, "")
	pos, err := parse(fs, args)
	switch {
	case err != nil:
		return nil, err
	case len(pos) != 1:
		return nil, fmt.Errorf("%w: show takes one dead-letter ID", errUsage)
	}
	return func(ctx context.Context, rdb redis.UniversalClient, dlq string, stdout io.Writer) error {
		return show(ctx, rdb, dlq, pos[0], *asJSON, stdout)
	}, nil
}

// show prints the dead letter id.
func show(ctx context.Context, rdb redis.UniversalClient, dlq, id string, asJSON bool, stdout io.Writer) error {
	d, err := streams.GetDeadLetter(ctx, rdb, dlq, id)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(stdout, toJSON(d))
	}
	fmt.Fprintf(stdout, "id:         %s\n", d.ID)
	if d.Stream == "" {
		fmt.Fprintf(stdout, "(no dead-letter metadata: not written by a streams Worker, so it cannot be redriven)\n")
	} else {
		fmt.Fprintf(stdout, "source:     %s\n", printable(d.Stream))
		fmt.Fprintf(stdout, "message id: %s\n", printable(d.MessageID))
		fmt.Fprintf(stdout, "group:      %s\n", printable(d.Group))
		fmt.Fprintf(stdout, "consumer:   %s\n", printable(d.Consumer))
		fmt.Fprintf(stdout, "deliveries: %d\n", d.Deliveries)
		fmt.Fprintf(stdout, "error:      %s\n", printable(d.Error))
	}
	fmt.Fprintf(stdout, "fields:     %d\n", len(d.Fields)/2)
	for i := 0; i+1 < len(d.Fields); i += 2 {
		fmt.Fprintf(stdout, "  %s: %s\n", printable(d.Fields[i]), printable(d.Fields[i+1]))
	}
	return nil
}

// dlqRedrive parses redrive's arguments.
func dlqRedrive(fs *flag.FlagSet, args []string) (subcommand, error) {
	all := fs.Bool("all", false, "")
	source := fs.String("source", "", "")
	group := fs.String("group", "", "")
	count := fs.Int("count", 0, "")
	ids, err := parse(fs, args)
	if err != nil {
		return nil, err
	}
	filtered := *source != "" || *group != "" || *count != 0
	switch {
	case *all && len(ids) > 0:
		return nil, fmt.Errorf("%w: redrive takes IDs or --all, not both", errUsage)
	case !*all && len(ids) == 0:
		return nil, fmt.Errorf("%w: redrive needs dead-letter IDs or --all", errUsage)
	case !*all && filtered:
		return nil, fmt.Errorf("%w: --source, --group and --count go with --all", errUsage)
	case *count < 0:
		return nil, fmt.Errorf("%w: --count must not be negative", errUsage)
	}
	return func(ctx context.Context, rdb redis.UniversalClient, dlq string, stdout io.Writer) error {
		var rs []streams.RedriveResult
		var err error
		if *all {
			rs, err = streams.RedriveAll(ctx, rdb, dlq, streams.DeadLetterQuery{Stream: *source, Group: *group, Count: *count})
		} else {
			rs, err = streams.Redrive(ctx, rdb, dlq, ids...)
		}
		printRedriven(stdout, rs)
		return err
	}, nil
}

func printRedriven(stdout io.Writer, rs []streams.RedriveResult) {
	for _, r := range rs {
		fmt.Fprintf(stdout, "redrove %s -> %s %s\n", r.ID, printable(r.Stream), r.NewID)
	}
	fmt.Fprintf(stdout, "%d redriven\n", len(rs))
}

// jsonDeadLetter is a DeadLetter as `--json` prints it. Fields are
// [name, value] pairs, in order, as a name may repeat. Bytes that are not
// UTF-8 print as U+FFFD.
type jsonDeadLetter struct {
	ID         string      `json:"id"`
	Stream     string      `json:"stream,omitempty"`
	MessageID  string      `json:"message_id,omitempty"`
	Group      string      `json:"group,omitempty"`
	Consumer   string      `json:"consumer,omitempty"`
	Deliveries int         `json:"deliveries,omitempty"`
	Error      string      `json:"error,omitempty"`
	Fields     [][2]string `json:"fields"`
}

func toJSON(d streams.DeadLetter) jsonDeadLetter {
	j := jsonDeadLetter{ID: d.ID, Stream: d.Stream, MessageID: d.MessageID, Group: d.Group,
		Consumer: d.Consumer, Deliveries: d.Deliveries, Error: d.Error, Fields: [][2]string{}}
	for i := 0; i+1 < len(d.Fields); i += 2 {
		j.Fields = append(j.Fields, [2]string{d.Fields[i], d.Fields[i+1]})
	}
	return j
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// cell is s for the table: "-" when empty, else printable.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return printable(s)
}

func deliveries(d streams.DeadLetter) string {
	if d.Stream == "" {
		return "-"
	}
	return strconv.Itoa(d.Deliveries)
}

// fieldSummary is name=value pairs, separated by spaces.
func fieldSummary(fields []string) string {
	var b strings.Builder
	for i := 0; i+1 < len(fields); i += 2 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(printable(fields[i]))
		b.WriteByte('=')
		b.WriteString(printable(fields[i+1]))
	}
	return b.String()
}

// printable is s, quoted when it holds anything but printable UTF-8
// without tabs and newlines (which would break the table, or the
// terminal), or is empty.
func printable(s string) string {
	if s == "" {
		return `""`
	}
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// clip shortens s to at most n runes, marking the cut with "...".
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-3]) + "..."
}
