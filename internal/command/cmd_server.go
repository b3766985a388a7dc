package command

// Server commands that do not belong to another group: SHUTDOWN.

func init() { registrations = append(registrations, registerServer) }

func registerServer(t *Table) {
	t.add(&Command{Name: "shutdown", Arity: -1, Flags: Admin | NoScript | Loading | Stale | NoMulti | AllowBusy | NoKeyspace, Run: cmdShutdown})
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
