package journal

// attrWorker is the system attribute in which lib/hpo keeps the worker that ran a trial
// (lib/hpo/stream.go).
const attrWorker = "hpo:worker"
