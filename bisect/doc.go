// Package bisect finds the first bad release of a database between a
// good one and a bad one. It lists the releases in between, runs a number
// of seeded runs of the same test on each release it visits, and halves
// the range until a good release sits next to a bad one.
//
// A release is bad as soon as one run finds the property that the bad
// release breaks, or any property if none is named. It is good when every
// run of it is valid, and undecided otherwise, which stops the search and
// says where. A candidate may carry source patches ("v3.6.16+NAME"), so
// that a control build is judged the same way.
//
// The search owns only the order of the work. How a candidate is run is a
// Runner, so the search is tested without Docker.
package bisect
