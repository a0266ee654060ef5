"""DistributedDataParallel: two CPU processes (gloo) started by torchrun train the smoke profile."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "params" / "smoke" / "demucs.yaml"


@pytest.mark.slow
def test_torchrun_two_cpu_ranks_train_and_rank0_writes_the_checkpoint(tmp_path_factory, smoke_data):
    runs = tmp_path_factory.mktemp("ddp-runs")
    env = {**os.environ, "DEMUCS_STUDY_RUNS": str(runs), "OMP_NUM_THREADS": "1",
           "DEMUCS_STUDY_DATA": str(smoke_data)}  # the smoke data set, made once per session
    env.pop("MUSDB_ROOT", None)
    # batch 8 = 2 ranks x 4 (one Remix group each); the 15 smoke windows give one step per epoch
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "demucs_study", "train", "--params", str(SMOKE), "--set", "train.batch_size=8",
           "--set", "train.epochs=1", "--no-progress", "--device", "cpu"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    folder = runs / "smoke" / "demucs batch_size=8 epochs=1"
    assert proc.stdout.count("epoch   1/1") == 1  # only rank 0 logs
    ck = torch.load(folder / "checkpoint.th", weights_only=True)
    assert ck["epoch"] == 1 and ck["world_size"] == 2 and len(ck["rng"]) == 2
    assert ck["optimizer"]["state"][0]["step"].item() == 1
    # each rank draws its own augmentations, and both states are kept for an exact resume
    g0, g1 = (r["generators"]["0"] for r in ck["rng"])
    assert not torch.equal(g0, g1)
    assert (folder / "best.th").is_file() and (folder / "history.json").is_file()
    assert sorted(p.name for p in folder.iterdir()) == ["best.th", "checkpoint.th", "history.json"]


@pytest.mark.slow
def test_torchrun_two_cpu_ranks_train_a_remix_run(tmp_path_factory, smoke_data):
    """The remix set-up runs on rank 0 first (classifier, extraction), the other rank reuses it; each rank
    takes its share of both parts of every batch (8 = 2 x (3 supervised kept of 4 + 1 remixed))."""
    runs = tmp_path_factory.mktemp("ddp-remix-runs")
    env = {**os.environ, "DEMUCS_STUDY_RUNS": str(runs), "OMP_NUM_THREADS": "1", "DEMUCS_STUDY_DATA": str(smoke_data)}
    env.pop("MUSDB_ROOT", None)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "demucs_study", "train", "--params", str(ROOT / "params" / "smoke" / "demucs_remix.yaml"),
           "--set", "train.batch_size=8", "--set", "train.epochs=1", "--no-progress", "--device", "cpu"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stdout.count("epoch   1/1") == 1 and proc.stdout.count("remix: ") >= 1
    assert proc.stdout.count("classifier epoch  1/") == 1          # trained once, by rank 0
    folder = runs / "smoke" / "demucs rho=0.25 batch_size=8 epochs=1"
    ck = torch.load(folder / "checkpoint.th", weights_only=True)
    assert ck["world_size"] == 2 and len(ck["rng"]) == 2 and ck["optimizer"]["state"][0]["step"].item() == 1
    history = json.loads((folder / "history.json").read_text())
    assert history["history"][0]["train_weak"] is not None and history["remix"]["items"] > 0
