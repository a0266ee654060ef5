"""The published MUSDB18 test SDR numbers the aggregation must reproduce to 0.01 dB, written once for
the tests (docs/paper.md, section "Reference numbers"): per system id of ``results/published/*.csv``,
(drums, bass, other, vocals, All). The released Demucs is the mean of its five seeds."""

PUBLISHED_SDR = {
    "STL2": (4.22, 3.21, 2.25, 3.25, 3.23),
    "TAK1": (6.43, 5.16, 4.15, 6.60, 5.58),
    "TAK3": (6.82, 5.29, 4.40, 6.80, 5.83),
    "TAK2": (6.81, 5.40, 4.80, 7.16, 6.04),
    "baseline:OpenUnmix": (5.73, 5.23, 4.02, 6.32, 5.33),
    "IRM2": (8.45, 7.12, 7.85, 9.43, 8.22),
}
#: The released Demucs (arXiv 1911.13254): mean over its five seeds.
DEMUCS_1911_MEAN = (6.08, 5.83, 4.12, 6.29, 5.58)
