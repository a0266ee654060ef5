"""Checks shared by tests/test_models_waveunet.py and tests/test_models_mmdense.py (not collected)."""
import math

import torch

from demucs_study.models.io import load_model, save_model
from demucs_study.training.batches import input_length
from demucs_study.training.loop import loss_function, train_step


def n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def round_trip(model, path, mix):
    """Save ``model``, load it back (weights only); assert bitwise-equal weights and separations."""
    save_model(model, path, extra={"epoch": 1})
    package = torch.load(path, weights_only=True, map_location="cpu")   # plain data: no code unpickled
    assert package["kwargs"] == model._init_args
    loaded = load_model(path)
    assert type(loaded) is type(model) and not loaded.training
    state, again = model.state_dict(), loaded.state_dict()
    assert state.keys() == again.keys() and all(torch.equal(state[k], again[k]) for k in state)
    model.eval()
    with torch.no_grad():
        assert torch.equal(loaded.separate(mix), model.separate(mix))
        assert torch.equal(loaded(mix), model(mix))
    return loaded


def smoke_epochs(model, augment, loss: str, lr: float, segment: int, batches: int = 3, batch: int = 4,
                 epochs: int = 2, seed: int = 0) -> list[float]:
    """Train ``epochs`` passes over a fixed set of ``batches`` random batches of stems (stems made of a
    few sines and noise, so there is something to learn) with ``training.loop.train_step`` and Adam;
    returns the mean training loss of each epoch."""
    g = torch.Generator().manual_seed(seed)
    window = segment
    t = torch.arange(window) / 44100
    data = []
    for _ in range(batches):
        freqs = torch.rand(batch, 4, 1, 1, generator=g) * 2000 + 100
        gains = torch.rand(batch, 4, 2, 1, generator=g) + 0.2
        stems = gains * torch.sin(2 * math.pi * freqs * t) + 0.05 * torch.randn(batch, 4, 2, window, generator=g)
        data.append(stems)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    length = input_length(model, window)
    losses = []
    model.train()
    augment.train()
    for _ in range(epochs):
        values = [train_step(model, stems, augment, optimizer, loss_function(loss), length) for stems in data]
        assert all(math.isfinite(v) for v in values), values
        losses.append(sum(values) / len(values))
    return losses


def smoke_experiment(smoke_data, tmp_path_factory, params_file, threads: int = 1) -> dict:
    """Train the smoke experiment ``params_file`` (2 epochs) with ``training.experiment.train_experiment``
    on the smoke data set (``smoke_data``, made once per session), in a fresh runs folder;
    check what every model must give: finite losses, a best model that loads weights-only, stems of a
    validation track. Returns the result of ``train_experiment``."""
    import pytest

    from demucs_study.config import load_params
    from demucs_study.models import MODELS
    from demucs_study.separation.apply import apply_model
    from demucs_study.training.experiment import train_experiment
    from demucs_study.training.runs import best_model_path

    data = smoke_data
    runs = tmp_path_factory.mktemp("runs")
    threads_before = torch.get_num_threads()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEMUCS_STUDY_DATA", str(data))
        mp.setenv("DEMUCS_STUDY_RUNS", str(runs))
        mp.delenv("MUSDB_ROOT", raising=False)
        params = load_params(params_file)
        try:
            result = train_experiment(params, progress=False, threads=threads)
        finally:
            torch.set_num_threads(threads_before)
        assert result["done"] and result["epochs_done"] == 2
        for entry in result["history"]:
            assert math.isfinite(entry["train"]) and math.isfinite(entry["valid"])
        best = load_model(best_model_path(params))
        assert type(best) is MODELS[params["model"]]
        assert best._init_args == {**best._init_args, **params["models"][params["model"]]}
        mix = torch.randn(2, 30000) * 0.1
        stems = apply_model(best, mix, shifts=1, segment=float(params["separate"]["segment"]))
        assert stems.shape == (4, 2, 30000) and torch.isfinite(stems).all()
    return result
