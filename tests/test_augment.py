"""Augmentations: shapes, eval-mode behaviour, exactness of each transform, seeding, errors."""
import pytest
import torch

from demucs_study.augment import FlipChannels, FlipSign, Remix, Scale, Shift, generators_of, make_augmentations
from demucs_study.training import rng
from demucs_study.errors import ParamsError


def batch(b=8, s=4, c=2, t=40, seed=0):
    # Distinct random values: an exact match of a slice identifies where it came from.
    return torch.randn(b, s, c, t, generator=torch.Generator().manual_seed(seed))


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_flip_sign_is_a_sign_per_stem_and_both_signs_occur():
    wav = batch()
    out = FlipSign(gen()).train()(wav)
    assert out.shape == wav.shape
    signs = set()
    for b in range(wav.shape[0]):
        for s in range(wav.shape[1]):
            if torch.equal(out[b, s], wav[b, s]):
                signs.add(1)
            else:
                assert torch.equal(out[b, s], -wav[b, s])
                signs.add(-1)
    assert signs == {1, -1}


def test_flip_channels_swaps_left_right_per_stem_and_needs_stereo():
    wav = batch()
    out = FlipChannels(gen()).train()(wav)
    swapped = set()
    for b in range(wav.shape[0]):
        for s in range(wav.shape[1]):
            same = torch.equal(out[b, s], wav[b, s])
            assert same or torch.equal(out[b, s], wav[b, s].flip(0))
            swapped.add(not same)
    assert swapped == {True, False}
    with pytest.raises(ParamsError, match="needs stereo stems, got 1 channel"):
        FlipChannels(gen()).train()(batch(c=1))


def test_shift_crops_each_stem_at_its_own_offset_in_0_to_shift():
    shift, t = 3, 40
    wav = batch(t=t)
    offsets = []
    for seed in range(4):
        out = Shift(shift, gen(seed)).train()(wav)
        assert out.shape == (8, 4, 2, t - shift)
        for b in range(8):
            for s in range(4):
                found = [o for o in range(t - out.shape[-1] + 1)
                         if torch.equal(out[b, s], wav[b, s, :, o:o + t - shift])]
                assert len(found) == 1 and 0 <= found[0] <= shift
                offsets.append(found[0])
    assert set(offsets) == {0, 1, 2, 3}  # both ends of [0, shift] are reachable


def test_shift_eval_crops_from_zero_and_zero_shift_is_identity():
    wav = batch()
    out = Shift(5, gen()).eval()(wav)
    assert torch.equal(out, wav[..., :35])
    assert Shift(0, gen()).train()(wav) is wav
    with pytest.raises(ValueError, match="input of 5 samples is not longer than shift=5"):
        Shift(5, gen()).train()(batch(t=5))
    with pytest.raises(ParamsError, match="shift=-1 samples must be >= 0"):
        Shift(-1)


def test_remix_permutes_each_source_within_its_group():
    group = 4
    wav = batch(b=8)
    same_perm_for_all_sources = []
    for seed in range(3):
        out = Remix(group, gen(seed)).train()(wav)
        assert out.shape == wav.shape
        for g in range(2):
            perms = []
            for s in range(4):
                sources_of = []
                for i in range(group):
                    match = [j for j in range(group) if torch.equal(out[g * group + i, s], wav[g * group + j, s])]
                    assert len(match) == 1
                    sources_of.append(match[0])
                assert sorted(sources_of) == list(range(group))  # a permutation within the group
                perms.append(tuple(sources_of))
            same_perm_for_all_sources.append(len(set(perms)) == 1)
    assert not all(same_perm_for_all_sources)  # sources are permuted independently


def test_remix_batch_not_multiple_of_group_is_a_clear_error():
    with pytest.raises(ParamsError, match=r"batch of B=6 items cannot be split into groups of group_size=4; "
                                          r"make the batch size a multiple of 4"):
        Remix(4, gen()).train()(batch(b=6))
    with pytest.raises(ParamsError, match="group_size=0 must be >= 1"):
        Remix(0)


@pytest.mark.parametrize("module", [FlipSign(gen()), FlipChannels(gen()), Remix(4, gen())])
def test_eval_mode_is_identity(module):
    wav = batch()
    assert module.eval()(wav) is wav


def test_make_augmentations_order_and_options():
    names = lambda seq: [type(m).__name__ for m in seq]  # noqa: E731
    assert names(make_augmentations(10, True, 4, 0)) == ["FlipSign", "FlipChannels", "Shift", "Remix"]
    assert names(make_augmentations(10, False, 0, 0)) == ["Shift"]
    assert names(make_augmentations(0, True, 1, 0)) == ["FlipSign", "FlipChannels"]
    # Each module's stream does not depend on which other modules are enabled.
    full, shift_only = make_augmentations(10, True, 4, 7), make_augmentations(10, False, 0, 7)
    assert torch.equal(full[2].generator.get_state(), shift_only[0].generator.get_state())


def test_seeded_pipelines_reproduce_and_states_resume():
    wav = batch(t=50)
    a, b, c = (make_augmentations(10, True, 4, seed).train() for seed in (1, 1, 2))
    out_a = a(wav)
    assert out_a.shape == (8, 4, 2, 40)
    assert torch.equal(out_a, b(wav))
    assert not torch.equal(out_a, c(wav))
    # Saving and restoring the generator states continues the same random stream.
    saved = rng.capture(generators_of(a))
    assert set(saved["generators"]) == {"0", "1", "2", "3"}
    expected = a(wav)
    rng.restore(saved, generators_of(c))
    assert torch.equal(c(wav), expected)


def test_unseeded_modules_follow_the_global_seed_and_differ_from_each_other():
    torch.manual_seed(3)
    first = (FlipSign(), FlipChannels())
    torch.manual_seed(3)
    again = FlipSign()
    assert torch.equal(first[0].generator.get_state(), again.generator.get_state())
    assert not torch.equal(first[0].generator.get_state(), first[1].generator.get_state())


def test_scale_multiplies_each_stem_by_its_own_gain_in_range():
    wav = batch(b=16)
    out = Scale(0.7, 1.0, gen(3)).train()(wav)
    gains = out / wav
    assert torch.allclose(gains, gains[..., :1].expand_as(gains), atol=1e-5)   # one gain per (item, source)
    gains = gains[..., 0, 0]
    assert gains.shape == (16, 4) and (gains >= 0.7 - 1e-6).all() and (gains <= 1.0 + 1e-6).all()
    assert len(torch.unique(gains)) > 32                                  # independent draws
    assert torch.equal(Scale(0.7, 1.0, gen(3)).train()(wav), out)          # seeded: reproducible
    assert Scale(0.7, 1.0, gen(3)).eval()(wav) is wav                      # identity in eval mode
    with pytest.raises(ParamsError, match=r"0 < min <= max < inf \(the Wave-U-Net recipe uses \[0.7, 1.0\]\)"):
        Scale(1.0, 0.7)


def test_make_augmentations_scale_is_optional_and_last_and_leaves_the_other_streams():
    names = lambda seq: [type(m).__name__ for m in seq]  # noqa: E731
    assert names(make_augmentations(10, True, 4, 0)) == ["FlipSign", "FlipChannels", "Shift", "Remix"]
    with_scale = make_augmentations(10, True, 4, 0, scale=(0.7, 1.0))
    assert names(with_scale) == ["FlipSign", "FlipChannels", "Shift", "Remix", "Scale"]
    assert (with_scale[4].min, with_scale[4].max) == (0.7, 1.0)
    plain = make_augmentations(10, True, 4, 0)
    for a, b in zip(plain, with_scale):
        assert torch.equal(a.generator.get_state(), b.generator.get_state())
    assert set(generators_of(with_scale)) == {"0", "1", "2", "3", "4"}
    with pytest.raises(ParamsError, match=r"scale=0.7: give the \(min, max\) range"):
        make_augmentations(scale=0.7)
