package workloads

import (
	"fmt"
	"sort"
	"strings"
)

// RecipeInfo describes a built-in recipe.
type RecipeInfo struct {
	Name string
	DB   string // the database it elects through
	// Unsafe marks the known-unsafe controls the harness must catch.
	Unsafe      bool
	Description string
	open        func(CampaignerConfig) (Recipe, error)
}

var builtins = map[string]RecipeInfo{
	"etcd-election": {
		Name: "etcd-election", DB: "etcd",
		Description: "concurrency.Election; writes fenced by Txn If(CreateRevision(key) == rev)",
		open:        func(c CampaignerConfig) (Recipe, error) { return newEtcdElection(c, true) },
	},
	"etcd-unfenced": {
		Name: "etcd-unfenced", DB: "etcd", Unsafe: true,
		Description: "concurrency.Election; the leader writes with a plain Put (unsafe control)",
		open:        func(c CampaignerConfig) (Recipe, error) { return newEtcdElection(c, false) },
	},
}

// ExecPrefix selects a user's campaigner binary: --recipe exec:PATH.
const ExecPrefix = "exec:"

// LookupRecipe returns a built-in recipe by name.
func LookupRecipe(name string) (RecipeInfo, error) {
	r, ok := builtins[name]
	if !ok {
		return RecipeInfo{}, fmt.Errorf("unknown recipe %q (built-in: %s)", name, strings.Join(RecipeNames(), ", "))
	}
	return r, nil
}

// RecipeNames lists the built-in recipes.
func RecipeNames() []string {
	var names []string
	for n := range builtins {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// OpenRecipe starts a built-in recipe inside a campaigner node.
func OpenRecipe(cfg CampaignerConfig) (Recipe, error) {
	info, err := LookupRecipe(cfg.Recipe)
	if err != nil {
		return nil, err
	}
	return info.open(cfg)
}
