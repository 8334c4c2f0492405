package journal

// WitnessWithLimit is Witness with at most limit notes in between per
// request, so that a test can make a witness fall far behind cheaply.
var WitnessWithLimit = witness
