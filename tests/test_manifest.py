import json

import pytest

from tolk.models.errors import ManifestError, UnsafePathError
from tolk.models.manifest import Engine, Kind, PackFile, PackManifest
from tests.packfixtures import make_pack


def _base(**changes):
    data = {
        "id": "p", "kind": "tts", "engine": "piper", "version": "1", "languages": ["en"], "license": "CC0-1.0",
        "source": "test", "ram_mb": 5, "files": [{"path": "v.onnx", "size": 3, "sha256": "a" * 64}],
    }
    data.update(changes)
    return data


def test_round_trip(tmp_path):
    manifest = make_pack(tmp_path / "p")
    loaded = PackManifest.load(tmp_path / "p")
    assert loaded == manifest
    assert loaded.kind is Kind.MT and loaded.engine is Engine.CT2_GENERATOR
    assert loaded.prompt.stop == ("\n",)
    assert loaded.size_bytes == sum(f.size for f in loaded.files) > 0
    assert PackManifest.from_dict(json.loads(json.dumps(loaded.to_dict()))) == loaded


@pytest.mark.parametrize("changes, message", [
    ({"kind": "vision"}, "kind 'vision' is not one of"),
    ({"engine": "whisper.cpp"}, "engine 'whisper.cpp' is not one of"),
    ({"engine": "faster-whisper"}, "cannot serve kind tts"),
    ({"languages": []}, "'languages' is empty"),
    ({"ram_mb": 0}, "ram_mb must be positive"),
    ({"ram_mb": "lots"}, "'ram_mb' must be int"),
    ({"license": " "}, "licence is required"),
    ({"id": "Bad Id"}, "pack id 'Bad Id'"),
    ({"files": []}, "'files' is empty"),
    ({"files": [{"path": "a.onnx", "size": 1}]}, "missing field 'sha256'"),
    ({"files": [{"path": "a.onnx", "size": 1, "sha256": "xyz"}]}, "64 lowercase hex"),
    ({"files": [{"path": "a.onnx", "size": 1, "sha256": "a" * 64}] * 2}, "listed twice"),
    ({"kind": "mt", "engine": "ctranslate2-generator"}, "needs a 'prompt'"),
    ({"format_version": 99}, "unsupported format_version"),
])
def test_invalid_manifests_name_the_problem(changes, message):
    with pytest.raises(ManifestError, match=message):
        PackManifest.from_dict(_base(**changes))


@pytest.mark.parametrize("path", ["../evil.onnx", "/etc/passwd", "a/../../b.onnx", "./x.onnx", "a//b.onnx", "a\\b"])
def test_paths_that_escape_are_unsafe(path):
    with pytest.raises(ManifestError) as err:
        PackFile(path=path, size=1, sha256="a" * 64)
    assert path in str(err.value) or repr(path) in str(err.value)
    if ".." in path or path.startswith("/"):
        assert isinstance(err.value, UnsafePathError) and err.value.code == "PACK-UNSAFE"


def test_prompt_needs_text_placeholder():
    with pytest.raises(ManifestError, match="text"):
        PackManifest.from_dict(_base(kind="mt", engine="ctranslate2-generator", prompt={"template": "hi"}))


def test_unreadable_manifest_is_a_clear_error(tmp_path):
    with pytest.raises(ManifestError, match="no manifest.json"):
        PackManifest.load(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(ManifestError, match="not valid JSON"):
        PackManifest.load(tmp_path)
    (tmp_path / "manifest.json").write_bytes(b"\xff\xfe")
    with pytest.raises(ManifestError, match="cannot read"):
        PackManifest.load(tmp_path)


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "other.json", None, 5])
def test_a_file_setting_must_name_one_of_the_packs_files(tmp_path, name):
    from tolk.models.errors import ManifestError
    from tolk.models.manifest import PackManifest

    manifest = PackManifest.from_dict({
        "id": "x", "kind": "mt", "engine": "ctranslate2-generator", "version": "1", "languages": ["en"],
        "license": "t", "source": "t", "ram_mb": 1, "prompt": {"template": "{{ text }}"},
        "files": [{"path": "tokenizer.json", "size": 1, "sha256": "0" * 64}]})
    assert manifest.path_of(tmp_path, "tokenizer.json") == tmp_path / "tokenizer.json"
    with pytest.raises(ManifestError):
        manifest.path_of(tmp_path, name)


@pytest.mark.parametrize("template, why", [
    ("{{ text }} {% if %}", "line"),
    ("{{ text }}{{ 'A' * 300000000 }}", "Mul"),
    ("{{ text }}{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}", "loop"),
    ("{{ text }}{{ ''.__class__ }}", "private attribute"),
    ("{{ text }}{% set x = cycler() %}", "literal table"),
    ("{{ text }}{{ cycler }}", "unknown variable"),
    ("{{ text }}{% set x = text %}", "literal table"),
    ("{{ text }}" + "x" * 20000, "characters"),
])
def test_hostile_prompt_templates_are_refused_at_load(template, why):
    from tolk.models.errors import ManifestError
    from tolk.models.manifest import PromptSpec

    with pytest.raises(ManifestError) as caught:
        PromptSpec.from_dict({"template": template})
    assert why in str(caught.value)


def test_the_shipped_chat_template_passes():
    from tolk.models.build.convert import prompts
    from tolk.models.manifest import PromptSpec

    template = prompts.from_chat_template(
        "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}<|assistant|>",
        {"bos_token": "", "eos_token": ""}, ["<|end|>"])[0].template
    assert PromptSpec.from_dict({"template": template}).template == template


def test_a_deeply_nested_or_huge_manifest_is_a_manifest_error(tmp_path):
    from tolk.models.errors import ManifestError
    from tolk.models.manifest import PackManifest

    (tmp_path / "manifest.json").write_text("[" * 100000 + "]" * 100000)
    with pytest.raises(ManifestError, match="nests too deeply"):
        PackManifest.load(tmp_path)
    (tmp_path / "manifest.json").write_text(" " * 5_000_000 + "{}")
    with pytest.raises(ManifestError, match="over"):
        PackManifest.load(tmp_path)
