"""The interface of every separation model (models.base.Separator) and its defaults."""
import torch

from demucs_study import AUDIO_CHANNELS, SAMPLERATE, SOURCES
from demucs_study.models import Demucs
from demucs_study.models.base import Separator


class Trimmer(Separator):
    """The smallest Separator: implements forward only. It returns, for each source, its input times
    the source's index + 1, trimmed by 2 samples at the start and 3 at the end (centred output, odd)."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, mix):
        self.calls += 1
        out = mix[..., 2:-3]
        return torch.stack([out * (i + 1) for i in range(len(self.sources))], dim=1)


def test_class_attributes_are_the_musdb_convention():
    model = Trimmer()
    assert model.sources == list(SOURCES) and model.audio_channels == AUDIO_CHANNELS == 2
    assert model.samplerate == SAMPLERATE == 44100
    assert isinstance(model, torch.nn.Module)


def test_default_valid_length_is_the_length_itself_as_an_int():
    model = Trimmer()
    for n in (1, 1000, 44100):
        assert model.valid_length(n) == n and type(model.valid_length(n)) is int
    assert type(model.valid_length(torch.tensor(7))) is int


def test_default_target_centre_trims_the_stems_to_the_output():
    model = Trimmer()
    mix = torch.randn(2, 2, 50)
    stems = torch.randn(2, 4, 2, 50)
    output = model(mix)
    assert output.shape == (2, 4, 2, 45)
    target = model.target(stems, output)
    assert target.shape == (2, 4, 2, 45)
    # 5 samples too many: 2 cut at the start, the odd one at the end (center_trim)
    torch.testing.assert_close(target, stems[..., 2:47], rtol=0, atol=0)


def test_default_separate_is_forward():
    model = Trimmer()
    mix = torch.randn(1, 2, 30)
    separated = model.separate(mix)
    assert model.calls == 1
    torch.testing.assert_close(separated, model(mix), rtol=0, atol=0)
    torch.testing.assert_close(separated[:, 3], 4 * mix[..., 2:-3], rtol=0, atol=0)


def test_subclass_attributes_do_not_change_the_base_class():
    class Two(Trimmer):
        sources = ["vocals", "accompaniment"]
        samplerate = 22050

    assert Two()(torch.zeros(1, 2, 10)).shape == (1, 2, 2, 5)
    assert Separator.sources == list(SOURCES) and Separator.samplerate == SAMPLERATE


def test_demucs_is_a_separator():
    assert issubclass(Demucs, Separator)
