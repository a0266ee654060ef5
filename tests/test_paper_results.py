"""`make paper-results PROFILE=smoke`: the whole DAG (data, training, evaluation, tables, figures) in a
few minutes, into temporary folders; a second run recomputes nothing."""
import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_smoke_profile_produces_every_output(smoke_run):
    base, _, _ = smoke_run
    res = base / "results" / "smoke"
    for name in ("01_data", "02_train-demucs", "03_evaluate-demucs", "04_remix", "05_paper", "06_explore"):
        assert (res / "notebooks" / f"{name}.ipynb").is_file()
        assert (res / "notebooks" / f"{name}.html").stat().st_size > 10_000
    for fig in ("data_spectrograms", "learning_curve_demucs", "separation_demucs", "learning_curves", "boxplot_sdr",
                "spectrogram_comparison", "remix_gain", "remix_energy", "remix_classifier", "remix_yield", "remix_truth"):
        assert (res / "figures" / f"{fig}.png").is_file() and (res / "figures" / f"{fig}.svg").is_file()
    table = pd.read_csv(res / "tables" / "synthetic.csv")
    assert list(table["system"])[-2:] == ["Mixture as every estimate (MIX)", "Ideal ratio mask oracle (IRM2)"]
    irm, mix = table.iloc[-1], table.iloc[-2]
    assert irm["All"] > mix["All"] + 5  # the oracle beats the mixture by far
    assert all(s.startswith("measured:") for s in table["source"])
    prov = json.loads((res / "provenance.json").read_text())
    experiments = [f.stem for f in (ROOT / "params" / "smoke").glob("*.yaml") if f.stem not in ("defaults", "data")]
    assert set(prov["steps"]) == {"01_data", "04_remix", "05_paper", "06_explore", *(f"02_train-{e}" for e in experiments),
                                  *(f"03_evaluate-{e}" for e in experiments)}
    assert prov["git"]["commit"] and prov["packages"]["torch"].startswith("2.13.0")
    assert all(step["wall_seconds"] > 0 for step in prov["steps"].values())
    assert prov["steps"]["02_train-demucs"]["params"]["seed"] == 42
    tracks = list((res / "evals" / "demucs" / "test").glob("*.json"))
    assert len(tracks) == 2  # the smoke test set


@pytest.mark.slow
def test_the_remix_chain_runs_and_its_rows_say_what_they_were_trained_with(smoke_run):
    base, _, _ = smoke_run
    res = base / "results" / "smoke"
    table = pd.read_csv(res / "tables" / "synthetic.csv").set_index("system")
    for system in ("demucs rho=0.25", "demucs rho=0.25 labeled_fraction=0.25"):
        assert table.loc[system, "extra data"] == "unlabeled (4 songs), remixed"
    assert table.loc["demucs labeled_fraction=0.25", "extra data"] == "no"
    # the shared classifiers (one per labeled budget) and the extractions of every excerpt length
    shared = base / "runs" / "smoke" / "_remix"
    assert len(list(shared.glob("classifier-*/classifier.th"))) == 2
    assert len(list(shared.glob("extract-*/calibration.json"))) == 2 * 3      # 2 budgets x L in {1, 3, 10} s
    notebook = json.loads((res / "notebooks" / "04_remix.ipynb").read_text())
    text = "".join("".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/markdown", ""))
                   for c in notebook["cells"] for o in c.get("outputs", []))
    assert "Labeled budget 25 %" in text and "Labeled budget 100 %" in text
    assert "Remixing " in text and "Likely reasons (measured)" in text


@pytest.mark.slow
def test_the_explorer_html_shows_its_snapshot_compactly(smoke_run):
    base, _, _ = smoke_run
    page = base / "results" / "smoke" / "notebooks" / "06_explore.html"
    text = page.read_text()
    assert page.stat().st_size < 2_000_000
    assert "explore-snapshot" in text and text.count("data:audio/ogg;base64,") >= 6
    assert "data:image/jpeg;base64," in text and "explore-frames-selection" in text
    assert "widget-state" not in text and "unpkg.com" not in text     # no widget renderer fetched by a reader


def shown_figures(notebook: Path) -> list[str]:
    """The names of the figures an executed notebook displays inline (``reporting.figures.publish``)."""
    nb = json.loads(notebook.read_text())
    return [out["metadata"]["image/png"]["figure"] for cell in nb["cells"] for out in cell.get("outputs", [])
            if "image/png" in out.get("data", {})]


@pytest.mark.slow
def test_every_saved_figure_is_shown_inline_once(smoke_run):
    base, _, _ = smoke_run
    res = base / "results" / "smoke"
    shown = [name for nb in sorted((res / "notebooks").glob("*.ipynb")) for name in shown_figures(nb)]
    saved = sorted(p.stem for p in (res / "figures").glob("*.png"))
    assert sorted(shown) == saved and len(set(shown)) == len(shown)
    assert shown_figures(res / "notebooks" / "05_paper.ipynb") == ["boxplot_sdr", "learning_curves",
                                                                    "spectrogram_comparison"]


@pytest.mark.slow
def test_outputs_hold_no_machine_path_and_the_index_links_everything(smoke_run):
    base, _, _ = smoke_run
    res = base / "results" / "smoke"
    for path in [*res.glob("notebooks/*.html"), *res.glob("notebooks/*.ipynb"), res / "provenance.json",
                 res / "index.html"]:
        text = path.read_text()
        assert str(base) not in text and str(ROOT) not in text, path
    index = (res / "index.html").read_text()
    for item in [*res.glob("notebooks/*.html"), *res.glob("tables/*.md"), *res.glob("figures/*.png")]:
        assert f"{item.parent.name}/{item.name}" in index


@pytest.mark.slow
def test_second_run_recomputes_nothing(smoke_run):
    base, env, _ = smoke_run
    stamp = base / "results" / "smoke" / ".done" / "03_evaluate-demucs"
    before = stamp.read_text()
    again = subprocess.run(["make", "-C", str(ROOT), "paper-results", "PROFILE=smoke"], env=env,
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "running" not in again.stdout
    assert stamp.read_text() == before
