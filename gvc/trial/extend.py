"""Raising a finished run's budget: the one change of config that continues a run rather than refusing it.

`python -m gvc ... trainer.max_steps=2000 trainer.extend=true hydra.run.dir=RUN` on a run that finished at 1,500
steps trains on to 2,000 and ends with the history an uninterrupted run at 2,000 steps has (all but the timing
column), then evaluates it anew. Every budget unit works (trainer.epochs, max_steps, max_images, time_budget_s,
cpu_budget_s); a budget lowered, or any other identity key changed, is refused as before. A successive-halving
sweeper promotes a trial the same way: `extension(recorded, new, stopped_by)` says whether and how a config
extends a run, `reopen(checkpoint)` turns the finished run's checkpoint into one that continues.

Torch-free: checks run before any compute.
"""

from __future__ import annotations

from typing import Any, Mapping

from gvc.trial import run_identity

# The trainer keys that can end a run (gvc.training.loop.BUDGETS); null = no limit.
BUDGET_KEYS = ("trainer.epochs", "trainer.max_steps", "trainer.max_images", "trainer.time_budget_s",
               "trainer.cpu_budget_s")


class ExtensionRefused(ValueError):
    """The new config does not extend the recorded run; the message says why and what would."""


def _raised(old: Any, new: Any) -> bool:
    return old is not None and (new is None or new > old)


def extension(recorded: Mapping[str, Any], new: Mapping[str, Any], stopped_by: str | None) -> dict[str, list[Any]]:
    """`{budget key: [recorded, new]}` for each budget `new` raises over `recorded` (a run's configs, as
    run_identity.task_config gives them). Raises ExtensionRefused when a budget is lowered, any other identity key
    differs, or the budget that ended the run (`stopped_by`, summary.json's, e.g. "max_steps") is not raised:
    the run would stop again at once."""
    old_flat, new_flat = run_identity.identity(recorded), run_identity.identity(new)
    raised: dict[str, list[Any]] = {}
    lowered, others = [], []
    for difference in run_identity.config_differences(recorded, new):
        key = difference.split(":", 1)[0]
        old, now = old_flat.get(key), new_flat.get(key)
        if key not in BUDGET_KEYS:
            others.append(difference)
        elif _raised(old, now):
            raised[key] = [old, now]
        else:
            lowered.append(f"{key}: {old!r} recorded, {now!r} now")
    if others:
        raise ExtensionRefused(f"trainer.extend=true raises budgets only; this config also differs in "
                               f"{'; '.join(others)}. Use the recorded values, or choose a new hydra.run.dir.")
    if lowered:
        raise ExtensionRefused(f"trainer.extend=true raises budgets, it cannot lower them ({'; '.join(lowered)}): "
                               "the run has trained past them. Choose a new hydra.run.dir for the smaller budget.")
    binding = f"trainer.{stopped_by}" if stopped_by else None
    if raised and binding in BUDGET_KEYS and binding not in raised:
        recorded_value = old_flat.get(binding)
        raise ExtensionRefused(f"the run was stopped by {binding}={recorded_value!r}, which this config does not "
                               f"raise, so it would train nothing more; raise it too ({binding}=...).")
    return raised


def reopen(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """The finished run's checkpoint, made to continue: an epoch a budget cut short is re-opened at the step it
    was cut (its history row dropped, its images uncounted, the trial's stream as it was at that step), so the
    run trains on exactly as an uninterrupted run with the larger budget would. A run that ended at an epoch's
    end (trainer.epochs) continues with the next epoch as it is."""
    cut = checkpoint.get("cut")
    if not cut:
        return checkpoint
    history = list(checkpoint["history"])
    last = history.pop()
    return {**checkpoint, "history": history, "epoch": checkpoint["epoch"] - 1,
            "images": int(checkpoint.get("images", 0)) - int(last["images"]), "rng": cut["rng"],
            "in_epoch": {k: cut[k] for k in ("batches", "seen", "totals", "shuffle_rng")}, "cut": None}


def record(previous: Mapping[str, Any] | None, raised: Mapping[str, list[Any]], checkpoint: Mapping[str, Any],
           when: str) -> list[dict[str, Any]]:
    """summary.json's `extended`: the earlier extensions and this one (the budgets raised, where the run was)."""
    earlier = list((previous or {}).get("extended") or [])
    return earlier + [{"budgets": {k: {"from": v[0], "to": v[1]} for k, v in raised.items()},
                       "at": {"epoch": checkpoint["epoch"], "step": checkpoint["step"]}, "when": when}]
