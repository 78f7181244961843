// Package suite is a matrix of runs and what each should find: a suite
// file (YAML) crossed into entries (database × version × recipe ×
// nemesis × read mode × seed), each run through the engine (package
// run), and the outcomes kept in suite.json, junit.xml and a Markdown
// table of detection rates and times (docs/detection.md is made of
// them). Shards of one suite run on several machines and Merge joins
// them; a time budget (Options.Budget) runs as many entries as fit, the
// presubmit tier, and Tiers reads what shorter budgets would have caught
// from one budgeted run (docs/results/tiers.md is made of them).
//
// It imports run and what run's Result is made of; nothing imports it
// but the CLI.
package suite
