package run

import (
	"fmt"
	"slices"
	"strings"

	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/workloads"
)

// databases are the databases --db names.
var databases = []db.DB{db.Etcd{}, db.Consul{}}

// Databases are the databases a run can test.
func Databases() []db.DB { return databases }

func dbNames() []string {
	var out []string
	for _, d := range databases {
		out = append(out, d.Name())
	}
	return out
}

// LookupDB is the database named name.
func LookupDB(name string) (db.DB, error) {
	for _, d := range databases {
		if d.Name() == name {
			return d, nil
		}
	}
	return nil, fmt.Errorf("--db %q: unknown database (want %s)", name, strings.Join(dbNames(), " or "))
}

// readMode checks the read consistency mode mode against d's, and
// gives d's default for "".
func readMode(d db.DB, mode string) (string, error) {
	switch {
	case d.Name() != "consul" && mode != "":
		return "", fmt.Errorf("--consistency is Consul's; %s reads are linearizable", d.Name())
	case d.Name() == "consul" && mode == "":
		return workloads.ConsistencyDefault, nil
	case d.Name() == "consul" && !slices.Contains(workloads.ConsistencyModes, mode):
		return "", fmt.Errorf("--consistency %q: want one of %s", mode, strings.Join(workloads.ConsistencyModes, ", "))
	}
	return mode, nil
}

func readModesHelp() string {
	return "consul: " + strings.Join(workloads.ConsistencyModes, ", ") + " (default default)"
}

// campaignerArgs are the flags of a built-in campaigner beyond the
// common ones.
func campaignerArgs(c Config) []string {
	if c.Consistency != "" {
		return []string{"--consistency", c.Consistency}
	}
	return nil
}
