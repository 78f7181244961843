package registry

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/db/consul"
	"github.com/election-harness/harness/db/etcd"
	"github.com/election-harness/harness/kube"
	"github.com/election-harness/harness/workloads"
)

// Driver is what a driver package gives: a database and the built-in
// recipes that elect through it.
type Driver interface {
	db.DB
	Recipes() []workloads.RecipeInfo
}

// drivers is the one list of databases. The first is the default --db.
func drivers() []Driver { return []Driver{etcd.DB{}, consul.DB{}} }

// All are the databases --db names, the default first.
func All() []db.DB {
	var out []db.DB
	for _, d := range drivers() {
		out = append(out, d)
	}
	return out
}

// Default is the database of a run that names none.
func Default() db.DB { return drivers()[0] }

// Names are the --db values, the default first.
func Names() []string {
	var out []string
	for _, d := range drivers() {
		out = append(out, d.Name())
	}
	return out
}

// Lookup returns the database named name (a --db value).
func Lookup(name string) (db.DB, error) {
	for _, d := range drivers() {
		if d.Name() == name {
			return d, nil
		}
	}
	return nil, fmt.Errorf("--db %q: unknown database (want %s)", name, Or(Names()))
}

// Or joins names for a sentence: "a", "a or b", "a, b or c".
func Or(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// recipes is the table of every driver's recipes, each marked with the
// database it elects through. Two drivers naming one recipe is a bug.
var recipes = sync.OnceValue(func() workloads.Recipes {
	t := workloads.Recipes{}
	for _, d := range drivers() {
		for _, r := range d.Recipes() {
			if prev, dup := t[r.Name]; dup {
				panic(fmt.Sprintf("recipe %s is listed by %s and %s", r.Name, prev.DB, d.Name()))
			}
			r.DB = d.Name()
			t[r.Name] = r
		}
		// Recipes of the Kubernetes API elect through apiserver nodes
		// in front of a database that can store Kubernetes.
		if _, ok := d.(db.KubeStore); ok {
			for _, r := range kube.Recipes() {
				if prev, dup := t[r.Name]; dup {
					panic(fmt.Sprintf("recipe %s is listed by %s and %s", r.Name, prev.DB, d.Name()))
				}
				r.DB = d.Name()
				t[r.Name] = r
			}
		}
	}
	return t
})

// Recipes are the built-in recipes of every database.
func Recipes() workloads.Recipes { return recipes() }

// DefaultRecipes names each database's default recipe, for help text.
func DefaultRecipes() string {
	var names []string
	for _, d := range drivers() {
		names = append(names, d.Defaults().Recipe)
	}
	return Or(names)
}

// WrongDBError is a built-in recipe named with a database it does not
// elect through.
type WrongDBError struct {
	Recipe, Through, DB string
}

func (e *WrongDBError) Error() string {
	return fmt.Sprintf("recipe %s elects through %s, not db %s", e.Recipe, e.Through, e.DB)
}

// RecipeFor looks recipe up and checks that it can run against the
// database named dbName: a user's campaigner (exec:PATH) runs against
// any; a built-in recipe only against the database whose driver lists
// it (else a *WrongDBError). Runs and suites both check here.
func RecipeFor(recipe, dbName string) (workloads.RecipeInfo, error) {
	info, err := Recipes().Lookup(recipe)
	if err != nil {
		return info, err
	}
	if info.Exec == "" && info.DB != dbName {
		return info, &WrongDBError{Recipe: recipe, Through: info.DB, DB: dbName}
	}
	return info, nil
}

// ReadMode checks a --consistency value for d: "" takes d's default
// mode; a database without read modes takes none.
func ReadMode(d db.DB, mode string) (string, error) {
	rm, ok := d.(db.ReadModes)
	switch {
	case !ok && mode != "":
		return "", fmt.Errorf("--consistency is %s's; %s reads are linearizable", Or(withReadModes()), d.Name())
	case !ok:
		return "", nil
	case mode == "":
		return rm.ReadModes()[0], nil
	case !slices.Contains(rm.ReadModes(), mode):
		return "", fmt.Errorf("--consistency %q: want one of %s", mode, strings.Join(rm.ReadModes(), ", "))
	}
	return mode, nil
}

// ReadModesHelp says which databases have read modes and what they are,
// for help text: "consul: default, consistent, stale".
func ReadModesHelp() string {
	return listPerDriver(db.ReadModes.ReadModes)
}

// OptionsHelp names the databases whose recipes take campaigner
// options (--option).
func OptionsHelp() string {
	return "for " + strings.Join(driversWith[db.CampaignerOptions](), ", ") + " (see docs/running.md)"
}

func withReadModes() []string {
	return driversWith[db.ReadModes]()
}

// driversWith names the databases whose driver has the capability C.
func driversWith[C any]() []string {
	var out []string
	for _, d := range drivers() {
		if _, ok := d.(C); ok {
			out = append(out, d.Name())
		}
	}
	return out
}

// listPerDriver says, for each database whose driver has the capability
// C, what listOf lists of it, for help text: "consul: a, b; etcd: c".
func listPerDriver[C any](listOf func(C) []string) string {
	var parts []string
	for _, d := range drivers() {
		if c, ok := d.(C); ok {
			parts = append(parts, d.Name()+": "+strings.Join(listOf(c), ", "))
		}
	}
	return strings.Join(parts, "; ")
}

// CampaignerArgs are the command-line arguments the built-in campaigner
// takes for d's options in a run with settings s (none for a database
// without CampaignerOptions).
func CampaignerArgs(d db.DB, s db.RunSettings) []string {
	o, ok := d.(db.CampaignerOptions)
	if !ok {
		return nil
	}
	return workloads.OptionArgs(o.CampaignerOptions(s))
}

// CheckOptions checks a run's --option values for d.
func CheckOptions(d db.DB, opts map[string]string) error {
	if len(opts) == 0 {
		return nil
	}
	o, ok := d.(db.CampaignerOptions)
	if !ok {
		return fmt.Errorf("%s recipes take no campaigner options", d.Name())
	}
	return o.CheckOptions(opts)
}

// PatchesHelp lists each database's source patches (--patch).
func PatchesHelp() string {
	return listPerDriver(func(sp db.SourcePatches) []string {
		var names []string
		for _, p := range sp.Patches() {
			names = append(names, p.Name)
		}
		return names
	})
}

// LogLevelsHelp lists the log levels of each database whose members'
// level the harness can set (--server-log-level).
func LogLevelsHelp() string {
	return listPerDriver(db.ServerLogLevels.LogLevels)
}
