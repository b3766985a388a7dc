package command

// Server commands that do not belong to another group: SHUTDOWN, and the
// checkpoint commands SAVE, BGSAVE and BGREWRITEAOF (LASTSAVE is with the
// introspection commands).

func init() { registrations = append(registrations, registerServer) }

func registerServer(t *Table) {
	t.add(&Command{Name: "shutdown", Arity: -1, Flags: Admin | NoScript | Loading | Stale | NoMulti | AllowBusy | NoKeyspace, Run: cmdShutdown},
		&Command{Name: "save", Arity: 1, Flags: Admin | NoScript | NoMulti | NoKeyspace, Run: cmdSave},
		&Command{Name: "bgsave", Arity: -1, Flags: Admin | NoScript | NoKeyspace, Run: cmdBgsave},
		&Command{Name: "bgrewriteaof", Arity: 1, Flags: Admin | NoScript | NoKeyspace, Run: cmdBgrewriteaof})
}

// SAVE (redis.io/commands/save) writes a checkpoint and answers once it is
// durable. Without a data directory (an in-memory server) it fails as a
// failed rdbSave does.
func cmdSave(x *Ctx) {
	ck := x.Env.Checkpointer
	switch {
	case ck != nil && ck.InProgress():
		x.Error(msgBgsaveInProgress)
	case ck == nil:
		x.Error(msgErr)
	default:
		if err := ck.Save(); err != nil {
			x.Env.Log.Warn("SAVE failed", "err", err)
			x.Error(msgErr)
			return
		}
		x.W.OK()
	}
}

// BGSAVE [SCHEDULE] (redis.io/commands/bgsave) starts a checkpoint in the
// background. As in Redis, a checkpoint already running answers an error,
// SCHEDULE or not (Runnel has no other background job to wait for).
func cmdBgsave(x *Ctx) {
	if len(x.Args) > 1 && (len(x.Args) > 2 || !x.Is(1, "schedule")) {
		x.Error(msgSyntax)
		return
	}
	ck := x.Env.Checkpointer
	switch {
	case ck == nil:
		x.Error(msgErr)
	case ck.BackgroundSave():
		x.W.Simple("Background saving started")
	default:
		x.Error(msgBgsaveInProgress)
	}
}

// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT] (redis.io/commands/shutdown)
func cmdShutdown(x *Ctx) {
	save, nosave, abort := false, false, false
	for i := 1; i < len(x.Args); i++ {
		switch {
		case x.Is(i, "nosave"):
			nosave = true
		case x.Is(i, "save"):
			save = true
		case x.Is(i, "now"), x.Is(i, "force"):
			// Runnel has no replicas to wait for and nothing that can make a
			// shutdown fail but the save, so both are accepted as is.
		case x.Is(i, "abort"):
			abort = true
		default:
			x.Error(msgSyntax)
			return
		}
	}
	if (save && nosave) || (abort && len(x.Args) > 2) {
		x.Error(msgSyntax)
		return
	}
	if abort {
		x.Error("ERR No shutdown in progress.")
		return
	}
	if x.Env.Shutdown == nil {
		x.Error(msgShutdownNoSave)
		return
	}
	if err := x.Env.Shutdown(!nosave); err != nil {
		x.Env.Log.Warn("SHUTDOWN failed", "err", err)
		x.Error(msgShutdownNoSave)
		return
	}
	// Like Redis, the client gets no reply: its connection just closes.
	x.C.CloseAfterReply()
}

// BGREWRITEAOF (redis.io/commands/bgrewriteaof) compacts the log, which in
// Runnel is what a checkpoint does: it starts one in the background.
func cmdBgrewriteaof(x *Ctx) {
	ck := x.Env.Checkpointer
	switch {
	case ck == nil:
		x.Error(msgErr)
	case ck.BackgroundSave():
		x.W.Simple("Background append only file rewriting started")
	default:
		x.Error(msgAOFRewriteInProgress)
	}
}
