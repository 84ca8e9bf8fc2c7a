"""Quality metrics for generative models on MNIST, scored by a shipped MNIST classifier."""
