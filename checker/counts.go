package checker

import (
	"strings"

	"github.com/election-harness/harness/histories"
)

// The keys of CheckResult.Counts. They are written to results.json and
// read by reports, gates and golden files, so each value is a contract:
// rename a constant freely, but never change its string.

// CountAnomalies counts every anomaly a check found, listed or not:
// Evidence keeps at most maxEvidence, and gates compare the two.
const CountAnomalies = "anomalies"

// Counts of P1, raft election safety: member probes and the leaders
// they claim, per raft term.
const (
	CountProbes       = "probes"
	CountProbesFailed = "probes-failed"
	CountLeaderClaims = "leader-claims"
)

// CountTerms counts election terms: raft terms probed (P1), terms won
// (P2), or terms some client believed it led (P6).
const CountTerms = "terms"

// CountCampaigns counts P2's campaigns, which countCampaignsBy also
// counts by outcome.
const CountCampaigns = "campaigns"

// countCampaignsBy is the key counting P2's campaigns with one outcome:
// "campaigns-ok", "campaigns-fail", "campaigns-info".
func countCampaignsBy(outcome histories.Type) string {
	return CountCampaigns + "-" + string(outcome)
}

// Counts of P3, granted leadership is real: the reigns in the store's
// record, and the won terms checked against them or not, with why not.
const (
	CountLeaderChanges     = "leader-changes"
	CountRecordGaps        = "record-gaps"
	CountTermsChecked      = "terms-checked"
	CountTermsUnchecked    = "terms-unchecked"
	CountTermsAfterRecord  = "terms-after-record"
	CountTermsInRecordGaps = "terms-in-record-gaps"
	CountTermsLedInCall    = "terms-led-in-call"
)

// Counts of P4, fenced work is linearizable: the operations decided and
// cross-checked, and the store's puts checked against their term's reign.
const (
	CountOpsChecked              = "ops-checked"
	CountReadsChecked            = "reads-checked"
	CountOpsCrossChecked         = "ops-cross-checked"
	CountOpsNotCrossChecked      = "ops-not-cross-checked"
	CountStaleReads              = "stale-reads"
	CountStorePutsChecked        = "store-puts-checked"
	CountPutsUnattributed        = "puts-unattributed"
	CountPutsWithoutTerm         = "puts-without-term"
	CountPutsInTheirReign        = "puts-in-their-reign"
	CountWritesOrderedInRealTime = "writes-ordered-in-real-time"
	CountStateKeysChecked        = "state-keys-checked"
)

// countRegisterOps is the key counting P4's register operations of
// function f (a write or a read) by outcome: "writes-ok", "reads-info".
func countRegisterOps(f string, outcome histories.Type) string {
	return f + "s-" + string(outcome)
}

// Counts of P5, observers agree: what observers saw, and the
// observations the store's record could not confirm, with why not.
const (
	CountObservations             = "observations"
	CountObservers                = "observers"
	CountObservationsUnchecked    = "observations-unchecked"
	CountObservationsAfterRecord  = "observations-after-record"
	CountObservationsInRecordGaps = "observations-in-record-gaps"
)

// Counts of P6, liveness, and of split-brain exposure: whether leadership
// recovered, and the windows in which two clients believed they led.
const (
	CountRecovered                   = "recovered"
	CountBeliefs                     = "beliefs"
	CountWindows                     = "windows"
	CountTermsActedOnAfterSuperseded = "terms-acted-on-after-superseded"
)

// Counts of P7, leases outlive their TTL: lease ends in the record, and
// lease-ttl answers, which countLeaseTTLBy also counts by outcome.
const (
	CountLeaseEnds                     = "lease-ends"
	CountLeaseEndsAsStuckLeaderResumed = "lease-ends-as-stuck-leader-resumed"
	CountLeaseTTLOK                    = "lease-ttl-ok"
	CountLeaseTTLEmpty                 = "lease-ttl-empty"
	CountLeaseTTLChecked               = "lease-ttl-checked"
)

// countLeaseTTLBy is the key counting P7's lease-ttl answers with one
// outcome: CountLeaseTTLOK is the ok one.
func countLeaseTTLBy(outcome histories.Type) string {
	return "lease-ttl-" + string(outcome)
}

// Counts of P8, renewed leases outlive their renewal: renewals, and the
// renewed terms by how they ended (only those ended by their lease are
// judged).
const (
	CountRenewals            = "renewals"
	CountRenewalsUnplaced    = "renewals-unplaced"
	CountRenewalsAfterEnd    = "renewals-after-end"
	CountTermsLeaseAmbiguous = "terms-lease-ambiguous"
	CountTermsRenewed        = "terms-renewed"
	CountTermsAlive          = "terms-alive"
	CountTermsEndedAtStop    = "terms-ended-at-stop"
	CountTermsResigned       = "terms-resigned"
	CountTermsEndedByHarness = "terms-ended-by-harness"
	CountTermsEndedByLease   = "terms-ended-by-lease"
)

// Counts of P9, P10 and V, which judge each member: the members seen,
// those compared (P9), crashed on purpose (P10), and their moves
// between versions (V).
const (
	CountMembers                 = "members"
	CountMembersCompared         = "members-compared"
	CountMembersCrashedOnPurpose = "members-crashed-on-purpose"
	CountMoves                   = "moves"
)

// Counts of P11, watches keep their guarantees: watchers, their watches
// and what those delivered; countBroke counts each broken guarantee.
const (
	CountWatchers              = "watchers"
	CountWatches               = "watches"
	CountWatchesResumed        = "watches-resumed"
	CountWatchesEndedByStore   = "watches-ended-by-store"
	CountProgressNotifications = "progress-notifications"
	CountResponses             = "responses"
	CountChanges               = "changes"
	CountChangesExpected       = "changes-expected"
)

// countBroke is the key counting P11's anomalies against one guarantee:
// "broke-" and the guarantee's words joined by "-".
func countBroke(guarantee string) string {
	return "broke-" + strings.ReplaceAll(guarantee, " ", "-")
}
