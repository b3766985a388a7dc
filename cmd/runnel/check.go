package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/runnel-io/runnel/internal/store"
)

const checkUsage = `Usage: runnel check [--repair] DIR

Examines the data directory DIR (the server must be stopped): the newest
checkpoint and the write-ahead log. Without --repair it changes nothing and
exits with status 1 if the server would refuse to start on DIR.

With --repair it drops what is damaged so that the server starts again: a
damaged checkpoint is rewritten with every key that is still readable, the
log is cut at its first damaged record, and log records that no longer
follow the checkpoint are set aside. Every file changed or dropped is first
copied or moved into DIR/damaged-<time>/. It reports what was dropped.
`

// runCheck is `runnel check [--repair] DIR`.
func runCheck(args []string, stdout, stderr io.Writer) int {
	repair := false
	var dir string
	for _, a := range args {
		switch {
		case a == "--repair":
			repair = true
		case a == "-h" || a == "--help":
			fmt.Fprint(stdout, checkUsage)
			return 0
		case strings.HasPrefix(a, "-") || dir != "":
			fmt.Fprint(stderr, checkUsage)
			return 2
		default:
			dir = a
		}
	}
	if dir == "" {
		fmt.Fprint(stderr, checkUsage)
		return 2
	}
	examine := store.Check
	if repair {
		examine = store.Repair
	}
	rep, err := examine(nil, dir)
	if err != nil {
		fmt.Fprintf(stderr, "runnel check: %v\n", err)
		return 1
	}
	printReport(stdout, dir, &rep, repair)
	if !repair && !rep.OK() {
		return 1
	}
	return 0
}

func printReport(w io.Writer, dir string, rep *store.Report, repaired bool) {
	if rep.Checkpoint.Seq == 0 {
		fmt.Fprintf(w, "checkpoint: none\n")
	} else if rep.CheckpointDamage == "" {
		fmt.Fprintf(w, "checkpoint: %s ok (%d keys, log records up to %d)\n", rep.Checkpoint.Path, rep.Checkpoint.Keys, rep.Checkpoint.Seq)
	} else {
		fmt.Fprintf(w, "checkpoint: DAMAGED: %s\n", rep.CheckpointDamage)
		if repaired {
			fmt.Fprintf(w, "  rewritten with %d keys; dropped %d: %s\n", rep.SalvagedKeys, len(rep.DroppedKeys), strings.Join(rep.DroppedKeys, ", "))
		}
	}
	if len(rep.LostNodes) > 0 {
		fmt.Fprintf(w, "node log: %d streams have damaged or missing nodes:\n", len(rep.LostNodes))
		for _, l := range rep.LostNodes {
			fmt.Fprintf(w, "  %s\n", l)
		}
		if repaired {
			fmt.Fprintf(w, "  the checkpoint was rewritten without them; dropped: %s\n", strings.Join(rep.DroppedKeys, ", "))
		}
	}
	if d := rep.WAL; d == nil {
		fmt.Fprintf(w, "log: ok\n")
	} else {
		fmt.Fprintf(w, "log: DAMAGED: %s at offset %d: %s\n", d.File, d.Offset, d.Reason)
		verb := "would drop"
		if repaired {
			verb = "dropped"
		}
		fmt.Fprintf(w, "  %s %d whole records after record %d (%d later segment files)\n", verb, d.Lost, d.LastGood, len(d.Later))
	}
	if rep.Gap != "" {
		fmt.Fprintf(w, "log: %s\n", rep.Gap)
		if repaired {
			fmt.Fprintf(w, "  the log was set aside; it restarts after the checkpoint\n")
		}
	}
	switch {
	case repaired && rep.Aside != "":
		fmt.Fprintf(w, "damaged files kept in %s\n", rep.Aside)
	case !repaired && !rep.OK():
		fmt.Fprintf(w, "run `runnel check --repair %s` to drop the damaged data\n", dir)
	default:
		fmt.Fprintf(w, "%s: ok\n", dir)
	}
}
