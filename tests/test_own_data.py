"""A user's own images as a data set (data=folder, data=array): read, checked, hashed, split, decoded once, refused
with one line when bad; and a data.root that is not a cache folder refused. gvc/datasets/own.py, folder.py, array.py."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gvc import datasets
from gvc.cli import check
from gvc.config import ConfigError
from gvc.data import load_split
from gvc.trial import rundir
from tests.conftest import run_gvc

GAN = ["model=linear_gan", "trainer=smoke", "eval.enabled=false"]


def write_images(folder: Path, n: int, size=(16, 16), mode="L", classes=(), seed=0, start=0) -> list[Path]:
    """n random PNGs, flat or spread over class subfolders."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(start, start + n):
        shape = (size[1], size[0]) + ((3,) if mode == "RGB" else ())
        parent = folder / classes[i % len(classes)] if classes else folder
        parent.mkdir(exist_ok=True)
        paths.append(parent / f"img{i:04d}.png")
        Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(paths[-1])
    return paths


def own(tmp_path: Path, kind: str, path: Path, *extra: str):
    cfg = check([*GAN, f"data={kind}", f"data.path={path}", f"data.root={tmp_path / 'cache'}",
                 "data.batch_size=16", *extra])
    return datasets.get(cfg.data.name), cfg


def refusal(tmp_path: Path, *overrides: str) -> str:
    with pytest.raises(ConfigError) as refused:
        check([*GAN, f"data.root={tmp_path / 'cache'}", "data.batch_size=16", *overrides])
    message = str(refused.value)
    assert "\n" not in message
    return message


def test_a_flat_grey_folder_is_an_unlabelled_grey_data_set(tmp_path):
    write_images(tmp_path / "imgs", 50, size=(20, 12))
    spec, cfg = own(tmp_path, "folder", tmp_path / "imgs")
    assert spec.name.startswith("folder-") and spec.image_shape == (1, 12, 20) and not spec.labelled
    assert spec.record["channels"] == "grayscale (detected)" and spec.record["count"] == 50
    train, test = load_split(spec.name, cfg.data.root, train=True), load_split(spec.name, cfg.data.root, train=False)
    assert tuple(train.images.shape) == (45, 12, 20) and tuple(test.images.shape) == (5, 12, 20)
    assert spec.record["split"] == {"how": "seeded", "test_fraction": 0.1, "split_seed": 0, "train": 45, "test": 5}


def test_class_subfolders_become_sorted_labels_and_rgb_stays_rgb(tmp_path):
    write_images(tmp_path / "imgs", 40, mode="RGB", classes=("zebra", "ant"))
    spec, cfg = own(tmp_path, "folder", tmp_path / "imgs")
    assert spec.class_names == ("ant", "zebra") and spec.image_shape == (3, 16, 16)
    train = load_split(spec.name, cfg.data.root, train=True)
    assert tuple(train.images.shape[1:]) == (16, 16, 3) and set(train.labels.tolist()) == {0, 1}
    first_ant = np.asarray(Image.open(tmp_path / "imgs" / "ant" / "img0001.png"))
    assert any(np.array_equal(first_ant, image) for image in train.images.numpy()) or \
        any(np.array_equal(first_ant, image) for image in load_split(spec.name, cfg.data.root, False).images.numpy())


def test_train_and_test_folders_are_the_split(tmp_path):
    write_images(tmp_path / "imgs" / "train", 30, classes=("a", "b"))
    write_images(tmp_path / "imgs" / "test", 6, classes=("a", "b"), seed=1)
    spec, _ = own(tmp_path, "folder", tmp_path / "imgs")
    assert spec.n_images(train=True) == 30 and spec.n_images(train=False) == 6
    assert spec.record["split"]["how"] == "the folder's train/ and test/" and spec.class_names == ("a", "b")


def test_the_split_is_seeded_and_another_seed_is_another_data_set(tmp_path):
    write_images(tmp_path / "imgs", 40)
    a, cfg = own(tmp_path, "folder", tmp_path / "imgs")
    again, _ = own(tmp_path, "folder", tmp_path / "imgs")
    other, _ = own(tmp_path, "folder", tmp_path / "imgs", "data.split_seed=1")
    assert a.name == again.name != other.name
    test_a = load_split(a.name, cfg.data.root, train=False).images
    assert not np.array_equal(test_a, load_split(other.name, cfg.data.root, train=False).images)


def test_a_fresh_process_names_the_data_set_by_its_hash_before_anything_discovered_the_sources(tmp_path):
    import subprocess
    import sys

    write_images(tmp_path / "imgs", 40)
    expected, _ = own(tmp_path, "folder", tmp_path / "imgs")
    # As a joblib or SLURM worker does: compose data.name with nothing else of gvc imported or discovered there.
    script = ("from omegaconf import OmegaConf\n"
              "from gvc.datasets import own\n"
              "own.register_resolver()\n"
              f"data = OmegaConf.create({{'name': '${{gvc_own_data:folder}}', 'path': {str(tmp_path / 'imgs')!r}, "
              f"'root': {str(tmp_path / 'cache')!r}, 'batch_size': 16}})\n"
              "print(data.name)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                            cwd=Path(__file__).resolve().parent.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected.name  # never "folder-unreadable"


def test_a_changed_file_is_a_new_data_set_never_a_stale_cache(tmp_path, monkeypatch):
    from gvc.datasets import own as own_data

    monkeypatch.setattr(own_data, "RECHECK_S", 0.0)  # as if the second look came a while later, in one process
    paths = write_images(tmp_path / "imgs", 30)
    before, cfg = own(tmp_path, "folder", tmp_path / "imgs")
    Image.fromarray(np.full((16, 16), 7, np.uint8)).save(paths[3])
    after, _ = own(tmp_path, "folder", tmp_path / "imgs")
    assert after.name != before.name and after.record["sha256"] != before.record["sha256"]
    images = np.concatenate([load_split(after.name, cfg.data.root, t).images.numpy() for t in (True, False)])
    assert any((image == 7).all() for image in images)


def test_nothing_is_written_into_the_image_folder(tmp_path):
    write_images(tmp_path / "imgs", 30)
    listing = sorted(p.name for p in (tmp_path / "imgs").rglob("*"))
    own(tmp_path, "folder", tmp_path / "imgs")
    assert sorted(p.name for p in (tmp_path / "imgs").rglob("*")) == listing
    assert (tmp_path / "cache" / "gvc-own").is_dir()


def test_mixed_channels_and_sizes_are_converted_only_when_asked(tmp_path):
    write_images(tmp_path / "imgs", 10)
    write_images(tmp_path / "imgs", 10, mode="RGB", size=(24, 24), start=10)
    assert "data.channels=1 or data.channels=3" in refusal(tmp_path, "data=folder", f"data.path={tmp_path / 'imgs'}",
                                                            "data.resize=[16,16]")
    assert "data.resize=[HEIGHT,WIDTH]" in refusal(tmp_path, "data=folder", f"data.path={tmp_path / 'imgs'}",
                                                   "data.channels=3")
    spec, _ = own(tmp_path, "folder", tmp_path / "imgs", "data.channels=3", "data.resize=[16,16]")
    assert spec.image_shape == (3, 16, 16) and spec.record["channels"] == "RGB (data.channels=3)"


def test_arrays_npy_and_npz_with_labels(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "grey.npy", rng.integers(0, 256, (40, 12, 12), dtype=np.uint8))
    np.savez(tmp_path / "rgb.npz", images=rng.random((40, 3, 8, 8), dtype=np.float32), labels=np.arange(40) % 4)
    grey, cfg = own(tmp_path, "array", tmp_path / "grey.npy")
    rgb, _ = own(tmp_path, "array", tmp_path / "rgb.npz")
    assert grey.image_shape == (1, 12, 12) and not grey.labelled
    assert rgb.image_shape == (3, 8, 8) and rgb.class_names == ("0", "1", "2", "3")
    assert tuple(load_split(rgb.name, cfg.data.root, train=True).images.shape) == (36, 8, 8, 3)


BAD_ARRAYS = {
    "rank": (np.zeros((40, 12), np.uint8), ["(N, H, W) or (N, C, H, W)"]),
    "range": (np.full((40, 8, 8), 2.0, np.float32), ["[0, 1]", "rescale"]),
    "channels_last": (np.zeros((40, 8, 8, 3), np.uint8), ["transpose(0, 3, 1, 2)"]),
}


@pytest.mark.parametrize("case", sorted(BAD_ARRAYS))
def test_a_bad_array_is_refused_naming_the_file_and_the_fix(tmp_path, case):
    array, words = BAD_ARRAYS[case]
    np.save(tmp_path / "bad.npy", array)
    message = refusal(tmp_path, "data=array", f"data.path={tmp_path / 'bad.npy'}")
    assert str(tmp_path / "bad.npy") in message and all(w in message for w in words)


def test_bad_folders_are_refused_naming_the_file_and_the_fix(tmp_path):
    missing = tmp_path / "nowhere"
    assert "does not exist" in refusal(tmp_path, "data=folder", f"data.path={missing}")
    assert "data.path=PATH" in refusal(tmp_path, "data=folder")
    (tmp_path / "empty").mkdir()
    assert "empty folder" in refusal(tmp_path, "data=folder", f"data.path={tmp_path / 'empty'}")
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "notes.txt").write_text("no images")
    assert "holds no image files" in refusal(tmp_path, "data=folder", f"data.path={tmp_path / 'text'}")
    paths = write_images(tmp_path / "broken", 30)
    paths[5].write_bytes(paths[5].read_bytes()[:60])  # truncated mid-image
    message = refusal(tmp_path, "data=folder", f"data.path={tmp_path / 'broken'}")
    assert str(paths[5]) in message and "replace it or remove it" in message


def test_fewer_images_than_a_batch_and_an_empty_test_split_are_refused(tmp_path):
    write_images(tmp_path / "few", 8)
    with pytest.raises(ConfigError, match="data.batch_size=16 is more than the 7 training images"):
        check([*GAN, "data=folder", f"data.path={tmp_path / 'few'}", f"data.root={tmp_path / 'cache'}",
               "data.batch_size=16"])
    with pytest.raises(ConfigError, match="empty test split"):
        check([*GAN, "data=folder", f"data.path={tmp_path / 'few'}", f"data.root={tmp_path / 'cache'}",
               "data.batch_size=4", "data.test_fraction=0.01"])


def test_a_bad_folder_gets_one_error_line_and_no_run_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    result = run_gvc(*GAN, "data=folder", f"data.path={tmp_path / 'empty'}", f"data.root={tmp_path / 'cache'}",
                     f"hydra.run.dir={tmp_path / 'run'}", "trainer.threads=1")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().startswith("gvc: error:") and len(result.stderr.strip().splitlines()) == 1
    assert "empty folder" in result.stderr and not (tmp_path / "run").exists()


def test_a_data_root_holding_images_is_refused_and_left_untouched(tmp_path):
    write_images(tmp_path / "photos", 5)
    listing = sorted(p.name for p in (tmp_path / "photos").rglob("*"))
    with pytest.raises(ConfigError) as refused:
        check([*GAN, f"data.root={tmp_path / 'photos'}"])
    assert f"data=folder data.path={tmp_path / 'photos'}" in str(refused.value)
    assert sorted(p.name for p in (tmp_path / "photos").rglob("*")) == listing


def test_a_data_root_that_is_a_file_or_unwritable_is_refused(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="is a file, not a folder"):
        check([*GAN, f"data.root={tmp_path / 'file'}"])
    (tmp_path / "locked").mkdir()
    real_access = os.access  # the tests may run as root, for whom every folder is writable
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == tmp_path / "locked" else real_access(p, mode))
    with pytest.raises(ConfigError, match="is not writable"):
        check([*GAN, f"data.root={tmp_path / 'locked' / 'cache'}"])


def test_a_data_root_file_gets_one_error_line_and_no_run_folder(tmp_path):
    (tmp_path / "file").write_text("x")
    result = run_gvc(*GAN, f"data.root={tmp_path / 'file'}", f"hydra.run.dir={tmp_path / 'run'}")
    assert result.returncode == 2 and result.stderr.strip().startswith("gvc: error:"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "run").exists()


def test_the_label_free_space_refuses_sides_it_cannot_take_before_training(tmp_path):
    write_images(tmp_path / "odd", 40, size=(18, 18))
    with pytest.raises(ConfigError, match="divisible by 4"):
        check(["model=linear_gan", "trainer=smoke", "data=folder", f"data.path={tmp_path / 'odd'}",
               f"data.root={tmp_path / 'cache'}", "data.batch_size=16"])


def test_a_metric_uniform_noise_fools_is_flagged_and_decides_nothing():
    import pandas as pd

    from analysis.assessable import FLAGGED, fooled_by_noise, gate, standing
    from analysis.conclusions import Evidence

    results = pd.DataFrame([  # noise's label-free precision above the real floor (as on Fashion-MNIST's card)
        {"model": m, "metric": metric, "n": 3, "mean": mean, "std": 0.01, "floor": floor, "noise": noise}
        for m in ("dcgan", "conv_vae")
        for metric, mean, floor, noise in (("ae_fid", 5.0, 2.0, 3000.0), ("ae_precision", 0.9, 0.86, 0.98))])
    assert fooled_by_noise(results) == {"ae_precision"}
    standings = standing(results)
    evidence = Evidence(metric="ae_precision", comparison="dcgan > conv_vae", values="", outcome="supports")
    assert gate(evidence, "ae_precision", "dcgan", "conv_vae", standings).outcome.startswith(FLAGGED)
    fid = Evidence(metric="ae_fid", comparison="dcgan > conv_vae", values="", outcome="supports")
    assert gate(fid, "ae_fid", "dcgan", "conv_vae", standings).outcome == "supports"


def test_runs_measured_only_in_the_label_free_space_get_its_headlines():
    import pandas as pd

    from analysis.verdict import verdict_table

    runs = pd.DataFrame([{"model": "dcgan", "family": "gan", "status": "completed", "ae_fid": 10.0 + i,
                          "ae_precision": 0.5, "ae_recall": 0.4, "ae_coverage": 0.3, "floor_ae_fid": 1.0,
                          "noise_ae_fid": 900.0, "floor_ae_precision": 0.8, "noise_ae_precision": 0.9,
                          "floor_ae_recall": 0.8, "noise_ae_recall": 0.0, "floor_ae_coverage": 0.9,
                          "noise_ae_coverage": 0.0} for i in range(2)])
    table = verdict_table(runs)
    assert "FID (autoencoder space)" in table.columns and "classes covered" not in table.columns
    assert "⚠ noise scores as well" in table.loc["dcgan", "precision (autoencoder space)"]
    assert "⚠" not in table.loc["dcgan", "FID (autoencoder space)"]


def run_module(module: str, *args: str, timeout: float = 600):
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {**os.environ, "HYDRA_FULL_ERROR": "0", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.slow  # two sweeps, the analysis, gvc.sample and gvc.evaluate as a user runs them: about a minute
def test_own_folder_and_array_train_sweep_and_report_without_labels(tmp_path):
    paths = write_images(tmp_path / "faces", 200)  # flat grey, no labels
    rng = np.random.default_rng(1)
    np.savez(tmp_path / "tiles.npz", images=rng.random((300, 3, 8, 8), dtype=np.float32), labels=np.arange(300) % 3)
    # eval.n_samples: no more than the smaller test split (20 of 200 images), which is all an N can be drawn from
    small = ["trainer=smoke", "trainer.max_steps=2", "trainer.threads=1", "trainer.progress=false", "eval=fast",
             "eval.n_samples=20", "eval.kid_subsets=5", "eval.kid_subset_size=10",
             "data.autoencoder_epochs=1", f"data.root={tmp_path / 'cache'}"]
    # joblib: its workers are fresh processes that resolve data.name before anything else has run there
    grid = ["-m", "model=linear_gan,linear_vae", "data=folder", f"data.path={tmp_path / 'faces'}",
            "data.batch_size=32", *small, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
            f"hydra.sweep.dir={tmp_path / 'grid'}"]
    first = run_gvc(*grid, timeout=600)
    assert first.returncode == 0, first.stderr
    summaries = [rundir.read_summary(tmp_path / "grid" / name) for name in ("0_linear_gan", "1_linear_vae")]
    assert [s["status"] for s in summaries] == ["completed", "completed"]
    for s in summaries:  # measured in the label-free space alone, tied to the exact files
        assert s["objective"]["name"] == "ae_fid" and "fid" not in s["metrics"] and "ae_fid" in s["metrics"]
        assert s["data_set"]["sha256"] and s["data_set"]["split"]["test"] == 20 and s["data_set"]["class_names"] == []
        assert s["evaluator"]["space"] == "autoencoder"
        assert s["data"] == s["config"]["data"]["name"] == s["evaluator"]["data"]  # the hash name, everywhere

    optuna = run_gvc("-m", "+sweeps=optuna", "hydra.sweeper.n_trials=2", "model=linear_vae", "data=array",
                     f"data.path={tmp_path / 'tiles.npz'}", *small, f"hydra.sweep.dir={tmp_path / 'optuna'}",
                     timeout=600)
    assert optuna.returncode == 0, optuna.stderr
    assert len(rundir.find_run_dirs(tmp_path / "optuna")) == 2

    report = run_module("analysis", str(tmp_path / "grid"), "--out", str(tmp_path / "report"))
    assert report.returncode == 0, report.stderr
    text = (tmp_path / "report" / "report.md").read_text()
    assert "faces (image folder)" in text and "FID (autoencoder space)" in text and "their own card" in text
    assert "digit" not in text and "classes covered" not in text.split("## How these runs")[0]
    assert (tmp_path / "report" / "images" / "samples_final.png").is_file()
    rgb = run_module("analysis", str(tmp_path / "optuna"), "--out", str(tmp_path / "report_rgb"))
    assert rgb.returncode == 0, rgb.stderr
    assert Image.open(tmp_path / "report_rgb" / "images" / "reconstructions.png").mode in ("RGB", "RGBA")

    run = tmp_path / "grid" / "1_linear_vae"
    sample = run_module("gvc.sample", str(run), "--n", "4", "--npy", str(tmp_path / "s.npy"))
    assert sample.returncode == 0, sample.stderr
    assert np.load(tmp_path / "s.npy").shape == (4, 1, 16, 16)
    evaluated = run_module("gvc.evaluate", str(run), "eval=fast")
    assert evaluated.returncode == 0, evaluated.stderr
    assert "ae_fid" in __import__("json").loads(next((run / "evaluations").glob("*.json")).read_text())["metrics"]

    Image.fromarray(np.zeros((16, 16), np.uint8)).save(paths[0])  # a changed file: new trials, never a resume
    again = run_gvc(*grid, "trainer.resume=true", timeout=600)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "grid" / "0_linear_gan-2").is_dir() and (tmp_path / "grid" / "1_linear_vae-2").is_dir()
    assert rundir.read_summary(tmp_path / "grid" / "0_linear_gan")["data"] != \
        rundir.read_summary(tmp_path / "grid" / "0_linear_gan-2")["data"]


@pytest.mark.slow  # trains the label-free space and scores 11 corruptions: about 10-20 s on a shared 2-core CPU
def test_own_data_gets_its_own_metric_card_without_class_corruptions(tmp_path, capsys):
    from gvc.evaluation import calibrate

    write_images(tmp_path / "imgs", 120)
    calibrate.main(["--data", "folder", f"data.path={tmp_path / 'imgs'}", "data.autoencoder_epochs=1",
                    "--data-root", str(tmp_path / "cache"), "--n", "12", "--threads", "1", "--out",
                    str(tmp_path / "card")])
    [card] = (tmp_path / "card").glob("folder-*-n12.md")
    text = card.read_text()
    assert "uniform_noise" in text and "ae_fid" in text and "mode_drop" not in text and "| fid |" not in text


def test_calibrate_refuses_a_bad_own_folder_in_one_line(tmp_path, capsys):
    from gvc.evaluation import calibrate

    with pytest.raises(SystemExit) as exited:
        calibrate.main(["--data", "folder", f"data.path={tmp_path / 'nowhere'}", "--data-root", str(tmp_path)])
    assert exited.value.code == 2 and "does not exist" in capsys.readouterr().err


def test_an_architecture_that_cannot_take_the_images_says_so_before_training(tmp_path):
    write_images(tmp_path / "odd", 40, size=(18, 18))
    with pytest.raises(ConfigError, match="model=dcgan cannot take the 18x18 images"):
        check(["model=dcgan", "trainer=smoke", "eval.enabled=false", "data=folder", f"data.path={tmp_path / 'odd'}",
               f"data.root={tmp_path / 'cache'}", "data.batch_size=16"])
    check(["model=linear_gan", "trainer=smoke", "eval.enabled=false", "data=folder", f"data.path={tmp_path / 'odd'}",
           f"data.root={tmp_path / 'cache'}", "data.batch_size=16"])  # a linear model takes any size


def test_a_sweep_on_a_bad_folder_gets_one_error_line_and_no_sweep_folder(tmp_path):
    result = run_gvc("-m", "model=linear_gan,linear_vae", "trainer=smoke", "data=folder",
                     f"data.path={tmp_path / 'nowhere'}", f"data.root={tmp_path / 'cache'}",
                     f"hydra.sweep.dir={tmp_path / 'sweep'}")
    assert result.returncode == 2 and result.stderr.strip().startswith("gvc: error:"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "does not exist" in result.stderr
    assert not (tmp_path / "sweep").exists()


def test_labelled_own_images_are_measured_by_their_own_classifier_once_trained(tmp_path):
    from gvc.evaluation import train_classifier
    from gvc.evaluation.config import has_classifier
    import torch

    from gvc.datasets.own import name_from_args
    from gvc.evaluation.evaluate import evaluate

    class Grey(torch.nn.Module):  # a 'GAN' of flat grey images of the data's shape
        family, latent_dim = "gan", 4

        def generate(self, z: torch.Tensor) -> torch.Tensor:
            return torch.full((len(z), 1, 16, 16), 0.5)

    rng = np.random.default_rng(0)
    for i in range(160):  # dark images are class "dark", bright ones "light": a classifier can learn them
        label = ("dark", "light")[i % 2]
        (tmp_path / "imgs" / label).mkdir(parents=True, exist_ok=True)
        low = 0 if label == "dark" else 160
        Image.fromarray(rng.integers(low, low + 90, (16, 16), dtype=np.uint8)).save(tmp_path / "imgs" / label / f"{i}.png")
    overrides = [f"data.path={tmp_path / 'imgs'}", "data.autoencoder_epochs=1"]
    datasets.discover()  # what the scripts' argument parsers do first
    own_name = name_from_args("folder", overrides, str(tmp_path / "cache"))
    spec = datasets.get(own_name)
    assert not has_classifier(own_name)  # measured in the label-free space alone until one is trained
    train_classifier.main(["--data", "folder", *overrides, "--data-root", str(tmp_path / "cache"), "--epochs", "2",
                           "--threads", "1", "--min-accuracy", "0.8"])
    assert has_classifier(own_name) and (spec.files_dir / "classifier.pt").is_file()
    fast = {"n_samples": 40, "kid_subsets": 5, "kid_subset_size": 10}
    scores = evaluate(Grey(), fast, "cpu", str(tmp_path / "cache"), dataset=own_name)
    assert {"fid", "classes_covered", "ae_fid"} <= set(scores)


def test_a_classifier_needs_labels(tmp_path, capsys):
    from gvc.evaluation import train_classifier

    write_images(tmp_path / "flat", 40)
    with pytest.raises(SystemExit) as exited:
        train_classifier.main(["--data", "folder", f"data.path={tmp_path / 'flat'}", "--data-root", str(tmp_path)])
    assert exited.value.code == 2 and "has no labels" in capsys.readouterr().err
