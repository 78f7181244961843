// Package db owns what the harness asks of a database, as interfaces
// its drivers implement: DB (the server and how it gets into a node
// image, member argv, client endpoints, readiness, probes of a member's
// own raft view, the store's own record of a run's keys, defaults) and
// the optional capabilities Membership (member loss and rejoin, which
// the wipe fault needs), Failpoints (a server built with failpoints,
// set over HTTP while it runs, which the failpoint fault needs),
// Upgrades (members moved between versions on their data: mixed-version
// runs and the upgrade fault), ReadModes (--consistency),
// CampaignerOptions (settings of a run a driver's recipes read),
// SourcePatches (control builds from patched sources, --patch),
// ServerLogLevels (--server-log-level) and Releases (the versions the
// Go module proxy serves, which `harness bisect` searches). What a
// database does not support is derived from the capabilities it lacks
// (Unsupported), never listed. It also holds what drivers share: the
// cached build of a server from its published Go module
// (GoModuleBuild; GofailEnable and CopyModule for a failpoint build of
// it, ApplySourcePatches for a patched one, GofailClient to set its
// failpoints, ModuleVersions to list its releases) and a record's
// progress (Progress).
//
// Each database is a driver package of its own under db/ (db/etcd,
// db/consul), which also owns its built-in recipes; db/registry lists
// them. No other package names a database (db/registry's isolation
// test checks). docs/adding-a-database.md walks through adding one.
package db
