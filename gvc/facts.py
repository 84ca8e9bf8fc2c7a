"""Facts many modules read, in one light home that imports no torch: loss names and default objectives per
model family, and which way each evaluation metric is better.

A model declares its family (`family = "gan"` / `"vae"` on its base class); everything family-specific that
is not training code is looked up here, and the training side (steps, optimisers) in
gvc/training/families.py.

Adding a metric means one spec in METRICS here (name, direction, what it needs, its label and report text, its
judgement flags) and one function that computes it, decorated `@computes("<name>")` (gvc/evaluation/
computations.py). evaluate(), the floor and noise references, the card, the report's tables, the verdict and
the claims' gates read it from here.
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

# The metric registry: every key evaluate() can return, with which way it is better, what it is computed from and
# a version. Directions, report labels and the floor/noise cache key derive from it, so a new or changed metric
# can never reuse a cached floor computed without it. Bump a metric's version when its definition changes.
FEATURES, LOGITS, PIXELS, MODEL, SECOND_SPACE = "features", "logits", "pixels", "model", "second space"
# The space a metric is computed in, from what it needs: the data set's classifier, the label-free autoencoder
# (its keys carry AE_PREFIX), or the model itself (the VAE's likelihood bounds on test images).
CLASSIFIER, AUTOENCODER = "classifier", "autoencoder"
AE_PREFIX = "ae_"
# A GAN's metrics measured on the EMA of its generator's weights (model.ema_decay): the same metric, this prefix.
EMA_PREFIX = "ema_"


@dataclass(frozen=True)
class Metric:
    name: str  # the key in summary.json (per-class metrics: the prefix of <name><class index>)
    direction: str  # MINIMIZE or MAXIMIZE
    needs: frozenset[str]  # what it is computed from: FEATURES, LOGITS, PIXELS, MODEL, SECOND_SPACE
    label: str  # how reports name it
    version: int = 1
    family: str | None = None  # only models of this family have it (None: every model)
    referenced: bool = True  # has a real-data floor and a uniform-noise level
    per_class: bool = False  # one key per class of the data set: name + class index
    objective: bool = True  # may be a sweep objective (per-class values and spreads may not)
    description: str = ""  # how the claims' evidence names it (its label when empty)
    headline: bool = False  # a column of the report's opening verdict (per space: classifier, else autoencoder)
    inflated_by_collapse: bool = False  # a collapsed model can score it well (Naeem et al. 2020): never decides
    card: bool = True  # a column of the calibration card (gvc/evaluation/calibrate.py), where referenced

    @property
    def space(self) -> str:
        """Where it is computed: CLASSIFIER, AUTOENCODER or MODEL (gvc/evaluation/computations.py)."""
        return AUTOENCODER if SECOND_SPACE in self.needs else MODEL if MODEL in self.needs else CLASSIFIER


def _m(name: str, direction: str, needs: str, label: str, **kw) -> Metric:
    return Metric(name, direction, frozenset(needs.split("+")), label, **kw)


_F, _L, _FL, _S = FEATURES, LOGITS, f"{FEATURES}+{LOGITS}", SECOND_SPACE
METRICS: tuple[Metric, ...] = (
    _m("fid", MINIMIZE, _F, "FID", description="FID (lower is better)", headline=True),
    _m("kid_mean", MINIMIZE, _F, "KID", description="KID (lower is better)"),
    _m("kid_std", MINIMIZE, _F, "KID std", objective=False),
    _m("precision", MAXIMIZE, _F, "precision", description="precision (fidelity)", headline=True,
       inflated_by_collapse=True),
    _m("recall", MAXIMIZE, _F, "recall", description="recall (diversity)", headline=True),
    _m("density", MAXIMIZE, _F, "density", description="density (fidelity)", inflated_by_collapse=True),
    _m("coverage", MAXIMIZE, _F, "coverage", description="coverage (diversity)", headline=True),
    _m("inception_score", MAXIMIZE, _L, "Inception Score"),
    _m("classes_covered", MAXIMIZE, _L, "classes covered", headline=True),
    _m("class_kl_uniform", MINIMIZE, _L, "class KL to uniform"),
    _m("mean_confidence", MAXIMIZE, _L, "mean confidence", card=False),
    # The nearest-training-image distances rise when a model copies less; they are not quality objectives on
    # their own (noise is far from every training image too) and must be read together with FID / precision.
    _m("nn_train_dist_gen", MAXIMIZE, _F, "distance to nearest training image", objective=False),
    _m("nn_train_dist_test", MAXIMIZE, _F, "test images' distance to nearest training image", objective=False),
    _m("memorisation_ratio", MAXIMIZE, _F, "memorisation ratio"),
    # Class effects (Kynkaenniemi et al. 2023): FID after resampling the samples to the test set's class
    # histogram, and FID within each predicted class.
    _m("fid_class_matched", MINIMIZE, _FL, "class-matched FID"),
    _m("fid_class_", MINIMIZE, _FL, "FID within class", per_class=True, objective=False),
    # The second, label-free feature space (a convolutional autoencoder's code): gvc/evaluation/autoencoder.py.
    # In the order its computation returns them (fid, kid, prdc, memorisation), as the classifier's space.
    _m("ae_fid", MINIMIZE, _S, "FID (autoencoder space)", headline=True),
    _m("ae_kid_mean", MINIMIZE, _S, "KID (autoencoder space)"),
    _m("ae_kid_std", MINIMIZE, _S, "KID std (autoencoder space)", objective=False),
    _m("ae_precision", MAXIMIZE, _S, "precision (autoencoder space)", headline=True,
       inflated_by_collapse=True),
    _m("ae_recall", MAXIMIZE, _S, "recall (autoencoder space)", headline=True),
    _m("ae_density", MAXIMIZE, _S, "density (autoencoder space)", inflated_by_collapse=True),
    _m("ae_coverage", MAXIMIZE, _S, "coverage (autoencoder space)", headline=True),
    _m("ae_memorisation_ratio", MAXIMIZE, _S, "memorisation ratio (autoencoder space)"),
    # VAEs: bounds in the training likelihood (Bernoulli BCE on grey pixels: not a normalised density) and on
    # the one normalised scale, the continuous Bernoulli read from the decoder's output (docs/metrics.md).
    _m("test_nelbo", MINIMIZE, f"{MODEL}+{PIXELS}", "test −ELBO (training likelihood, nats)", family="vae",
       referenced=False, description="test −ELBO (nats)"),
    _m("test_nll_iw", MINIMIZE, f"{MODEL}+{PIXELS}", "test NLL bound, IW (training likelihood, nats)",
       family="vae", referenced=False, description="test NLL, importance-weighted (nats)"),
    _m("test_cb_nelbo", MINIMIZE, f"{MODEL}+{PIXELS}", "test −ELBO (continuous Bernoulli, nats)", family="vae",
       referenced=False),
    _m("test_cb_nll_iw", MINIMIZE, f"{MODEL}+{PIXELS}", "test NLL bound, IW (continuous Bernoulli, nats)",
       family="vae", referenced=False),
)


def registered() -> tuple[Metric, ...]:
    """Every metric, in METRICS' order (the order evaluate() returns them in). Read at call time, so that a metric
    added to METRICS (by a test, with monkeypatch) is seen everywhere."""
    return METRICS


_index: tuple[tuple[Metric, ...], dict[str, Metric]] = ((), {})


def registry() -> dict[str, Metric]:
    """name -> Metric of registered(), rebuilt when METRICS is replaced."""
    global _index
    if _index[0] is not METRICS:
        by_name = {m.name: m for m in METRICS}
        if len(by_name) != len(METRICS):
            raise RuntimeError("two metrics share a name in gvc/facts.py METRICS")
        _index = (METRICS, by_name)
    return _index[1]


def metric_of(key: str) -> Metric | None:
    """The registered metric of a summary key (floor_/noise_/ema_ prefixes removed; fid_class_3 -> fid_class_)."""
    key = key.removeprefix("floor_").removeprefix("noise_").removeprefix(EMA_PREFIX)
    by_name = registry()
    if key in by_name and not by_name[key].per_class:
        return by_name[key]
    base = key.rstrip("0123456789")
    metric = by_name.get(base)
    return metric if metric is not None and metric.per_class and base != key else None


def direction_of_key(key: str) -> str | None:
    metric = metric_of(key)
    return None if metric is None else metric.direction


def label_of(key: str) -> str:
    """The report's name for a summary key (its own name when unregistered)."""
    metric = metric_of(key)
    if metric is None:
        return key
    ema = "EMA " if key.startswith(EMA_PREFIX) else ""
    if metric.per_class:
        plain = key.removeprefix("floor_").removeprefix("noise_").removeprefix(EMA_PREFIX)
        return f"{ema}{metric.label} {plain.removeprefix(metric.name)}"
    return ema + metric.label


def description_of(key: str) -> str | None:
    """How the claims' evidence names a registered key (its description, else its label); None if unregistered."""
    metric = metric_of(key)
    return None if metric is None else metric.description or label_of(key)


def registry_key(needs_any: frozenset[str] | None = None) -> list[list]:
    """[name, version] of every referenced metric (optionally only those needing one of `needs_any`): part of the
    floor/noise cache key, so adding or changing a metric recomputes cached references instead of reusing them."""
    return [[m.name, m.version] for m in registered()
            if m.referenced and (needs_any is None or m.needs & needs_any)]


registry()  # two metrics sharing a name fail at import


def __getattr__(name: str) -> object:
    """REGISTRY (name -> Metric); DIRECTIONS, which way is better for every objective-capable key evaluate()
    returns (floor_/noise_ keys excepted: they are references; per-class keys: direction_of_key); OBJECTIVES.
    Derived from METRICS when read (PEP 562), so they never disagree with it."""
    if name == "REGISTRY":
        return dict(registry())
    if name == "DIRECTIONS":
        return {m.name: m.direction for m in registered() if not m.per_class}
    if name == "OBJECTIVES":
        return tuple(m.name for m in registered() if m.objective)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def family_of(model_name: str) -> str:
    """The family of a registered model (imports the model registry, hence torch: call it lazily)."""
    from gvc.models import model_class

    return model_class(model_name).family
