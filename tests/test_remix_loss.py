"""The weak loss on a tiny tensor against hand-computed values, its gradient, and the loss of a batch
mixing supervised and remixed items."""
import pytest
import torch
import torch.nn.functional as F

from demucs_study.errors import ParamsError
from demucs_study.models import Demucs
from demucs_study.models.base import Separator
from demucs_study.models.utils import center_trim
from demucs_study.remix.dataset import RemixBatch
from demucs_study.remix.loss import batch_loss, weak_loss

# B = 2 items, S = 4 sources, C = 1 channel, T = 2 samples.
OUTPUT = torch.tensor([
    [[[1.0, 2.0]], [[3.0, 4.0]], [[0.0, 1.0]], [[2.0, 0.0]]],      # item 0: its stem is source 1 (bass)
    [[[0.0, 0.0]], [[1.0, 1.0]], [[-1.0, 2.0]], [[0.5, -0.5]]],    # item 1: its stem is source 3 (vocals)
])
STEM = torch.tensor([[[2.0, 2.0]], [[0.5, 0.5]]])
REST = torch.tensor([[[1.0, 1.0]], [[0.0, 3.0]]])
SOURCE = torch.tensor([1, 3])
# item 0: |[3,4]-[2,2]| -> 1.5 ; others [1+0+2, 2+1+0] = [3,3] vs [1,1] -> 2   => 3.5
# item 1: |[0.5,-0.5]-[0.5,0.5]| -> 0.5 ; others [0+1-1, 0+1+2] = [0,3] vs [0,3] -> 0   => 0.5


def test_weak_loss_equals_the_hand_computed_value():
    assert weak_loss(OUTPUT, STEM, REST, SOURCE).item() == pytest.approx((3.5 + 0.5) / 2)
    assert weak_loss(OUTPUT, STEM, REST, SOURCE, unlabeled_weight=0.5).item() == pytest.approx((2.5 + 0.5) / 2)
    assert weak_loss(OUTPUT, STEM, REST, SOURCE, unlabeled_weight=0.0).item() == pytest.approx((1.5 + 0.5) / 2)
    assert weak_loss(OUTPUT, STEM, REST, SOURCE, reduction="mean").item() == pytest.approx((3.5 / 2 + 0.5 / 2) / 2)
    # mse: item 0: (1 + 4) / 2 + (4 + 4) / 2 = 6.5 ; item 1: (0 + 1) / 2 + 0 = 0.5
    assert weak_loss(OUTPUT, STEM, REST, SOURCE, loss="mse").item() == pytest.approx((6.5 + 0.5) / 2)


def test_targets_are_centre_trimmed_to_the_output():
    pad = lambda x: torch.cat([torch.full_like(x[..., :1], 99.0), x, torch.full_like(x[..., :2], -99.0)], -1)  # noqa: E731
    assert weak_loss(OUTPUT, pad(STEM)[..., :-1], pad(REST)[..., :-1], SOURCE).item() == pytest.approx(2.0)


def test_weak_loss_gradient_reaches_every_output_with_the_expected_values():
    out = OUTPUT.clone().requires_grad_(True)
    weak_loss(out, STEM, REST, SOURCE).backward()
    # item 0: d/d out_1 = sign(out_1 - s) / (B C T) = 1/4 ; the others: sign(sum - u) / 4 = 1/4
    assert torch.equal(out.grad[0], torch.full((4, 1, 2), 0.25))
    torch.manual_seed(0)
    out = torch.randn(3, 4, 2, 16, requires_grad=True)
    weak_loss(out, torch.randn(3, 2, 16), torch.randn(3, 2, 16), torch.tensor([0, 1, 3]), loss="l1").backward()
    assert (out.grad.abs().sum(dim=(2, 3)) > 0).all()          # every (item, source) output gets a gradient
    # within an item, the three non-stem sources get the same gradient (only their sum is supervised)
    others = [k for k in range(4) if k != 1]
    assert all(torch.equal(out.grad[1, others[0]], out.grad[1, k]) for k in others)
    assert not torch.equal(out.grad[1, 1], out.grad[1, 0])


def test_bad_weak_loss_arguments_are_named():
    with pytest.raises(ParamsError, match=r"unknown loss 'l2' for the weak loss; use one of \['l1', 'mse'\]"):
        weak_loss(OUTPUT, STEM, REST, SOURCE, loss="l2")
    with pytest.raises(ParamsError, match=r"remix.loss.reduction = 'max'"):
        weak_loss(OUTPUT, STEM, REST, SOURCE, reduction="max")
    with pytest.raises(ValueError, match=r"weak_loss expects output \(B, S, C, T'\)"):
        weak_loss(OUTPUT[0], STEM, REST, SOURCE)


@pytest.fixture
def model():
    torch.manual_seed(0)
    return Demucs(channels=2, depth=2, lstm_layers=1)


def batches(model, n_s=3, n_r=2, length=None):
    g = torch.Generator().manual_seed(1)
    t = model.valid_length(300)
    stems = torch.randn(n_s, 4, 2, t, generator=g)
    tr = length or t
    remixed = RemixBatch(torch.randn(n_r, 2, tr, generator=g), torch.randn(n_r, 2, tr, generator=g),
                         torch.tensor([0, 3, 1, 2][:n_r]))
    return stems, remixed


def test_without_remixed_items_it_is_the_supervised_loss_bit_for_bit(model):
    stems, _ = batches(model)
    estimate = model(stems.sum(dim=1))
    expected = F.l1_loss(estimate, model.target(stems, estimate))
    assert torch.equal(batch_loss(model, stems, None), expected)


@pytest.mark.parametrize("same_length", [True, False])
def test_mixed_batch_is_the_item_weighted_mean_of_both_losses(model, same_length):
    stems, remixed = batches(model, length=None if same_length else model.valid_length(150))
    parts = {}
    total = batch_loss(model, stems, remixed, weight=0.5, parts=parts)
    out_s = model(stems.sum(dim=1))
    supervised = F.l1_loss(out_s, center_trim(stems, out_s))
    weak = weak_loss(model(remixed.mixture), remixed.stem, remixed.rest, remixed.source)
    assert total.item() == pytest.approx((3 * supervised.item() + 0.5 * 2 * weak.item()) / 5, rel=1e-5)
    assert parts == {"supervised": pytest.approx(supervised.item(), rel=1e-5), "weak": pytest.approx(weak.item(), rel=1e-5),
                     "supervised_items": 3, "remixed_items": 2}
    total.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_remixed_items_alone_train_the_model(model):
    _, remixed = batches(model)
    loss = batch_loss(model, None, remixed, loss="mse", unlabeled_weight=0.0, weight=2.0)
    expected = 2.0 * weak_loss(model(remixed.mixture), remixed.stem, remixed.rest, remixed.source, "mse", 0.0)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_a_model_trained_in_another_domain_is_refused():
    class Spectrogram(Separator):
        def forward(self, mix):
            return mix[:, None].expand(-1, 4, -1, -1).abs()

        def target(self, stems, output):
            return stems.abs()

    with pytest.raises(ParamsError, match=r"the weak loss compares waveforms, but Spectrogram trains on another "
                                          r"representation .* use a waveform model \(demucs\)"):
        batch_loss(Spectrogram(), None, RemixBatch(torch.zeros(1, 2, 8), torch.zeros(1, 2, 8), torch.tensor([0])))
    with pytest.raises(ValueError, match="neither supervised nor remixed items"):
        batch_loss(Spectrogram(), None, None)
