package registry

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/election-harness/harness/db"
)

func TestLookup(t *testing.T) {
	for _, tc := range []struct {
		name, wantErr string
	}{
		{"etcd", ""},
		{"consul", ""},
		{"zookeeper", `--db "zookeeper": unknown database (want etcd or consul)`},
	} {
		d, err := Lookup(tc.name)
		switch {
		case tc.wantErr == "" && (err != nil || d.Name() != tc.name):
			t.Errorf("Lookup(%q) = %v, %v", tc.name, d, err)
		case tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr):
			t.Errorf("Lookup(%q) error %v, want %q", tc.name, err, tc.wantErr)
		}
	}
	if Default().Name() != "etcd" {
		t.Errorf("Default() = %s, want etcd", Default().Name())
	}
}

func TestRecipeFor(t *testing.T) {
	for _, tc := range []struct {
		recipe, db, wantErr string
		wrongDB             bool
	}{
		{"etcd-election", "etcd", "", false},
		{"consul-lock", "consul", "", false},
		{"etcd-election", "consul", "recipe etcd-election elects through etcd, not db consul", true},
		{"consul-unfenced", "etcd", "recipe consul-unfenced elects through consul, not db etcd", true},
		{"nope", "etcd", `unknown recipe "nope"`, false},
	} {
		info, err := RecipeFor(tc.recipe, tc.db)
		var wrong *WrongDBError
		switch {
		case tc.wantErr == "" && (err != nil || info.DB != tc.db):
			t.Errorf("RecipeFor(%s, %s) = %+v, %v", tc.recipe, tc.db, info, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("RecipeFor(%s, %s) error %v, want %q", tc.recipe, tc.db, err, tc.wantErr)
		case errors.As(err, &wrong) != tc.wrongDB:
			t.Errorf("RecipeFor(%s, %s) error %v: a WrongDBError is %v, want %v", tc.recipe, tc.db, err, !tc.wrongDB, tc.wrongDB)
		}
	}
}

// TestEveryRecipeIsComplete: every built-in recipe can be opened (its
// driver gave an Open), names its database, and each database's default
// recipe elects through it.
func TestEveryRecipeIsComplete(t *testing.T) {
	for _, name := range Recipes().Names() {
		r := Recipes()[name]
		if r.Open == nil || r.DB == "" || r.Description == "" {
			t.Errorf("recipe %s: Open set %v, DB %q, Description %q", name, r.Open != nil, r.DB, r.Description)
		}
	}
	for _, d := range All() {
		if r := Recipes()[d.Defaults().Recipe]; r.DB != d.Name() {
			t.Errorf("%s's default recipe %s elects through %q", d.Name(), d.Defaults().Recipe, r.DB)
		}
	}
}

func TestReadMode(t *testing.T) {
	for _, tc := range []struct {
		db, mode, want, wantErr string
	}{
		{"etcd", "", "", ""},
		{"etcd", "stale", "", "--consistency is consul's; etcd reads are linearizable"},
		{"consul", "", "default", ""},
		{"consul", "stale", "stale", ""},
		{"consul", "strong", "", `--consistency "strong": want one of default, consistent, stale`},
	} {
		d, _ := Lookup(tc.db)
		got, err := ReadMode(d, tc.mode)
		if got != tc.want || (err == nil) != (tc.wantErr == "") || (err != nil && err.Error() != tc.wantErr) {
			t.Errorf("ReadMode(%s, %q) = %q, %v; want %q, %q", tc.db, tc.mode, got, err, tc.want, tc.wantErr)
		}
	}
}

// TestCampaignerArgs: the argv a campaigner gets for its database's
// options is the driver's, and each driver's recipes accept it.
func TestCampaignerArgs(t *testing.T) {
	for _, tc := range []struct {
		db, mode string
		want     []string
	}{
		{"etcd", "", nil},
		{"consul", "", nil},
		{"consul", "stale", []string{"--option", "consistency=stale"}},
	} {
		d, _ := Lookup(tc.db)
		if got := CampaignerArgs(d, db.RunSettings{ReadMode: tc.mode}); !slices.Equal(got, tc.want) {
			t.Errorf("CampaignerArgs(%s, %q) = %q, want %q", tc.db, tc.mode, got, tc.want)
		}
	}
}

func TestUnsupportedIsDerived(t *testing.T) {
	for _, tc := range []struct {
		db   string
		want []string
	}{
		{"etcd", nil},
		{"consul", []string{"failpoint", "upgrade", "compact", "defrag"}},
	} {
		d, _ := Lookup(tc.db)
		if got := db.Unsupported(d); !slices.Equal(got, tc.want) {
			t.Errorf("Unsupported(%s) = %q, want %q", tc.db, got, tc.want)
		}
	}
}
