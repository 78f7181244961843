package conformance

import (
	"context"
	"time"

	"github.com/election-harness/harness/run"
)

// Config makes cfg a campaigner check's run: two campaigners, no faults,
// a short time limit (the script sets the pace).
func Config(cfg run.Config) run.Config {
	cfg.Campaigners, cfg.Nemesis = 2, nil
	cfg.TimeLimit = run.Duration(30 * time.Second)
	cfg.HoldUntilLost = 0
	return cfg
}

// Run checks the campaigner of cfg (its recipe, exec:PATH or built-in)
// against the rules on a cluster of its own, then checks the run's
// history as any run's. The error is the run's (the cluster could not
// start, the check could not go on); a broken rule is in the Report.
func Run(ctx context.Context, cfg run.Config, opts run.Options) (Report, run.Result, error) {
	var report Report
	opts.Script = Script(&report)
	res, err := run.Run(ctx, Config(cfg), opts)
	if err == nil && res.ScriptErr != nil {
		err = res.ScriptErr
	}
	return report, res, err
}
