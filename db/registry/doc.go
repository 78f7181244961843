// Package registry is the one list of database drivers (db/etcd,
// db/consul). It looks a --db value up, and gathers every driver's
// built-in recipes into one table marked with the database each elects
// through. It also answers the questions that span drivers. May this
// recipe run against this database? Is this read mode one of this
// database's? What does this database's campaigner take on its command
// line?
//
// It is the only package besides the drivers that names a database.
package registry
