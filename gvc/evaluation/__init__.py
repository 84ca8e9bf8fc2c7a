"""Quality metrics for generative models, scored by a shipped classifier of the run's own data set (one per data set)."""
