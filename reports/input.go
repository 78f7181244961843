package reports

import (
	"github.com/election-harness/harness/checker"
	"github.com/election-harness/harness/histories"
)

// Input is everything a report shows.
type Input struct {
	Title string
	// Config is the run's config.json, shown as given.
	Config  any
	Command string
	Results checker.Results
	Events  []histories.Event
}
