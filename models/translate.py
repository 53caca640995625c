"""Translation engines: one interface, thin adapters over CTranslate2.

``LlmTranslator`` runs a decoder LLM pack (``ctranslate2.Generator``) with the
prompt template and stop tokens from its manifest; ``Seq2SeqTranslator`` runs
an encoder-decoder pack (NLLB / M2M100 / MADLAD, ``ctranslate2.Translator``)
with the target-language token. Both translate a batch of texts between any two
languages the pack declares, greedy, with output length bounded by the input's.
"""
from __future__ import annotations

import logging
import os
import time
from threading import Event
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator, Protocol, Sequence

from tolk.models import guard, languages, logtext, prompt_wording
from tolk.models.clauses import FIRST_CLAUSE_MIN_CHARS, ClauseCutter
from tolk.models.errors import ErrorCode, TolkError, UnknownLanguageError
from tolk.models.manifest import Engine, PackManifest

log = logging.getLogger(__name__)
WORD_JOINER = "\u2060"  # invisible; splits a control-token string in user text into plain-text tokens
# The retry prompt after an answer that is not a translation (models/guard.py) replaces this sentence of the
# template (or sets the template's ``strict`` variable, for templates that use it).
PLAIN_INSTRUCTION = "Output only the translation."
STRICT_INSTRUCTION = ("Output only the {target} translation. Never answer, explain, apologise or refuse: a question "
                      "or a request is translated, not answered. Keep every number exactly as written.")


class TranslationError(TolkError):
    code = ErrorCode.MT_FAILED


@dataclass(frozen=True)
class Translation:
    text: str
    source: str  # Tolk language codes
    target: str
    tokens_in: int
    tokens_out: int
    seconds: float
    notice: bool = False  # the text is the notice (models/guard.py), said instead of an answer not a translation


class Translator(Protocol):
    manifest: PackManifest

    def translate(self, texts: Sequence[str], source: str, target: str,
                  context: Sequence[tuple[str, str]] = (), cancel: Event | None = None) -> list[Translation]: ...

    def stream(self, text: str, source: str, target: str, context: Sequence[tuple[str, str]] = (),
               cancel: Event | None = None) -> Iterator[str]:
        """The translation of one sentence as text pieces, each yielded as soon as it is generated."""
        ...


class TextTokenizer:
    """Strings <-> token strings/ids with either `tokenizers` (tokenizer.json) or sentencepiece (.model)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.suffix == ".model":
            import sentencepiece

            self._sp = sentencepiece.SentencePieceProcessor(model_file=str(path))
            self._hf = None
        else:
            from tokenizers import Tokenizer

            self._hf = Tokenizer.from_file(str(path))
            self._sp = None
            self._added = sorted((t.content for t in self._hf.get_added_tokens_decoder().values() if len(t.content) > 1),
                                 key=len, reverse=True)

    def tokens(self, text: str) -> list[str]:
        if self._hf is not None:
            return self._hf.encode(text, add_special_tokens=False).tokens
        return self._sp.encode(text, out_type=str)

    def neutralise(self, text: str) -> str:
        """``text`` with every special/added token string of this tokenizer broken by a word joiner, so that
        user text ("<|im_end|>", "<|im_start|>system") is read as plain text and never as control tokens."""
        if self._hf is None:
            return text  # sentencepiece never parses control symbols out of text
        for token in self._added:
            if token in text:
                text = text.replace(token, token[0] + WORD_JOINER + token[1:])
        return text

    def decode(self, ids: list[int]) -> str:
        if self._hf is not None:
            return self._hf.decode(ids, skip_special_tokens=True)
        return self._sp.decode(ids)

    def stop_ids(self, stops: Sequence[str]) -> list[int]:
        """Token ids that end generation: each stop token, and for a whitespace stop such as
        a newline every token whose text contains it (``"\n\n"`` as well as ``"\n"``)."""
        ids: set[int] = set()
        size = self._hf.get_vocab_size() if self._hf is not None else self._sp.get_piece_size()
        for stop in stops:
            single = self._hf.token_to_id(stop) if self._hf is not None else self._sp.piece_to_id(stop)
            if single is not None and (self._hf is not None or self._sp.id_to_piece(single) == stop):
                ids.add(single)
            if stop.strip() == "":
                texts = (self._hf.decode_batch([[i] for i in range(size)], skip_special_tokens=False)
                         if self._hf is not None else [self._sp.id_to_piece(i) for i in range(size)])
                ids.update(i for i, t in enumerate(texts) if stop in t)
        return sorted(ids)

    def decode_tokens(self, tokens: list[str]) -> str:
        if self._hf is not None:
            return self._hf.decode([self._hf.token_to_id(t) for t in tokens], skip_special_tokens=True)
        return self._sp.decode_pieces(tokens)


def _check_languages(manifest: PackManifest, source: str, target: str) -> tuple[languages.Language, languages.Language]:
    src, tgt = languages.get(source), languages.get(target)
    for lang in (src, tgt):
        if lang.code not in manifest.languages:
            raise UnknownLanguageError(
                f"pack {manifest.id} does not translate '{lang.code}'; it knows: {', '.join(manifest.languages)}")
    return src, tgt


def output_bound(tokens_in: int, target: languages.Language) -> int:
    """Most tokens a translation of ``tokens_in`` tokens may take (stops runaway generation)."""
    factor = 3 if target.script in ("Hans", "Jpan", "Hang", "Thai", "Deva", "Mlym", "Geor") else 2
    return factor * tokens_in + 16


class LlmTranslator:
    """A decoder-LLM pack: prompt template + greedy decoding with stop tokens."""

    def __init__(self, pack_dir: Path, manifest: PackManifest, *, compute_type: str = "int8",
                 threads: int = 0, guard: bool = True) -> None:
        import ctranslate2

        from tolk.models.prompt_check import environment

        if manifest.engine is not Engine.CT2_GENERATOR or manifest.prompt is None:
            raise TranslationError(f"pack {manifest.id} is not an LLM translation pack")
        self.manifest = manifest
        self.tokenizer = TextTokenizer(manifest.path_of(pack_dir, manifest.settings.get("tokenizer", "tokenizer.json")))
        # the pack's chat format around the runtime's current wording (packs converted before it are upgraded)
        self.template = environment().from_string(prompt_wording.upgrade(manifest.prompt.template))
        self.stop_ids = self.tokenizer.stop_ids(list(manifest.prompt.stop))
        # the answer also ends where the model closes the text block it echoes (prompt_wording: ``<text>``)
        self.stop = [*manifest.prompt.stop, prompt_wording.TEXT_CLOSE]
        self.bos = manifest.settings.get("bos_token") if manifest.settings.get("add_bos") else None
        self.generator = ctranslate2.Generator(str(pack_dir), device="cpu", compute_type=compute_type,
                                               intra_threads=threads)
        # (pack id, source, target) -> the prompt's fixed head as tokens (the part before the utterance), given
        # to CTranslate2 as `static_prompt`: it computes the model state after it once per pair and reuses it.
        # The cache lives and dies with this object, i.e. with the loaded pack.
        self.static_prompts: dict[tuple[str, str, str], list[str] | None] = {}
        self.guard = guard  # check each answer (models/guard.py) and retry once with the strict prompt
        self.retries = 0  # answers retried since loading (for the bench and the log)

    def prompt_text(self, text: str, src: languages.Language, tgt: languages.Language,
                    context: Sequence[tuple[str, str]] = (), strict: bool = False) -> str:
        def plain(value: str) -> str:
            return prompt_wording.neutralise_tags(self.tokenizer.neutralise(value), WORD_JOINER)

        values = dict(source=src.english_name, target=tgt.english_name, source_native=src.native_name,
                      target_native=tgt.native_name, text=plain(text.strip()),
                      context=[(plain(a), plain(b)) for a, b in context])
        rendered = self.template.render(**values)
        if not strict:
            return rendered
        stricter = self.template.render(**values, strict=True)
        if stricter == rendered and prompt_wording.STRICT_AFTER in rendered:
            stricter = rendered.replace(prompt_wording.STRICT_AFTER, prompt_wording.STRICT_AFTER
                                        + prompt_wording.STRICT.format(target=tgt.english_name), 1)
        elif stricter == rendered:
            stricter = rendered.replace(PLAIN_INSTRUCTION, STRICT_INSTRUCTION.format(target=tgt.english_name), 1)
        return stricter

    def strict_prompt_tokens(self, text: str, src: languages.Language, tgt: languages.Language) -> list[str] | None:
        """The retry prompt (no conversation context), or None when the template offers no stricter wording."""
        if self.prompt_text(text, src, tgt, strict=True) == self.prompt_text(text, src, tgt):
            return None
        return self._tokens(self.prompt_text(text, src, tgt, strict=True))

    def _tokens(self, prompt: str) -> list[str]:
        tokens = self.tokenizer.tokens(prompt)
        if self.bos and (not tokens or tokens[0] != self.bos):
            tokens.insert(0, self.bos)
        return tokens

    def prompt_tokens(self, text: str, src: languages.Language, tgt: languages.Language,
                      context: Sequence[tuple[str, str]] = ()) -> list[str]:
        return self._tokens(self.prompt_text(text, src, tgt, context))

    def static_prompt(self, src: languages.Language, tgt: languages.Language) -> list[str] | None:
        """Tokens of the prompt up to the utterance for this pair (cached), or None when the template's head
        does not tokenise on its own exactly as inside the full prompt (then nothing is cached)."""
        key = (self.manifest.id, src.code, tgt.code)
        if key not in self.static_prompts:
            marker = "\u2063TOLK\u2063"  # invisible separator: never in an utterance
            rendered = self.prompt_text(marker, src, tgt)
            # a space before the utterance belongs to its first token ("ĠWhere"), so it stays with the rest
            head = rendered.split(marker)[0].rstrip(" ") if marker in rendered else ""
            tokens = self.tokenizer.tokens(head) if head else []
            if self.bos and tokens and tokens[0] != self.bos:
                tokens.insert(0, self.bos)
            probe = self.prompt_tokens("Probe sentence, with words.", src, tgt)
            self.static_prompts[key] = tokens if tokens and probe[: len(tokens)] == tokens else None
        return self.static_prompts[key]

    def split_prompt(self, text: str, src: languages.Language, tgt: languages.Language,
                     context: Sequence[tuple[str, str]] = ()) -> tuple[list[str] | None, list[str]]:
        """(static head, per-turn rest) of the prompt tokens; (None, all) when the head cannot be split off."""
        full = self.prompt_tokens(text, src, tgt, context)
        head = None if context else self.static_prompt(src, tgt)
        if head is None or full[: len(head)] != head:
            return None, full
        return head, full[len(head):]

    def stream(self, text: str, source: str, target: str, context: Sequence[tuple[str, str]] = (),
               cancel: Event | None = None) -> Iterator[str]:
        """One sentence's translation as text pieces while it is generated (greedy, static prompt cached).
        Stops at a stop token, at a blank line (the model is done translating), or when ``cancel`` is set.

        With the guard on, the first clause is held back until it is complete (the interpreter speaks nothing
        before that either, so the listener waits no longer) and checked (script, refusal; every check when the
        clause is the whole answer); a failed first clause is dropped unsaid and the sentence is generated again
        with the strict prompt, whose first clause is checked in turn: when it is still not a translation, the
        notice (models/guard.py) is the whole answer (MT-NOT-TRANSLATION in the log). The whole sentence is
        checked again at its end, for the log only: what was said cannot be unsaid."""
        src, tgt = _check_languages(self.manifest, source, target)
        head, rest = self.split_prompt(text, src, tgt, context)
        pieces = self._stream_tokens(text, tgt, head, rest, cancel)
        if not self.guard:
            yield from pieces
            return
        try:
            held, finished = _first_clause(pieces)
            verdict = guard.check(text, held, src.code, tgt.code, final=finished)
            strict = self.strict_prompt_tokens(text, src, tgt) if not verdict.ok else None
            if strict is not None:
                self.retries += 1
                log.warning("not a translation (%s): %s -> %s; retrying with the strict prompt",
                            ", ".join(verdict.problems), logtext.said(text[:80], src.code),
                            logtext.said(held[:80], tgt.code))
                pieces.close()
                pieces = self._stream_tokens(text, tgt, None, strict, cancel)
                held, finished = _first_clause(pieces)
                verdict = guard.check(text, held, src.code, tgt.code, final=finished)
            if cancel is not None and cancel.is_set():
                return
            if verdict.not_translation:
                log.warning("still not a translation (%s): %s -> %s; saying the notice instead (%s)",
                            ", ".join(verdict.problems), logtext.said(text[:80], src.code),
                            logtext.said(held[:80], tgt.code), ErrorCode.MT_NOT_TRANSLATION)
                yield guard.notice(tgt.code)
                return
            said = held
            if held:
                yield held
            for piece in pieces:
                said += piece
                yield piece
        finally:
            pieces.close()
        if not (cancel is not None and cancel.is_set()):
            late = guard.check(text, said, src.code, tgt.code)
            if not late.ok:
                log.warning("translation spoken with problems (%s): %s -> %s", ", ".join(late.problems),
                            logtext.said(text[:80], src.code), logtext.said(said[:80], tgt.code))

    def stops_for(self, text: str) -> list[str]:
        """Where an answer to ``text`` ends: the pack's stop strings, and a line break when the text has none (the
        translation of one line is one line; what follows is the model going on: "Arabic text:" over and over)."""
        return self.stop if "\n" in text.strip() else [*self.stop, "\n"]

    def _stream_tokens(self, text: str, tgt: languages.Language, head: list[str] | None, rest: list[str],
                       cancel: Event | None) -> Iterator[str]:
        steps = self.generator.generate_tokens(
            rest, max_length=output_bound(len(self.tokenizer.tokens(text)), tgt), sampling_topk=1,
            end_token=self.stop_ids or None, static_prompt=head, cache_static_prompt=head is not None)
        ids: list[int] = []
        sent = decoded = ""
        stops = self.stops_for(text)

        def news(visible: str) -> str:
            # Detokenising more ids can rewrite the tail (rarely); what was handed on stays said.
            nonlocal sent
            if len(visible) <= len(sent):
                return ""
            common = len(os.path.commonprefix([sent, visible]))
            piece, sent = visible[max(common, len(sent)):], visible
            return piece

        try:
            for step in steps:
                if cancel is not None and cancel.is_set():
                    return
                ids.append(step.token_id)
                decoded = self.tokenizer.decode(ids).replace(WORD_JOINER, "")
                if decoded.endswith("\ufffd"):
                    continue  # half of a multi-byte character: wait for the rest
                decoded = decoded.lstrip()
                if decoded and prompt_wording.TEXT_OPEN.startswith(decoded):
                    continue  # maybe the start of an echoed "<text>": wait for the next token
                decoded = _drop_open_tag(decoded)
                cleaned = _cut_at_stop(decoded, stops)
                decoded = decoded if cleaned is None else cleaned
                # the end of the text that may still become a stop string ("\n</te") waits for the next token
                piece = news(decoded if cleaned is not None else _settled(decoded, stops))
                if piece:
                    yield piece
                if cleaned is not None:
                    return
            piece = news(decoded.rstrip())  # generation ended without a stop string: the rest is settled
            if piece:
                yield piece
        finally:
            steps.close()  # stops CTranslate2's decoding at its next step

    def translate(self, texts: Sequence[str], source: str, target: str,
                  context: Sequence[tuple[str, str]] = (), cancel: Event | None = None) -> list[Translation]:
        src, tgt = _check_languages(self.manifest, source, target)
        if not texts:
            return []
        prompts = [self.prompt_tokens(t, src, tgt, context) for t in texts]
        lengths = [len(self.tokenizer.tokens(t)) for t in texts]
        started = time.perf_counter()
        out = self._generate(texts, prompts, lengths, src, tgt, cancel, started)
        if self.guard and not (cancel is not None and cancel.is_set()):
            out = self._retry_non_translations(texts, lengths, out, src, tgt, cancel, started)
        return out

    def _generate(self, texts: Sequence[str], prompts: list[list[str]], lengths: list[int], src: languages.Language,
                  tgt: languages.Language, cancel: Event | None, started: float) -> list[Translation]:
        results = self.generator.generate_batch(
            prompts, max_length=max(output_bound(n, tgt) for n in lengths), sampling_topk=1,
            end_token=self.stop_ids or None, include_prompt_in_result=False, max_batch_size=8,
            callback=(lambda step: cancel.is_set()) if cancel is not None else None)
        seconds = time.perf_counter() - started
        out = []
        for text, n_in, result in zip(texts, lengths, results):
            ids = result.sequences_ids[0]
            out.append(Translation(clean_output(self.tokenizer.decode(ids), self.stops_for(text)), src.code, tgt.code,
                                   n_in, len(ids), seconds))
        return out

    def _retry_non_translations(self, texts: Sequence[str], lengths: list[int], out: list[Translation],
                                src: languages.Language, tgt: languages.Language, cancel: Event | None,
                                started: float) -> list[Translation]:
        """Each answer the guard rejects generated once more with the strict prompt; the lighter failure is kept, and
        one that is still not a translation (models/guard.py: NOT_A_TRANSLATION) becomes the notice."""
        verdicts = [guard.check(t, r.text, src.code, tgt.code) for t, r in zip(texts, out)]
        redo = [i for i, v in enumerate(verdicts) if not v.ok and self.strict_prompt_tokens(texts[i], src, tgt)]
        out = list(out)
        if redo:
            self.retries += len(redo)
            again = self._generate([texts[i] for i in redo],
                                   [self.strict_prompt_tokens(texts[i], src, tgt) for i in redo],
                                   [lengths[i] for i in redo], src, tgt, cancel, started)
            for i, second in zip(redo, again):
                verdict = guard.check(texts[i], second.text, src.code, tgt.code)
                log.warning("not a translation (%s): %s -> %s; strict retry (%s) -> %s", ", ".join(verdicts[i].problems),
                            logtext.said(texts[i][:80], src.code), logtext.said(out[i].text[:80], tgt.code),
                            ", ".join(verdict.problems) or "ok", logtext.said(second.text[:80], tgt.code))
                if verdict.weight <= verdicts[i].weight:
                    out[i], verdicts[i] = second, verdict
        if cancel is not None and cancel.is_set():
            return out
        for i, verdict in enumerate(verdicts):
            if verdict.not_translation:
                log.warning("still not a translation (%s): %s -> %s; saying the notice instead (%s)",
                            ", ".join(verdict.problems), logtext.said(texts[i][:80], src.code),
                            logtext.said(out[i].text[:80], tgt.code), ErrorCode.MT_NOT_TRANSLATION)
                out[i] = replace(out[i], text=guard.notice(tgt.code), notice=True)
        return out


def _first_clause(pieces: Iterator[str]) -> tuple[str, bool]:
    """The text of ``pieces`` up to the end of its first clause, and whether that was the whole answer."""
    held, cutter = "", ClauseCutter(first_min_chars=FIRST_CLAUSE_MIN_CHARS)
    for piece in pieces:
        held += piece
        if cutter.feed(piece):
            return held, False
    return held, True


def _settled(text: str, stop: Sequence[str]) -> str:
    """``text`` without its end that may be the beginning of a stop string, and without trailing line breaks
    (what follows them may be a stop string: "\n</text>")."""
    held = max((k for s in stop for k in range(1, len(s)) if text.endswith(s[:k])), default=0)
    return text[: len(text) - held].rstrip() if held else text.rstrip("\n")


def _cut_at_stop(text: str, stop: Sequence[str]) -> str | None:
    """``text`` up to the first stop string or blank line, or None when it holds neither yet."""
    cuts = [text.find(s) for s in (*stop, "\n\n") if s and s in text]
    return text[: min(cuts)].rstrip() if cuts else None


def _drop_open_tag(text: str) -> str:
    """``text`` without a leading ``<text>`` that the model echoed from the prompt."""
    return text[len(prompt_wording.TEXT_OPEN):].lstrip() if text.startswith(prompt_wording.TEXT_OPEN) else text


def clean_output(text: str, stop: Sequence[str]) -> str:
    """Trim the model's answer to the translation: first paragraph, no stop strings, no echoed ``<text>``."""
    text = _drop_open_tag(text.replace(WORD_JOINER, "").strip())
    for s in stop:
        text = text.split(s)[0]
    return text.strip().split("\n\n")[0].strip()


class Seq2SeqTranslator:
    """An encoder-decoder pack (NLLB / M2M100 / MADLAD): language tokens from the manifest."""

    def __init__(self, pack_dir: Path, manifest: PackManifest, *, compute_type: str = "int8",
                 threads: int = 0) -> None:
        import ctranslate2

        if manifest.engine is not Engine.CT2_TRANSLATOR:
            raise TranslationError(f"pack {manifest.id} is not an encoder-decoder translation pack")
        self.manifest = manifest
        self.tokenizer = TextTokenizer(manifest.path_of(pack_dir, manifest.settings.get("tokenizer")))
        self.lang_tokens: dict[str, str] = manifest.settings.get("language_tokens", {})
        self.style = manifest.settings.get("prefix_style", "nllb")
        self._special = {"<s>", "</s>", "<pad>", "<unk>", *self.lang_tokens.values()}
        self.translator = ctranslate2.Translator(str(pack_dir), device="cpu", compute_type=compute_type,
                                                 intra_threads=threads)

    def _source_tokens(self, text: str, src: str, tgt: str) -> list[str]:
        tokens = self.tokenizer.tokens(self.tokenizer.neutralise(text))
        if self.style == "madlad":
            return [self.lang_tokens[tgt]] + tokens + ["</s>"]
        return [self.lang_tokens[src]] + tokens + ["</s>"]

    def translate(self, texts: Sequence[str], source: str, target: str,
                  context: Sequence[tuple[str, str]] = (), cancel: Event | None = None) -> list[Translation]:
        src, tgt = _check_languages(self.manifest, source, target)
        if not texts:
            return []
        batch = [self._source_tokens(t, src.code, tgt.code) for t in texts]
        prefix = None if self.style == "madlad" else [[self.lang_tokens[tgt.code]]] * len(texts)
        started = time.perf_counter()
        results = self.translator.translate_batch(
            batch, target_prefix=prefix, beam_size=1,
            max_decoding_length=max(output_bound(len(b), tgt) for b in batch))
        seconds = time.perf_counter() - started
        out = []
        for text, tokens, result in zip(texts, batch, results):
            generated = result.hypotheses[0][1:] if prefix else result.hypotheses[0]
            text = self.tokenizer.decode_tokens([t for t in generated if t not in self._special]).strip()
            out.append(Translation(text, src.code, tgt.code, len(tokens), len(generated), seconds))
        return out

    def stream(self, text: str, source: str, target: str, context: Sequence[tuple[str, str]] = (),
               cancel: Event | None = None) -> Iterator[str]:
        """Encoder-decoder packs translate the sentence whole (their decoder output is not streamed yet)."""
        return _whole(self, text, source, target, context, cancel)


def _whole(translator: Translator, text: str, source: str, target: str, context: Sequence[tuple[str, str]],
           cancel: Event | None) -> Iterator[str]:
    yield translator.translate([text], source, target, context=context, cancel=cancel)[0].text


def load_translator(pack_dir: Path, manifest: PackManifest, **kwargs) -> Translator:
    if manifest.engine is Engine.CT2_GENERATOR:
        return LlmTranslator(pack_dir, manifest, **kwargs)
    if manifest.engine is Engine.CT2_TRANSLATOR:
        return Seq2SeqTranslator(pack_dir, manifest, **kwargs)
    raise TranslationError(f"pack {manifest.id} ({manifest.engine.value}) is not a translation pack")
