package engine

// invariantsEnabled turns on checks that cost time on every access; tests
// built with -race or -tags invariants run them.
const invariantsEnabled = raceEnabled || invariantsTag
