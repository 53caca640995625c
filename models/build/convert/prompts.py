"""Prompt templates for decoder-LLM translation packs.

A pack's prompt is a plain Jinja2 string rendered on the device with ``source``
and ``target`` (English language names), ``text`` and ``context`` (earlier
``(source_text, translation)`` pairs). The device needs no chat-template engine:

* a chat model's own template is rendered once here, with sentinel strings where
  the languages and the text go, and the sentinels become ``{{ source }}``,
  ``{{ target }}`` and ``{{ text }}`` (everything else is escaped literal text);
* a base model without a chat template gets a few-shot completion prompt that
  the model continues after ``"<target>:"``; generation stops at the newline.
"""
from __future__ import annotations

import json
import logging
import re
from datetime import datetime
from typing import Iterable

from tolk.models.errors import ConversionError
from tolk.models.manifest import PromptSpec
from tolk.models.prompt_wording import CONTEXT, INSTRUCTION, SYSTEM, escape_literal

log = logging.getLogger(__name__)

# The words (system prompt, instruction, earlier turns) are the runtime's (models/prompt_wording.py), which also
# upgrades packs converted with older words when it loads them. __CONTEXT__ renders to nothing without earlier turns.
SENTINELS = {"__SRC__": "{{ source }}", "__TGT__": "{{ target }}", "__TEXT__": "{{ text }}", "__CONTEXT__": CONTEXT}
# End-of-turn markers of common chat formats (ChatML, Gemma, Llama 3, Phi).
END_OF_TURN = ("<|im_end|>", "<end_of_turn>", "<|eot_id|>", "<|end|>")

# Two short example pairs per language for the few-shot prompt, keyed by Tolk code.
FEW_SHOT_EXAMPLES: dict[str, tuple[str, str]] = {
    "ar": ("صباح الخير.", "أين المحطة؟"),
    "da": ("Godmorgen.", "Hvor er stationen?"),
    "de": ("Guten Morgen.", "Wo ist der Bahnhof?"),
    "el": ("Καλημέρα.", "Πού είναι ο σταθμός;"),
    "en": ("Good morning.", "Where is the station?"),
    "es": ("Buenos días.", "¿Dónde está la estación?"),
    "fi": ("Hyvää huomenta.", "Missä asema on?"),
    "fr": ("Bonjour.", "Où est la gare ?"),
    "hu": ("Jó reggelt.", "Hol van az állomás?"),
    "id": ("Selamat pagi.", "Di mana stasiunnya?"),
    "it": ("Buongiorno.", "Dov'è la stazione?"),
    "ja": ("おはようございます。", "駅はどこですか？"),
    "nl": ("Goedemorgen.", "Waar is het station?"),
    "no": ("God morgen.", "Hvor er stasjonen?"),
    "pl": ("Dzień dobry.", "Gdzie jest dworzec?"),
    "pt": ("Bom dia.", "Onde fica a estação?"),
    "ro": ("Bună dimineața.", "Unde este gara?"),
    "ru": ("Доброе утро.", "Где вокзал?"),
    "sv": ("God morgon.", "Var är stationen?"),
    "tr": ("Günaydın.", "İstasyon nerede?"),
    "uk": ("Доброго ранку.", "Де вокзал?"),
    "vi": ("Chào buổi sáng.", "Nhà ga ở đâu?"),
    "zh": ("早上好。", "车站在哪里？"),
}


def runtime_environment():
    """The Jinja2 environment the device renders pack prompts with (models.translate uses the same)."""
    import jinja2.sandbox

    return jinja2.sandbox.ImmutableSandboxedEnvironment(keep_trailing_newline=True)


def chat_environment():
    """A Jinja2 environment that renders Hugging Face chat templates the way transformers does."""
    import jinja2.ext
    import jinja2.sandbox

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(value, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        return datetime.now().strftime(fmt)

    env = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                                       extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def render_chat(chat_template: str, messages: list[dict], *, add_generation_prompt: bool,
                special_tokens: dict[str, str]) -> str:
    """Render ``chat_template`` like ``tokenizer.apply_chat_template(..., tokenize=False)``."""
    import jinja2

    try:
        return chat_environment().from_string(chat_template).render(
            messages=messages, add_generation_prompt=add_generation_prompt, enable_thinking=False,
            **special_tokens)
    except jinja2.TemplateError as err:
        raise ConversionError(f"the model's chat template failed to render: {err}") from err


def _messages(content: str = INSTRUCTION, system: str = SYSTEM) -> list[dict]:
    return [{"role": "system", "content": system}, {"role": "user", "content": content}]


def _strip_bos(rendered: str, bos: str) -> tuple[str, bool]:
    if bos and rendered.startswith(bos):
        return rendered[len(bos):], True
    return rendered, False


def from_chat_template(chat_template: str, special_tokens: dict[str, str],
                       stop: Iterable[str]) -> tuple[PromptSpec, bool]:
    """A pack prompt built from the model's chat template; also whether it began with BOS.

    A leading BOS is cut from the template (the runtime adds BOS as a token id,
    which works for sentencepiece too, where the text ``<bos>`` would not).
    """
    bos = special_tokens.get("bos_token", "")
    rendered = render_chat(chat_template, _messages(), add_generation_prompt=True, special_tokens=special_tokens)
    missing = [s for s in SENTINELS if s not in rendered]
    if missing:
        raise ConversionError(f"the model's chat template drops the user's message (no {', '.join(missing)} "
                              "in its output); cannot build a translation prompt from it")
    rendered, leading_bos = _strip_bos(rendered, bos)
    pieces = re.split("(" + "|".join(SENTINELS) + ")", rendered)
    template = "".join(SENTINELS.get(piece, escape_literal(piece)) for piece in pieces)
    spec = PromptSpec(template=template, stop=tuple(dict.fromkeys(s for s in stop if s)))
    _check_round_trip(chat_template, spec, special_tokens)
    return spec, leading_bos


def _check_round_trip(chat_template: str, spec: PromptSpec, special_tokens: dict[str, str]) -> None:
    """The pack template, rendered as the device will, must equal the chat template's own output."""
    values = {"source": "English", "target": "Spanish", "text": "Where is {{ the }} station?"}
    def filled(words: str) -> str:
        words = words.replace("__SRC__", values["source"]).replace("__TGT__", values["target"])
        return words.replace("__TEXT__", values["text"]).replace("__CONTEXT__", "")

    expected = render_chat(chat_template, _messages(filled(INSTRUCTION), filled(SYSTEM)), add_generation_prompt=True,
                           special_tokens=special_tokens)
    expected, _ = _strip_bos(expected, special_tokens.get("bos_token", ""))
    actual = runtime_environment().from_string(spec.template).render(**values, context=[])
    if actual != expected:
        raise ConversionError("the prompt built from the chat template does not reproduce it "
                              f"(got {actual[:80]!r}, expected {expected[:80]!r})")


def end_of_turn_tokens(chat_template: str, special_tokens: dict[str, str], vocabulary) -> list[str]:
    """Tokens that end an assistant turn in this chat format, as found in the vocabulary.

    Found by rendering a finished exchange and reading the token right after the
    answer; known markers that the template mentions are added as well.
    """
    found: list[str] = []
    try:
        rendered = render_chat(chat_template, [{"role": "user", "content": "__TEXT__"},
                                               {"role": "assistant", "content": "__ANSWER__"}],
                               add_generation_prompt=False, special_tokens=special_tokens)
    except ConversionError as err:
        log.debug("cannot render a finished exchange: %s", err)
        rendered = ""
    after = rendered.partition("__ANSWER__")[2].lstrip(" ")
    match = re.match(r"<[^<>\s]{1,40}>", after)
    if match and match.group() in vocabulary:
        found.append(match.group())
    found += [t for t in END_OF_TURN if t in chat_template and t in vocabulary]
    return list(dict.fromkeys(found))


def few_shot(stop: Iterable[str]) -> PromptSpec:
    """A completion prompt for base models: two example pairs (when both languages have them), the
    conversation's earlier pairs, then ``"<source>: <text>\\n<target>:"``. Generation stops at a newline."""
    from tolk.models import languages as registry

    rows = []
    for code, (first, second) in FEW_SHOT_EXAMPLES.items():
        name = next((lang.english_name for lang in registry.LANGUAGES if lang.code == code), None)
        if name:
            rows.append(f"{json.dumps(name, ensure_ascii=False)}: "
                        f"[{json.dumps(first, ensure_ascii=False)}, {json.dumps(second, ensure_ascii=False)}]")
    template = (
        "{%- set examples = {" + ", ".join(rows) + "} -%}\n"
        "Translate from {{ source }} to {{ target }}.\n"
        "{% if source in examples and target in examples and source != target %}"
        "{% for i in [0, 1] %}{{ source }}: {{ examples[source][i] }}\n{{ target }}: {{ examples[target][i] }}\n"
        "{% endfor %}{% endif %}"
        "{% for pair in context %}{{ source }}: {{ pair[0] }}\n{{ target }}: {{ pair[1] }}\n{% endfor %}"
        "{{ source }}: {{ text }}\n{{ target }}:")
    return PromptSpec(template=template, stop=tuple(dict.fromkeys(["\n", *(s for s in stop if s)])))
