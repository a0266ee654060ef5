"""BSSEval v4 as museval 0.4.1 computes it (SiSEC 2018 "images" metrics), many times faster.

``evaluate(references, estimates, win, hop)`` returns museval's ``(SDR, ISR, SIR, SAR)``, each
``(nsrc, nwin)``: per-frame metrics of the BSSEval "images" decomposition (Vincent, Gribonval and
Fevotte 2006; Vincent et al. 2012 for ISR) with 512-tap time-invariant distortion filters
computed once per track (BSSEval v4: Stoter, Liutkus and Ito 2018; ``museval.metrics.bss_eval``
with ``framewise_filters=False``). Same inputs, same checks, same frames, same linear algebra
(``np.linalg.solve`` on ``G + eps I`` with museval's ``lstsq`` fallback), same NaN and inf rules;
different arithmetic where museval wastes work:

* correlations of whole tracks from the spectra of the frames and the seams between them instead
  of one length-2^24 FFT per pair of channels (:mod:`.segments`, :mod:`.correlations`);
* G factorised once for all estimates (and all systems) instead of once per estimate
  (:mod:`.filters`);
* each frame transformed once, for the correlations and the projections, the projections of all
  frames and estimates as batched matrix products and their energies by Parseval, instead of 20
  small convolutions per frame and estimate (:mod:`.metrics`);
* SDR straight from the samples: in the images decomposition it does not depend on the filters.

Results agree with museval to rounding (1e-11 dB measured) where museval's own result is
numerically determined. Where the references' correlation matrix is ill-conditioned (band-limited
stems such as MUSDB18's AAC, dual-mono stems), museval's ISR, SIR and SAR change by dB under
1e-16 relative perturbations of its inputs and no other implementation can reproduce them;
:class:`Conditioning` flags such tracks. SDR, the number the paper's tables report, is exact on
every track.
"""
from .api import FILTERS_LEN, Scores, evaluate, evaluate_systems, reference_conditioning
from .filters import ILL_CONDITIONED, Conditioning
from .inputs import frames

__all__ = ["FILTERS_LEN", "ILL_CONDITIONED", "Conditioning", "Scores", "evaluate", "evaluate_systems", "frames",
           "reference_conditioning"]
