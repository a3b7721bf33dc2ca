"""The embedded demo district (Nanping, from the case study) and the generators the tests and
benchmarks use. Production code never imports this package: a district runs on its own
exports and its own trained model."""
