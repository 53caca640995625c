"""`tolk translate` and `tolk interpret`: the interpreter from the command line."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from tolk.audio.clip import load_audio, resample, write_wav
from tolk.device import events as ev
from tolk.models import paths
from tolk.models.errors import ErrorCode, TolkError
from tolk.models.store import PackStore

GAP_SECONDS = 0.15  # silence between spoken sentences in the written file


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("translate", help="translate text between two languages")
    p.add_argument("text")
    p.add_argument("--from", dest="source", required=True, help="source language code")
    p.add_argument("--to", dest="target", required=True, help="target language code")
    p.add_argument("--mt-pack", help="translation pack id (default: the active one)")
    p.set_defaults(func=run_translate)

    p = sub.add_parser("interpret", help="speech file in, translated speech out")
    p.add_argument("input", type=Path, help="audio file (wav, flac, mp3, ogg, m4a; any rate)")
    p.add_argument("--to", dest="target", help="target language (default: the other one of --pair)")
    p.add_argument("--from", dest="source", default="auto", help="source language or 'auto' (default)")
    p.add_argument("--pair", help="the conversation's two languages, e.g. en,de: detection chooses among them")
    p.add_argument("-o", "--output", type=Path, help="write the spoken translation to this WAV file")
    p.add_argument("--timings", action="store_true", help="print per-stage timings")
    p.add_argument("--back-translation", action="store_true", help="also translate back, as a check")
    p.add_argument("--max-seconds", type=float, default=30.0, help="longest input accepted (default %(default)s)")
    p.add_argument("--mt-pack", help="translation pack id (default: the active one)")
    p.set_defaults(func=run_interpret)


def _interpreter(args: argparse.Namespace, **config):
    from tolk.device.interpreter import InterpreterConfig
    from tolk.device.loader import load_interpreter

    interpreter = load_interpreter(PackStore(paths.packs_dir()), InterpreterConfig(**config), mt_pack=args.mt_pack)
    for notice in interpreter.notices:  # an optional pack left out: said once, the turn goes on
        print(f"notice: {notice}", file=sys.stderr)
    return interpreter


def join_audio(chunks: list[ev.AudioOut]) -> tuple[np.ndarray, int]:
    """All spoken sentences as one signal at the first chunk's rate, with short gaps between sentences."""
    if not chunks:
        return np.zeros(0, dtype=np.float32), 22050
    rate = chunks[0].sample_rate
    parts, last_index = [], chunks[0].index
    for chunk in chunks:
        if chunk.index != last_index:
            parts.append(np.zeros(int(rate * GAP_SECONDS), dtype=np.float32))
            last_index = chunk.index
        parts.append(resample(chunk.samples, chunk.sample_rate, rate))
    return np.concatenate(parts), rate


def report(events: list[ev.Event], out=sys.stdout, timings: bool = False) -> int:
    """Print a finished turn; returns the exit code (0 ok, 1 no speech, 2 error)."""
    code = 0
    sentences = iter(ev.translated_sentences(events))
    for event in events:
        if isinstance(event, ev.FinalText):
            print(f"heard ({event.language}, {event.confidence:.2f}): {event.text}", file=out)
        elif isinstance(event, ev.TranslationText) and event.starts_sentence:
            print(f"translation ({event.language}): {next(sentences)}", file=out)
        elif isinstance(event, ev.BackTranslation):
            print(f"back-translation ({event.language}): {event.text}", file=out)
        elif isinstance(event, ev.NoSpeech):
            print(event.message, file=out)
            code = max(code, 1)
        elif isinstance(event, ev.TurnError):
            print(f"error: [{event.code}] {event.message}", file=sys.stderr)
            code = 2
        elif isinstance(event, ev.TurnFinished) and timings:
            order = ("asr", "first_translation", "first_audio", "mt", "tts", "back_translation", "total")
            print("timings: " + " · ".join(f"{k.replace('_', ' ')} {event.timings[k]:.2f} s"
                                           for k in order if k in event.timings), file=out)
    return code


def run_translate(args: argparse.Namespace) -> int:
    try:
        from tolk.device.interpreter import check_languages, check_text

        check_text(args.text)  # empty, too long, unknown or same language: refused before the models load
        check_languages(source=args.source, target=args.target)
        interpreter = _interpreter(args)
        try:
            events = interpreter.translate_text(args.text, args.source, args.target).collect()
        finally:
            interpreter.close()  # and its speech worker
    except TolkError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for sentence in ev.translated_sentences(events):
        print(sentence)
    for event in events:
        if isinstance(event, ev.TranslationText) and event.notice is not None:
            print(f"note: [{event.notice}] {event.notice.summary}", file=sys.stderr)
        if isinstance(event, ev.TurnError):
            print(f"error: [{event.code}] {event.message}", file=sys.stderr)
            return 2
    return 0


def run_interpret(args: argparse.Namespace) -> int:
    from tolk.models import languages

    try:
        pair = [c.strip() for c in args.pair.split(",")] if args.pair else []
        forced = None if args.source.strip().lower() in ("auto", "") else args.source  # "Auto" too
        for code in [*pair, forced, args.target]:
            if code:
                languages.get(code)
        from tolk.device.interpreter import check_languages

        check_languages(pair=pair, source=forced, target=args.target)
        if not args.target and len(pair) != 2:
            raise TolkError("give --to LANG, or --pair A,B to translate into the other language", code=ErrorCode.ARGS)
        if args.output and (args.output.is_dir() or not args.output.parent.is_dir()):
            raise TolkError(f"{args.output}: not a file path in an existing folder", code=ErrorCode.FILE_ERROR)
        audio = load_audio(args.input, max_seconds=args.max_seconds)
        interpreter = _interpreter(args, max_seconds=args.max_seconds, back_translation=args.back_translation)
        try:
            events = interpreter.interpret(audio, pair=pair, forced=forced, target=args.target).collect()
        finally:
            interpreter.close()  # and its speech worker
    except TolkError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    code = report(events, timings=args.timings)
    spoken = next((e.language for e in events if isinstance(e, ev.TranslationText)), None)
    voices = ev.spoken_voices(events)
    if spoken and voices:
        print(f"voice ({spoken}): {', '.join(voices)}")  # the voice that spoke: espeak-ng if the neural one failed
    if args.output and code == 0:
        signal, rate = join_audio([e for e in events if isinstance(e, ev.AudioOut)])
        write_wav(args.output, signal, rate)
        print(f"wrote {args.output} ({signal.size / rate:.1f} s, {rate} Hz)")
    return code
