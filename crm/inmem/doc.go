// Package inmem is an implementation of crm.Store that keeps everything in
// memory: for tests (the dialog engine's, the web server's) that need a
// store without a database file, and for trying Parley without one.
//
// It applies the same rules as the bbolt store, through the crm helpers
// (validation, defaults, redaction), returns the same errors wrapped the
// same way, and passes the same conformance suite (crm/crmtest). Records are
// copied in and out: a caller may keep and change what it passed or got
// back.
//
// # Caveats
//
//   - Nothing is durable: everything is gone when the process ends, and an
//     "acknowledged" message survives nothing. Use it where that is the
//     point.
//   - One sync.RWMutex guards all of it, and lists are sorted when they are
//     read, by scanning every record of their kind: fine for tests and
//     demos, slow for a large store.
//   - Import copies the whole store and swaps the copy in when all of the
//     snapshot went in, so that a failed import changes nothing.
//   - There is no Backup: crm.Backuper is for stores with a file.
package inmem
