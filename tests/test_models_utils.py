"""Helpers of the models (models.utils): centre trimming and recording constructor arguments."""
import inspect

import pytest
import torch
from torch import nn

from demucs_study.models.utils import capture_init, center_trim


# ---- moved from test_models_demucs.py

def test_center_trim():
    x = torch.arange(10)
    assert center_trim(x, 6).tolist() == [2, 3, 4, 5, 6, 7]
    assert center_trim(x, torch.zeros(3, 7)).tolist() == [1, 2, 3, 4, 5, 6, 7]  # odd: extra sample cut at the end
    assert center_trim(x, 10) is not None and center_trim(x, 10).tolist() == list(range(10))
    with pytest.raises(ValueError, match="cannot trim 10 samples to a longer length 11"):
        center_trim(x, 11)


# ---- center_trim

@pytest.mark.parametrize("length, target, start", [(10, 4, 3), (10, 5, 2), (11, 4, 3), (11, 5, 3), (7, 0, 3),
                                                   (1, 1, 0), (2, 1, 0)])
def test_center_trim_start_is_half_the_difference_rounded_down(length, target, start):
    x = torch.arange(length)
    assert center_trim(x, target).tolist() == list(range(start, start + target))


def test_center_trim_keeps_leading_dims_and_returns_a_view():
    x = torch.arange(2 * 3 * 9).view(2, 3, 9).float()
    y = center_trim(x, torch.empty(5, 4))  # only the reference's last dimension counts
    assert y.shape == (2, 3, 4)
    torch.testing.assert_close(y, x[..., 2:6])
    y[0, 0, 0] = -1.0
    assert x[0, 0, 2] == -1.0  # a view: no copy


def test_center_trim_error_on_a_longer_tensor_reference():
    with pytest.raises(ValueError, match=r"center_trim: cannot trim 5 samples to a longer length 8"):
        center_trim(torch.zeros(2, 5), torch.zeros(1, 2, 8))


# ---- capture_init

class Tiny(nn.Module):
    @capture_init
    def __init__(self, channels: int = 4, sizes=(1, 2), *, name: str = "tiny", options=None):
        super().__init__()
        self.layer = nn.Linear(channels, 1)
        self.sizes = sizes


def test_capture_init_records_every_argument_with_defaults():
    model = Tiny(8)
    assert model._init_args == {"channels": 8, "sizes": [1, 2], "name": "tiny", "options": None}
    assert Tiny()._init_args["channels"] == 4


def test_capture_init_turns_tuples_into_lists_at_any_depth():
    model = Tiny(sizes=(3, (4, 5)), options={"pair": (1, 2), "deep": [(6,)]})
    assert model._init_args["sizes"] == [3, [4, 5]]
    assert model._init_args["options"] == {"pair": [1, 2], "deep": [[6]]}
    assert model.sizes == (3, (4, 5))  # the constructor itself received the tuple


def test_recorded_arguments_rebuild_the_same_architecture():
    model = Tiny(6, name="x")
    rebuilt = type(model)(**model._init_args)
    assert rebuilt._init_args == model._init_args
    assert rebuilt.layer.weight.shape == model.layer.weight.shape == (1, 6)


def test_capture_init_keeps_the_signature_and_refuses_unknown_arguments():
    assert list(inspect.signature(Tiny.__init__).parameters) == ["self", "channels", "sizes", "name", "options"]
    assert Tiny.__init__.__name__ == "__init__"
    with pytest.raises(TypeError, match="unexpected keyword argument 'depth'"):
        Tiny(depth=3)

