"""Facts many modules read, in one light home that imports no torch: loss names and default objectives per
model family, and which way each evaluation metric is better.

A model declares its family (`family = "gan"` / `"vae"` on its base class); everything family-specific that
is not training code is looked up here, and the training side (steps, optimisers) in
gvc/training/families.py. Adding a metric means adding its direction here.
"""

from __future__ import annotations

from dataclasses import dataclass

MINIMIZE, MAXIMIZE = "minimize", "maximize"


@dataclass(frozen=True)
class FamilyFacts:
    losses: tuple[str, ...]  # history.csv columns of the family's training (and test) losses
    default_objective: str  # what a run is judged by when it is not evaluated
    likelihood: bool  # has an encoder and a likelihood: test -ELBO during training, NLL bounds at evaluation


FAMILIES: dict[str, FamilyFacts] = {
    "gan": FamilyFacts(losses=("loss_d", "loss_g", "d_real", "d_fake"), default_objective="loss_g", likelihood=False),
    "vae": FamilyFacts(losses=("loss", "bce", "kl", "test_loss", "test_bce", "test_kl"), default_objective="test_loss",
                       likelihood=True),
}

# What a run can be judged by: its final losses (per family) and, when evaluated, any quality metric.
LOSSES: dict[str, tuple[str, ...]] = {name: facts.losses for name, facts in FAMILIES.items()}

# Which way is better, for every key evaluate() returns (floor_ and noise_ keys excepted: they are references).
# The nearest-training-image distances rise when a model copies less; they are not quality objectives on their
# own (noise is far from every training image too) and must be read together with FID / precision.
DIRECTIONS: dict[str, str] = {
    "fid": MINIMIZE,
    "kid_mean": MINIMIZE,
    "kid_std": MINIMIZE,
    "precision": MAXIMIZE,
    "recall": MAXIMIZE,
    "density": MAXIMIZE,
    "coverage": MAXIMIZE,
    "inception_score": MAXIMIZE,
    "classes_covered": MAXIMIZE,
    "class_kl_uniform": MINIMIZE,
    "mean_confidence": MAXIMIZE,
    "nn_train_dist_gen": MAXIMIZE,
    "nn_train_dist_test": MAXIMIZE,
    "memorisation_ratio": MAXIMIZE,
    "test_nelbo": MINIMIZE,
    "test_nll_iw": MINIMIZE,
}


def family_of(model_name: str) -> str:
    """The family of a registered model (imports the model registry, hence torch: call it lazily)."""
    from gvc.models import model_class

    return model_class(model_name).family
