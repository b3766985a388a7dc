package command

// Group is the command's group as COMMAND DOCS reports it ("string",
// "generic", "connection", ...), or "" without documentation.
func (c *Command) Group() string { return c.docString("group") }

// Summary is the command's one-line summary from COMMAND DOCS.
func (c *Command) Summary() string { return c.docString("summary") }

func (c *Command) docString(field string) string {
	m := metaFor(c.Name)
	if m == nil {
		return ""
	}
	v, ok := m.docs.field(field)
	if !ok {
		return ""
	}
	return v.str
}

// Subcommands returns c's subcommands sorted by name.
func (c *Command) Subcommands() []*Command { return c.subcommands() }
