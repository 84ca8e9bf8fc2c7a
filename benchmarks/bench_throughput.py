"""Training throughput of the four models: gvc's step against a notebook-style baseline and the compute bound.

    python benchmarks/bench_throughput.py [--models linear_gan dcgan ...] [--repeats 5] [--device cpu|cuda]
                                          [--seconds 1.5] [--data-root ~/.cache/gvc/data] [--startup-runs 3]
                                          [--threads N] [--wait-idle SECONDS]

For every model, at its paper batch size and learning rate (Adam, betas 0.9/0.999), in one process:

  (a) notebook  the authors' way: torchvision's MNIST through `transforms` (ToTensor, and Normalize to
                [-1, 1] for the GANs) and a `DataLoader(batch_size, shuffle=True)`, feeding the model written
                in plain PyTorch (nn.Dropout / nn.Dropout2d) and a stock step: labels made with torch.ones /
                torch.zeros every step, a D step on a detached fake batch, then a G step (D's weight gradients
                computed and thrown away); for the VAEs F.binary_cross_entropy(sum) + KL. No per-step host
                sync (`.item()`), so on a GPU the baseline is, if anything, flattered.
  (b) gvc       `Trainer.train_epoch`, the epoch function `Trainer.fit` runs, with the Trainer's hooks (the
                run-directory writer, which has no per-log-point work): a Trainer built from the composed
                config (fp32), its DeviceBatches over the device-resident training tensor, its
                GANStep/VAEStep, losses accumulated on the device and read back every `trainer.log_every` steps.
  (c) compute   the compute-only bound: (a)'s plain model and stock step on one fixed batch, reused.
  (e) fused     (b) with `optimizer.fused=true` (Adam's single-kernel implementation; same algorithm, results
                differ from the default for-loop Adam in the last bits).
  (f) fast      (b) with the fast preset: `trainer=cpu_fast` (bf16 autocast + channels-last where the CPU has
                native bf16, else fp32; the table's last lines say which path it took) on a CPU,
                `trainer=gpu` (bf16, channels-last, TF32, torch.compile) on CUDA.

After a warm-up, the variants run interleaved (a, b, c, e, f, a, b, c, e, f, ...) for --repeats rounds of
whole steps for about --seconds each; the table gives median images/s and the ratios b/c, b/a, e/b and
f/b as the median of the per-round ratios (a round's variants ran back to back, under the same machine load),
with their range over the rounds in brackets. "other load" is the CPU time other processes used meanwhile,
in cores (from /proc/stat): anything well above 0 makes the numbers slower and noisier.

(d) start-up: `python -m gvc model=linear_gan trainer=smoke eval.enabled=false trainer.progress=false` in a
subprocess (a warm-up run first, so the data cache and the OS file cache are warm), with timestamps at
interpreter start, Trainer construction, the first step and exit; medians of --startup-runs runs.

Targets (issue 7): CPU b/c >= 0.95 (>= 1.1 for the Linear GAN), b/a >= 1.4 for the linear models, start-up
to the first step < 5 s; CUDA b/c >= 0.9, b/a >= 3 for the linear models. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

MODELS = ("linear_gan", "dcgan", "linear_vae", "conv_vae")
THREADS: list[int | None] = [None]  # --threads, for the composed configs and the start-up runs
VARIANTS = ("a", "b", "c", "e", "f")
TITLES = {"a": "notebook", "b": "gvc fp32", "c": "compute", "e": "gvc fused", "f": "gvc fast"}
TARGETS = {  # (b/c, b/a) per device; None = no target
    "cpu": {"linear_gan": (1.1, 1.4), "dcgan": (0.95, None), "linear_vae": (0.95, 1.4), "conv_vae": (0.95, None)},
    "cuda": {"linear_gan": (0.9, 3.0), "dcgan": (0.9, None), "linear_vae": (0.9, 3.0), "conv_vae": (0.9, None)},
}


# -- the configuration, composed as `python -m gvc` composes it ---------------------------------------------
def compose(model: str, preset: str, device: str, data_root: str, *extra: str):
    from hydra import compose as hydra_compose, initialize_config_dir

    from gvc.config import ROOT, register_configs, validate

    register_configs()
    with initialize_config_dir(version_base="1.3", config_dir=str(ROOT / "conf")):
        cfg = hydra_compose(config_name="config", overrides=[
            f"model={model}", f"trainer={preset}", f"trainer.device={device}", f"data.root={data_root}",
            "trainer.progress=false", "eval.enabled=false", f"trainer.threads={THREADS[0] or 'null'}", *extra])
    validate(cfg)
    return cfg


# -- (a) and (c): the models in plain PyTorch, as the notebooks wrote them ---------------------------------
def plain_gan(cfg) -> tuple[nn.Module, nn.Module]:
    m = cfg.model
    s, p, z = m.negative_slope, m.dropout, m.latent_dim
    if m.name == "linear_gan":
        w1, w2, w3 = m.widths
        g = nn.Sequential(nn.Linear(z, w3), nn.LeakyReLU(s), nn.Linear(w3, w2), nn.LeakyReLU(s),
                          nn.Linear(w2, w1), nn.LeakyReLU(s), nn.Linear(w1, 784), nn.Tanh())
        d = nn.Sequential(nn.Flatten(), nn.Linear(784, w1), nn.LeakyReLU(s), nn.Dropout(p),
                          nn.Linear(w1, w2), nn.LeakyReLU(s), nn.Dropout(p),
                          nn.Linear(w2, w3), nn.LeakyReLU(s), nn.Dropout(p), nn.Linear(w3, 1))
        return g, d
    d = nn.Sequential(*plain_conv(m.widths, p, s), nn.Linear(m.widths[3] * 49, 1))
    return plain_deconv(z, m.widths, nn.Tanh()), d


def plain_conv(widths, p: float, s: float) -> list[nn.Module]:
    c1, c2, c3, c4 = widths
    return [nn.Conv2d(1, c1, 3, 2, 1), nn.LeakyReLU(s), nn.Dropout2d(p),
            nn.Conv2d(c1, c2, 3, 1, 1), nn.LeakyReLU(s), nn.Dropout2d(p),
            nn.Conv2d(c2, c3, 3, 1, 1), nn.LeakyReLU(s), nn.Dropout2d(p),
            nn.Conv2d(c3, c4, 3, 2, 1), nn.LeakyReLU(s), nn.Dropout2d(p), nn.Flatten()]


def plain_deconv(z: int, widths, out: nn.Module) -> nn.Sequential:
    c1, c2, c3, c4 = widths
    return nn.Sequential(nn.Linear(z, c4 * 49), nn.Unflatten(1, (c4, 7, 7)),
                         nn.ConvTranspose2d(c4, c3, 3, 2, 1, output_padding=1), nn.ReLU(),
                         nn.ConvTranspose2d(c3, c2, 3, 1, 1), nn.ReLU(),
                         nn.ConvTranspose2d(c2, c1, 3, 1, 1), nn.ReLU(),
                         nn.ConvTranspose2d(c1, 1, 3, 2, 1, output_padding=1), out)


class PlainVAE(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        m = cfg.model
        if m.name == "linear_vae":
            w1, w2 = m.widths
            self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, w1), nn.ReLU(), nn.Dropout(m.dropout),
                                         nn.Linear(w1, w2), nn.ReLU(), nn.Dropout(m.dropout),
                                         nn.Linear(w2, 2 * m.latent_dim))
            self.decoder = nn.Sequential(nn.Linear(m.latent_dim, w2), nn.ReLU(), nn.Linear(w2, w1), nn.ReLU(),
                                         nn.Linear(w1, 784), nn.Sigmoid())
        else:
            self.encoder = nn.Sequential(*plain_conv(m.widths, m.dropout, m.negative_slope),
                                         nn.Linear(m.widths[3] * 49, 2 * m.latent_dim))
            self.decoder = plain_deconv(m.latent_dim, m.widths, nn.Sigmoid())

    def forward(self, x):
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decoder(z).view(-1, 1, 28, 28), mu, logvar


def check_same_shapes(plain: list[nn.Module], cfg) -> None:
    """The plain model must be gvc's architecture, parameter for parameter."""
    from gvc.training.loop import make_model

    ours = make_model(cfg)
    a = [tuple(p.shape) for m in plain for p in m.parameters()]
    b = [tuple(p.shape) for p in ours.parameters()]
    if a != b:
        raise SystemExit(f"plain {cfg.model.name} differs from gvc's: {a} vs {b}")


class PlainRunner:
    """(a) with a DataLoader, (c) with one fixed batch: a stock step on the plain model."""

    def __init__(self, cfg, device: torch.device, loader=None, fixed: torch.Tensor | None = None):
        self.device, self.loader, self.fixed, self.it = device, loader, fixed, None
        self.batch_size = cfg.data.batch_size
        self.latent = cfg.model.latent_dim
        o = cfg.optimizer
        adam = lambda ps: torch.optim.Adam(ps, lr=o.lr, betas=(o.beta1, o.beta2))
        if cfg.model.name.endswith("gan"):
            self.G, self.D = (m.to(device).train() for m in plain_gan(cfg))
            check_same_shapes([self.G, self.D], cfg)
            self.opt_g, self.opt_d = adam(self.G.parameters()), adam(self.D.parameters())
            self.step_fn = self.gan_step
        else:
            self.vae = PlainVAE(cfg).to(device).train()
            check_same_shapes([self.vae], cfg)
            self.opt = adam(self.vae.parameters())
            self.step_fn = self.vae_step

    def next_batch(self) -> torch.Tensor:
        if self.fixed is not None:
            return self.fixed
        x = next(self.it, None) if self.it is not None else None
        if x is None:  # the first call, or the end of an epoch: a new shuffled pass, as a notebook's epoch loop
            self.it = iter(self.loader)
            x = next(self.it)
        return x[0].to(self.device)

    def step(self) -> int:
        x = self.next_batch()
        self.step_fn(x)
        return x.shape[0]

    def run(self, seconds: float, min_steps: int) -> int:
        started, images, steps = time.perf_counter(), 0, 0
        while steps < min_steps or time.perf_counter() - started < seconds:
            images += self.step()
            steps += 1
        return images

    def gan_step(self, real: torch.Tensor) -> None:
        b, dev = real.shape[0], real.device
        fake = self.G(torch.randn(b, self.latent, device=dev)).view(-1, 1, 28, 28)
        loss_d = (F.binary_cross_entropy_with_logits(self.D(real), torch.ones(b, 1, device=dev))
                  + F.binary_cross_entropy_with_logits(self.D(fake.detach()), torch.zeros(b, 1, device=dev)))
        self.opt_d.zero_grad()
        loss_d.backward()
        self.opt_d.step()
        fake = self.G(torch.randn(b, self.latent, device=dev)).view(-1, 1, 28, 28)
        loss_g = F.binary_cross_entropy_with_logits(self.D(fake), torch.ones(b, 1, device=dev))
        self.opt_g.zero_grad()
        loss_g.backward()
        self.opt_g.step()

    def vae_step(self, x: torch.Tensor) -> None:
        recon, mu, logvar = self.vae(x)
        bce = F.binary_cross_entropy(recon, x, reduction="sum")
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        loss = bce + kl
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()


def notebook_loader(cfg, data_root: str):
    from torchvision import datasets, transforms

    from gvc.data import prepare_mnist

    root = prepare_mnist(data_root)
    steps = [transforms.ToTensor()]
    if cfg.model.name.endswith("gan"):
        steps.append(transforms.Normalize((0.5,), (0.5,)))  # [0, 1] -> [-1, 1], for the Tanh generator
    dataset = datasets.MNIST(str(root), train=True, download=False, transform=transforms.Compose(steps))
    return torch.utils.data.DataLoader(dataset, batch_size=cfg.data.batch_size, shuffle=True)


# -- (b) and (f): gvc's epoch function, the one Trainer.fit runs -------------------------------------------
class GvcRunner:
    """Drives `Trainer.train_epoch` (the loop's hot path, hooks included) over a time-bounded stream of batches.

    A window continues the shuffled pass where the previous one stopped; each window ends as an epoch does,
    with the loss means read back (one host sync), so a window of ~1.5 s adds one sync as fit's epoch end does.
    """

    def __init__(self, cfg, run_dir: Path):
        from gvc.training.loop import Trainer

        self.trainer = Trainer(cfg, run_dir)
        self.trainer.model.train()
        self.stream = self._passes()

    def _passes(self):
        while True:  # endless shuffled passes, as fit's epochs
            yield from self.trainer.batches

    def run(self, seconds: float, min_steps: int) -> int:
        def window():
            started, steps = time.perf_counter(), 0
            for batch in self.stream:
                yield batch
                steps += 1
                if steps >= min_steps and time.perf_counter() - started >= seconds:
                    return

        _, images = self.trainer.train_epoch(0, window())
        return images


# -- timing ------------------------------------------------------------------------------------------------
def busy_seconds() -> tuple[float, float] | None:
    """(CPU seconds every process used, CPU seconds this process used) so far; None off Linux."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    own = os.times()
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK"), own.user + own.system


def other_load(before, after, wall: float) -> float | None:
    """Cores' worth of CPU time that other processes used between two busy_seconds() readings."""
    if before is None or after is None or wall <= 0:
        return None
    return max(0.0, ((after[0] - before[0]) - (after[1] - before[1])) / wall)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def wait_idle(limit: float, threshold: float = 0.1) -> None:
    """Sleep (in 2 s samples) until other processes use less than `threshold` cores, for at most `limit` s."""
    waited = 0.0
    while waited < limit:
        before = busy_seconds()
        time.sleep(2.0)
        waited += 2.0
        load = other_load(before, busy_seconds(), 2.0)
        if load is None or load < threshold:
            return
    if limit > 0:
        print(f"  (the machine stayed busy for {limit:g} s; measuring anyway)", flush=True)


def window(runner, seconds: float, device: torch.device, min_steps: int = 2) -> tuple[int, float]:
    """Whole steps until `seconds` have passed (at least `min_steps`): (images, seconds), device synced.

    A window is bounded in time, not in steps, so that a machine slowed down by other processes
    lengthens no run. On a GPU the clock is read while the host runs ahead of the device; the final
    synchronisation puts the queued work inside the window.
    """
    sync(device)
    started = time.perf_counter()
    images = runner.run(seconds, min_steps)
    sync(device)
    return images, time.perf_counter() - started


def warm_up(runner, seconds: float, device: torch.device) -> None:
    """First-call costs (kernel selection, allocator, torch.compile), then a short untimed window."""
    window(runner, min(0.5, seconds / 2), device, min_steps=3)


def bench_model(name: str, args, device: torch.device, tf32_default: tuple[bool, bool]) -> dict:
    from gvc.data import load_mnist, to_model_range

    fast_preset = "gpu" if device.type == "cuda" else "cpu_fast"
    cfg = compose(name, "default", str(device), args.data_root)
    fused_cfg = compose(name, "default", str(device), args.data_root, "optimizer.fused=true")
    fast_cfg = compose(name, fast_preset, str(device), args.data_root)
    with tempfile.TemporaryDirectory() as tmp:
        torch.manual_seed(0)
        fixed = to_model_range(load_mnist(args.data_root, train=True).images[: cfg.data.batch_size],
                               (-1.0, 1.0) if name.endswith("gan") else (0.0, 1.0)).to(device)
        runners = {"a": PlainRunner(cfg, device, loader=notebook_loader(cfg, args.data_root)),
                   "b": GvcRunner(cfg, Path(tmp) / "b"),
                   "c": PlainRunner(cfg, device, fixed=fixed),
                   "e": GvcRunner(fused_cfg, Path(tmp) / "e"),
                   "f": GvcRunner(fast_cfg, Path(tmp) / "f")}
        # TF32 is a process-wide switch: the fp32 variants run with torch's defaults, the fast one as its preset.
        tf32 = {v: tf32_default for v in VARIANTS}
        if fast_cfg.trainer.tf32 and device.type == "cuda":
            tf32["f"] = (True, True)

        def use(v):
            torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = tf32[v]

        for v in VARIANTS:
            use(v)
            warm_up(runners[v], args.seconds, device)
        rates = {v: [] for v in VARIANTS}
        busy, started = busy_seconds(), time.perf_counter()
        for _ in range(args.repeats):
            for v in VARIANTS:
                use(v)
                images, elapsed = window(runners[v], args.seconds, device)
                rates[v].append(images / elapsed)
        load = other_load(busy, busy_seconds(), time.perf_counter() - started)
        use("a")
        numerics = runners["f"].trainer.numerics  # the path the fast preset chose on this machine
    return {"rates": rates, "batch": cfg.data.batch_size, "load": load, "fast_path": numerics}


# -- (d) start-up ----------------------------------------------------------------------------------------
STARTUP_WRAPPER = r"""
import sys, time
stamp = lambda what: print(f"@@stamp {what} {time.time():.6f}", file=sys.stderr, flush=True)
stamp("interpreter")
import runpy
import gvc.training.loop as loop, gvc.training.gan as gan

init, fit, call = loop.Trainer.__init__, loop.Trainer.fit, gan.GANStep.__call__
def patched_init(self, *a, **k):
    stamp("trainer_init"); init(self, *a, **k); stamp("trainer_ready")
def patched_fit(self, *a, **k):
    stamp("fit"); return fit(self, *a, **k)
first = []
def patched_call(self, *a, **k):
    if first:
        return call(self, *a, **k)
    stamp("step_start"); out = call(self, *a, **k); stamp("step_end"); first.append(1); return out
loop.Trainer.__init__, loop.Trainer.fit, gan.GANStep.__call__ = patched_init, patched_fit, patched_call
sys.argv = ["gvc", *sys.argv[1:]]
runpy.run_module("gvc", run_name="__main__", alter_sys=True)
"""


def startup_once(data_root: str, device: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-c", STARTUP_WRAPPER, "model=linear_gan", "trainer=smoke", "eval.enabled=false",
               "trainer.progress=false", f"trainer.device={device}", f"trainer.threads={THREADS[0] or 'null'}",
               f"hydra.run.dir={tmp}/run"]
        env = {**os.environ, "GVC_DATA": data_root}
        started = time.time()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp)
        ended = time.time()
    if proc.returncode != 0:
        raise SystemExit(f"start-up run failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    stamps = {line.split()[1]: float(line.split()[2])
              for line in proc.stderr.splitlines() if line.startswith("@@stamp")}
    stamps["exit"] = ended
    return {k: v - started for k, v in stamps.items()}


def bench_startup(args) -> tuple[dict[str, float], float | None]:
    startup_once(args.data_root, args.device)  # warm: data cache built and verified, OS file cache, .pyc files
    children = lambda: os.times().children_user + os.times().children_system
    busy, own_children, started = busy_seconds(), children(), time.perf_counter()
    runs = [startup_once(args.data_root, args.device) for _ in range(args.startup_runs)]
    wall = time.perf_counter() - started
    load = other_load(busy, busy_seconds(), wall)  # counts the runs themselves (children), taken out below
    result = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    return result, (None if load is None else max(0.0, load - (children() - own_children) / wall))


# -- report ----------------------------------------------------------------------------------------------
def machine(device: torch.device) -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    text = f"{cpu}, {torch.get_num_threads()} torch threads ({os.cpu_count()} CPUs), torch {torch.__version__}"
    if device.type == "cuda":
        text += f", {torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda})"
    try:
        text += f", load average {os.getloadavg()[0]:.2f}"
    except OSError:
        pass
    return text


def ratio(rates: dict, num: str, den: str) -> tuple[float, float, float]:
    paired = [x / y for x, y in zip(rates[num], rates[den])]
    return statistics.median(paired), min(paired), max(paired)


def fmt_ratio(r: tuple[float, float, float], target: float | None) -> str:
    mark = "" if target is None else ("  ok" if r[0] >= target else f"  MISS (<{target})")
    return f"{r[0]:.2f} ({r[1]:.2f}-{r[2]:.2f}){mark}"


def print_table(results: dict, device: torch.device) -> None:
    targets = TARGETS[device.type]
    fast = "cpu_fast" if device.type == "cpu" else "gpu"
    head = ["model (batch)", "(a) notebook", "(b) gvc fp32", "(c) compute", "(e) gvc fused Adam",
            f"(f) gvc {fast}", "b/c", "b/a", "e/b", "f/b", "other load"]
    rows = []
    for name, res in results.items():
        med = {v: statistics.median(res["rates"][v]) for v in VARIANTS}
        bc, ba = targets[name]
        rows.append([f"{name} ({res['batch']})", *(f"{med[v]:,.0f}" for v in VARIANTS),
                     fmt_ratio(ratio(res["rates"], "b", "c"), bc), fmt_ratio(ratio(res["rates"], "b", "a"), ba),
                     fmt_ratio(ratio(res["rates"], "e", "b"), None), fmt_ratio(ratio(res["rates"], "f", "b"), None),
                     "n/a" if res["load"] is None else f"{res['load']:.2f}"])
    print("\nimages per second (median), ratios: median of the per-round ratios (min-max over rounds)")
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    paths = {(r["fast_path"].precision, r["fast_path"].channels_last, r["fast_path"].note) for r in results.values()}
    for precision, channels_last, note in sorted(paths, key=str):
        print(f"(f) {fast} took {precision}{' + channels-last' if channels_last else ''}"
              + (f": {note}" if note else ""))
    loads = [res["load"] for res in results.values() if res["load"] is not None]
    if loads and max(loads) > 0.2:
        print(f"warning: other processes used up to {max(loads):.1f} cores meanwhile; with {torch.get_num_threads()} "
              "torch threads on a busy CPU the numbers can be many times slower and the ratios unreliable: rerun "
              "when the machine is idle")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=MODELS,
                        help="models to measure (none: only the start-up)")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved rounds (medians over them)")
    parser.add_argument("--seconds", type=float, default=1.5, help="about how long one variant runs per round")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", choices=("cpu", "cuda"))
    parser.add_argument("--data-root", default=os.environ.get("GVC_DATA", "~/.cache/gvc/data"))
    parser.add_argument("--startup-runs", type=int, default=3, help="timed start-up runs (0: skip)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (and trainer.threads) for every variant; default: torch's")
    parser.add_argument("--wait-idle", type=float, default=0.0, metavar="SECONDS",
                        help="before each model (and the start-up runs), wait up to SECONDS for other processes "
                             "to use < 0.1 cores; 0: don't wait")
    args = parser.parse_args()
    args.data_root = str(Path(args.data_root).expanduser())
    device = torch.device(args.device)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
        THREADS[0] = args.threads
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda but CUDA is not available here")

    print(f"machine: {machine(device)}")
    print(f"device {device}; {args.repeats} interleaved rounds of ~{args.seconds:g} s per variant; medians\n")
    tf32_default = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    results = {}
    for name in args.models:
        wait_idle(args.wait_idle)
        started = time.perf_counter()
        results[name] = bench_model(name, args, device, tf32_default)
        r, load = results[name]["rates"], results[name]["load"]
        print(f"  {name}: " + "  ".join(f"{TITLES[v]} {statistics.median(r[v]):,.0f}" for v in VARIANTS)
              + f" img/s  ({time.perf_counter() - started:.0f} s"
              + ("" if load is None else f", other load {load:.2f} cores") + ")", flush=True)

    if results:
        print_table(results, device)

    if args.startup_runs > 0:
        wait_idle(args.wait_idle)
        s, load = bench_startup(args)
        print(f"\nstart-up, python -m gvc model=linear_gan trainer=smoke trainer.device={args.device} (warm data "
              f"cache; median of {args.startup_runs}; seconds since the process was spawned"
              + ("" if load is None else f"; other load {load:.2f} cores") + "):")
        for key, label in [("interpreter", "interpreter up"), ("trainer_init", "config composed, Trainer starts"),
                           ("trainer_ready", "model + data ready"), ("step_start", "first step starts"),
                           ("step_end", "first step done"), ("exit", "process exit (5 steps, samples, checkpoint)")]:
            print(f"  {label:<45} {s[key]:6.2f} s")
        ok = "ok" if s["step_end"] < 5 else "MISS"
        print(f"  target (2-core CPU): first step done < 5 s: {ok}")
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f} (other processes on these cores skew the numbers)")


if __name__ == "__main__":
    main()
