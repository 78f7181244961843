// Package registry is the one list of database drivers (db/etcd,
// db/consul): it looks a --db value up, gathers every driver's built-in
// recipes into one table marked with the database each elects through,
// and answers the questions that span drivers (may this recipe run
// against this database; is this read mode one of this database's;
// what does this database's campaigner take on its command line). It is
// the only package besides the drivers that names a database.
package registry
