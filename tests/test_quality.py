"""chrF, direction scoring and the UDHR loader on small fixed inputs (no network)."""
import pytest

from tolk.models.build import quality, udhr
from tolk.models.errors import FetchError

UDHR_HTML = """<!doctype html>
<html data-code="{code}" dir="ltr" lang="{code}"><head><title>T</title></head><body>
<h1>Universal Declaration</h1><header><h2>Preamble</h2><p>Whereas &amp; so on</p></header>
<article data-number="1"><h2>Article 1</h2><p>{a1}</p></article>
<article data-number="2"><h2>Article 2</h2><p>{a2a}</p>
  <ol><li>{a2b}</li></ol></article>
</body></html>"""


@pytest.fixture
def corpus(tmp_path):
    decl = tmp_path / "declaration"
    decl.mkdir()
    (decl / "eng.html").write_text(UDHR_HTML.format(code="eng", a1="All are born free.", a2a="Everyone is",
                                                    a2b="entitled  to rights."))
    (decl / "spa.html").write_text(UDHR_HTML.format(code="spa", a1="Todos nacen libres.", a2a="Toda persona",
                                                    a2b="tiene derechos."))
    return tmp_path


def test_articles_skip_headings_and_normalise_space(corpus):
    assert udhr.load_articles(corpus, "eng") == {1: "All are born free.", 2: "Everyone is entitled to rights."}


def test_parallel_aligns_by_article_and_filters_length(corpus):
    assert udhr.parallel(corpus, "eng", "spa") == [("All are born free.", "Todos nacen libres."),
                                                   ("Everyone is entitled to rights.", "Toda persona tiene derechos.")]
    assert udhr.parallel(corpus, "eng", "spa", max_chars=20) == [("All are born free.", "Todos nacen libres.")]
    assert udhr.parallel_for(corpus, "en", "es", articles=[2])[0][1] == "Toda persona tiene derechos."


def test_missing_language_is_a_clear_error(corpus):
    with pytest.raises(FetchError, match="no UDHR text 'xyz'"):
        udhr.load_articles(corpus, "xyz")


def test_chrf_bounds():
    assert quality.chrf(["the cat sat on the mat"], ["the cat sat on the mat"]) == pytest.approx(100.0)
    assert quality.chrf(["qqqq zzzz"], ["the cat sat on the mat"]) < 10
    with pytest.raises(ValueError):
        quality.chrf(["a"], ["a", "b"])


def test_evaluate_direction_and_table():
    pairs = [("hello world", "HELLO WORLD"), ("good night", "GOOD NIGHT")]

    def upper(texts, src, tgt):
        return [t.upper() for t in texts], 7

    score = quality.evaluate_direction(upper, pairs, "en", "xx")
    assert score.chrf == pytest.approx(100.0) and score.n_segments == 2 and score.tokens_generated == 7
    table = quality.markdown_table([score])
    assert "| en→xx | 100.0 | 2 | 7 |" in table and "**mean**" in table


def test_default_directions_cover_non_english_pairs():
    dirs = quality.DEFAULT_DIRECTIONS
    assert len(dirs) >= 10 and len(set(dirs)) == len(dirs)
    assert sum("en" not in d for d in dirs) >= 3
