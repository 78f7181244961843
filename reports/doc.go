// Package reports renders checked runs for people and for CI: a
// self-contained report.html per run (no CDN; everything escaped; a
// timeline drawn in the browser, porcupine's visualization), junit.xml
// with one test case per check, and a store's list of runs (a static
// index.html, and the handler `harness serve` uses). It reads only runs'
// config, results and history; it never needs a cluster.
package reports
