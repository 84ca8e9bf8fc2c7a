"""gvc: GAN vs VAE — train, sweep and compare deep generative models on MNIST, with numbers."""

__version__ = "0.1.0"
