"""One training step and epoch, separation of a whole track, and the validation loss (training.loop)."""
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from demucs_study.errors import ParamsError
from demucs_study.models.base import Separator
from demucs_study.models.utils import center_trim
from demucs_study.training.loop import LOSSES, loss_function, train_epoch, train_step, validate, whole_track
from separate_helpers import IdentityModel


# ---- moved from test_training_experiment.py

class QuarterModel(torch.nn.Module):
    """A model with Demucs' contract: valid inputs are 100 + 8k samples, output trimmed by 50 each side, mix / 4."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(()))
        self.seen = []

    def valid_length(self, n):
        return 100 + 8 * math.ceil(max(n, 1) / 8)

    def forward(self, mix):
        self.seen.append(mix.shape[-1])
        assert (mix.shape[-1] - 100) % 8 == 0
        out = mix[..., 50:-50] * self.w / 4
        return out[:, None].expand(-1, 4, -1, -1)


def fake_tracks(lengths, seed=0):
    g = np.random.default_rng(seed)
    for n in lengths:
        stems = g.standard_normal((4, 2, n)).astype(np.float32) * 0.1
        mix = stems.sum(0)
        mono = mix.mean(0)
        yield SimpleNamespace(mixture=mix, stems=stems, mean=float(mono.mean()), std=float(mono.std()))


def test_validation_runs_whole_tracks_and_mixture_over_4_is_the_baseline():
    model = QuarterModel()
    out = validate(model, fake_tracks([1001, 2003]), loss_function("l1"), "cpu")
    assert out["tracks"] == 2
    assert model.seen == [model.valid_length(1001), model.valid_length(2003)]  # one pass per whole track
    assert out["loss"] == pytest.approx(out["baseline"], rel=1e-6) and out["baseline"] > 0
    seen = []

    def separator(m, mix):  # gets the raw whole mixture, returns raw estimates
        seen.append(tuple(mix.shape))
        return torch.zeros(4, *mix.shape)

    other = validate(model, fake_tracks([1001, 2003]), loss_function("l1"), "cpu", separate=separator)
    assert seen == [(2, 1001), (2, 2003)] and other["loss"] != pytest.approx(out["loss"])


def test_whole_track_output_is_aligned_with_the_input():
    model = QuarterModel()
    mix = torch.randn(2, 777)
    est = whole_track(model, mix)
    assert est.shape == (4, 2, 777)
    assert torch.allclose(est, (mix / 4).expand(4, 2, 777))


def test_unknown_loss_is_a_params_error():
    with pytest.raises(ParamsError, match=r"unknown train.loss='l3'"):
        loss_function("l3")


# ---- loss_function

def test_loss_names_are_l1_and_mse():
    assert sorted(LOSSES) == ["l1", "mse"]
    assert loss_function("l1") is F.l1_loss and loss_function("mse") is F.mse_loss
    with pytest.raises(ParamsError, match=r"^unknown train.loss='L1'; use one of \['l1', 'mse'\]$"):
        loss_function("L1")


# ---- train_step and train_epoch

class TinySeparator(Separator):
    """A 1x1 convolution from the mixture's 2 channels to 4 sources x 2 channels, trimmed by 3 samples at the
    start and 3 at the end (so the target must be centre-trimmed); records its input."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv1d(2, 8, 1)
        self.inputs = []

    def forward(self, mix):
        self.inputs.append(mix.detach().clone())
        y = self.conv(mix)[..., 3:-3]
        return y.view(y.shape[0], 4, 2, -1)


class PlainSGD:
    """SGD in a few lines (a torch.optim optimizer costs seconds to build the first time in a process)."""

    def __init__(self, params, lr):
        self.params, self.lr, self.zeroed = list(params), lr, 0

    def zero_grad(self, set_to_none=True):
        self.zeroed += 1
        for p in self.params:
            p.grad = None

    def step(self):
        with torch.no_grad():
            for p in self.params:
                p -= self.lr * p.grad


def batch(seed=0, size=2, length=40):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(size, 4, 2, length, generator=g)


def test_train_step_lowers_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    model = TinySeparator()
    optimizer = PlainSGD(model.parameters(), lr=0.1)
    stems = batch()
    losses = [train_step(model, stems, torch.nn.Identity(), optimizer, F.l1_loss, 40) for _ in range(30)]
    assert all(isinstance(x, float) and math.isfinite(x) for x in losses)
    assert losses[-1] < 0.9 * losses[0]
    assert optimizer.zeroed == 30


def test_train_step_remakes_the_mixture_from_the_cropped_augmented_stems():
    torch.manual_seed(0)
    model = TinySeparator()
    stems = batch(length=50)
    loss = train_step(model, stems, lambda s: -s, PlainSGD(model.parameters(), 0.0), F.mse_loss, 40)
    (mix,) = model.inputs
    expected_mix = center_trim(-stems, 40).sum(dim=1)  # augmentation, then the crop to `length`, then the sum
    torch.testing.assert_close(mix, expected_mix, rtol=0, atol=0)
    with torch.no_grad():
        estimate = model(expected_mix)
    expected = F.mse_loss(estimate, center_trim(center_trim(-stems, 40), estimate))
    assert loss == pytest.approx(float(expected), rel=1e-6)


def test_train_step_uses_the_models_target_even_when_wrapped():
    """Under DistributedDataParallel the model is ``wrapper.module``; its ``target`` must still be used."""
    torch.manual_seed(0)
    inner = TinySeparator()
    calls = []

    def target(stems, output):  # every stem as the target "zero": the loss is the mean |estimate|
        calls.append(tuple(stems.shape))
        return torch.zeros_like(output)

    inner.target = target

    class Wrapper(torch.nn.Module):
        def __init__(self, module):
            super().__init__()
            self.module = module

        def forward(self, mix):
            return self.module(mix)

    stems = batch(length=40)
    loss = train_step(Wrapper(inner), stems, torch.nn.Identity(), PlainSGD(inner.parameters(), 0.0), F.l1_loss, 40)
    assert calls == [(2, 4, 2, 40)]
    with torch.no_grad():
        assert loss == pytest.approx(float(inner(stems.sum(1)).abs().mean()), rel=1e-6)


def test_train_epoch_runs_the_given_batches_in_train_mode():
    torch.manual_seed(0)
    model = TinySeparator().eval()
    augment = torch.nn.Identity().eval()
    windows = [batch(seed=i, size=1, length=30)[0] for i in range(5)]
    total, count = train_epoch(model, windows, [[4, 0], [2, 3]], augment, PlainSGD(model.parameters(), 0.0),
                               F.l1_loss, 30, "cpu")
    assert count == 2 and model.training and augment.training
    first, second = model.inputs
    torch.testing.assert_close(first, torch.stack([windows[4], windows[0]]).sum(1))
    torch.testing.assert_close(second, torch.stack([windows[2], windows[3]]).sum(1))
    with torch.no_grad():  # lr 0: the sum of the two batch losses
        expected = sum(float(F.l1_loss(model(m), center_trim(torch.stack([windows[i] for i in b]), 24)))
                       for m, b in ((first, [4, 0]), (second, [2, 3])))
    assert total == pytest.approx(expected, rel=1e-6)


def _reference_step(model, stems, augment, optimizer, loss_fn, length):
    """train_step as it was before the remix scheme (its loss written out), for the bitwise check."""
    stems = center_trim(augment(stems), length)
    estimate = model(stems.sum(dim=1))
    loss = loss_fn(estimate, model.target(stems, estimate))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


@pytest.mark.parametrize("loss_fn", [F.l1_loss, F.mse_loss])
def test_without_remixed_items_a_step_is_the_supervised_step_bit_for_bit(loss_fn):
    from demucs_study.models import Demucs

    runs = []
    for step in (train_step, _reference_step):
        torch.manual_seed(3)
        model = Demucs(channels=4, depth=2, lstm_layers=1)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        stems = batch(seed=1, size=2, length=model.valid_length(200))
        losses = [step(model, stems, torch.nn.Identity(), optimizer, loss_fn, stems.shape[-1]) for _ in range(3)]
        runs.append((losses, {k: v.clone() for k, v in model.state_dict().items()}))
    (a, wa), (b, wb) = runs
    assert a == b and all(torch.equal(wa[k], wb[k]) for k in wa)


def test_a_remix_step_keeps_the_first_items_of_the_augmented_batch_and_adds_the_remixed_ones():
    from demucs_study.remix.dataset import RemixBatch
    from demucs_study.remix.loss import batch_loss
    from demucs_study.training.loop import RemixSteps

    torch.manual_seed(0)
    model = TinySeparator()
    stems = batch(length=40, size=4)
    g = torch.Generator().manual_seed(1)
    remixed = RemixBatch(torch.randn(1, 2, 40, generator=g), torch.randn(1, 2, 40, generator=g), torch.tensor([3]))
    remix = RemixSteps(dataset=None, batches=[], keep=3, weight=0.5, unlabeled_weight=2.0, reduction="mean")
    parts = {}
    loss = train_step(model, stems, lambda s: -s, PlainSGD(model.parameters(), 0.0), F.l1_loss, 40, remixed, remix,
                      parts)
    # one forward pass of the 3 kept (augmented) items and the remixed one (same length)
    (mix,) = model.inputs
    torch.testing.assert_close(mix[:3], (-stems[:3]).sum(1), rtol=0, atol=0)
    torch.testing.assert_close(mix[3:], remixed.rest + remixed.stem, rtol=0, atol=0)
    assert parts["supervised_items"] == 3 and parts["remixed_items"] == 1
    with torch.no_grad():
        expected = batch_loss(model, -stems[:3], remixed, F.l1_loss, 0.5, 2.0, "mean")
    assert loss == pytest.approx(float(expected), rel=1e-6)
    assert loss == pytest.approx((3 * parts["supervised"] + 0.5 * parts["weak"]) / 4, rel=1e-6)


def test_train_epoch_feeds_each_step_its_remixed_items_and_sums_the_parts():
    from demucs_study.training.loop import RemixSteps

    torch.manual_seed(0)
    model = TinySeparator()
    windows = [batch(seed=i, size=1, length=30)[0] for i in range(4)]
    g = torch.Generator().manual_seed(2)
    items = [(torch.randn(2, 30, generator=g), torch.randn(2, 30, generator=g), k % 4) for k in range(3)]
    remix = RemixSteps(dataset=items, batches=[[2], [0]], keep=1)
    parts = {}
    total, count = train_epoch(model, windows, [[3, 1], [0, 2]], torch.nn.Identity(),
                               PlainSGD(model.parameters(), 0.0), F.l1_loss, 30, "cpu", remix=remix, parts=parts)
    assert count == 2 and parts["supervised_steps"] == parts["weak_steps"] == 2
    first, second = model.inputs
    torch.testing.assert_close(first, torch.stack([windows[3].sum(0), items[2][0] + items[2][1]]))
    torch.testing.assert_close(second, torch.stack([windows[0].sum(0), items[0][0] + items[0][1]]))
    with pytest.raises(ValueError, match="1 remix batches for 2 supervised ones"):
        train_epoch(model, windows, [[3, 1], [0, 2]], torch.nn.Identity(), PlainSGD(model.parameters(), 0.0),
                    F.l1_loss, 30, "cpu", remix=RemixSteps(dataset=items, batches=[[2]], keep=1))


# ---- whole_track

@pytest.mark.parametrize("length", [1, 100, 1001])
def test_whole_track_is_aligned_for_an_odd_trim(length):
    """IdentityModel needs 37 more input samples and trims 5 (2 at the start, 3 at the end)."""
    model = IdentityModel(samplerate=1000)
    mix = torch.randn(2, length)
    est = whole_track(model, mix)
    assert model.calls == [(1, 2, length + 37)]
    torch.testing.assert_close(est, (mix / 4).expand(4, 2, length), rtol=0, atol=1e-7)


def test_whole_track_without_valid_length_uses_the_length_as_is():
    class Same(torch.nn.Module):
        def forward(self, x):
            return x[:, None].repeat(1, 4, 1, 1)

    mix = torch.randn(2, 50)
    torch.testing.assert_close(whole_track(Same(), mix), mix.expand(4, 2, 50))


def test_whole_track_refuses_an_output_that_does_not_cover_the_input():
    class Short(torch.nn.Module):
        def forward(self, x):
            return x[:, None, :, 3:-3].repeat(1, 4, 1, 1)

    with pytest.raises(RuntimeError, match=r"model output of 94 samples does not cover the 100 input samples"):
        whole_track(Short(), torch.zeros(2, 100))


# ---- validate against values computed by hand

def constant_track(values=(1.0, 2.0, 3.0, -2.0), length=300, mean=0.0, std=1.0):
    """Each stem constant (drums 1, bass 2, other 3, vocals -2: the mixture is 4 everywhere), with the
    given normalisation statistics."""
    stems = np.stack([np.full((2, length), v, np.float32) for v in values])
    return SimpleNamespace(mixture=stems.sum(0), stems=stems, mean=mean, std=std)


class Zeros(torch.nn.Module):
    def forward(self, mix):
        return torch.zeros(mix.shape[0], 4, *mix.shape[1:])


def test_validate_by_hand_with_unit_statistics():
    # mixture / 4 = 1 against stems 1, 2, 3, -2: |0|, |1|, |2|, |3| -> L1 1.5, MSE (0 + 1 + 4 + 9) / 4 = 3.5
    out = validate(QuarterModel(), [constant_track(), constant_track(length=500)], F.l1_loss, "cpu")
    assert out == {"loss": pytest.approx(3.0, rel=1e-6), "baseline": pytest.approx(3.0, rel=1e-6), "tracks": 2}
    mse = validate(QuarterModel(), [constant_track()], F.mse_loss, "cpu")
    assert mse["loss"] == pytest.approx(3.5, rel=1e-6) and mse["baseline"] == pytest.approx(3.5, rel=1e-6)
    # zeros against 1, 2, 3, -2: L1 2.0; the baseline does not depend on the model
    zeros = validate(Zeros(), [constant_track()], F.l1_loss, "cpu")
    assert zeros["loss"] == pytest.approx(2.0, rel=1e-6) and zeros["baseline"] == pytest.approx(1.5, rel=1e-6)
    assert validate(Zeros(), [constant_track()], F.l1_loss, "cpu", baseline=False)["baseline"] == 0.0


def test_validate_by_hand_in_the_normalised_domain():
    """mean 0.4, std 2: mixture (4 - 0.4) / 2 = 1.8, estimate 0.45; stems (v - 0.1) / 2 = 0.45, 0.95, 1.45,
    -1.05: L1 (0 + 0.5 + 1 + 1.5) / 4 = 0.75. The stems are shifted by mean / 4, not by the mean."""
    out = validate(QuarterModel(), [constant_track(mean=0.4, std=2.0)], F.l1_loss, "cpu")
    assert out["loss"] == pytest.approx(0.75, rel=1e-6) and out["tracks"] == 1


def test_validate_normalises_what_separate_returns_like_the_stems():
    seen = []

    def separate(model, mix):  # raw estimates: the true stems plus 0.2 everywhere
        seen.append(mix.clone())
        return torch.as_tensor(constant_track().stems) + 0.2

    out = validate(QuarterModel(), [constant_track(mean=0.4, std=2.0)], F.l1_loss, "cpu", separate=separate)
    torch.testing.assert_close(seen[0], torch.full((2, 300), 4.0))  # the raw mixture, not normalised
    assert out["loss"] == pytest.approx(0.1, rel=1e-6)  # 0.2 / std


def test_validate_puts_the_model_in_eval_mode_without_gradients():
    model = QuarterModel().train()
    grads = []
    model.register_forward_hook(lambda m, i, o: grads.append(torch.is_grad_enabled()))
    validate(model, [constant_track()], F.l1_loss, "cpu")
    assert not model.training and grads == [False]
