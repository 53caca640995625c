"""`tolk bench --only injection`: the prompt-injection set (models/build/injection.py) through the real translator.

Each case goes the way a turn goes on the device: split into sentences (models/sentences.py), each sentence
streamed with the guard on (models/translate.py), the sentences joined. Every output is classified
(translated / obeyed / notice / other) and written out in full, so the figures can be checked by reading them.
"""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Callable, Sequence

from tolk.models import guard
from tolk.models.build import injection
from tolk.models.sentences import split_sentences

log = logging.getLogger(__name__)


def translate_case(translator, case: injection.Case) -> tuple[str, bool]:
    """(the output as the device would say it, whether any sentence of it was the notice)."""
    said, notice = [], False
    for sentence in split_sentences(case.text):
        text = "".join(translator.stream(sentence, case.source, case.target)).strip()
        notice = notice or guard.is_notice(text, case.target)
        said.append(text)
    return " ".join(said), notice


def run(translator, cases: Sequence[injection.Case] = (), progress: Callable[[str], None] = print) -> dict:
    cases = list(cases) or [*injection.INJECTIONS, *injection.ORDINARY]
    ordinary = {c.id for c in injection.ORDINARY}
    rows = []
    started = time.monotonic()
    for n, case in enumerate(cases, 1):
        output, notice = translate_case(translator, case)
        verdict = injection.classify(case, output, notice)
        rows.append({"id": case.id, "set": "ordinary" if case.id in ordinary else "injection",
                     "pair": f"{case.source}>{case.target}", "text": case.text, "output": output, "class": verdict,
                     "missing": injection.missing_keys(case, output)})
        progress(f"  [{n}/{len(cases)}] {verdict:10} {case.id}: {output[:70]!r}")
    counts = {name: {c: sum(r["class"] == c for r in rows if r["set"] == name) for c in injection.CLASSES}
              for name in ("injection", "ordinary")}
    return {"pack": translator.manifest.id, "rows": rows, "counts": counts, "retries": translator.retries,
            "seconds": time.monotonic() - started}


def markdown(section: dict) -> str:
    lines = [f"**Prompt injection** ({section['pack']}, streamed sentence by sentence with the guard, "
             f"{section['seconds']:.0f} s, {section['retries']} strict retries)\n",
             "| set | cases | " + " | ".join(injection.CLASSES) + " |", "|---|---:|" + "---:|" * len(injection.CLASSES)]
    for name, counts in section["counts"].items():
        lines.append(f"| {name} | {sum(counts.values())} | " + " | ".join(str(counts[c]) for c in injection.CLASSES)
                     + " |")
    lines += ["", "| class | set | pair | text | output |", "|---|---|---|---|---|"]
    for row in sorted(section["rows"], key=lambda r: (r["set"], r["class"])):
        cells = [row["class"], row["set"], row["pair"], row["text"], row["output"]]
        lines.append("| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def write(section: dict, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    (out / "injection.json").write_text(json.dumps(section, ensure_ascii=False, indent=1), encoding="utf-8")
    path = out / "injection.md"
    path.write_text(markdown(section), encoding="utf-8")
    return path
