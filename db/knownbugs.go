package db

import (
	"strings"

	"golang.org/x/mod/semver"
)

// KnownBug is a database bug the harness knows (the README's track record,
// docs/findings). An anomaly matches it when it is on an affected version,
// of the bug's property and kind, in a run that had one of the bug's
// faults. Such an anomaly is named as the bug wherever it appears, so that
// a gate can tell a known database bug from the team's own.
type KnownBug struct {
	ID    string
	Title string
	Link  string
	// Property is the checker's property that finds it (P8); Kind is
	// what the anomaly's message says ("lease ended early").
	Property, Kind string
	// Affected are the versions that have the bug.
	Affected []VersionRange
	// Faults are the fault kinds, one of which the run must have had;
	// empty means any run.
	Faults []string
	// ReadMode, if set, is the read consistency the run must have used.
	ReadMode string
}

// VersionRange is the versions from From (inclusive; "" for all
// before) to Before (exclusive; "" for all after).
type VersionRange struct{ From, Before string }

// Contains says whether v is in the range.
func (r VersionRange) Contains(v string) bool {
	return (r.From == "" || semver.Compare(v, r.From) >= 0) && (r.Before == "" || semver.Compare(v, r.Before) < 0)
}

// KnownBugs is a database whose driver lists the bugs the harness knows.
type KnownBugs interface {
	KnownBugs() []KnownBug
}

// Matches says whether an anomaly of property, with message msg, on a
// run of versions (every member's), faults (the run's --nemesis
// entries, KIND or KIND:RULE) and read mode, is the bug.
func (b KnownBug) Matches(property, msg string, versions, faults []string, readMode string) bool {
	if property != b.Property || !strings.Contains(msg, b.Kind) {
		return false
	}
	if b.ReadMode != "" && readMode != b.ReadMode {
		return false
	}
	affected := false
	for _, v := range versions {
		for _, r := range b.Affected {
			affected = affected || r.Contains(v)
		}
	}
	if !affected {
		return false
	}
	if len(b.Faults) == 0 {
		return true
	}
	for _, f := range faults {
		kind, _, _ := strings.Cut(f, ":")
		for _, want := range b.Faults {
			if kind == want {
				return true
			}
		}
	}
	return false
}
