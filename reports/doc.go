// Package reports renders a checked run for people and for CI: a
// self-contained report.html (no CDN; everything escaped) and junit.xml
// with one test case per check. It reads only a run's config, results and
// history; it never needs a cluster.
package reports
