"""Hostile manifests and prompt templates: malformed fields, escaping paths, file settings outside the pack,
templates that would hang, fill the memory or reach Python internals, deep or huge JSON. Each is PACK-MANIFEST or
PACK-UNSAFE with the problem named, at load and at install, and an install that fails leaves the active pack
active and verified."""
import time

import pytest

from tolk.models.errors import ManifestError, UnsafePathError
from tolk.models.manifest import PackFile, PackManifest, PromptSpec
from tolk.models.store import PackStore
from tests.packfixtures import make_pack, rewrite_manifest


def _base(**changes):
    data = {
        "id": "p", "kind": "tts", "engine": "piper", "version": "1", "languages": ["en"], "license": "CC0-1.0",
        "source": "test", "ram_mb": 5, "files": [{"path": "v.onnx", "size": 3, "sha256": "a" * 64}],
    }
    data.update(changes)
    return data


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
    with pytest.raises(ManifestError, match=message) as caught:
        PackManifest.from_dict(_base(**changes))
    assert caught.value.code == "PACK-MANIFEST"


@pytest.mark.parametrize("path", ["../evil.onnx", "/etc/passwd", "a/../../b.onnx", "./x.onnx", "a//b.onnx", "a\\b"])
def test_paths_that_escape_are_unsafe(path):
    with pytest.raises(ManifestError) as err:
        PackFile(path=path, size=1, sha256="a" * 64)
    assert path in str(err.value) or repr(path) in str(err.value)
    if path == "a\\b":
        assert err.value.code == "PACK-MANIFEST"
    else:  # climbs out, absolute or not normalised
        assert isinstance(err.value, UnsafePathError) and err.value.code == "PACK-UNSAFE"


def test_prompt_needs_text_placeholder():
    with pytest.raises(ManifestError, match="text") as caught:
        PackManifest.from_dict(_base(kind="mt", engine="ctranslate2-generator", prompt={"template": "hi"}))
    assert caught.value.code == "PACK-MANIFEST"


@pytest.mark.parametrize("content, message", [(None, "no manifest.json"), (b"{not json", "not valid JSON"),
                                              (b"\xff\xfe", "cannot read"), (b"[1, 2]", None), (b"null", None),
                                              ("directory", None)])
def test_unreadable_manifest_is_a_clear_error(tmp_path, content, message):
    if content == "directory":
        (tmp_path / "manifest.json").mkdir()
    elif content is not None:
        (tmp_path / "manifest.json").write_bytes(content)
    with pytest.raises(ManifestError, match=message) as caught:
        PackManifest.load(tmp_path)
    assert caught.value.code == "PACK-MANIFEST"


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "other.json", None, 5])
def test_a_file_setting_must_name_one_of_the_packs_files(tmp_path, name):
    manifest = PackManifest.from_dict({
        "id": "x", "kind": "mt", "engine": "ctranslate2-generator", "version": "1", "languages": ["en"],
        "license": "t", "source": "t", "ram_mb": 1, "prompt": {"template": "{{ text }}"},
        "files": [{"path": "tokenizer.json", "size": 1, "sha256": "0" * 64}]})
    assert manifest.path_of(tmp_path, "tokenizer.json") == tmp_path / "tokenizer.json"
    with pytest.raises(ManifestError) as caught:
        manifest.path_of(tmp_path, name)
    assert caught.value.code in ("PACK-MANIFEST", "PACK-UNSAFE")


# The repro: five nested loops over literal lists, ~1,150 characters, 40^5 = 10^8 body runs (it hung, or
# filled the memory with the output, before anything was counted)
_FORTY = "[" + ",".join(f"'{chr(97 + i // 26)}{chr(97 + i % 26)}'" for i in range(40)) + "]"
NESTED_LITERAL_LOOPS = ("{{ text }}" + "".join(f"{{% for {v} in {_FORTY} %}}" for v in "abcde") + "{{ a }}"
                        + "{% endfor %}" * 5)
LIST_1001 = "[" + ",".join(["1"] * 1001) + "]"
LIST_900 = "[" + ",".join(["1"] * 900) + "]"


@pytest.mark.parametrize("template, why", [
    ("{{ text }} {% if %}", "line"),
    ("{{ text }}{{ 'A' * 300000000 }}", "Mul"),
    ("{{ text }}{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}", "loop"),
    ("{{ text }}{{ ''.__class__ }}", "private attribute"),
    ("{{ text }}{% set x = cycler() %}", "literal table"),
    ("{{ text }}{{ cycler }}", "unknown variable"),
    ("{{ text }}{% set x = text %}", "literal table"),
    ("{{ text }}" + "x" * 20000, "characters"),
    (NESTED_LITERAL_LOOPS, "loops run over 1,000 times"),
    ("{{ text }}" + "{% for a, b in context %}" * 3 + "{{ a }}" + "{% endfor %}" * 3, "loops run over"),
    ("{{ text }}{% for a in " + LIST_1001 + " %}x{% endfor %}", "loops run over"),
    ("{{ text }}{% for a in " + LIST_900 + " %}" + "y" * 100 + "{% endfor %}", "renders over 64,000 characters"),
])
def test_hostile_prompt_templates_are_refused_at_load(template, why):
    started = time.monotonic()
    with pytest.raises(ManifestError) as caught:
        PromptSpec.from_dict({"template": template})
    assert why in str(caught.value) and caught.value.code == "PACK-MANIFEST"
    assert time.monotonic() - started < 5  # refused within the budget: no hang, no 3 GB string


@pytest.mark.parametrize("text, message", [("[" * 100000 + "]" * 100000, "nests too deeply"),
                                           ('{"a":' * 100000 + "1" + "}" * 100000, "nests too deeply"),
                                           (" " * 5_000_000 + "{}", "over")], ids=["list", "object", "huge"])
def test_a_deeply_nested_or_huge_manifest_is_a_manifest_error(tmp_path, text, message):
    (tmp_path / "manifest.json").write_text(text)
    with pytest.raises(ManifestError, match=message) as caught:
        PackManifest.load(tmp_path)
    assert caught.value.code == "PACK-MANIFEST"


# ---- at install: a hostile manifest changes nothing in the store -------------------------------------------------

def _store_with_v1(tmp_path):
    store = PackStore(tmp_path / "packs")
    make_pack(tmp_path / "v1", payload=b"\x01" * 64)
    active = store.install_dir(tmp_path / "v1").path
    return store, active


def _hostile_v2(tmp_path, how):
    folder = tmp_path / "v2"
    make_pack(folder, payload=b"\x02" * 64)
    if how == "template-loop":
        rewrite_manifest(folder, prompt={"template": "{{ text }}{% for i in range(10**9) %}x{% endfor %}"})
    elif how == "template-syntax":
        rewrite_manifest(folder, prompt={"template": "{{ text }} {% if %}"})
    elif how == "template-nested-loops":
        rewrite_manifest(folder, prompt={"template": NESTED_LITERAL_LOOPS})
    elif how == "template-memory":
        rewrite_manifest(folder, prompt={"template": "{{ text }}{{ 'A' * 300000000 }}"})
    elif how == "tokenizer-outside":
        rewrite_manifest(folder, settings={"tokenizer": "../../../etc/passwd"})
    elif how == "tokenizer-unlisted":
        rewrite_manifest(folder, settings={"tokenizer": "other.json"})
    elif how == "deep":
        (folder / "manifest.json").write_text("[" * 100000 + "]" * 100000)
    elif how == "not-json":
        (folder / "manifest.json").write_text("{")
    return folder


@pytest.mark.parametrize("how, code", [("template-loop", "PACK-MANIFEST"), ("template-syntax", "PACK-MANIFEST"),
                                       ("template-nested-loops", "PACK-MANIFEST"),
                                       ("template-memory", "PACK-MANIFEST"), ("tokenizer-outside", "PACK-MANIFEST"),
                                       ("tokenizer-unlisted", "PACK-MANIFEST"), ("deep", "PACK-MANIFEST"),
                                       ("not-json", "PACK-MANIFEST")])
def test_a_hostile_manifest_is_refused_at_install_and_the_active_pack_stays(tmp_path, how, code):
    from tolk.models.errors import TolkError

    store, active = _store_with_v1(tmp_path)
    started = time.monotonic()
    with pytest.raises(TolkError) as caught:
        store.install_dir(_hostile_v2(tmp_path, how))
    assert caught.value.code == code, str(caught.value)
    assert time.monotonic() - started < 5
    assert store.get("tiny-mt").path == active and store.verify("tiny-mt") == []  # the old pack: active, verified
    assert store.checked("tiny-mt").path == active
    staging = store.root / ".staging"
    assert not (staging.is_dir() and any(staging.iterdir()))


def test_a_template_with_loops_within_the_bound_still_loads():
    """The bound counts, it does not forbid: the context loop of a real prompt and a short literal table in it."""
    template = ("{% for a, b in context %}{% for tag in ['<', '>'] %}{{ tag }}{% endfor %}{{ a }} = {{ b }}\n"
                "{% endfor %}{{ text }}")
    assert PromptSpec.from_dict({"template": template}).template == template
