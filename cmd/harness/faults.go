package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/db/registry"
	"github.com/election-harness/harness/nemesis"
)

func faultsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "faults",
		Short: "List every fault kind and rule: what it does, how often it is dealt, what it needs",
		Long: `List every fault kind (--nemesis KIND) and each of its rules (--nemesis KIND:RULE),
from the tables the nemesis deals from: what the rule does, how often it comes up
when the kind is dealt at random, and how many members it needs. A rule named
with too few members is refused; dealt at random, it is noted at the start and
runs as its fallback, or is not applied.`,
		Example: `  harness faults
  harness run --nemesis pause:raft-leader,partition:bridge`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			writeFaults(os.Stdout)
			return nil
		},
	}
}

// writeFaults prints the nemesis's kind and rule tables: a line per
// kind, then an indented line per rule.
func writeFaults(w io.Writer) {
	for _, k := range nemesis.KindTable {
		line := fmt.Sprintf("%s: %s", k.Name, k.Does)
		if not := unsupportedBy(k.Name); len(not) > 0 {
			line += " (not for " + strings.Join(not, ", ") + ")"
		}
		fmt.Fprintln(w, line)
		for _, r := range nemesis.Rules(k.Name) {
			needs := ruleNeeds(r)
			if needs != "" {
				needs = "; needs " + needs
			}
			fmt.Fprintf(w, "  %s:%s  %s [%s%s]\n", k.Name, r.Name, r.Does, r.When(), needs)
		}
	}
}

// unsupportedBy names the databases that cannot run fault kind.
func unsupportedBy(kind string) []string {
	var not []string
	for _, d := range registry.All() {
		if slices.Contains(db.Unsupported(d), kind) {
			not = append(not, d.Name())
		}
	}
	return not
}

// ruleNeeds says how many members a rule needs, and what it runs as
// with fewer ("" when any cluster will do).
func ruleNeeds(r nemesis.Rule) string {
	if r.MinMembers <= 1 {
		return ""
	}
	needs := fmt.Sprintf("%d members", r.MinMembers)
	if r.Fallback != "" {
		needs += ", else runs as " + r.Fallback
	}
	return needs
}
