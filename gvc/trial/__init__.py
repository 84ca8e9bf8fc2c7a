"""One trial, start to end: what a run is (its identity), its folder (the run-directory contract, the claim on it),
its lifecycle (task -> lifecycle -> summary.json), continuing it to a larger budget, and rebuilding it from its
checkpoint. Everything here is about one run directory; gvc.sweep is about many.
"""
