"""The entry page of a profile's results (reporting.index): every notebook, table and figure linked,
relative links, and the same bytes for the same files."""
import re

from demucs_study.reporting.index import INDEX, index_html, write_index


def make_results(root):
    """A results/<profile> folder with a bit of everything, hidden temporaries included."""
    for rel in ("notebooks/01_data.html", "notebooks/02_train-demucs glu=False.html", "notebooks/01_data.ipynb",
                "notebooks/.02_train-demucs.abc123.tmp.ipynb", "notebooks/.hidden.html",
                "tables/synthetic.md", "tables/synthetic.csv", "tables/synthetic.tex",
                "tables/published_musdb18.md", "tables/published_musdb18.csv",
                "figures/boxplot_sdr.png", "figures/boxplot_sdr.svg", "figures/learning_curves.png",
                "figures/.tmp.png", "provenance.json"):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rel)
    return root


def hrefs(page):
    return re.findall(r"href='([^']*)'", page)


def test_every_notebook_table_and_figure_is_linked(tmp_path):
    results = make_results(tmp_path / "quick")
    page = index_html(results)
    assert hrefs(page) == [
        "notebooks/01_data.html", "notebooks/02_train-demucs glu=False.html",
        "tables/published_musdb18.md", "tables/published_musdb18.csv",
        "tables/synthetic.md", "tables/synthetic.csv", "tables/synthetic.tex",
        "figures/boxplot_sdr.png", "figures/boxplot_sdr.svg", "figures/learning_curves.png",
        "provenance.json"]
    assert re.findall(r"<img src='([^']*)'", page) == ["figures/boxplot_sdr.png", "figures/learning_curves.png"]
    assert "<title>demucs-study: quick</title>" in page and "PROFILE=quick" in page
    assert "ipynb" not in page and ".hidden" not in page and ".tmp" not in page
    assert str(tmp_path) not in page  # relative links only


def test_the_page_depends_only_on_the_files_present(tmp_path):
    a = make_results(tmp_path / "a" / "smoke")
    b = make_results(tmp_path / "b" / "smoke")
    assert index_html(a) == index_html(b)
    (b / "figures" / "extra.png").write_text("x")
    assert index_html(a) != index_html(b)


def test_names_are_escaped(tmp_path):
    results = tmp_path / "p"
    (results / "figures").mkdir(parents=True)
    (results / "figures" / "a<b>&'c.png").write_text("x")
    page = index_html(results)
    assert "figures/a&lt;b&gt;&amp;&#x27;c.png" in page and "a<b>" not in page


def test_an_empty_results_folder_still_gives_a_page(tmp_path):
    page = index_html(tmp_path / "full")
    assert page.startswith("<!doctype html>") and page.endswith("</body></html>\n")
    assert hrefs(page) == [] and "Provenance" not in page
    for heading in ("Executed notebooks", "Tables", "Figures"):
        assert f"<h2>{heading}</h2>" in page


def test_write_index_is_atomic_and_reproducible(tmp_path):
    results = make_results(tmp_path / "quick")
    path = write_index(results)
    assert path == results / INDEX == results / "index.html"
    first = path.read_bytes()
    assert first == index_html(results).encode()
    write_index(results)
    assert path.read_bytes() == first  # a re-run that changes nothing leaves it byte-identical
    assert not [p for p in results.iterdir() if p.name.startswith(".")]  # no temporary left
