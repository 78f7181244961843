package workloads

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
)

// RecipeInfo describes a recipe. The built-in ones live with their
// database's driver (db/...), which lists them; the registry gathers
// them into one Recipes table.
type RecipeInfo struct {
	Name string
	// DB is the database it elects through; the registry fills it in
	// from the driver that lists the recipe.
	DB string
	// Unsafe marks the known-unsafe controls the harness must catch.
	Unsafe bool
	// Exec is the host path of a user's campaigner (exec:PATH); it runs
	// in the campaigner nodes instead of a built-in recipe, against any
	// database.
	Exec string
	// APIServer marks a recipe that elects through kube-apiserver nodes
	// the run puts in front of the database's members.
	APIServer   bool
	Description string
	// Open starts the recipe inside a campaigner node.
	Open func(CampaignerConfig) (Recipe, error)
}

// Recipes are the built-in recipes by name.
type Recipes map[string]RecipeInfo

// ExecPrefix selects a user's campaigner binary: --recipe exec:PATH.
const ExecPrefix = "exec:"

// Lookup returns a built-in recipe by name, or a user's campaigner for
// exec:PATH (Exec set to PATH, which must exist).
func (t Recipes) Lookup(name string) (RecipeInfo, error) {
	if path, ok := strings.CutPrefix(name, ExecPrefix); ok {
		if path == "" {
			return RecipeInfo{}, fmt.Errorf("recipe %q names no program (exec:PATH)", name)
		}
		if st, err := os.Stat(path); err != nil || st.IsDir() {
			return RecipeInfo{}, fmt.Errorf("recipe %q: %s is not a program (%v)", name, path, err)
		}
		return RecipeInfo{Name: name, Exec: path, Description: "a user's campaigner speaking the campaigner protocol"}, nil
	}
	r, ok := t[name]
	if !ok {
		return RecipeInfo{}, fmt.Errorf("unknown recipe %q (built-in: %s)", name, strings.Join(t.Names(), ", "))
	}
	return r, nil
}

// Names lists the built-in recipes, sorted.
func (t Recipes) Names() []string {
	var names []string
	for n := range t {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Open starts the built-in recipe cfg names inside a campaigner node.
func (t Recipes) Open(cfg CampaignerConfig) (Recipe, error) {
	info, err := t.Lookup(cfg.Recipe)
	if err != nil {
		return nil, err
	}
	if info.Open == nil {
		return nil, fmt.Errorf("recipe %q is not built in", cfg.Recipe)
	}
	return info.Open(cfg)
}

// OptionFlag is the built-in campaigner's flag that carries a driver's
// option, NAME=VALUE, once per option (CampaignerConfig.Options).
const OptionFlag = "option"

// OptionArgs is the campaigner command line that passes opts, in a
// stable order.
func OptionArgs(opts map[string]string) []string {
	var args []string
	for _, n := range slices.Sorted(maps.Keys(opts)) {
		args = append(args, "--"+OptionFlag, n+"="+opts[n])
	}
	return args
}

// ReadEndpointsFlag is the built-in campaigner's flag that pins its
// register reads to the given endpoints (CampaignerConfig.ReadEndpoints).
const ReadEndpointsFlag = "read-endpoints"
