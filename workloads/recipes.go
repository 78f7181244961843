package workloads

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

// RecipeInfo describes a built-in recipe.
type RecipeInfo struct {
	Name string
	DB   string // the database it elects through
	// Unsafe marks the known-unsafe controls the harness must catch.
	Unsafe bool
	// Exec is the host path of a user's campaigner (exec:PATH); it runs
	// in the campaigner nodes instead of a built-in recipe, against any
	// database.
	Exec        string
	Description string
	open        func(CampaignerConfig) (Recipe, error)
}

var builtins = map[string]RecipeInfo{
	"etcd-election": {
		Name: "etcd-election", DB: "etcd",
		Description: "concurrency.Election; writes fenced by Txn If(CreateRevision(key) == rev)",
		open:        func(c CampaignerConfig) (Recipe, error) { return newEtcdElection(c, fenced) },
	},
	"etcd-unfenced": {
		Name: "etcd-unfenced", DB: "etcd", Unsafe: true,
		Description: "concurrency.Election; the leader writes with a plain Put (unsafe control)",
		open:        func(c CampaignerConfig) (Recipe, error) { return newEtcdElection(c, unfenced) },
	},
	"etcd-cached": {
		Name: "etcd-cached", DB: "etcd", Unsafe: true,
		Description: "concurrency.Election; leadership cached when won and never re-checked (ignores session loss), plain Put (unsafe control)",
		open:        func(c CampaignerConfig) (Recipe, error) { return newEtcdElection(c, cached) },
	},
	"etcd-check-then-act": {
		Name: "etcd-check-then-act", DB: "etcd", Unsafe: true,
		Description: "concurrency.Election; before each write, read who leads and act if it is me, plain Put (unsafe control)",
		open:        func(c CampaignerConfig) (Recipe, error) { return newEtcdElection(c, checkThenAct) },
	},
	"etcd-trust-campaign": {
		Name: "etcd-trust-campaign", DB: "etcd", Unsafe: true,
		Description: "etcd-election without reading the key back after Campaign: a campaign that returns after its session expired (etcd #19597) is taken as won; writes fenced (unsafe control)",
		open:        func(c CampaignerConfig) (Recipe, error) { return newEtcdElection(c, trustCampaign) },
	},
	"consul-lock": {
		Name: "consul-lock", DB: "consul",
		Description: "api.Lock on a TTL session, lost channel watched; writes fenced by a Txn with KVCheckSession on the lock key",
		open:        func(c CampaignerConfig) (Recipe, error) { return newConsulElection(c, consulLock) },
	},
	"consul-session": {
		Name: "consul-session", DB: "consul",
		Description: "hand-written: TTL session renewed every TTL/2, KV acquire, losers poll, the key re-read before acting; writes fenced by KVCheckSession",
		open:        func(c CampaignerConfig) (Recipe, error) { return newConsulElection(c, consulSession) },
	},
	"consul-unfenced": {
		Name: "consul-unfenced", DB: "consul", Unsafe: true,
		Description: "api.Lock as consul-lock; the leader writes with a plain KV put (unsafe control)",
		open:        func(c CampaignerConfig) (Recipe, error) { return newConsulElection(c, consulUnfenced) },
	},
}

// ExecPrefix selects a user's campaigner binary: --recipe exec:PATH.
const ExecPrefix = "exec:"

// LookupRecipe returns a built-in recipe by name, or a user's campaigner
// for exec:PATH (Exec set to PATH, which must exist).
func LookupRecipe(name string) (RecipeInfo, error) {
	if path, ok := strings.CutPrefix(name, ExecPrefix); ok {
		if path == "" {
			return RecipeInfo{}, fmt.Errorf("recipe %q names no program (exec:PATH)", name)
		}
		if st, err := os.Stat(path); err != nil || st.IsDir() {
			return RecipeInfo{}, fmt.Errorf("recipe %q: %s is not a program (%v)", name, path, err)
		}
		return RecipeInfo{Name: name, Exec: path, Description: "a user's campaigner speaking the campaigner protocol"}, nil
	}
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
