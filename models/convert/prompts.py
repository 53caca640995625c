"""Prompt templates for decoder-LLM translation packs.

A chat model's own chat template is rendered once, with sentinel strings where
the languages and the text go, and the sentinels become Jinja variables: the
pack then carries a plain template and needs no chat-template engine or
transformers at run time. A base model without a chat template gets a
completion-style prompt that ends at the first newline.
"""
from __future__ import annotations

import re

from models.manifest import PromptSpec

SYSTEM = "You are a professional translator."
INSTRUCTION = ("Translate this __SRC__ text into __TGT__. Output only the translation.\n\n"
               "__SRC__: __TEXT__\n__TGT__:")
SENTINELS = {"__SRC__": "{{ source }}", "__TGT__": "{{ target }}", "__TEXT__": "{{ text }}"}
COMPLETION_TEMPLATE = "Translate the following {{ source }} text into {{ target }}.\n\n{{ source }}: {{ text }}\n{{ target }}:"


def _jinja_literal(text: str) -> str:
    """``text`` as a Jinja template that renders to itself."""
    if not text or not re.search(r"[{%#]", text):
        return text
    return "{% raw %}" + text.replace("{% endraw %}", "{% endraw %}{{ '{% endraw %}' }}{% raw %}") + "{% endraw %}"


def from_chat_template(chat_template: str, stop: list[str], bos_token: str = "", eos_token: str = "") -> PromptSpec:
    """Render the model's chat template around sentinel strings and turn them into variables."""
    import jinja2.sandbox

    env = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": INSTRUCTION}]
    rendered = env.from_string(chat_template).render(messages=messages, add_generation_prompt=True,
                                                     bos_token=bos_token, eos_token=eos_token)
    if "__TEXT__" not in rendered:  # some templates drop the system turn; never the user's text
        raise ValueError("the chat template did not render the user message")
    pieces = re.split(r"(__SRC__|__TGT__|__TEXT__)", rendered)
    template = "".join(SENTINELS.get(p, _jinja_literal(p)) for p in pieces)
    return PromptSpec(template=template, stop=tuple(dict.fromkeys(s for s in stop if s)))


def completion(stop: list[str]) -> PromptSpec:
    return PromptSpec(template=COMPLETION_TEMPLATE, stop=tuple(dict.fromkeys(["\n", *[s for s in stop if s]])))
