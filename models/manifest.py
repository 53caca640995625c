"""The model-pack manifest: typed, validated on load, written as ``manifest.json``.

A pack is one folder holding its files and a ``manifest.json`` that names every
file with its size and sha256, the pack's kind and engine, languages, licence,
source and approximate RAM. Packs for decoder LLMs also carry their prompt
template and stop tokens, so the translation engine needs nothing else.
"""
from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from tolk.models.errors import ManifestError, UnsafePathError

MAX_MANIFEST_BYTES = 4_000_000  # a real manifest is a few kB
MANIFEST_NAME = "manifest.json"
FORMAT_VERSION = 1
FILE_SETTINGS = ("tokenizer", "model", "vocab")  # settings that name one of the pack's files
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


class Kind(str, enum.Enum):
    ASR = "asr"
    MT = "mt"
    TTS = "tts"


class Engine(str, enum.Enum):
    FASTER_WHISPER = "faster-whisper"
    CT2_GENERATOR = "ctranslate2-generator"
    CT2_TRANSLATOR = "ctranslate2-translator"
    PIPER = "piper"
    ESPEAK_NG = "espeak-ng"
    KOKORO = "kokoro"


ENGINES_BY_KIND: dict[Kind, frozenset[Engine]] = {
    Kind.ASR: frozenset({Engine.FASTER_WHISPER}),
    Kind.MT: frozenset({Engine.CT2_GENERATOR, Engine.CT2_TRANSLATOR}),
    Kind.TTS: frozenset({Engine.PIPER, Engine.ESPEAK_NG, Engine.KOKORO}),
}


def _require(data: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in data:
        raise ManifestError(f"{where}: missing field '{key}'")
    value = data[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ManifestError(f"{where}: field '{key}' must be {kind.__name__}, got {type(value).__name__}")
    return value


def check_relative_path(path: str, where: str = "manifest") -> PurePosixPath:
    """Return ``path`` as a clean relative POSIX path, or raise if it could escape the pack."""
    if not path or "\\" in path or "\x00" in path:
        raise ManifestError(f"{where}: invalid file path {path!r}")
    pure = PurePosixPath(path)
    if pure.is_absolute() or path.startswith("/"):
        raise UnsafePathError(f"{where}: file path {path!r} is absolute; paths must stay inside the pack")
    if any(part in ("..", ".", "") for part in path.split("/")):
        raise UnsafePathError(f"{where}: file path {path!r} escapes or is not normalised ('..' or '.' parts)")
    return pure


@dataclass(frozen=True)
class PackFile:
    """One file of a pack: its path relative to the pack folder, size in bytes and sha256."""

    path: str
    size: int
    sha256: str

    def __post_init__(self) -> None:
        check_relative_path(self.path)
        if self.path == MANIFEST_NAME:
            raise ManifestError("the manifest must not list itself")
        if self.size < 0:
            raise ManifestError(f"{self.path}: negative size")
        if not _SHA256_RE.match(self.sha256):
            raise ManifestError(f"{self.path}: sha256 must be 64 lowercase hex digits")

    @classmethod
    def from_dict(cls, data: Any) -> "PackFile":
        if not isinstance(data, dict):
            raise ManifestError("each entry of 'files' must be an object")
        where = f"file {data.get('path', '?')!r}"
        return cls(
            path=_require(data, "path", str, where),
            size=_require(data, "size", int, where),
            sha256=_require(data, "sha256", str, where),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "sha256": self.sha256}


@dataclass(frozen=True)
class PromptSpec:
    """How a decoder LLM is asked to translate.

    ``template`` is a Jinja2 string rendered with ``source`` and ``target`` (English
    language names), ``source_native`` / ``target_native``, ``text`` and ``context``
    (a list of earlier ``(source_text, translation)`` pairs, possibly empty).
    Generation stops at any of ``stop`` (token strings) or the end-of-sequence token.
    """

    template: str
    stop: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: Any) -> "PromptSpec":
        if not isinstance(data, dict):
            raise ManifestError("'prompt' must be an object")
        template = _require(data, "template", str, "prompt")
        if "{{ text }}" not in template and "{{text}}" not in template:
            raise ManifestError("prompt.template must contain '{{ text }}'")
        stop = data.get("stop", [])
        if not isinstance(stop, list) or not all(isinstance(s, str) and s for s in stop):
            raise ManifestError("prompt.stop must be a list of non-empty strings")
        from tolk.models.prompt_check import check_template  # jinja2, only for packs with a prompt

        check_template(template)
        return cls(template=template, stop=tuple(stop))

    def to_dict(self) -> dict[str, Any]:
        return {"template": self.template, "stop": list(self.stop)}


@dataclass(frozen=True)
class PackManifest:
    id: str
    kind: Kind
    engine: Engine
    version: str
    languages: tuple[str, ...]
    files: tuple[PackFile, ...]
    license: str
    source: str
    ram_mb: int
    description: str = ""
    prompt: PromptSpec | None = None
    # Engine-specific settings (e.g. Piper model file, translator language tokens, compute type).
    settings: dict[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        if not _ID_RE.match(self.id):
            raise ManifestError(f"pack id {self.id!r} must be 1-64 of a-z 0-9 . _ - starting with a letter or digit")
        if self.engine not in ENGINES_BY_KIND[self.kind]:
            raise ManifestError(f"pack {self.id}: engine {self.engine.value} cannot serve kind {self.kind.value}")
        if not self.languages:
            raise ManifestError(f"pack {self.id}: 'languages' is empty")
        if self.ram_mb <= 0:
            raise ManifestError(f"pack {self.id}: ram_mb must be positive")
        if not self.license.strip():
            raise ManifestError(f"pack {self.id}: licence is required")
        seen: set[str] = set()
        for f in self.files:
            if f.path in seen:
                raise ManifestError(f"pack {self.id}: file {f.path} listed twice")
            seen.add(f.path)
        if self.engine is Engine.CT2_GENERATOR and self.prompt is None:
            raise ManifestError(f"pack {self.id}: an LLM translation pack needs a 'prompt' (template and stop tokens)")
        if self.engine is not Engine.ESPEAK_NG and not self.files:
            raise ManifestError(f"pack {self.id}: 'files' is empty")
        if self.format_version != FORMAT_VERSION:
            raise ManifestError(f"pack {self.id}: unsupported format_version {self.format_version}")
        for key in FILE_SETTINGS:  # checked at install too, not first at load (after the swap)
            if key in self.settings:
                self.path_of(Path("."), self.settings[key])
        if self.engine is Engine.KOKORO:
            self._check_voices()

    def _check_voices(self) -> None:
        """A Kokoro pack names, per language it serves, its voice files (the first is the default)."""
        voices = self.settings.get("voices")
        if not isinstance(voices, dict) or set(voices) != set(self.languages):
            raise ManifestError(f"pack {self.id}: settings.voices must name voice files for exactly its languages")
        for code, files in voices.items():
            if not isinstance(files, list) or not files:
                raise ManifestError(f"pack {self.id}: settings.voices[{code!r}] must be a non-empty list of files")
            for name in files:
                self.path_of(Path("."), name)

    @property
    def size_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def file(self, path: str) -> PackFile:
        for f in self.files:
            if f.path == path:
                return f
        raise ManifestError(f"pack {self.id}: no file {path!r} in manifest")

    def path_of(self, pack_dir: Path, name: object) -> Path:
        """The pack file a setting names (a tokenizer, a voice model): it must be one of the pack's own verified
        files, never a path elsewhere (ManifestError)."""
        if not isinstance(name, str):
            raise ManifestError(f"pack {self.id}: a file setting must be a file name, not {name!r:.40}")
        return Path(pack_dir) / self.file(name).path

    @classmethod
    def from_dict(cls, data: Any) -> "PackManifest":
        if not isinstance(data, dict):
            raise ManifestError("manifest must be a JSON object")
        where = f"pack {data.get('id', '?')!r}"
        kind_raw = _require(data, "kind", str, where)
        engine_raw = _require(data, "engine", str, where)
        try:
            kind = Kind(kind_raw)
        except ValueError:
            raise ManifestError(f"{where}: kind {kind_raw!r} is not one of {[k.value for k in Kind]}") from None
        try:
            engine = Engine(engine_raw)
        except ValueError:
            raise ManifestError(f"{where}: engine {engine_raw!r} is not one of {[e.value for e in Engine]}") from None
        languages = _require(data, "languages", list, where)
        if not all(isinstance(code, str) for code in languages):
            raise ManifestError(f"{where}: languages must be strings")
        files = tuple(PackFile.from_dict(f) for f in _require(data, "files", list, where))
        prompt = PromptSpec.from_dict(data["prompt"]) if data.get("prompt") is not None else None
        settings = data.get("settings", {})
        if not isinstance(settings, dict):
            raise ManifestError(f"{where}: settings must be an object")
        return cls(
            id=_require(data, "id", str, where),
            kind=kind,
            engine=engine,
            version=_require(data, "version", str, where),
            languages=tuple(languages),
            files=files,
            license=_require(data, "license", str, where),
            source=_require(data, "source", str, where),
            ram_mb=_require(data, "ram_mb", int, where),
            description=data.get("description", ""),
            prompt=prompt,
            settings=dict(settings),
            format_version=data.get("format_version", FORMAT_VERSION),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format_version": self.format_version,
            "id": self.id,
            "kind": self.kind.value,
            "engine": self.engine.value,
            "version": self.version,
            "description": self.description,
            "languages": list(self.languages),
            "license": self.license,
            "source": self.source,
            "ram_mb": self.ram_mb,
            "files": [f.to_dict() for f in self.files],
            "settings": self.settings,
        }
        if self.prompt is not None:
            out["prompt"] = self.prompt.to_dict()
        return out

    @classmethod
    def load(cls, pack_dir: Path) -> "PackManifest":
        path = Path(pack_dir) / MANIFEST_NAME
        if path.is_symlink():
            raise ManifestError(f"{path}: the manifest is a symlink")
        try:
            if path.stat().st_size > MAX_MANIFEST_BYTES:
                raise ManifestError(f"{path}: the manifest is over {MAX_MANIFEST_BYTES // 1_000_000} MB")
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ManifestError(f"{path}: no manifest.json in this pack folder") from None
        except (OSError, UnicodeDecodeError) as err:
            raise ManifestError(f"{path}: cannot read manifest: {err}") from err
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise ManifestError(f"{path}: not valid JSON ({err})") from err
        except RecursionError:
            raise ManifestError(f"{path}: the JSON nests too deeply") from None
        return cls.from_dict(data)

    def dump(self, pack_dir: Path) -> Path:
        path = Path(pack_dir) / MANIFEST_NAME
        path.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return path
