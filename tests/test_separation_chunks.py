"""The chunk grid of overlap-add separation and its cross-fade weights (separation.chunks)."""
import numpy as np
import pytest

from demucs_study.separation.chunks import chunk_weights, plan_chunks


# ---- moved from test_separation_apply.py: chunk grid and weights

@pytest.mark.parametrize("length, chunk, overlap", [(1, 10, 2), (10, 10, 2), (11, 10, 2), (1003, 100, 25),
                                                    (1003, 100, 0), (1003, 100, 60), (999, 100, 90)])
def test_chunk_weights_are_a_partition_of_unity(length, chunk, overlap):
    chunks = plan_chunks(length, chunk, overlap)
    total = np.zeros(length)
    for index, (start, size) in enumerate(chunks):
        assert 1 <= size <= chunk
        weights = chunk_weights(chunks, index, overlap)
        assert weights.shape == (size,) and weights.dtype == np.float32 and np.all(weights > 0)
        total[start:start + size] += weights
    np.testing.assert_allclose(total, 1.0, atol=1e-6)
    assert chunks[0][0] == 0 and sum(chunks[-1]) == length
    assert all(b[0] - a[0] == chunk - overlap for a, b in zip(chunks, chunks[1:]))


def test_cross_fade_is_linear_in_the_overlap():
    chunks = plan_chunks(300, 100, 20)
    rising = chunk_weights(chunks, 1, 20)[:20]
    np.testing.assert_allclose(np.diff(rising), 1 / 20, atol=1e-6)
    assert chunk_weights(chunks, 0, 20)[0] == 1.0  # no fade-in at the track start


def test_plan_chunks_rejects_bad_sizes():
    with pytest.raises(ValueError, match="0 <= overlap < chunk"):
        plan_chunks(100, 10, 10)


# ---- the grid

@pytest.mark.parametrize("length, chunk, overlap, expected", [
    (250, 100, 25, [(0, 100), (75, 100), (150, 100)]),            # the last chunk ends exactly at the end
    (251, 100, 25, [(0, 100), (75, 100), (150, 100), (225, 26)]),  # ... or is cut there
    (7, 100, 25, [(0, 7)]),                                        # shorter than a chunk: one chunk
    (100, 100, 0, [(0, 100)]),
    (201, 100, 0, [(0, 100), (100, 100), (200, 1)]),
    (5, 3, 2, [(0, 3), (1, 3), (2, 3)]),                           # stride 1
])
def test_plan_chunks_exact_grids(length, chunk, overlap, expected):
    assert plan_chunks(length, chunk, overlap) == expected


@pytest.mark.parametrize("length, chunk, overlap", [(0, 10, 2), (10, 0, 0), (10, 10, -1), (10, 10, 11)])
def test_plan_chunks_error_names_every_value(length, chunk, overlap):
    with pytest.raises(ValueError, match=rf"plan_chunks needs length >= 1, chunk >= 1 and 0 <= overlap < chunk; "
                                         rf"got length={length}, chunk={chunk}, overlap={overlap}$"):
        plan_chunks(length, chunk, overlap)


# ---- the weights

def test_weights_by_hand_for_a_short_last_chunk():
    """11 samples, chunks of 10 overlapping by 2: (0, 10) and (8, 3). The windows cross-fade over samples
    8 and 9 (centres 0.5 and 1.5 of a 2-sample ramp: 1/4 and 3/4) and already sum to one there."""
    chunks = plan_chunks(11, 10, 2)
    assert chunks == [(0, 10), (8, 3)]
    np.testing.assert_array_equal(chunk_weights(chunks, 0, 2), [1] * 8 + [0.75, 0.25])
    np.testing.assert_array_equal(chunk_weights(chunks, 1, 2), [0.25, 0.75, 1.0])


def test_no_overlap_gives_weights_of_exactly_one():
    chunks = plan_chunks(250, 100, 0)
    for index, (_, size) in enumerate(chunks):
        np.testing.assert_array_equal(chunk_weights(chunks, index, 0), np.ones(size, np.float32))


def test_fade_out_mirrors_the_next_fade_in():
    chunks = plan_chunks(400, 100, 30)
    out = chunk_weights(chunks, 1, 30)[-30:]
    into = chunk_weights(chunks, 2, 30)[:30]
    np.testing.assert_allclose(out, into[::-1], atol=1e-7)
    np.testing.assert_allclose(out + into, 1.0, atol=1e-7)
    assert np.all(np.diff(out) < 0) and np.all(np.diff(into) > 0)
    middle = chunk_weights(chunks, 1, 30)[30:-30]
    np.testing.assert_array_equal(middle, 1.0)  # only the overlaps are faded


def test_weights_are_a_fresh_array_each_call():
    """The trapezoid windows are cached read-only; a caller scaling its weights in place must not change them."""
    chunks = plan_chunks(300, 100, 20)
    first = chunk_weights(chunks, 1, 20)
    expected = first.copy()
    first *= 0
    np.testing.assert_array_equal(chunk_weights(chunks, 1, 20), expected)
