"""SLURM sweeps: Hydra's submitit launcher, with the guarantees gvc gives every sweep.

The presets `hydra/launcher=slurm_cpu` and `slurm_gpu` use `SlurmLauncher` below, which adds to the plugin's:
- no `sbatch` on this machine: a clear error naming the fix, before anything is submitted;
- SLURM refusing the jobs (more CPUs or memory than any node has, an unknown partition): SLURM's reason,
  not a traceback;
- a trial whose job ends without a result (scancel, a node failure, the memory limit, a time limit after
  its last requeue) is recorded as failed in its run directory with SLURM's account of it, reports the
  worst value to the sweeper, and the sweep goes on, as for any other failed trial.
Pre-emption is the plugin's: on SIGUSR2 (SLURM sends it `signal_delay_s` before the time limit, or a
pre-empting scheduler, or `scancel --signal=USR2`) submitit calls `checkpoint()`, which resubmits the same
trial, and requeues the job; with trainer.resume=true the trial continues from its last checkpoint.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import signal
import sys
from pathlib import Path
from typing import Any, Sequence

from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, JobStatus, filter_overrides
from hydra_plugins.hydra_submitit_launcher import submitit_launcher
from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf
from omegaconf import OmegaConf, open_dict

from gvc.trial import rundir, runlock, summary as summaries

log = logging.getLogger(__name__)


def leave_at_once_after_requeue() -> None:
    """Make the pre-emption handler end this process as soon as submitit has requeued the job.

    submitit's handler requeues the job, then raises SystemExit wherever the trial happens to be. Inside
    torch.save that surfaces as a RuntimeError, and the trial would record itself failed (and hand a result to
    the sweep) before SLURM kills it. After a requeue nothing more should happen here: the requeued job
    continues from the last complete checkpoint.
    """
    import submitit

    sig = submitit.JobEnvironment._usr_sig()
    handler = signal.getsignal(sig)
    if not callable(handler):
        return

    def requeue_then_exit(signum: int, frame: Any) -> None:
        try:
            handler(signum, frame)
        except SystemExit as e:
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(e.code if isinstance(e.code, int) else 1)

    signal.signal(sig, requeue_then_exit)


class SlurmLauncher(submitit_launcher.SlurmLauncher):
    """hydra_submitit_launcher's SLURM launcher that fails clearly and records lost trials."""

    def __call__(self, *args: Any, **kwargs: Any) -> JobReturn:
        """One trial inside its SLURM job (the plugin's code), with a safe pre-emption handler."""
        leave_at_once_after_requeue()
        return super().__call__(*args, **kwargs)

    def setup(self, **kwargs: Any) -> None:
        from gvc.errors import fail

        super().setup(**kwargs)
        if shutil.which("sbatch") is None:  # submitit would fail later with 'Could not detect "srun"'
            fail("a SLURM launcher is selected (hydra/launcher=slurm_cpu or slurm_gpu) but `sbatch` "
                 "is not on PATH here. Run the sweep on a machine of your cluster (a login node), try it on this "
                 "machine with `scripts/slurm-local.sh up` and the `export SLURM_CONF=...` it prints, or choose "
                 "a local launcher: hydra/launcher=basic, joblib or submitit_local.")

    def make_executor(self) -> Any:
        """The submitit executor with this launcher's parameters (also used to render the sbatch script)."""
        import submitit

        # As the plugin does: launcher-specific keys get the executor's prefix, the shared ones do not.
        init = {"folder": self.params["submitit_folder"], "slurm_max_num_timeout": self.params["max_num_timeout"]}
        executor = submitit.AutoExecutor(cluster="slurm", **init)
        shared = set(OmegaConf.structured(BaseQueueConf).keys())
        executor.update_parameters(**{k if k in shared else f"slurm_{k}": v for k, v in self.params.items()
                                      if k not in ("submitit_folder", "max_num_timeout")})
        return executor

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        import submitit

        from gvc.errors import fail

        assert self.config is not None and self.hydra_context is not None
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        log.info("SLURM sweep: %d trial(s) into %s", len(job_overrides), sweep_dir)
        if not OmegaConf.select(self.config, "trainer.resume", default=False):
            log.warning("trainer.resume=false: a trial that SLURM pre-empts or requeues at its time limit cannot "
                        "continue and will be recorded as failed; add trainer.resume=true")
        job_params = []
        for idx, overrides in enumerate(job_overrides, start=initial_job_idx):
            log.info("\t#%d : %s", idx, " ".join(filter_overrides(overrides)))
            job_params.append((list(overrides), "hydra.sweep.dir", idx, f"job_id_for_{idx}", Singleton.get_state()))
        try:
            jobs = self.make_executor().map_array(self, *zip(*job_params))
        except submitit.core.utils.FailedJobError as e:  # sbatch refused the whole array
            reason = "; ".join(line.removeprefix("sbatch: error: ") for line in str(e).splitlines() if line.strip())
            fail(f"SLURM refused the sweep's jobs: {reason}. Ask for what a node of the partition has "
                 "(`sinfo -o '%P %c %m %G'` lists CPUs, memory in MB and GPUs): hydra.launcher.cpus_per_task, "
                 "hydra.launcher.mem_gb, hydra.launcher.gpus_per_node, hydra.launcher.partition, "
                 "hydra.launcher.timeout_min.")
        log.info("SLURM job %s; logs in %s", jobs[0].job_id.split("_")[0], jobs[0].paths.folder.parent)
        return [self._result(job, params[0], params[2]) for job, params in zip(jobs, job_params)]

    def _result(self, job: Any, overrides: list[str], idx: int) -> JobReturn:
        """The trial's own result; for a job that ended without one, a failed trial recorded on disk."""
        import submitit

        try:
            return job.results()[0]
        except submitit.core.utils.UncompletedJobError:  # no result file: the job died outside the trial's code
            reason = f"SLURM job {job.job_id} ended {job.state} before the trial finished; its log: {job.paths.stdout}"
        return self._record_lost_trial(overrides, idx, reason)

    def _record_lost_trial(self, overrides: list[str], idx: int, reason: str) -> JobReturn:
        assert self.config is not None and self.hydra_context is not None
        cfg = self.hydra_context.config_loader.load_sweep_config(self.config, overrides)
        with open_dict(cfg.hydra.job):
            cfg.hydra.job.num = idx
        run_dir = Path(str(cfg.hydra.sweep.dir)) / str(cfg.hydra.sweep.subdir)
        runlock.release(run_dir)  # the trial-folder resolver claims what it names; the sweeper only records here
        summary = rundir.read_summary(run_dir)
        if summary is not None and summary.get("status") == "interrupted":
            # A signal (scancel's SIGTERM) stopped it with a checkpoint: resumable, and SLURM's account added.
            summary["reason"] = f"{summary.get('reason')}; {reason}"
            rundir.write_summary(run_dir, summary)
            value = float((summary.get("objective") or {}).get("value", math.inf))
        elif summary is not None and summary.get("status") != "running":
            # The trial ended and said how (only its result file is missing): its record stands.
            objective = summary.get("objective") or {}
            direction = objective.get("direction") or summaries.objective_direction(cfg, cfg.trainer.objective, None)
            value = float(objective.get("value", summaries.worst_value(direction)))
        else:  # the same summary a trial writes, from its start (if it got that far) to its failure
            summary = summary or summaries.started(cfg, list(overrides))
            value = summaries.failed(summary, cfg, reason, summary.get("family"))
            rundir.write_summary(run_dir, summary)
        if not (run_dir / rundir.HYDRA_OVERRIDES).is_file():  # never started: the index still shows its overrides
            (run_dir / rundir.HYDRA_OVERRIDES).parent.mkdir(parents=True, exist_ok=True)
            (run_dir / rundir.HYDRA_OVERRIDES).write_text(OmegaConf.to_yaml(OmegaConf.create(list(overrides))))
        log.error("trial %d lost: %s", idx, reason)
        ret = JobReturn(overrides=list(overrides), cfg=cfg, hydra_cfg=self.config, working_dir=str(run_dir),
                        task_name=cfg.hydra.job.name, status=JobStatus.COMPLETED)
        ret.return_value = value
        return ret
