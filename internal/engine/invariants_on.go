//go:build invariants

package engine

const invariantsTag = true
