// Package suite is a matrix of runs and what each should find. A suite
// file (YAML) is crossed into entries: database × version × recipe ×
// nemesis × read mode × seed. Each entry runs through the engine (package
// run). The outcomes are kept in suite.json, junit.xml and a Markdown
// table of detection rates and times, of which docs/detection.md is made.
//
// Shards of one suite run on several machines, and Merge joins them. A
// time budget (Options.Budget) runs as many entries as fit, which is the
// presubmit tier. Tiers reads what shorter budgets would have caught from
// one budgeted run, and docs/results/tiers.md is made of them.
//
// The files hold one part each:
//
//   - suite.go: the suite file, its matrices and entries
//   - run.go: running the entries, within a budget
//   - results.go: suite.json, junit.xml and the Markdown table
//   - tiers.go: what each presubmit tier would have caught
//
// It imports run and what run's Result is made of. Nothing imports it but
// the CLI.
package suite
