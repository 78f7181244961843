package reports

import (
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
}

// Fact is one labelled run parameter.
type Fact struct{ Name, Value string }
