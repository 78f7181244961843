package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/nemesis"
)

// referencePage is a page made from the code that holds what it says.
type referencePage struct {
	file  string
	write func(w io.Writer)
}

// referencePages are the commands' flag definitions and the nemesis's
// tables. `make reference` writes them; a test fails when they drift.
func referencePages() []referencePage {
	return []referencePage{
		{"flags.md", func(w io.Writer) { writeFlagsReference(w, newRoot()) }},
		{"faults.md", writeFaultsReference},
	}
}

// referenceCmd writes the reference pages into a directory.
func referenceCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "reference DIR",
		Short:  "Write the reference pages (flags.md, faults.md) made from the code into DIR",
		Args:   cobra.ExactArgs(1),
		Hidden: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return fmt.Errorf("writing the reference: %w", err)
			}
			for _, p := range referencePages() {
				var b bytes.Buffer
				p.write(&b)
				if err := os.WriteFile(filepath.Join(args[0], p.file), b.Bytes(), 0o644); err != nil {
					return fmt.Errorf("writing the reference: %w", err)
				}
			}
			return nil
		},
	}
}

// generatedNote heads every reference page.
const generatedNote = "<!-- Made by `make reference` from the code; edit the code, not this page. -->\n\n"

// writeFlagsReference writes every visible command's usage and flags.
func writeFlagsReference(w io.Writer, root *cobra.Command) {
	fmt.Fprint(w, generatedNote)
	fmt.Fprintf(w, "# Commands and flags\n\nEvery command of `harness` with its flags, as `harness COMMAND --help` gives them.\n")
	for _, c := range root.Commands() {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		fmt.Fprintf(w, "\n## harness %s\n\n%s.\n\n```\n%s\n```\n", c.Name(), c.Short, c.UseLine())
		var rows []string
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if f.Hidden || f.Name == "help" {
				return
			}
			name := "`--" + f.Name + "`"
			if f.Shorthand != "" {
				name = "`-" + f.Shorthand + "`, " + name
			}
			def := f.DefValue
			if def == db.DefaultCacheDir() {
				def = "$XDG_CACHE_HOME/election-harness, else ~/.cache/election-harness" // the same page on every machine
			}
			if def == "" || def == "[]" || (f.Value.Type() == "bool" && def == "false") {
				def = ""
			} else {
				def = "`" + def + "`"
			}
			rows = append(rows, fmt.Sprintf("| %s | %s | %s |", name, escapeCell(f.Usage), def))
		})
		if len(rows) > 0 {
			fmt.Fprintf(w, "\n| flag | meaning | default |\n| --- | --- | --- |\n%s\n", strings.Join(rows, "\n"))
		}
	}
}

// writeFaultsReference writes the nemesis's kind and rule tables.
func writeFaultsReference(w io.Writer) {
	fmt.Fprint(w, generatedNote)
	fmt.Fprintf(w, "# Fault kinds and rules\n\nEvery kind `--nemesis KIND` deals and every rule `--nemesis KIND:RULE` names, from the tables the nemesis deals from (`harness faults` prints the same). *How often* is the rule's share when its kind is dealt at random.\n")
	for _, k := range nemesis.KindTable {
		fmt.Fprintf(w, "\n## %s\n\n%s.", k.Name, k.Does)
		not := unsupportedBy(k.Name)
		if len(not) > 0 {
			fmt.Fprintf(w, " Not for %s.", strings.Join(not, ", "))
		}
		fmt.Fprintf(w, "\n\n| rule | what it does | how often | needs |\n| --- | --- | --- | --- |\n")
		for _, r := range nemesis.Rules(k.Name) {
			needs := ruleNeeds(r)
			fmt.Fprintf(w, "| `%s:%s` | %s | %s | %s |\n", k.Name, r.Name, escapeCell(r.Does), r.When(), needs)
		}
	}
}

// escapeCell keeps a Markdown table cell on its line and in its column.
func escapeCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
