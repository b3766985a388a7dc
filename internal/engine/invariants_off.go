//go:build !invariants

package engine

const invariantsTag = false
