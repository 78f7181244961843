// Package reports renders checked runs for people and for CI. It reads
// only runs' config, results and history, and never needs a cluster.
//
// The files hold one part each:
//
//   - html.go: a self-contained report.html per run, with no CDN and
//     everything escaped (report.html.tmpl, report.js)
//   - timeline.go: the timeline's data, drawn in the browser
//   - linearizability.go: porcupine's visualization of the registers
//   - junit.go: junit.xml, with one test case per check
//   - index.go: a store's list of runs, as a static index.html
//     (index.html.tmpl) and as the handler `harness serve` uses
//   - input.go: Input, everything a report shows
//   - format.go: events and counts as text
package reports
