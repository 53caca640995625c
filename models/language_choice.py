"""Which language an utterance is in: the rule, as a pure function of Whisper's scores (no model here).

Whisper gives two kinds of evidence for a language L among the conversation's languages:

* ``detection``: the probability of L's language token after the encoder (``detect_language``),
  renormalised over the allowed languages;
* a decode forced into L: its mean token log-probability over its ``tokens`` generated tokens
  plus end-of-text (faster-whisper's ``avg_logprob``).

The language token is the first token Whisper generates and the text follows it, so the log-probability
of the whole output ``[L, text..., end]`` is ``log detection + (tokens + 1) x logprob``. The rule compares
that sum **per generated token**, with the language token weighted ``DETECTION_WEIGHT`` (w):
``(w x log detection + (tokens + 1) x logprob) / (tokens + 1 + w)``:

* the two decodes of one utterance differ in length (German and Spanish take more tokens than English
  for the same words), and a sum would punish the longer one for its length alone, so each is normalised
  by its own length, as the decode scores already are;
* detection alone is unreliable on short and synthetic speech (espeak-ng German "Guten Morgen. Wo ist
  der Bahnhof?" in an en+de pair: English 0.81), and the decode score alone ignores it; the former
  rule switched only when the second decode's mean log-probability beat the first's, which threw the
  detection away in exactly the doubtful cases. Here the detection counts as (half) a token among the
  decode's tokens, so it decides near-ties and short clips, and a clearly better decode overrides it.

Measured on 405 human recordings of the Asterisk dev set (random: 120 en, 109 es, 176 fr; whisper-base int8,
1000 frames; every clip decoded in en, es and fr), language choice within the pairs (en,es), (en,fr), (es,fr)
on the clips of two words or more: w = 0.25 .. 0.75 got 1-2 clips more right than w = 1 and w = 1.5 two fewer
(of 140 / 181 / 173); the second decode when the top language is under 0.9 (not 0.75) three more, for a
second decode on 21 % of the clips instead of 16 % (en,es). Deciding on every clip by both decodes ("always")
was worse: a confident detection is better evidence than a slightly better decode of a short clip. On 150
further clips (50 per language, two words or more) kept out of this tuning: 98 / 100 / 98 % right before,
98 / 100 / 99 % after (the one gained is the looped decode below, a rule added after seeing that miss:
not an independent gain).

A decode that looped (stopped by the token bound, or text that compresses too well) does not compete while
another does: a loop repeats what it already said with near-certain tokens, so its mean log-probability is
high (Spanish "Ha desactivado el modo mudo." decoded as French looped to 224 tokens at -0.19 per token, the
Spanish decode scored -0.71).

A ``prior`` (probabilities per language, e.g. from the previous turns of a hands-free conversation)
multiplies the detection before renormalising: Bayes' rule with Whisper's detection as the likelihood.
Only decoded languages compete when there are decodes; without any, the detection decides.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

FLOOR = 1e-6  # detection probabilities are clipped here before the logarithm (Whisper rounds tiny ones to 0)
DETECTION_WEIGHT = 0.5  # the language token counts as half a text token (see above)


@dataclass(frozen=True)
class Evidence:
    """What Whisper says about one candidate language of one utterance."""

    language: str
    detection: float  # Whisper's language probability (any scale: renormalised over the candidates)
    logprob: float | None = None  # mean token log-probability of its decode, None if not decoded
    tokens: int = 0  # tokens the decode generated (end-of-text not counted)
    looped: bool = False  # the decode hit the token bound or repeats itself


def posterior(evidence: Sequence[Evidence], prior: Mapping[str, float] | None = None) -> dict[str, float]:
    """Detection x prior, renormalised over the candidates (uniform when all are zero)."""
    weights = {e.language: max(e.detection, 0.0) * (prior.get(e.language, 1.0) if prior else 1.0) for e in evidence}
    total = sum(weights.values())
    if total <= 0:
        return {language: 1.0 / len(weights) for language in weights}
    return {language: w / total for language, w in weights.items()}


def score(detection: float, logprob: float, tokens: int, weight: float = DETECTION_WEIGHT) -> float:
    """Mean log-probability per generated token of ``[language token, text..., end-of-text]``, the language token
    weighted ``weight``."""
    return (weight * math.log(max(detection, FLOOR)) + (tokens + 1) * logprob) / (tokens + 1 + weight)


def choose(evidence: Sequence[Evidence], prior: Mapping[str, float] | None = None) -> tuple[str, float]:
    """The language the utterance is in, and its probability among the candidates (detection x prior).

    Decoded candidates compete on :func:`score` (looped ones only if all looped); without any decode the most
    likely detection wins.
    """
    if not evidence:
        raise ValueError("no candidate language")
    probability = posterior(evidence, prior)
    decoded = [e for e in evidence if e.logprob is not None]
    decoded = [e for e in decoded if not e.looped] or decoded
    if decoded:
        best = max(decoded, key=lambda e: score(probability[e.language], e.logprob, e.tokens))
    else:
        best = max(evidence, key=lambda e: probability[e.language])
    return best.language, probability[best.language]


def needs_second_decode(confidence: float, logprob: float, *, ambiguous_below: float,
                        doubtful_below: float) -> bool:
    """Whether the top language's decode alone is not enough: its detection or its decode is doubtful."""
    return confidence < ambiguous_below or logprob < doubtful_below


def alternation_prior(allowed: Sequence[str], last: str | None, weight: float) -> dict[str, float]:
    """Hands-free in a two-language conversation: the next turn is more often the *other* person's answer.

    ``weight`` is the prior probability of the language the last turn was not in (0.5: no prior). Empty when
    there is no pair of two or no last turn in it.
    """
    if len(allowed) != 2 or last not in allowed or weight == 0.5:
        return {}
    return {code: (1.0 - weight if code == last else weight) for code in allowed}
