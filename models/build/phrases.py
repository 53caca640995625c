"""Everyday travel phrases with checked reference translations: a regression set that must stay right.

Stations, tickets, prices, directions, medicine, allergies, numbers and times, in English with plain, unambiguous
reference translations into Spanish, German and French (written for this set; one common rendering each, not the
only correct one). A translation passes when it

- keeps every number of the source verbatim (models/guard.missing_numbers: 12.50 may become 12,50),
- holds each key word group of its language (the word that carries the meaning: the station, the allergy, the
  direction; each group lists the accepted alternatives, matched case- and accent-insensitively as word starts,
  and in German anywhere in a word, as German joins nouns: "Kreditkarte" holds "karte"),
- scores at least :data:`MIN_CHRF` sentence chrF against the reference,
- and is not caught by the non-translation guard (models/guard.py: e.g. a question answered "Yes, ...").

``KNOWN_FAILING`` lists the (phrase id, language) pairs the default pack gets wrong today on every CPU measured,
``NEAR_TIES`` the pairs whose greedy answer depends on the CPU's int8 kernels (CTranslate2's ISA and GEMM backend:
two tokens within rounding of each other), right on some and wrong on others. tests/test_phrases.py: every other
pair must pass on any CPU; a known failure that starts passing is reported so it can be taken off the list.
"""
from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import Sequence

from tolk.models.build.quality import sentence_chrf
from tolk.models.guard import check, missing_numbers

log = logging.getLogger(__name__)

MIN_CHRF = 35.0
TARGETS = ("es", "de", "fr")


@dataclass(frozen=True)
class Phrase:
    id: str
    en: str
    references: dict[str, str]  # language -> reference translation
    keys: dict[str, tuple[tuple[str, ...], ...]]  # language -> groups of accepted alternatives (all groups needed)


def _p(id: str, en: str, es: tuple[str, ...], de: tuple[str, ...], fr: tuple[str, ...]) -> Phrase:
    """Each language: (reference, "alt1|alt2", "word", ...): the reference, then its key word groups."""
    refs = {"es": es[0], "de": de[0], "fr": fr[0]}
    keys = {lang: tuple(tuple(group.split("|")) for group in row[1:]) for lang, row in (("es", es), ("de", de),
                                                                                           ("fr", fr))}
    return Phrase(id, en, refs, keys)


PHRASES: tuple[Phrase, ...] = (
    _p("station", "Where is the train station?",
       ("¿Dónde está la estación de tren?", "estacion"), ("Wo ist der Bahnhof?", "bahnhof"),
       ("Où est la gare ?", "gare")),
    _p("toilet", "Where is the toilet?",
       ("¿Dónde está el baño?", "baño|aseo|servicio"), ("Wo ist die Toilette?", "toilette|wc"),
       ("Où sont les toilettes ?", "toilette")),
    _p("ticket-price", "How much does a ticket to Madrid cost?",
       ("¿Cuánto cuesta un billete a Madrid?", "madrid", "billete|boleto|pasaje"),
       ("Wie viel kostet eine Fahrkarte nach Madrid?", "madrid", "fahrkarte|ticket|fahrschein"),
       ("Combien coûte un billet pour Madrid ?", "madrid", "billet")),
    _p("two-tickets", "Two tickets to Berlin, please.",
       ("Dos billetes para Berlín, por favor.", "dos", "berlin", "billete|boleto"),
       ("Zwei Fahrkarten nach Berlin, bitte.", "zwei", "berlin", "fahrkarte|ticket|fahrschein"),
       ("Deux billets pour Berlin, s'il vous plaît.", "deux", "berlin", "billet")),
    _p("departure", "The train leaves at 10:45 from platform 3.",
       ("El tren sale a las 10:45 del andén 3.", "tren", "anden|via"),
       ("Der Zug fährt um 10:45 Uhr von Gleis 3 ab.", "zug", "gleis|bahnsteig"),
       ("Le train part à 10 h 45 du quai 3.", "train", "quai|voie")),
    _p("price", "That costs 12.50 euros.",
       ("Eso cuesta 12,50 euros.", "euro"), ("Das kostet 12,50 Euro.", "euro"),
       ("Cela coûte 12,50 euros.", "euro")),
    _p("pharmacy", "Is there a pharmacy near here?",
       ("¿Hay una farmacia cerca de aquí?", "farmacia"), ("Gibt es hier in der Nähe eine Apotheke?", "apotheke"),
       ("Y a-t-il une pharmacie près d'ici ?", "pharmacie")),
    _p("penicillin", "I am allergic to penicillin.",
       ("Soy alérgico a la penicilina.", "alergic", "penicilina"),
       ("Ich bin allergisch gegen Penicillin.", "allergi", "penicillin"),
       ("Je suis allergique à la pénicilline.", "allergi", "penicilline")),
    _p("nuts", "I am allergic to nuts.",
       ("Soy alérgico a los frutos secos.", "alergic", "frutos secos|nuez|nueces"),
       ("Ich bin allergisch gegen Nüsse.", "allergi", "nuss|nusse"),
       ("Je suis allergique aux noix.", "allergi", "noix|fruits a coque")),
    _p("doctor", "I need a doctor.",
       ("Necesito un médico.", "medico|doctor"), ("Ich brauche einen Arzt.", "arzt|arztin|doktor"),
       ("J'ai besoin d'un médecin.", "medecin|docteur")),
    _p("dosage", "Take one tablet twice a day.",
       ("Tome una pastilla dos veces al día.", "dos veces", "pastilla|tableta|comprimido|pildora"),
       ("Nehmen Sie zweimal täglich eine Tablette.", "zweimal|2 mal|zwei mal", "tablette|pille"),
       ("Prenez un comprimé deux fois par jour.", "deux fois", "comprime|pilule|cachet")),
    _p("left", "Turn left at the second traffic light.",
       ("Gire a la izquierda en el segundo semáforo.", "izquierda", "semaforo"),
       ("Biegen Sie an der zweiten Ampel links ab.", "links", "ampel"),
       ("Tournez à gauche au deuxième feu.", "gauche", "feu")),
    _p("right", "The hotel is 200 meters on the right.",
       ("El hotel está a 200 metros a la derecha.", "hotel", "derecha"),
       ("Das Hotel ist 200 Meter auf der rechten Seite.", "hotel", "recht"),
       ("L'hôtel est à 200 mètres sur la droite.", "hotel", "droite")),
    _p("bus-ticket", "Where can I buy a bus ticket?",
       ("¿Dónde puedo comprar un billete de autobús?", "autobus|bus", "comprar"),
       ("Wo kann ich eine Busfahrkarte kaufen?", "bus", "kaufen"),
       ("Où puis-je acheter un ticket de bus ?", "bus", "acheter")),
    _p("opening", "The museum opens at 9 and closes at 17:30.",
       ("El museo abre a las 9 y cierra a las 17:30.", "museo", "abre", "cierra"),
       ("Das Museum öffnet um 9 und schließt um 17:30 Uhr.", "museum", "offnet", "schliesst|schließt"),
       ("Le musée ouvre à 9 h et ferme à 17 h 30.", "musee", "ouvre", "ferme")),
    _p("room", "My room number is 314.",
       ("El número de mi habitación es el 314.", "habitacion"), ("Meine Zimmernummer ist 314.", "zimmer"),
       ("Mon numéro de chambre est le 314.", "chambre")),
    _p("card", "Can I pay by card?",
       ("¿Puedo pagar con tarjeta?", "pagar", "tarjeta"), ("Kann ich mit Karte bezahlen?", "zahlen|bezahlen", "karte"),
       ("Puis-je payer par carte ?", "payer", "carte")),
    _p("ambulance", "Please call an ambulance.",
       ("Por favor, llame a una ambulancia.", "ambulancia"),
       ("Bitte rufen Sie einen Krankenwagen.", "krankenwagen|rettungswagen|notarzt"),
       ("Appelez une ambulance, s'il vous plaît.", "ambulance")),
    _p("family", "We are three adults and two children.",
       ("Somos tres adultos y dos niños.", "tres", "dos", "adulto"),
       ("Wir sind drei Erwachsene und zwei Kinder.", "drei", "zwei", "erwachsen"),
       ("Nous sommes trois adultes et deux enfants.", "trois", "deux", "adulte")),
    _p("delay", "The flight to London is delayed by 40 minutes.",
       ("El vuelo a Londres tiene un retraso de 40 minutos.", "vuelo", "londres", "minuto"),
       ("Der Flug nach London hat 40 Minuten Verspätung.", "flug", "london", "minute"),
       ("Le vol pour Londres a 40 minutes de retard.", "vol", "londres", "minute")),
    _p("table", "I would like a table for four people at 8 o'clock.",
       ("Quisiera una mesa para cuatro personas a las 8.", "mesa", "cuatro"),
       ("Ich hätte gern einen Tisch für vier Personen um 8 Uhr.", "tisch", "vier"),
       ("Je voudrais une table pour quatre personnes à 8 heures.", "table", "quatre")),
    _p("airport-bus", "Does this bus go to the airport?",
       ("¿Este autobús va al aeropuerto?", "aeropuerto"), ("Fährt dieser Bus zum Flughafen?", "flughafen"),
       ("Ce bus va-t-il à l'aéroport ?", "aeroport")),
)

# (phrase id, language) pairs the default pack (qwen2.5-coder-1.5b-int8, greedy) gets wrong on every CPU measured:
# the 22 pairs of tests/test_phrases.py on an Intel Xeon with AVX-512 under CT2_FORCE_CPU_ISA=GENERIC, AVX2 (its
# default) and AVX512 with MKL, and GENERIC and AVX2 with oneDNN (CT2_USE_MKL=0: the path AMD CPUs take), and the
# issue #21 report of an AMD EPYC; the other 44 pairs (TOLK_ALL_PHRASES=1) with MKL AVX2 only.
KNOWN_FAILING: frozenset[tuple[str, str]] = frozenset({
    ("departure", "es"), ("dosage", "es"), ("ambulance", "es"),
    ("station", "de"), ("toilet", "de"), ("departure", "de"), ("pharmacy", "de"), ("dosage", "de"), ("left", "de"),
    ("ambulance", "de"), ("airport-bus", "de"),
    ("departure", "fr"), ("penicillin", "fr"), ("nuts", "fr"), ("dosage", "fr"), ("left", "fr"), ("card", "fr"),
})

# Pairs right on some CPUs and wrong on others (same measurements), with what each gave: not asserted one by one.
# MKL is the GEMM backend on Intel CPUs, oneDNN on AMD; CT2_FORCE_CPU_ISA=GENERIC does not make them agree.
NEAR_TIES: dict[tuple[str, str], str] = {
    ("penicillin", "de"): 'MKL AVX2/AVX512 and oneDNN GENERIC "Ich bin allergisch gegen Penicillin."; MKL GENERIC, '
                          'oneDNN AVX2 and AMD EPYC "Ich bin an Penicillin过敏."',
    ("ambulance", "fr"): 'oneDNN "Veuillez appeler un ambulance."; MKL "Veuillez appeler un ambulancier." (a '
                         'paramedic)',
    ("card", "de"): 'MKL GENERIC, oneDNN AVX2 and AMD EPYC "Kann ich mit Kreditkarte bezahlen?"; MKL AVX512 and '
                    'oneDNN GENERIC "Kann ich mit Karte bezahlen?"; MKL AVX2 "Kann ich mit Kreditкарten bezahlen?" '
                    '(Cyrillic)',
}


def fold(text: str) -> str:
    """Lower case without accents (ß kept as ss), spaces collapsed: for key word matching."""
    text = unicodedata.normalize("NFKD", text.casefold().replace("ß", "ss"))
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).split())


# Languages that join nouns into one word (Kreditkarte, Busfahrkarte): a key word may be any part of a word.
COMPOUNDING = frozenset({"de"})


def missing_words(output: str, language: str, groups: Sequence[Sequence[str] | str]) -> list[str]:
    """The groups of accepted words (a sequence, or one string "alt1|alt2") that ``output`` lacks: each alternative
    matched case- and accent-insensitively as a word start, or anywhere in a word in a compounding language.
    Also for the tests on real models, whose answers vary with the CPU (any listed alternative will do)."""
    folded = fold(output)
    start = "" if language in COMPOUNDING else r"(?<!\w)"
    missing = []
    for group in groups:
        alternatives = group.split("|") if isinstance(group, str) else group
        if not any(re.search(start + re.escape(fold(alt)), folded) for alt in alternatives):
            missing.append("|".join(alternatives))
    return missing


def missing_keys(phrase: Phrase, language: str, output: str) -> list[str]:
    """The key word groups of ``language`` that ``output`` lacks."""
    return missing_words(output, language, phrase.keys[language])


@dataclass(frozen=True)
class PhraseScore:
    id: str
    language: str
    output: str
    chrf: float
    missing_keys: tuple[str, ...]
    missing_numbers: tuple[str, ...]
    guard_problems: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.chrf >= MIN_CHRF and not self.missing_keys and not self.missing_numbers and not self.guard_problems


def score(phrase: Phrase, language: str, output: str) -> PhraseScore:
    chrf = sentence_chrf(output, phrase.references[language])
    return PhraseScore(phrase.id, language, output, round(chrf, 1), tuple(missing_keys(phrase, language, output)),
                       tuple(missing_numbers(phrase.en, output)), check(phrase.en, output, "en", language).problems)
