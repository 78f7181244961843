package reports

import (
	"time"

	"github.com/election-harness/harness/checker"
	"github.com/election-harness/harness/histories"
)

// Input is everything a report shows.
type Input struct {
	Title string
	// Facts are the run's parameters in display order (db, version,
	// recipe, seed...), shown at the top.
	Facts []Fact
	// Config is the run's config.json, shown as given.
	Config  any
	Command string
	// Options are the checker's, which the timeline needs to replay the
	// store's record.
	Options checker.Options
	Results checker.Results
	Events  []histories.Event
	// NodeLogs are the run directory's node log files, relative to it.
	NodeLogs []string

	// What junit.xml says of the run besides its checks.
	// SuiteName names the run's test suite, unique per run (test, db
	// version, seed); "" is Title.
	SuiteName string
	// Started is when the run started.
	Started time.Time
	// Duration is how long the run took; 0 is from its start to its
	// last event.
	Duration time.Duration
	// Hostname is the machine the run ran on.
	Hostname string
	// Properties are the run's junit properties (db, version, nodes,
	// recipe, nemesis, seed, harness version, run directory, the
	// command that reproduces it).
	Properties []Fact
}

// Fact is one labelled run parameter.
type Fact struct{ Name, Value string }
