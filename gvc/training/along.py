"""Evaluations along training (`eval.along`): quality at points of the run's own budget, and its best weights.

A run is evaluated at points of the unit of the budget that ends it: `cpu_s` with trainer.cpu_budget_s,
`train_s` with trainer.time_budget_s (the CPU budget wins when both are set), otherwise the deterministic
budget that is smallest in training images (`steps` for trainer.max_steps, `images` for trainer.max_images or
trainer.epochs). The points are log-spaced, first, first x growth, first x growth², ... below the budget (at most
`points` of them); they do not depend on the budget, so an extended budget only adds points. In steps and images
the points are whole numbers and the step that reaches one is fixed; in seconds a point is reached at the first
step boundary at which the clock has passed it (what the row's clocks record), and a step that passes several
points evaluates once, for the last of them.

Each point is evaluated at the cheap `eval.along.n_samples` (the VAEs' likelihood bounds with eval.along's
iw_samples and nll_images) with the run's fixed latents and reference images (eval.seed), off the budget's clocks
(its time and CPU time are not training) and off the trial's random stream (training draws exactly what it draws
with eval.along off); a checkpoint follows, so a resumed run neither repeats nor loses a point. The end of
training adds two rows: the cheap N again (the curve's last point) and the full eval.n_samples (the run's final
numbers, as in summary.json). The best cheap-N point by the run's
objective (trainer.objective and its direction) keeps its weights as checkpoints/best.pt.

A run whose budget is below the first point has no points: it writes no evals.csv and no best.pt.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from omegaconf import DictConfig, OmegaConf

from gvc.facts import MINIMIZE
from gvc.trial import summary as summaries

log = logging.getLogger(__name__)

# The columns of evals.csv before the metrics. TIMING varies from rerun to rerun; the others do not (with a step or
# image budget).
TIMING = ("train_s", "cpu_s", "eval_s")
COLUMNS = ("point", "final", "n_samples", "epoch", "step", "images", *TIMING)


def budget_unit(trainer: Any, epoch_images: int, batch_size: int) -> tuple[str, float]:
    """(unit, budget value) of the budget expected to end the run (see the module's docstring)."""
    if trainer.get("cpu_budget_s") is not None:
        return "cpu_s", float(trainer.cpu_budget_s)
    if trainer.get("time_budget_s") is not None:
        return "train_s", float(trainer.time_budget_s)
    candidates = [(trainer.epochs * epoch_images, "images", trainer.epochs * epoch_images)]
    if trainer.get("max_images") is not None:
        candidates.append((trainer.max_images, "images", trainer.max_images))
    if trainer.get("max_steps") is not None:
        candidates.append((trainer.max_steps * batch_size, "steps", trainer.max_steps))
    _, unit, budget = min(candidates)
    return unit, float(budget)


def schedule(first: float, growth: float, budget: float, limit: int | None, whole: bool) -> list[float]:
    """first x growth^k for k = 0, 1, ... strictly below `budget`, at most `limit` of them; whole numbers (rounded
    up, never repeated) when `whole`."""
    points: list[float] = []
    k = 0
    while limit is None or len(points) < limit:
        value = first * growth ** k
        k += 1
        if whole:
            value = float(math.ceil(value - 1e-9))
        if value >= budget:
            break
        if not points or value > points[-1]:
            points.append(value)
    return points


class AlongEvaluation:
    """The points of one run, the rows measured so far and the best of them; checkpointed with the run."""

    def __init__(self, cfg: DictConfig, epoch_images: int, family: str):
        along = cfg.eval.along
        self.unit, self.budget = budget_unit(cfg.trainer, epoch_images, cfg.data.batch_size)
        first = along.first if along.first is not None else along.first_by_unit[self.unit]
        self.points = schedule(float(first), float(along.growth), self.budget, along.points,
                               whole=self.unit in ("steps", "images"))
        self.n_samples, self.full_n = int(along.n_samples), int(cfg.eval.n_samples)
        self.eval_cfg = {**OmegaConf.to_container(cfg.eval, resolve=True), "n_samples": self.n_samples,
                         "iw_samples": int(along.iw_samples), "nll_images": int(along.nll_images),
                         "kid_subsets": int(along.get("kid_subsets", 20))}
        self.cfg, self.family = cfg, family
        self.next = 0  # the index of the next point to reach
        self.rows: list[dict[str, float]] = []
        self.best: dict[str, Any] | None = None  # {"row": index in rows, "objective", "direction", "value"}
        if self.points:
            log.info("eval.along: %d evaluations at N = %d along training, at %s %s (then the end)", len(self.points),
                     self.n_samples, ", ".join(f"{p:g}" for p in self.points), self.unit)
        else:
            log.info("eval.along: the budget (%g %s) ends before the first point (%g): no evaluations along training",
                     self.budget, self.unit, float(first))

    @property
    def active(self) -> bool:
        return bool(self.points)

    # -- the step loop's question ----------------------------------------------------------------------------
    def due(self, step: int, images: int, train_s: float, cpu_offset: float) -> bool:
        """Whether this step reached the next point. cpu_offset + time.process_time() is the run's CPU clock
        (read only for a CPU budget: the call costs a microsecond)."""
        if self.next >= len(self.points):
            return False
        unit = self.unit
        value = (step if unit == "steps" else images if unit == "images" else train_s if unit == "train_s"
                 else cpu_offset + time.process_time())
        return value >= self.points[self.next]

    # -- evaluations ------------------------------------------------------------------------------------------
    def evaluate_point(self, trainer: Any, epoch: int, images: int, train_s: float, cpu_s: float) -> None:
        """Evaluate the point the current step reached (and skip any it passed with it); rows go to the hooks."""
        value = {"steps": trainer.state.step, "images": images, "train_s": train_s, "cpu_s": cpu_s}[self.unit]
        while self.next + 1 < len(self.points) and self.points[self.next + 1] <= value:
            log.info("eval.along: point %g %s passed within one step; evaluated as %g", self.points[self.next],
                     self.unit, self.points[self.next + 1])
            self.next += 1
        point = self.points[self.next]
        self.next += 1
        metrics, seconds = self._evaluate(trainer)
        self._add(trainer, self._row(point, 0, self.n_samples, epoch, trainer.state.step, images, train_s, cpu_s,
                                     seconds, metrics))
        log.info("eval.along: %s %g (step %d) at N = %d in %.1fs", self.unit, point, trainer.state.step,
                 self.n_samples, seconds)

    def evaluate_end(self, trainer: Any, epoch: int, full_metrics: dict[str, float], full_eval_s: float) -> None:
        """The end of training: the cheap N (the curve's last point) and the full N (the final numbers)."""
        if not self.active:
            return
        state = trainer.state
        clocks = {"steps": state.step, "images": state.images, "train_s": state.elapsed, "cpu_s": state.cpu_s}
        at = (epoch, state.step, state.images, state.elapsed, state.cpu_s)
        if self.full_n != self.n_samples:  # else the final evaluation is the curve's last point itself
            metrics, seconds = self._evaluate(trainer)
            self._add(trainer, self._row(clocks[self.unit], 1, self.n_samples, *at, seconds, metrics))
        self._add(trainer, self._row(clocks[self.unit], 1, self.full_n, *at, full_eval_s, full_metrics))

    def _evaluate(self, trainer: Any) -> tuple[dict[str, float], float]:
        started = time.perf_counter()
        stream = trainer.random.state_dict()
        metrics = trainer.evaluate(self.eval_cfg)
        trainer.random.load_state_dict(stream)  # training draws what it would draw without this evaluation
        return metrics, time.perf_counter() - started

    @staticmethod
    def _row(point: float, final: int, n: int, epoch: int, step: int, images: int, train_s: float, cpu_s: float,
             eval_s: float, metrics: dict[str, float]) -> dict[str, float]:
        row = dict(zip(COLUMNS, (point, final, n, epoch, step, images, round(train_s, 3), round(cpu_s, 3),
                                 round(eval_s, 3))))
        return {**row, **metrics}

    def _add(self, trainer: Any, row: dict[str, float]) -> None:
        self.rows.append(row)
        best = None
        if row["n_samples"] == self.n_samples and self._is_best(row):
            self.best = {**self.best, "row": len(self.rows) - 1, "value": row[self.best["objective"]]}
            best = {k: v for k, v in trainer.checkpoint().items() if k != "optimizers"}  # weights to use, not resume
            best["best"] = {k: row[k] for k in COLUMNS} | {"objective": self.best["objective"],
                                                          "value": self.best["value"], "unit": self.unit}
        trainer.hooks.eval_point(list(self.rows), best)

    def _is_best(self, row: dict[str, float]) -> bool:
        if self.best is None:
            name = summaries.objective_name(self.cfg, self.family, row)
            self.best = {"objective": name, "direction": summaries.objective_direction(self.cfg, name, self.family),
                         "row": None, "value": None}
        name, value = self.best["objective"], row.get(self.best["objective"])
        if value is None or not math.isfinite(value):
            return False
        previous = self.best["value"]
        return previous is None or (value < previous if self.best["direction"] == MINIMIZE else value > previous)

    # -- the run's record -------------------------------------------------------------------------------------
    def begin(self, hooks: Any) -> None:
        """At the start of training (resumed or not): the table as the checkpoint left it replaces any rows a
        killed process wrote after that checkpoint (they are measured again). A run continued past its end (a
        longer budget) keeps its earlier end rows as ordinary rows: they are no longer its end."""
        for row in self.rows:
            row["final"] = 0
        if self.active:
            hooks.eval_point(list(self.rows), None)

    def state_dict(self) -> dict[str, Any]:
        return {"next": self.next, "rows": [dict(r) for r in self.rows], "best": dict(self.best or {}) or None}

    def load_state_dict(self, state: dict[str, Any] | None) -> None:
        """A checkpoint's points so far (a checkpoint of an older gvc has none: its run starts the table now)."""
        if state:
            self.next, self.rows, self.best = int(state["next"]), list(state["rows"]), state.get("best")

    def summary(self) -> dict[str, Any] | None:
        """summary.json's `along`: the schedule, the cost and the best point (None when the run had no points)."""
        if not self.active:
            return None
        best = None
        if self.best and self.best.get("row") is not None:
            row = self.rows[self.best["row"]]
            best = {"checkpoint": "checkpoints/best.pt", "objective": self.best["objective"],
                    "direction": self.best["direction"], "value": self.best["value"],
                    **{k: row[k] for k in ("point", "step", "images", "train_s", "cpu_s")}}
        final = [r for r in self.rows if r["final"] and r["n_samples"] == self.full_n]  # every run evaluates this
        return {"unit": self.unit, "budget": self.budget, "points": self.points, "n_samples": self.n_samples,
                "evaluations": len(self.rows),
                # what eval.along cost (its cheap-N rows), beside the final full-N evaluation every run has
                "eval_s_along": round(sum(r["eval_s"] for r in self.rows if not any(r is f for f in final)), 3),
                "eval_s_final": final[-1]["eval_s"] if final else None,
                "best": best}


def along_evaluation(cfg: DictConfig, epoch_images: int, family: str) -> AlongEvaluation | None:
    """The run's evaluations along training, or None when eval.enabled or eval.along.enabled is off."""
    along = cfg.eval.get("along")
    if not cfg.eval.enabled or along is None or not along.enabled:
        return None
    return AlongEvaluation(cfg, epoch_images, family)
